package tracefs

import (
	"slices"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	in := `22 27 0:20 / /sys rw,nosuid shared:7 - sysfs sysfs rw
35 22 0:12 / /sys/kernel/tracing rw,nosuid,nodev,noexec,relatime shared:18 - tracefs tracefs rw
40 30 0:12 / /mnt/my\040trace rw - tracefs nodev rw
41 30 0:13 / /weird rw shared:1 master:2 - debugfs debugfs rw
`
	got := parseMountinfo(strings.NewReader(in))
	want := []string{"/sys/kernel/tracing", "/mnt/my trace"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{"0-1": {0, 1}, "0": {0}, "0-2,5,7-8": {0, 1, 2, 5, 7, 8}, "": nil} {
		got, err := parseCPUList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"a", "3-1", "1-", "-1"} {
		if _, err := parseCPUList(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParseStats(t *testing.T) {
	s := parseStats([]byte(`entries: 12
overrun: 308
commit overrun: 1
bytes: 4048
oldest event ts:   141.223000
now ts:   141.223695
dropped events: 7
read events: 99
`))
	want := CPUStats{Entries: 12, Overrun: 308, CommitOverrun: 1, Bytes: 4048, OldestEventTS: "141.223000", NowTS: "141.223695", DroppedEvents: 7, ReadEvents: 99}
	if s != want {
		t.Fatalf("got %+v", s)
	}
}

func TestParseClocks(t *testing.T) {
	all, cur := parseClocks([]byte("[local] global counter uptime perf mono mono_raw boot tai x86-tsc\n"))
	if cur != "local" || len(all) != 10 || all[0] != "local" || all[9] != "x86-tsc" {
		t.Fatalf("got %v, %q", all, cur)
	}
}

func TestSubbufSizeFromHeaderPage(t *testing.T) {
	for hp, want := range map[string]int{
		"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n": 4096,
		"\tfield: char data;\toffset:16;\tsize:8176;\tsigned:0;\n": 8192,
		"\tfield:char data;\toffset:12;\tsize:4084;\n":             4096, // 32-bit, no signed:
	} {
		if got, err := subbufSizeFromHeaderPage([]byte(hp)); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", hp, got, err, want)
		}
	}
	if _, err := subbufSizeFromHeaderPage([]byte("garbage")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestNewLogEntries(t *testing.T) {
	e1 := "[  100.000001] event filter parse error: error: Field not found\n  Command: pid >\n               ^\n"
	e2 := "[  101.500000] event filter parse error: error: Invalid value (did you forget quotes)?\n  Command: prev_pid > abc\n                       ^\n"
	e3 := "[  102.000000] trace_kprobe: error: Invalid fetch argument\n  Command: p:x do_sys_open $foo\n                            ^\n"
	// Appended.
	got := newLogEntries([]byte(e1), []byte(e1+e2))
	if len(got) != 1 || got[0].command() != "prev_pid > abc" || len(got[0].lines) != 3 {
		t.Fatalf("appended: %+v", got)
	}
	// The ring dropped e1: fall back to timestamps.
	got = newLogEntries([]byte(e1+e2), []byte(e2+e3))
	if len(got) != 1 || !strings.HasPrefix(got[0].lines[0], "[  102.000000]") {
		t.Fatalf("rotated: %+v", got)
	}
	if got := newLogEntries(nil, []byte(e1)); len(got) != 1 {
		t.Fatalf("from empty: %+v", got)
	}
}

func TestOwnerPID(t *testing.T) {
	for name, want := range map[string]int{
		"tracer-123-beef": 123, "tracer-1-0000": 1,
		"tracer-text-6154": 0, "tracer-123-beefy": 0, "tracer-0123-beef": 0, "tracer--1-beef": 0,
		"other-123-beef": 0, "tracer-123-zzzz": 0, "tracer-123": 0,
	} {
		got, ok := ownerPID(name)
		if got != want || ok != (want != 0) {
			t.Errorf("%s: %d, %v", name, got, ok)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"sched_swich", "sched_switch", 1}} {
		if d := levenshtein(tt.a, tt.b); d != tt.d {
			t.Errorf("%q %q: %d, want %d", tt.a, tt.b, d, tt.d)
		}
	}
}
