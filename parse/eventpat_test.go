package parse

import "testing"

func TestEventPattern(t *testing.T) {
	type ev struct{ sys, name string }
	var (
		swtch  = ev{"sched", "sched_switch"}
		exec   = ev{"sched", "sched_process_exec"}
		open   = ev{"syscalls", "sys_enter_open"}
		openat = ev{"syscalls", "sys_enter_openat"}
		rawEnt = ev{"raw_syscalls", "sys_enter"}
		tEv    = ev{"t", "x"}
	)
	all := []ev{swtch, exec, open, openat, rawEnt, tEv}
	tests := []struct {
		pat  string
		want []ev
		str  string // String(), the pattern in tracer's spelling
	}{
		{"sched:sched_switch", []ev{swtch}, "sched:sched_switch"},
		{"sched:*", []ev{swtch, exec}, "sched:*"},
		{"sched:", []ev{swtch, exec}, "sched:*"},
		{":sys_enter", []ev{rawEnt}, "*:sys_enter"},
		// A bare glob names a system or an event (record and report agree).
		{"sched", []ev{swtch, exec}, "sched"},
		{"sys_enter", []ev{rawEnt}, "sys_enter"},
		{"sys_enter_open*", []ev{open, openat}, "sys_enter_open*"},
		{"*:*exec*", []ev{exec}, "*:*exec*"},
		{"sched:sched_s?itch", []ev{swtch}, "sched:sched_s?itch"},
		// bpftrace's spelling.
		{"tracepoint:syscalls:sys_enter_open*", []ev{open, openat}, "syscalls:sys_enter_open*"},
		{"t:sched:sched_switch", []ev{swtch}, "sched:sched_switch"},
		{"tracepoint:sched:", []ev{swtch, exec}, "sched:*"},
		// "t:x" alone is the system t's event x, not bpftrace's prefix.
		{"t:x", []ev{tEv}, "t:x"},
		{"tracepoint:x", nil, "tracepoint:x"},
	}
	for _, tt := range tests {
		ep, err := ParseEventPattern(tt.pat)
		if err != nil {
			t.Errorf("%q: %v", tt.pat, err)
			continue
		}
		if got := ep.String(); got != tt.str {
			t.Errorf("%q: String() = %q, want %q", tt.pat, got, tt.str)
		}
		var got []ev
		for _, e := range all {
			if ep.Match(e.sys, e.name) {
				got = append(got, e)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: matches %v, want %v", tt.pat, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: matches %v, want %v", tt.pat, got, tt.want)
				break
			}
		}
	}
}

func TestEventPatternErrors(t *testing.T) {
	for _, p := range []string{"", "a:b:c", "sched:[", "[", "tracepoint:a:b:c"} {
		if _, err := ParseEventPattern(p); err == nil {
			t.Errorf("%q: no error", p)
		}
	}
	if _, err := ParseEventPatterns([]string{"sched", "sched:["}); err == nil {
		t.Error("ParseEventPatterns: one bad pattern of two gave no error")
	}
}

func TestEventPatterns(t *testing.T) {
	eps, err := ParseEventPatterns([]string{"sched:sched_switch", "tracepoint:syscalls:*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sys, name string
		want      bool
	}{
		{"sched", "sched_switch", true},
		{"syscalls", "sys_exit_read", true},
		{"sched", "sched_wakeup", false},
	} {
		if got := eps.Match(tt.sys, tt.name); got != tt.want {
			t.Errorf("%s:%s: %v, want %v", tt.sys, tt.name, got, tt.want)
		}
	}
}
