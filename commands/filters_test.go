package commands

import (
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/tracefs"
)

// TestFilterSetAND: every filter that applies to an event is ANDed, global
// and per-event alike, in the order given (issue 11 item 9: a per-event
// filter replaced the global one, and repeated per-event ones each other).
func TestFilterSetAND(t *testing.T) {
	sw := tracefs.EventID{System: "sched", Name: "sched_switch"}
	wk := tracefs.EventID{System: "sched", Name: "sched_wakeup"}
	set := parseFilters([]string{"common_pid > 0", "sched:sched_switch=prev_pid > 1", "sched:*=common_pid != 7", "prio < 100", "sched:sched_switch=next_pid > 2"})
	set.per[0].ids = map[tracefs.EventID]bool{sw: true}
	set.per[1].ids = map[tracefs.EventID]bool{sw: true, wk: true}
	set.per[2].ids = map[tracefs.EventID]bool{sw: true}
	for id, want := range map[tracefs.EventID]string{
		sw:                       "(common_pid > 0) && (prio < 100) && (prev_pid > 1) && (common_pid != 7) && (next_pid > 2)",
		wk:                       "(common_pid > 0) && (prio < 100) && (common_pid != 7)",
		{System: "x", Name: "y"}: "(common_pid > 0) && (prio < 100)",
	} {
		if got := set.forEvent(id); got != want {
			t.Errorf("%s: got %q, want %q", id, got, want)
		}
	}
	if got := parseFilters([]string{"a == 1"}).globalFilter(); got != "a == 1" {
		t.Errorf("one filter: %q", got)
	}
}

// TestPerEventFilterNotTraced: a per-event filter for an event not traced
// is refused, not added (it turned on getppid, or every sched event).
func TestPerEventFilterNotTraced(t *testing.T) {
	needTracefs(t)
	for _, cmd := range []string{"record", "count"} {
		for _, f := range []string{"syscalls:sys_enter_getppid=common_pid>0", "sched:*=common_pid>0"} {
			_, errs, code := run(cmd, "-d", "100ms", "--filter", f, "sched:sched_process_exec")
			want := "is not among the events traced"
			if f == "sched:*=common_pid>0" {
				want = "" // it matches the event traced: fine
			}
			if want == "" {
				if code != 0 {
					t.Errorf("%s --filter %s: exit %d: %s", cmd, f, code, errs)
				}
				continue
			}
			if code != 2 || !strings.Contains(errs, want) {
				t.Errorf("%s --filter %s: exit %d: %s", cmd, f, code, errs)
			}
		}
	}
}
