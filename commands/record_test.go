package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// uniqueBinary writes a tiny program under a name only this test uses, so
// its exec event (whose filename is the script's path) can be told apart
// from everything else the machine runs. A script, not a copy of
// /bin/true: in the test VMs that is busybox, which goes by its name.
func uniqueBinary(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRecordExecText(t *testing.T) {
	needTracefs(t)
	bin := uniqueBinary(t, "tracer-test-exec")
	out, errs, code := run("record", "sched:sched_process_exec", "--", bin)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "sched_process_exec: filename=" + bin + " pid="
	if !strings.Contains(out, want) {
		t.Fatalf("no exec line for %s in:\n%s\nstderr: %s", bin, out, errs)
	}
	// The line has the kernel's prefix: comm-pid, [cpu], flags, timestamp.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, want) {
			f := strings.Fields(line)
			if len(f) < 5 || !strings.HasPrefix(f[1], "[") || !strings.HasSuffix(f[3], ":") {
				t.Errorf("line without the kernel's prefix: %q", line)
			}
		}
	}
}

func TestRecordExecJSON(t *testing.T) {
	needTracefs(t)
	bin := uniqueBinary(t, "tracer-test-json")
	out, errs, code := run("record", "--json", "sched:sched_process_exec", "--", bin, "arg1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Event  string         `json:"event"`
			PID    int            `json:"pid"`
			CPU    *int           `json:"cpu"`
			TS     uint64         `json:"ts"`
			Fields map[string]any `json:"fields"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		if ev.Event == "sched:sched_process_exec" && ev.Fields["filename"] == bin {
			found = true
			if ev.PID <= 0 || ev.CPU == nil || ev.TS == 0 {
				t.Errorf("missing context in %q", line)
			}
			if pid, ok := ev.Fields["pid"].(float64); !ok || int(pid) != ev.PID {
				t.Errorf("fields.pid = %v, want the number %d", ev.Fields["pid"], ev.PID)
			}
		}
	}
	if !found {
		t.Fatalf("no exec of %s in:\n%s", bin, out)
	}
}

func TestRecordFilter(t *testing.T) {
	needTracefs(t)
	a := uniqueBinary(t, "tracer-keep")
	b := uniqueBinary(t, "tracer-drop")
	script := filepath.Join(t.TempDir(), "run.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n"+a+"\n"+b+"\n"+a+"\n"), 0o755)
	out, errs, code := run("record", "--filter", `filename ~ "*tracer-keep"`, "sched:sched_process_exec", "--", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, "tracer-keep pid="); n != 2 {
		t.Errorf("kept %d execs of tracer-keep, want 2:\n%s", n, out)
	}
	if strings.Contains(out, "tracer-drop") || strings.Contains(out, "run.sh") {
		t.Errorf("filter let through other execs:\n%s", out)
	}
}

func TestRecordPerEventFilter(t *testing.T) {
	needTracefs(t)
	a := uniqueBinary(t, "tracer-pe")
	out, errs, code := run("record", "--filter", "sched:sched_process_exit=prio < 0",
		"sched:sched_process_exec", "sched:sched_process_exit", "--", a)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "sched_process_exec: filename="+a) {
		t.Errorf("exec missing:\n%s", out)
	}
	if strings.Contains(out, "sched_process_exit:") {
		t.Errorf("per-event filter on sched_process_exit did not apply:\n%s", out)
	}
}

func TestRecordCommandExitStatus(t *testing.T) {
	needTracefs(t)
	_, errs, code := run("record", "sched:sched_process_exit", "--", "/bin/sh", "-c", "exit 7")
	if code != 7 {
		t.Fatalf("exit %d, want the command's 7 (stderr %s)", code, errs)
	}
}

// TestRecordCommandOnlyItsOwn: with -- CMD, only the command and its
// children are traced, not other processes running at the same time.
func TestRecordCommandOnlyItsOwn(t *testing.T) {
	needTracefs(t)
	mine := uniqueBinary(t, "tracer-mine")
	other := uniqueBinary(t, "tracer-other")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				exec.Command(other).Run()
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	script := filepath.Join(t.TempDir(), "run.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 0.2\n"+mine+"\nsleep 0.2\n"), 0o755)
	out, errs, code := run("record", "sched:sched_process_exec", "--", script)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "filename="+mine) {
		t.Errorf("the command's child exec is missing:\n%s", out)
	}
	if strings.Contains(out, "tracer-other") {
		t.Errorf("another process's exec was traced:\n%s", out)
	}
}

// TestRecordPID: -p traces only the given process.
func TestRecordPID(t *testing.T) {
	needTracefs(t)
	target := exec.Command("/bin/sh", "-c", "while :; do echo x > /dev/null; sleep 0.05; done")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { target.Process.Kill(); target.Wait() }()
	pid := target.Process.Pid
	out, errs, code := run("record", "-d", "700ms", "-p", itoa(pid), "syscalls:sys_enter_write", "sched:sched_process_exec")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("too few events for pid %d:\n%s", pid, out)
	}
	for _, l := range lines {
		if !strings.Contains(l, fmt.Sprintf("-%d ", pid)) {
			t.Errorf("event of another process: %q", l)
		}
	}
}

// TestRecordBadFilter: a filter the kernel refuses shows its error_log
// with the caret, whichever errno it answers with (EINVAL; ESRCH for an
// unclosed quote, issue 11 item 15).
func TestRecordBadFilter(t *testing.T) {
	needTracefs(t)
	for _, f := range []string{"prev_pid >", `prev_comm == "abc`} {
		_, errs, code := run("record", "-d", "1s", "--filter", f, "sched:sched_switch")
		if code == 0 {
			t.Fatalf("bad filter %q succeeded", f)
		}
		if !strings.Contains(errs, "Command:") || !strings.Contains(errs, "^") || strings.Contains(errs, "no such process") {
			t.Errorf("%q: stderr lacks the kernel's error_log with caret:\n%s", f, errs)
		}
	}
}

