package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/commands"
	"github.com/tracer-dev/tracer/tracefs"
)

// TestMain lets the test binary act as tracer (TRACER_TEST_AS_MAIN=1) and
// as its held child, like commands' tests, so that these tests need no Go
// toolchain and run inside the test VMs too.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == commands.ExecHeldArg {
		os.Exit(commands.ExecHeld(os.Args[2:]))
	}
	if os.Getenv("TRACER_TEST_AS_MAIN") == "1" {
		os.Exit(commands.Main(append([]string{"tracer"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// selfSuite is a suite whose tracer is this test binary.
func selfSuite(t *testing.T, env ...string) *Suite {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the chaos suite needs root")
	}
	fs, err := tracefs.Open()
	if errors.Is(err, tracefs.ErrNotMounted) {
		t.Skipf("needs tracefs: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !fs.Features().Instances {
		t.Skip("needs tracefs instances")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Suite{Tracer: self, Env: append([]string{"TRACER_TEST_AS_MAIN=1"}, env...), Log: logWriter{t}}
}

// TestChaosCatchesBrokenCleanup: with the test hook that makes Session.Close
// skip removing its instance, the suite must count leftovers and fail;
// without it, the same categories pass. This is what proves that the
// suite can fail.
func TestChaosCatchesBrokenCleanup(t *testing.T) {
	if k := os.Getenv("TRACER_IN_VM"); k != "" {
		// The host runs this (scripts/chaos and go test); under software
		// emulation its timeouts are meaningless.
		t.Skipf("the chaos suite's host categories run on the host, not in the %s VM", k)
	}
	t.Setenv("CHAOS_PIPE_RUNS", "3")
	for _, broken := range []bool{false, true} {
		var env []string
		if broken {
			env = []string{"TRACER_CHAOS_SKIP_CLEANUP=1"}
		}
		s := selfSuite(t, env...)
		status := s.Main("closedpipe,concurrency")
		left := 0
		for _, r := range s.Rows {
			left += r.Leftovers
		}
		if broken && (status == 0 || left == 0) {
			t.Errorf("with cleanup skipped: status %d, %d leftovers; want a failure with leftovers", status, left)
		}
		if !broken && (status != 0 || left != 0) {
			t.Errorf("with cleanup: status %d, %d leftovers; want a pass", status, left)
		}
		// Main cleaned up after itself: nothing of its tracers remains.
		if l := s.leftoversAfterTeardown(); len(l) > 0 {
			t.Errorf("the suite left %v", l)
		}
	}
}

// TestChaosHotplug offlines cpu1 during a record; only in the test VMs
// (scripts/vmtest sets TRACER_IN_VM), never on a shared host.
func TestChaosHotplug(t *testing.T) {
	if os.Getenv("TRACER_IN_VM") == "" {
		t.Skip("CPU hotplug runs only in the test VMs (TRACER_IN_VM)")
	}
	s := selfSuite(t)
	if err := s.Setup(); err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	r := &Row{Name: "hotplug"}
	s.Hotplug(r)
	if r.Skip != "" {
		t.Skip(r.Skip)
	}
	if r.Handled < r.Tried {
		t.Errorf("hotplug: %d/%d handled: %v", r.Handled, r.Tried, r.Notes)
	}
	if l := s.Leftovers(); len(l) > 0 {
		t.Errorf("left: %v", l)
	}
}

// TestChaosKill9 runs the kill9 category, a few runs per phase, in the test
// VMs: there the kernels have eprobes (6.1 and later) and kprobes, which the
// host lacks, so kill -9 during setup and streaming of a run with an eprobe,
// then tracer reset, is proven on a kernel that has them. The host runs the
// full category through scripts/chaos.
func TestChaosKill9(t *testing.T) {
	if os.Getenv("TRACER_IN_VM") == "" {
		t.Skip("kill9 runs on the host through scripts/chaos; this short run is for the test VMs (TRACER_IN_VM), whose kernels have eprobes")
	}
	t.Setenv("CHAOS_KILL_RUNS", "8")
	s := selfSuite(t)
	if err := s.Setup(); err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	r := &Row{Name: "kill9"}
	s.Kill9(r)
	for _, n := range r.Notes {
		t.Log(n)
	}
	if r.Handled < r.Tried || r.Leftovers > 0 {
		t.Errorf("kill9: %d/%d handled, %d leftovers: %v", r.Handled, r.Tried, r.Leftovers, r.Notes)
	}
	if l := s.Leftovers(); len(l) > 0 {
		t.Errorf("left: %v", l)
	}
}

// leftoversAfterTeardown lists instances of the suite's tracers and its
// other-tool instance that are still there after Main returned.
func (s *Suite) leftoversAfterTeardown() []string {
	fs, err := tracefs.Open()
	if err != nil {
		return []string{err.Error()}
	}
	ents, _ := os.ReadDir(fs.Root() + "/instances")
	var out []string
	for _, e := range ents {
		if m := instRE.FindStringSubmatch(e.Name()); m != nil && s.pids[atoiInt(m[1])] {
			out = append(out, e.Name())
		}
		if e.Name() == s.other {
			out = append(out, e.Name())
		}
	}
	return out
}

func atoiInt(s string) int { return int(atoi(s)) }
