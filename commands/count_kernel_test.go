package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// init adds a workload with varied values for the histogram tests:
// TRACER_TEST_WRITES=N writes i bytes (i = 0..N-1) to /dev/null on fd 99.
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		return
	}
	if n := os.Getenv("TRACER_TEST_WRITES"); n != "" {
		calls, _ := strconv.Atoi(n)
		f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
		if err != nil || unix.Dup3(int(f.Fd()), 99, 0) != nil {
			os.Exit(3)
		}
		buf := make([]byte, calls)
		for i := 0; i < calls; i++ {
			unix.Write(99, buf[:i])
		}
		os.Exit(0)
	}
}

func needHistTriggers(t *testing.T) {
	t.Helper()
	needTracefs(t)
	if _, err := os.Stat(filepath.Join(tracefsRoot, "events/sched/sched_switch/hist")); err != nil {
		t.Skip("no hist triggers on this kernel (CONFIG_HIST_TRIGGERS)")
	}
}

func TestInKernelRefusedWithoutHistTriggers(t *testing.T) {
	needTracefs(t)
	if _, err := os.Stat(filepath.Join(tracefsRoot, "events/sched/sched_switch/hist")); err == nil {
		t.Skip("this kernel has hist triggers")
	}
	_, errs, code := run("count", "--in-kernel", "syscalls:sys_enter_getppid", "-d", "1s")
	if code == 0 || !containsAll(errs, "CONFIG_HIST_TRIGGERS", "drop --in-kernel") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// TestInKernelCountMatches counts the same workload with and without
// --in-kernel: both must give exactly the calls the workload made.
func TestInKernelCountMatches(t *testing.T) {
	needHistTriggers(t)
	self, dir := selfExe(t), t.TempDir()
	const calls = 1234
	t.Setenv("TRACER_TEST_GETPPID", strconv.Itoa(calls))
	type res struct {
		Total  uint64
		Lost   uint64
		Counts []struct {
			Key   map[string]any
			Count uint64
		}
	}
	var got [2]res
	for i, mode := range []string{"user", "kernel"} {
		pidfile := filepath.Join(dir, mode)
		t.Setenv("TRACER_TEST_PIDFILE", pidfile)
		args := []string{"count", "--json", "--by", "pid,comm,event", "syscalls:sys_enter_getppid", "--", self}
		if mode == "kernel" {
			args = append([]string{"count", "--in-kernel"}, args[1:]...)
		}
		out, errs, code := run(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", mode, code, errs)
		}
		t.Logf("%s: %s", mode, out)
		if err := json.Unmarshal([]byte(out), &got[i]); err != nil {
			t.Fatalf("%s: bad JSON %q: %v", mode, out, err)
		}
		b, _ := os.ReadFile(pidfile)
		pid, _ := strconv.ParseFloat(string(b), 64)
		r := got[i]
		if len(r.Counts) != 1 || r.Counts[0].Count != calls || r.Counts[0].Key["pid"] != pid || r.Counts[0].Key["event"] != "syscalls:sys_enter_getppid" || r.Lost != 0 {
			t.Errorf("%s: want one row pid %v count %d, got %+v", mode, pid, calls, r)
		}
		// the pids differ between runs; the rest must not
		for j := range r.Counts {
			delete(r.Counts[j].Key, "pid")
		}
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Errorf("user space and in-kernel differ:\n%+v\n%+v", got[0], got[1])
	}
	checkNoTriggersLeft(t)
}

// TestInKernelHistMatches histograms the sizes of the workload's writes
// (0..N-1 bytes) with and without --in-kernel, log2 and linear.
func TestInKernelHistMatches(t *testing.T) {
	needHistTriggers(t)
	self := selfExe(t)
	const calls = 700
	t.Setenv("TRACER_TEST_WRITES", strconv.Itoa(calls))
	for _, shape := range [][]string{{"--log2"}, {"--linear", "0,600,50"}} {
		var outs [2]string
		for i, mode := range []string{"user", "kernel"} {
			args := append([]string{"hist", "--json", "--field", "count", "--filter", "fd == 99"}, shape...)
			if mode == "kernel" {
				args = append(args, "--in-kernel")
			}
			args = append(args, "syscalls:sys_enter_write", "--", self)
			out, errs, code := run(args...)
			if code != 0 {
				t.Fatalf("%s %v: exit %d: %s", mode, shape, code, errs)
			}
			var j map[string]any
			if err := json.Unmarshal([]byte(out), &j); err != nil {
				t.Fatalf("%s: bad JSON %q: %v", mode, out, err)
			}
			delete(j, "interval_s")
			b, _ := json.Marshal(j)
			outs[i] = string(b)
			t.Logf("%s %v: %s", mode, shape, outs[i])
		}
		if outs[0] != outs[1] {
			t.Errorf("%v: user space and in-kernel differ:\n%s\n%s", shape, outs[0], outs[1])
		}
		if want := `"count":` + strconv.Itoa(calls) + `,`; !strings.Contains(outs[1], want) {
			t.Errorf("%v: in-kernel hist lacks %s", shape, want)
		}
	}
	checkNoTriggersLeft(t)
}

// checkNoTriggersLeft fails if any tracer instance is left behind (the
// instance goes only once its triggers are off).
func checkNoTriggersLeft(t *testing.T) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(tracefsRoot, "instances"))
	prefix := "tracer-" + strconv.Itoa(os.Getpid()) + "-"
	for _, e := range ents {
		if len(e.Name()) > len(prefix) && e.Name()[:len(prefix)] == prefix {
			t.Errorf("instance %s left behind", e.Name())
		}
	}
}