func TestRecordUnknownEvent(t *testing.T) {
	needTracefs(t)
	_, errs, code := run("record", "sched:sched_swich")
	if code == 0 {
		t.Fatal("an unknown event succeeded")
	}
	if !strings.Contains(errs, "sched:sched_switch") {
		t.Errorf("no suggestion in:\n%s", errs)
	}
}

// TestRecordConcurrent: two sessions at once each see their own events.
func TestRecordConcurrent(t *testing.T) {
	needTracefs(t)
	a := uniqueBinary(t, "tracer-conc-a")
	b := uniqueBinary(t, "tracer-conc-b")
	var outA, outB string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		outA, _, _ = run("record", "sched:sched_process_exec", "--", "/bin/sh", "-c", "sleep 0.3; "+a+"; sleep 0.3")
	}()
	go func() {
		defer wg.Done()
		outB, _, _ = run("record", "sched:sched_process_exec", "--", "/bin/sh", "-c", "sleep 0.3; "+b+"; sleep 0.3")
	}()
	wg.Wait()
	if !strings.Contains(outA, "tracer-conc-a") || strings.Contains(outA, "tracer-conc-b") {
		t.Errorf("session A saw:\n%s", outA)
	}
	if !strings.Contains(outB, "tracer-conc-b") || strings.Contains(outB, "tracer-conc-a") {
		t.Errorf("session B saw:\n%s", outB)
	}
}

// waitInstance waits until the process with pid has an instance.
func waitInstance(t *testing.T, pid int) string {
	t.Helper()
	prefix := fmt.Sprintf("tracer-%d-", pid)
	for i := 0; i < 200; i++ {
		ents, _ := os.ReadDir(instancesDir())
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				return e.Name()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no instance for pid %d", pid)
	return ""
}

func instanceExists(name string) bool {
	_, err := os.Stat(filepath.Join(instancesDir(), name))
	return err == nil
}

// TestRecordSignals: SIGINT, SIGTERM and SIGHUP end a record cleanly and
// remove its instance; SIGKILL leaves one that reset removes.
func TestRecordSignals(t *testing.T) {
	needTracefs(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := tracerCmd(t, "record", "sched:sched_switch")
			cmd.Stdout, cmd.Stderr = nil, nil
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			name := waitInstance(t, cmd.Process.Pid)
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(sig)
			cmd.Wait()
			if sig == syscall.SIGKILL {
				if !instanceExists(name) {
					t.Fatal("instance vanished after SIGKILL: the test proves nothing")
				}
				if _, errs, code := run("reset"); code != 0 {
					t.Fatalf("reset: %s", errs)
				}
			}
			if instanceExists(name) {
				t.Errorf("instance %s left after %s", name, sig)
				os.Remove(filepath.Join(instancesDir(), name))
			}
		})
	}
}

// TestRecordClosedPipe: tracer record | head -1 ends quietly and cleans up.
func TestRecordClosedPipe(t *testing.T) {
	needTracefs(t)
	cmd := tracerCmd(t, "record", "sched:sched_switch")
	stdout, _ := cmd.StdoutPipe()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	name := waitInstance(t, cmd.Process.Pid)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "sched_switch:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	stdout.Close() // like head -1 exiting
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v (stderr %q)", err, errb.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("record did not end after its stdout closed")
	}
	if errb.Len() > 0 {
		t.Errorf("not quiet: %q", errb.String())
	}
	if instanceExists(name) {
		t.Errorf("instance %s left behind", name)
	}
}

// TestBufferSizeRange: record and the live commands refuse a buffer size
// the kernel would silently replace (by its default for 0 or less, by a
// few KB when its KB-to-bytes shift overflows), before setting anything
// up, and say the range.
func TestBufferSizeRange(t *testing.T) {
	needTracefs(t)
	for _, cmd := range [][]string{{"record"}, {"count"}, {"hist", "--field", "prev_pid"}, {"record", "-o", filepath.Join(t.TempDir(), "x.dat")}} {
		for _, kb := range []string{"0", "-5", "4194305", "4611686018427387904"} {
			args := append(append([]string{}, cmd...), "-b", kb, "-d", "200ms", "sched:sched_switch")
			_, errs, code := run(args...)
			if code != 2 || !strings.Contains(errs, "--buffer-size") || !strings.Contains(errs, "1 to 4194304 KB") {
				t.Errorf("%v: exit %d, stderr %q; want 2 and the range", args, code, errs)
			}
		}
	}
	if _, errs, code := run("record", "-b", "1", "-d", "100ms", "sched:sched_switch"); code != 0 {
		t.Errorf("-b 1: exit %d: %s", code, errs)
	}
}
