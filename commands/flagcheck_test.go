package commands

import (
	"strings"
	"testing"
)

// TestFlagValuesRefused: values that mean nothing are refused before
// anything is set up, with what is wanted (issue 11 item 17: -d -1s,
// --max-pending 0 and -o ” were accepted, -d 5 said "parse error").
func TestFlagValuesRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"record", "-d", "-1s", "sched:sched_switch"}, "--duration -1s: want a positive duration"},
		{[]string{"record", "-d", "0s", "sched:sched_switch"}, "--duration 0s: want a positive duration"},
		{[]string{"count", "--interval", "-2s", "sched:sched_switch"}, "--interval -2s"},
		{[]string{"record", "-d", "5", "sched:sched_switch"}, "-d 5: a duration needs a unit, e.g. 5s or 5ms"},
		{[]string{"record", "-d", "soon", "sched:sched_switch"}, `-d "soon": not a duration`},
		{[]string{"record", "-o", "", "sched:sched_switch"}, "--output: the value is empty"},
		{[]string{"record", "--clock=", "sched:sched_switch"}, "--clock: the value is empty"},
		{[]string{"latency", "--max-pending", "0", "a:b", "c:d"}, "--max-pending 0: want at least 1"},
		{[]string{"count", "--top", "-1", "sched:sched_switch"}, "--top -1: want at least 0"},
	} {
		_, errs, code := run(tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, want 2 and %q: %s", tc.args, code, tc.want, errs)
		}
	}
}

// TestLatencySameEvent: START and END naming one event say so (it said
// "name 1").
func TestLatencySameEvent(t *testing.T) {
	needTracefs(t)
	_, errs, code := run("latency", "-d", "100ms", "sched:sched_switch", "sched:sched_switch")
	if code != 2 || !strings.Contains(errs, "two different events") {
		t.Errorf("exit %d: %s", code, errs)
	}
	_, errs, code = run("latency", "-d", "100ms", "sched:*", "sched:sched_switch")
	if code != 2 || !strings.Contains(errs, `"sched:*" matches`) {
		t.Errorf("exit %d: %s", code, errs)
	}
}
