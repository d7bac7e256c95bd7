package tracefs

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestInKernelHistTriggerLive(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if !fs.Features().HistTriggers {
		_, err := in.AddHistTrigger("sched", "sched_switch", []string{"common_pid"}, 0, "")
		if !errors.Is(err, ErrNoHistTriggers) || !strings.Contains(err.Error(), "CONFIG_HIST_TRIGGERS") {
			t.Fatalf("no hist triggers here, got %v", err)
		}
		t.Skip("no hist triggers on this kernel (CONFIG_HIST_TRIGGERS)")
	}
	// A refused spec comes back with the kernel's explanation.
	if _, err := in.AddHistTrigger("sched", "sched_switch", []string{"no_such_field"}, 0, ""); err == nil {
		t.Fatal("a key on a missing field was accepted")
	} else {
		t.Logf("refused as expected: %v", err)
	}
	tr, err := in.AddHistTrigger("sched", "sched_switch", []string{"common_pid.execname", "common_cpu"}, 4096, "prev_pid >= 0")
	if err != nil {
		t.Fatal(err)
	}
	if err := in.SetTracingOn(true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		os.Getppid()
		os.ReadFile("/proc/self/stat") // some scheduling
	}
	b, err := tr.Read()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hist:\n%s", b)
	if !strings.Contains(string(b), "Totals:") {
		t.Errorf("no totals in hist")
	}
	trig, _ := in.read("events/sched/sched_switch/trigger")
	if !strings.Contains(string(trig), "hist:keys=common_pid.execname") {
		t.Errorf("trigger file %q", trig)
	}
	if err := tr.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Remove(); err != nil {
		t.Fatal("second Remove:", err)
	}
	trig, _ = in.read("events/sched/sched_switch/trigger")
	if strings.Contains(string(trig), "hist:") {
		t.Errorf("trigger still there after Remove: %q", trig)
	}

	// What a SIGKILLed run leaves: an instance with a trigger still set.
	// Say whether the kernel lets rmdir take it (tracer reset relies on it).
	in2, err := fs.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := in2.AddHistTrigger("sched", "sched_switch", []string{"common_pid"}, 0, "")
	if err != nil {
		in2.Remove()
		t.Fatal(err)
	}
	if err := in2.Remove(); err != nil {
		t.Logf("instance with a trigger left on: Remove: %v (removing the trigger first)", err)
		tr2.Remove()
		if err := in2.Remove(); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Logf("instance with a trigger left on: rmdir removes it anyway")
	}
}
