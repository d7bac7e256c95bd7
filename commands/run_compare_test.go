package commands

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// compareProgs run under bpftrace and tracer on one workload
// (testdata/run/tracerwl.c: 17 getppid calls, 5 failed opens of
// /nonexistent/tracer-N, 2 execs of /bin/true, 40 reads of bad fds with
// counts 0, 13, 26...). Each is keyed to the workload's comm so that the
// rest of the machine does not count. tracer's text, where it differs,
// is what bpftrace 0.17 rejects but tracer accepts (the `};` of issue 13).
var compareProgs = []struct {
	name, prog, tracerProg string
	json                   bool
}{
	{name: "count by comm", prog: `tracepoint:syscalls:sys_enter_getppid /comm == "tracerwl"/ { @[comm] = count(); }`},
	{name: "count by probe", prog: `tracepoint:syscalls:sys_enter_getpp* /comm == "tracerwl"/ { @[probe] = count(); }`},
	{name: "printf widths", prog: `BEGIN { printf("%-10s %5s|%-6d|%06d|%x\n", "COMM", "PID", 42, 7, 255); }
tracepoint:syscalls:sys_exit_openat /comm == "tracerwl" && args->ret < 0/ { printf("%-10s ret=%4d %s\n", comm, args->ret, probe); @errs[args->ret] = count(); }
END { printf("done %d\n", 1); }`},
	{name: "hist lhist stats", prog: `tracepoint:syscalls:sys_enter_read /comm == "tracerwl"/ { @h = hist(args->count); @l = lhist(args->count, 0, 300, 50); @s = stats(args->count); @a = avg(args->count); @mx = max(args->count); @mn = min(args->count); @sm = sum(args->count); @by[args->fd] = count(); }`},
	{name: "open paths", prog: `tracepoint:syscalls:sys_enter_openat /comm == "tracerwl" && str(args->filename) == "/nonexistent/tracer-3"/ { printf("%s %s\n", comm, str(args->filename)); }`},
	{name: "issue 13 filename by tid", prog: issue13(""), tracerProg: issue13(";")},
	{name: "end block and delete", prog: `tracepoint:syscalls:sys_enter_getppid /comm == "tracerwl"/ { @n[tid] = count(); $x = 2; @sum = sum($x * 3); }
tracepoint:syscalls:sys_enter_exit_group /comm == "tracerwl"/ { delete(@n[tid]); }
END { printf("end: %d\n", @sum); }`},
	{name: "json", json: true, prog: `BEGIN { printf("start \"q\"\t\n"); }
tracepoint:syscalls:sys_enter_read /comm == "tracerwl"/ { @h = hist(args->count); @l = lhist(args->count, 0, 300, 100); @s = stats(args->count); @c[comm] = count(); @fd[args->fd, comm] = sum(args->count); }`},
}

func issue13(semi string) string {
	return `#!/usr/bin/bpftrace

tracepoint:syscalls:sys_enter_openat
  / comm == "tracerwl" /
{
  @filename[tid] = args->filename
}

tracepoint:syscalls:sys_exit_openat
  / @filename[tid] /
{
  if ( args->ret < 0 ) {
    printf("%s %s\n", comm, str(@filename[tid]));
  }` + semi + `
  delete(@filename[tid]);
}
`
}

// workloadName is the workload's comm, which the programs filter on: one
// of this test process, so that other runs of the same test on the machine
// (or leftovers) do not count.
var workloadName = fmt.Sprintf("twl%d", os.Getpid()%1000000)

// ownWorkload points a program's comm filter at this process's workload.
func ownWorkload(prog string) string {
	return strings.ReplaceAll(prog, `"tracerwl"`, `"`+workloadName+`"`)
}

// buildWorkload compiles the workload, or skips.
func buildWorkload(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("the comparison workload needs a C compiler (cc)")
	}
	bin := filepath.Join(t.TempDir(), workloadName)
	if out, err := exec.Command(cc, "-O2", "-o", bin, "testdata/run/tracerwl.c").CombinedOutput(); err != nil {
		t.Fatalf("building the workload: %v\n%s", err, out)
	}
	return bin
}

// normalizeMaps sorts each run of map lines (@x...: value), since bpftrace
// prints equal values in any order.
func normalizeMaps(s string) string {
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && strings.HasPrefix(lines[j], "@") && !strings.HasSuffix(lines[j], ": ") {
			j++
		}
		sort.Strings(lines[i:j])
		if j == i {
			j++
		}
		i = j
	}
	return strings.Join(lines, "\n")
}

func TestRunMatchesBpftrace(t *testing.T) {
	needTracefs(t)
	wl := buildWorkload(t)
	bpftrace, bpfErr := exec.LookPath("bpftrace")
	for _, tc := range compareProgs {
		t.Run(tc.name, func(t *testing.T) {
			tp := tc.tracerProg
			if tp == "" {
				tp = tc.prog
			}
			tp = ownWorkload(tp)
			args := []string{"run", "-e", tp, "-c", wl}
			if tc.json {
				args = append(args, "-f", "json")
			}
			got, errs, code := run(args...)
			if code != 0 {
				t.Fatalf("tracer run: status %d: %s", code, errs)
			}
			if bpfErr != nil {
				t.Skipf("bpftrace is not installed (%v): tracer's output not compared\n%s", bpfErr, got)
			}
			bargs := []string{"-e", ownWorkload(tc.prog), "-c", wl}
			if tc.json {
				bargs = append([]string{"-f", "json"}, bargs...)
			}
			cmd := exec.Command(bpftrace, bargs...)
			cmd.Env = append(os.Environ(), "BPFTRACE_NO_USER_SYMBOLS=1")
			want, err := cmd.Output()
			if err != nil {
				t.Skipf("bpftrace cannot run here: %v", err)
			}
			if normalizeMaps(got) != normalizeMaps(string(want)) {
				t.Errorf("tracer run differs from bpftrace\n--- tracer:\n%s\n--- bpftrace:\n%s\n--- tracer stderr:\n%s", got, want, errs)
			}
		})
	}
}
