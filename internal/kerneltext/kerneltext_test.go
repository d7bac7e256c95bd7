package kerneltext

import "testing"

func TestDroppedStrings(t *testing.T) {
	for _, c := range []struct {
		kernel, ours string
		want         bool
	}{
		{"a: comm= pid=1", "a: comm=sh pid=1", true},
		{"softirq_exit: vec=1 [action=]", "softirq_exit: vec=1 [action=TIMER]", true},
		{"a: comm=sh pid=1", "a: comm=sh pid=1", true},
		{"a: comm=bash pid=1", "a: comm=sh pid=1", false},
		{"a: comm= pid=2", "a: comm=sh pid=1", false},
		{"a: comm=", "a: comm=two words", false},
	} {
		if got := DroppedStrings(c.kernel, c.ours); got != c.want {
			t.Errorf("DroppedStrings(%q, %q) = %v", c.kernel, c.ours, got)
		}
	}
}
