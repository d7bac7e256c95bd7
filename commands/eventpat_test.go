package commands

import (
	"strings"
	"testing"
)

// Every command gives an event pattern one meaning (parse.EventPattern):
// a bare glob names a system or an event, and bpftrace's tracepoint:
// spelling is accepted.
func TestEventPatternsAgree(t *testing.T) {
	p := fixtureFile(t, "v6")
	all, errs, code := run("report", "-i", p)
	if code != 0 {
		t.Fatalf("report: %d %s", code, errs)
	}
	exits := strings.Count(all, "sched_process_exit:")
	if exits == 0 {
		t.Fatalf("fixture without sched_process_exit:\n%s", all)
	}
	for _, pat := range []string{"sched", "sched:*", "tracepoint:sched:*", "t:sched:sched_process_exit,sched:sched_process_exec"} {
		out, errs, code := run("report", "-i", p, "--events", pat)
		if code != 0 {
			t.Errorf("report --events %s: %d %s", pat, code, errs)
			continue
		}
		if n := strings.Count(out, "sched_process_exit:"); n != exits {
			t.Errorf("report --events %s: %d sched_process_exit, want %d:\n%s", pat, n, exits, out)
		}
	}
	if _, errs, code := run("report", "-i", p, "--events", "sched:["); code != 2 || !strings.Contains(errs, "--events") {
		t.Errorf("report --events 'sched:[': %d %s, want exit 2 naming --events", code, errs)
	}

	needTracefs(t)
	out, errs, code := run("list", "tracepoint:syscalls:sys_enter_open*")
	if code != 0 || !strings.Contains(out, "sys_enter_openat") {
		t.Errorf("list tracepoint:syscalls:sys_enter_open*: %d %s\n%s", code, errs, out)
	}
	if _, errs, code := run("list", "sched:["); code != 2 {
		t.Errorf("list 'sched:[': %d %s, want exit 2", code, errs)
	}
}
