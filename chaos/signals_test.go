package main

import (
	"os"
	"strings"
	"testing"
)

// TestChaosSignals runs the signals category against this test binary:
// every catchable signal cleans up and ends the -- command, SIGKILL ends
// it too (issue 11 item 6).
func TestChaosSignals(t *testing.T) {
	if k := os.Getenv("TRACER_IN_VM"); k != "" {
		t.Skipf("the chaos suite's host categories run on the host, not in the %s VM", k)
	}
	s := selfSuite(t)
	s.Main("signals")
	// Judged on what is ours: the top level's probe files may change
	// meanwhile by other engineers' runs on a shared machine.
	for _, r := range s.Rows {
		bad := r.Handled < r.Tried
		for _, n := range r.Notes {
			if strings.Contains(n, "instance tracer-") || strings.Contains(n, "probe tracer_") || strings.Contains(n, "tracer pid ") {
				bad = true
			}
		}
		if bad {
			var b strings.Builder
			s.PrintTable(&b)
			t.Errorf("signals:\n%s", b.String())
		}
	}
	for _, l := range s.leftoversAfterTeardown() {
		if strings.HasPrefix(l, "instance ") || strings.HasPrefix(l, "probe ") || strings.HasPrefix(l, "tracer pid ") {
			t.Errorf("the suite left %s", l)
		}
	}
}
