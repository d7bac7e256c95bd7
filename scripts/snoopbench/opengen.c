/*
 * opengen: an open-heavy workload for scripts/bench-snoop.
 *
 *   opengen SECONDS TAG REALFILE
 *
 * Prints its pid, waits for SIGUSR1, then for SECONDS alternates, as fast as
 * it can, a failed open of /nonexistent/TAG/N (ENOENT; N unique per open)
 * and a successful open (then close) of REALFILE. Both paths are written
 * into the same buffer before each open, as programs that build paths do:
 * a consumer that reads the path from the process's memory after the fact
 * sees a later path, which the script can tell from the right one.
 *
 * At the end it prints one JSON line:
 *   {"pid":..,"failed":..,"ok":..,"wall_ns":..,"cpu_ns":..,"unexpected":..}
 * cpu_ns (its CPU time during the run) holds what tracing adds in its
 * context, even when other work on the machine stretches the wall time.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: opengen SECONDS TAG REALFILE\n");
		return 2;
	}
	double secs = atof(argv[1]);
	const char *tag = argv[2], *real = argv[3];
	if (strlen(real) > 200) { fprintf(stderr, "REALFILE too long\n"); return 2; }

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("{\"pid\":%d}\n", getpid());
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);

	static char path[256];
	long long t0 = now_ns(), end = t0 + (long long)(secs * 1e9);
	long long cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	long failed = 0, ok = 0, n = 0, wrong = 0;
	/* the clock is read every 64 opens: it costs little next to an open */
	while ((n & 63) || now_ns() < end) {
		snprintf(path, sizeof path, "/nonexistent/%s/%ld", tag, n);
		if (open(path, O_RDONLY | O_CLOEXEC) >= 0) wrong++;
		failed++;
		strcpy(path, real);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) { close(fd); ok++; } else wrong++;
		n++;
	}
	long long wall = now_ns() - t0;
	long long cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	printf("{\"pid\":%d,\"failed\":%ld,\"ok\":%ld,\"wall_ns\":%lld,\"cpu_ns\":%lld,\"unexpected\":%ld}\n",
	       getpid(), failed, ok, wall, cpu, wrong);
	return 0;
}
