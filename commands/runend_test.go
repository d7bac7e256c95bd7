package commands

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// heldChildPID reads the pid of a tracer's -- command from its instance's
// set_event_pid.
func heldChildPID(t *testing.T, inst string) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		b, _ := os.ReadFile(filepath.Join(instancesDir(), inst, "set_event_pid"))
		if f := strings.Fields(string(b)); len(f) > 0 {
			if p, err := strconv.Atoi(f[0]); err == nil {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no pid in %s/set_event_pid", inst)
	return 0
}

// waitGone waits up to d for pid to be gone or a zombie.
func waitGone(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if processAlive(pid) != nil {
			return true
		}
	}
	return false
}

// TestRecordStopSignals: every catchable signal that would end tracer
// (issue 11 item 6: SIGQUIT, SIGABRT, SIGTRAP, SIGBUS, SIGSEGV printed a
// goroutine dump and left the instance behind) cleans up, ends the --
// command and exits with 128+N.
func TestRecordStopSignals(t *testing.T) {
	needTracefs(t)
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGTRAP, syscall.SIGBUS, syscall.SIGSEGV, syscall.SIGUSR1, syscall.SIGALRM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := tracerCmd(t, "record", "sched:sched_process_exit", "--", "sleep", "30")
			var errb strings.Builder
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer removeInstancesOf(cmd.Process.Pid)
			name := waitInstance(t, cmd.Process.Pid)
			child := heldChildPID(t, name)
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(sig)
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
				t.Errorf("exit status %d, want %d (%s)", code, 128+int(sig), cmd.ProcessState)
			}
			if strings.Contains(errb.String(), "goroutine ") {
				t.Errorf("goroutine dump on %s: %.300s", sig, errb.String())
			}
			if instanceExists(name) {
				t.Errorf("instance %s left after %s", name, sig)
			}
			if !waitGone(child, 2*time.Second) {
				syscall.Kill(child, syscall.SIGKILL)
				t.Errorf("the -- command (pid %d) outlived tracer after %s", child, sig)
			}
		})
	}
}

// TestRecordChildDiesWithTracer: after a SIGKILL of tracer the -- command
// does not run on as an orphan (parent-death signal), unless
// --keep-command asks for that.
func TestRecordChildDiesWithTracer(t *testing.T) {
	needTracefs(t)
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint("keep=", keep), func(t *testing.T) {
			args := []string{"record", "sched:sched_process_exit"}
			if keep {
				args = append(args, "--keep-command")
			}
			cmd := tracerCmd(t, append(args, "--", "sleep", "30")...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer removeInstancesOf(cmd.Process.Pid)
			name := waitInstance(t, cmd.Process.Pid)
			child := heldChildPID(t, name)
			// Kill tracer only once the held child has become the command
			// (a child still held dies with its pipe, keep or not; in a
			// slow VM that takes a while).
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child)); strings.TrimSpace(string(b)) == "sleep" {
					break
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			gone := waitGone(child, 2*time.Second)
			if !gone {
				syscall.Kill(child, syscall.SIGKILL)
			}
			if gone == keep {
				t.Errorf("--keep-command=%v: command gone after tracer's SIGKILL: %v", keep, gone)
			}
		})
	}
}

// TestRecordGraceEscalates: a -- command that ignores SIGTERM when
// --duration ends is told about and killed after --grace (issue 11 item
// 7), and tracer does not pass on the status of the kill it made.
func TestRecordGraceEscalates(t *testing.T) {
	needTracefs(t)
	start := time.Now()
	_, errs, code := run("record", "-d", "300ms", "--grace", "700ms", "sched:sched_process_exit", "--", "sh", "-c", "trap '' TERM; exec sleep 30")
	took := time.Since(start)
	if code != 0 || took > 10*time.Second {
		t.Fatalf("exit %d after %s: %s", code, took, errs)
	}
	for _, want := range []string{"sent SIGTERM to ", "waiting up to 700ms", "did not exit within 700ms of SIGTERM: sent SIGKILL"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q: %s", want, errs)
		}
	}
	// One that obeys SIGTERM ends quietly.
	_, errs, code = run("record", "-d", "300ms", "sched:sched_process_exit", "--", "sleep", "30")
	if code != 0 || strings.Contains(errs, "SIGTERM") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestRecordMissingPID: -p of a pid that does not exist, is out of range
// or is a zombie is refused before anything is set up (issue 11 items 8,
// 16: it was accepted and recorded nothing, or failed with EPERM).
func TestRecordMissingPID(t *testing.T) {
	needTracefs(t)
	z := exec.Command("true")
	if err := z.Start(); err != nil {
		t.Fatal(err)
	}
	defer z.Wait()
	zpid := z.Process.Pid
	for i := 0; i < 100; i++ { // until it is a zombie
		if processAlive(zpid) != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, pid := range []string{"99999999999", "4194304", "0", itoa(zpid)} {
		for _, cmd := range []string{"record", "count"} {
			_, errs, code := run(cmd, "-d", "5s", "-p", pid, "sched:sched_switch")
			if code != 2 || !strings.Contains(errs, "-p: pid "+pid+": no such process") {
				t.Errorf("%s -p %s: exit %d: %s", cmd, pid, code, errs)
			}
		}
	}
}

// TestRecordPIDExits: tracer ends when every -p pid has exited; with
// --follow, only once the children they forked while traced have too.
func TestRecordPIDExits(t *testing.T) {
	needTracefs(t)
	p := exec.Command("sleep", "0.5")
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	go p.Wait()
	start := time.Now()
	_, errs, code := run("record", "-p", itoa(p.Process.Pid), "sched:sched_switch")
	if took := time.Since(start); code != 0 || took > 5*time.Second {
		t.Fatalf("exit %d after %s: %s", code, took, errs)
	}

	// --follow: the shell exits at once, its child 1.5 s later.
	sh := exec.Command("sh", "-c", "read x; sleep 1.5 & exit 0")
	in, _ := sh.StdinPipe()
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	go sh.Wait()
	done := make(chan time.Time, 1)
	go func() {
		_, errs, code = run("record", "--follow", "-p", itoa(sh.Process.Pid), "sched:sched_process_exit")
		done <- time.Now()
	}()
	for i := 0; len(ourInstances()) == 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // tracing on
	released := time.Now()
	in.Write([]byte("go\n"))
	select {
	case end := <-done:
		if code != 0 || end.Sub(released) < 1400*time.Millisecond {
			t.Errorf("--follow: exit %d %s after the shell went, before its child: %s", code, end.Sub(released), errs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("--follow: tracer still running 15 s after every traced process exited")
	}
}
