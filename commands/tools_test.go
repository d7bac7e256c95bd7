package commands

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// toolsWorkloadEnv makes the test binary a workload with a known result
// for the tools' tests: "getppid:N", "kill", "exit:N", "sigkill",
// "stat:PATH".
const toolsWorkloadEnv = "TRACER_TOOLS_WORKLOAD"

func init() {
	w := os.Getenv(toolsWorkloadEnv)
	if w == "" || (len(os.Args) > 1 && os.Args[1] == ExecHeldArg) {
		return // the held child waits for the session, then execs the workload
	}
	what, arg, _ := strings.Cut(w, ":")
	n, _ := strconv.Atoi(arg)
	switch what {
	case "getppid":
		for i := 0; i < n; i++ {
			syscall.Getppid()
		}
	case "kill":
		// One kill that works (signal 0 to itself) and one that fails
		// (no such process: -ESRCH).
		syscall.Kill(os.Getpid(), 0)
		syscall.Kill(0x3fffff0, syscall.SIGTERM)
	case "exit":
		os.Exit(n)
	case "sigkill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Second)
	case "stat":
		os.Stat(arg)
		// Alive a while, so a path read from the process's memory after
		// the event is still there (statsnoop on a kernel without eprobes).
		time.Sleep(300 * time.Millisecond)
	}
	os.Exit(0)
}

// runTool runs a tool on this test binary as a workload.
func runTool(t *testing.T, workload string, args ...string) string {
	t.Helper()
	needTracefs(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(toolsWorkloadEnv, workload)
	out, errOut, code := run(append(args, "--", self)...)
	t.Logf("%s:\n%s%s", strings.Join(args, " "), out, errOut)
	if code != 0 && !strings.HasPrefix(workload, "exit") && workload != "sigkill" {
		t.Fatalf("exit %d", code)
	}
	checkNoLeftovers(t)
	return out
}

// TestSyscountTool: the workload's 1234 getppid calls, by name, by
// process (-P) and with their time (-L).
func TestSyscountTool(t *testing.T) {
	out := runTool(t, "getppid:1234", "syscount")
	if !regexp.MustCompile(`(?m)^getppid +1234$`).MatchString(out) {
		t.Errorf("no getppid 1234 row")
	}
	if !strings.Contains(out, "SYSCALL                   COUNT\n") {
		t.Errorf("no BCC header")
	}
	out = runTool(t, "getppid:1234", "syscount", "-L", "-T", "3")
	if !regexp.MustCompile(`(?m)^getppid +1234 +\d+$`).MatchString(out) {
		t.Errorf("-L: no getppid 1234 TIME row")
	}
	if n := strings.Count(out, "\n"); n != 5 {
		t.Errorf("-T 3: %d lines, want 5 (banner, header, 3 rows)", n)
	}
	out = runTool(t, "getppid:1234", "syscount", "-P")
	// Go's runtime makes its own calls; the process has more than 1234.
	m := regexp.MustCompile(`(?m)^(\d+) +(\S+) +(\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("-P: no PID COMM COUNT row")
	}
	if n, _ := strconv.Atoi(m[3]); n < 1234 {
		t.Errorf("-P: top process has %d calls, want >= 1234", n)
	}
}

// TestKillsnoopTool: a kill that works and one that fails, with signal,
// target and result; -x keeps the failure only.
func TestKillsnoopTool(t *testing.T) {
	out := runTool(t, "kill", "killsnoop")
	ok := regexp.MustCompile(`(?m)^\S+ +(\d+) +\S+ +0 +(\d+) +0$`).FindStringSubmatch(out)
	if ok == nil || ok[1] != ok[2] {
		t.Errorf("no row of a signal 0 to itself with result 0: %v", ok)
	}
	failed := fmt.Sprintf(`(?m)^\S+ +\d+ +\S+ +15 +%d +-3$`, 0x3fffff0)
	if !regexp.MustCompile(failed).MatchString(out) {
		t.Errorf("no row of the failed SIGTERM (-ESRCH)")
	}
	out = runTool(t, "kill", "killsnoop", "-x")
	if strings.Count(out, "\n") != 2 || !regexp.MustCompile(failed).MatchString(out) {
		t.Errorf("-x: want the header and the failed kill only")
	}
}

// TestExitsnoopTool: an exit code and a death by SIGKILL.
func TestExitsnoopTool(t *testing.T) {
	out := runTool(t, "exit:42", "exitsnoop")
	if !regexp.MustCompile(`(?m)^\S+ +\d+ +\d+ +\d+ +(\d+\.\d\d|-)  code 42$`).MatchString(out) {
		t.Errorf("no exit code 42 row")
	}
	out = runTool(t, "sigkill", "exitsnoop", "-x")
	if !regexp.MustCompile(`(?m)^\S+ +\d+ +\d+ +\d+ +(\d+\.\d\d|-)  signal 9$`).MatchString(out) {
		t.Errorf("no signal 9 row")
	}
}

// TestToolsList: every tool is listed with what it needs, and shown.
func TestToolsList(t *testing.T) {
	needTracefs(t)
	out, errOut, code := run("tools")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range []string{"syscount", "killsnoop", "exitsnoop", "execsnoop"} {
		if !regexp.MustCompile(`(?m)^` + name + ` `).MatchString(out) {
			t.Errorf("%s not listed:\n%s", name, out)
		}
	}
	out, _, code = run("tools", "--show", "syscount")
	if code != 0 || !strings.Contains(out, "tracepoint:raw_syscalls:sys_exit") {
		t.Errorf("--show syscount: exit %d:\n%s", code, out)
	}
}
