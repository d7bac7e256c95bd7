package commands

import (
	"fmt"
	"net"
	"os"
	"os/exec"
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
	case "mount":
		// A tmpfs mounted and unmounted in a mount namespace of its own.
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			os.Exit(3)
		}
		syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, "")
		os.MkdirAll("/mnt", 0o755) // the test VMs' initramfs has none
		if err := syscall.Mount("tracer-tmpfs", "/mnt", "tmpfs", 0, ""); err != nil {
			os.Exit(4)
		}
		syscall.Unmount("/mnt", 0)
		time.Sleep(300 * time.Millisecond)
	case "connect":
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			os.Exit(3)
		}
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			os.Exit(4)
		}
		c.Close()
		l.Close()
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

// TestStatsnoopTool: a failed stat's path and error; -x keeps failures.
func TestStatsnoopTool(t *testing.T) {
	path := "/nonexistent/tracer-statsnoop-" + strconv.Itoa(os.Getpid())
	out := runTool(t, "stat:"+path, "statsnoop", "-x")
	if !regexp.MustCompile(`(?m)^\d+ +\S+ +-1 +2 ` + regexp.QuoteMeta(path) + `$`).MatchString(out) {
		t.Errorf("no failed stat of %s with ENOENT", path)
	}
}

// TestMountsnoopTool: a tmpfs mounted and unmounted in a private mount
// namespace, with the source, target, type and results.
func TestMountsnoopTool(t *testing.T) {
	out := runTool(t, "mount", "mountsnoop")
	if !strings.Contains(out, `mount("tracer-tmpfs", "/mnt", "tmpfs", 0x0) = 0`) {
		t.Errorf("no mount row")
	}
	if !strings.Contains(out, `umount("/mnt", 0x0) = 0`) {
		t.Errorf("no umount row")
	}
}

// TestTcpconnectTool: a connection to a local listener, with its port.
func TestTcpconnectTool(t *testing.T) {
	out := runTool(t, "connect", "tcpconnect")
	if !regexp.MustCompile(`(?m)^\d+ +commands.test +4 +127\.0\.0\.1 +127\.0\.0\.1 +[1-9]\d*$`).MatchString(out) {
		t.Errorf("no connection from the workload to 127.0.0.1")
	}
}

// TestSchedTools: runqlat and cpudist print a histogram of a busy
// second (a child that sleeps and wakes 100 times).
func TestSchedTools(t *testing.T) {
	for _, tool := range []string{"runqlat", "cpudist"} {
		out := runTool(t, "getppid:10", tool, "-d", "1s")
		if !strings.Contains(out, "usecs:\n@") || !strings.Contains(out, "|@") {
			t.Errorf("%s: no histogram", tool)
		}
	}
}

// TestBlockTools: biolatency and biosnoop on 32 direct 4 KiB writes to a
// loop device.
func TestBlockTools(t *testing.T) {
	needTracefs(t)
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("no losetup: block tools need a loop device to write to")
	}
	img := t.TempDir() + "/disk.img"
	if err := os.WriteFile(img, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("losetup", "-f", "--show", img).Output()
	if err != nil {
		t.Skipf("no loop device here: %v", err)
	}
	dev := strings.TrimSpace(string(b))
	defer exec.Command("losetup", "-d", dev).Run()
	var st syscall.Stat_t
	if err := syscall.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	disk := fmt.Sprintf("%d,%d", st.Rdev>>8&0xfff, st.Rdev&0xff|st.Rdev>>12&0xfff00)
	// Not -- dd: the loop device's I/O is issued and completed by kernel
	// threads and interrupts, which a trace of dd alone would leave out.
	withDD := func(args ...string) (string, string, int) {
		go func() {
			time.Sleep(time.Second)
			exec.Command("dd", "if=/dev/zero", "of="+dev, "bs=4096", "count=32", "oflag=direct").Run()
		}()
		return run(append(args, "-d", "3s")...)
	}
	out, errOut, code := withDD("biosnoop")
	if code != 0 {
		t.Fatalf("biosnoop: exit %d: %s", code, errOut)
	}
	rows := regexp.MustCompile(`(?m)^ *\d+\.\d+ +\S+ +\d+ +`+disk+` +W\S* +\d+ +4096 +\d+$`).FindAllString(out, -1)
	if len(rows) != 32 {
		t.Errorf("biosnoop: %d 4096-byte writes to %s, want 32:\n%s", len(rows), disk, out)
	}
	out, errOut, code = withDD("biolatency", "-D")
	if code != 0 {
		t.Fatalf("biolatency: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "@disk["+strings.Replace(disk, ",", ", ", 1)+"]:") {
		t.Errorf("biolatency -D: no histogram of %s:\n%s", disk, out)
	}
	checkNoLeftovers(t)
}
