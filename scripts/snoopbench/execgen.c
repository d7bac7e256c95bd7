/*
 * execgen: an exec-heavy workload for scripts/bench-snoop.
 *
 *   execgen SECONDS TAG LOGFILE [FAIL_EVERY [literal]]
 *
 * Prints its pid, waits for SIGUSR1, then for SECONDS forks and execs
 * /bin/true (dynamically linked, short-lived) one child at a time, as fast
 * as it can, with argv {"/bin/true", "a", "b c", "TAG-N"}: N is unique per
 * exec, so a consumer's row can be checked against what was passed. Every
 * FAIL_EVERY-th child (0: none) first tries /nonexistent/TAG/N with the same
 * argv, which fails with ENOENT, then execs /bin/true: the failed exec of a
 * PATH search. The CPU affinity set by taskset is inherited by the children.
 *
 * The argument strings are copied into the parent's stack before the fork,
 * as a shell builds argv in its own memory: the child's page tables then
 * map them, and a consumer reading them at sys_enter_execve without
 * faulting (BPF's probe_read_user, a uprobe's fetch) finds them. With
 * "literal", argv points at string literals in .rodata instead: fork does
 * not copy the page table entries of file-backed mappings, so in the child
 * those pages are not mapped until execve itself faults them in, and such
 * a reader gets nothing at the entry.
 *
 * At the end it writes one line per child to LOGFILE ("PID N FAILED") and
 * prints one JSON line: {"execs":..,"failed":..,"wall_ns":..,"cpu_ns":..,
 * "bad_exit":..}. cpu_ns is the CPU time of the run, its own and its
 * children's: what tracing adds in the traced tasks' context (tracepoint
 * handlers, BPF programs, uprobes) shows there even when other work on a
 * shared machine stretches the wall time.
 * Consumers trace system-wide; the log tells the script which rows are ours.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

/* user+sys CPU of the children reaped so far */
static long long children_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

struct rec { int pid; int failed; };

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: execgen SECONDS TAG LOGFILE [FAIL_EVERY]\n");
		return 2;
	}
	double secs = atof(argv[1]);
	const char *tag = argv[2];
	int fail_every = argc > 4 ? atoi(argv[4]) : 0;
	int literal = argc > 5 && strcmp(argv[5], "literal") == 0;
	/* opened before the start, so the run itself makes no opens but the
	 * children's */
	FILE *log = fopen(argv[3], "w");
	if (!log) { perror(argv[3]); return 1; }

	size_t cap = 1 << 16, n = 0;
	struct rec *recs = malloc(cap * sizeof *recs);
	if (!recs) return 1;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("{\"pid\":%d}\n", getpid());
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	long long t0 = now_ns(), end = t0 + (long long)(secs * 1e9);
	long long cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), ch0 = children_ns();
	long failed = 0, bad = 0;
	char tok[64], bad_path[128], a0[16], a1[4], a2[8];
	strcpy(a0, "/bin/true");
	strcpy(a1, "a");
	strcpy(a2, "b c");
	while (now_ns() < end) {
		snprintf(tok, sizeof tok, "%s-%zu", tag, n);
		int fail = fail_every > 0 && n % fail_every == fail_every - 1;
		if (fail)
			snprintf(bad_path, sizeof bad_path, "/nonexistent/%s/%zu", tag, n);
		char *args[] = { a0, a1, a2, tok, NULL };
		if (literal) {
			args[0] = "/bin/true";
			args[1] = "a";
			args[2] = "b c";
		}
		pid_t p = fork();
		if (p < 0) { perror("fork"); break; }
		if (p == 0) {
			if (fail)
				execve(bad_path, args, environ);
			execve("/bin/true", args, environ);
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
		if (n == cap) {
			cap *= 2;
			recs = realloc(recs, cap * sizeof *recs);
			if (!recs) return 1;
		}
		recs[n].pid = p;
		recs[n].failed = fail;
		n++;
		failed += fail;
	}
	long long wall = now_ns() - t0;
	long long cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 + children_ns() - ch0;
	for (size_t i = 0; i < n; i++)
		fprintf(log, "%d %zu %d\n", recs[i].pid, i, recs[i].failed);
	fclose(log);
	printf("{\"execs\":%zu,\"failed\":%ld,\"wall_ns\":%lld,\"cpu_ns\":%lld,\"bad_exit\":%ld}\n",
	       n, failed, wall, cpu, bad);
	return 0;
}
