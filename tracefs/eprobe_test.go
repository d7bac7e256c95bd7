package tracefs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseEprobeSpec(t *testing.T) {
	openat := EventID{System: "syscalls", Name: "sys_enter_openat"}
	tests := []struct {
		in   string
		want ProbeSpec
	}{
		{"eprobe:syscalls:sys_enter_openat path=+0($filename):ustring", ProbeSpec{Type: Eprobe, Target: openat,
			Args: []ProbeArg{{"path", "+0($filename)", "ustring"}}}},
		{"e:syscalls:sys_enter_openat path=+0($filename):ustring dfd=$dfd:s32", ProbeSpec{Type: Eprobe, Target: openat,
			Args: []ProbeArg{{"path", "+0($filename)", "ustring"}, {"dfd", "$dfd", "s32"}}}},
		{"eprobe:syscalls:sys_enter_execve a0=+0(+0($argv)):ustring a1=+0(+8($argv)):ustring", ProbeSpec{Type: Eprobe,
			Target: EventID{System: "syscalls", Name: "sys_enter_execve"},
			Args:   []ProbeArg{{"a0", "+0(+0($argv))", "ustring"}, {"a1", "+0(+8($argv))", "ustring"}}}},
		{"eprobe:sched:sched_switch $prev_pid:u32 c=$comm n=\\1 j=@jiffies", ProbeSpec{Type: Eprobe,
			Target: EventID{System: "sched", Name: "sched_switch"},
			Args:   []ProbeArg{{"prev_pid", "$prev_pid", "u32"}, {"c", "$comm", ""}, {"n", `\1`, ""}, {"j", "@jiffies", ""}}}},
		{"eprobe:raw_syscalls:sys_enter nr=$id if id == 257", ProbeSpec{Type: Eprobe,
			Target: EventID{System: "raw_syscalls", Name: "sys_enter"}, Filter: "id == 257",
			Args: []ProbeArg{{"nr", "$id", ""}}}},
		{"eprobe:sched:sched_switch", ProbeSpec{Type: Eprobe, Target: EventID{System: "sched", Name: "sched_switch"}}},
		// The kernel's own syntax; the group is always tracer's.
		{"e:op syscalls.sys_enter_openat path=+0($filename):ustring", ProbeSpec{Type: Eprobe, Event: "op", Target: openat,
			Args: []ProbeArg{{"path", "+0($filename)", "ustring"}}}},
		{"e:eprobes/op syscalls/sys_enter_openat", ProbeSpec{Type: Eprobe, Event: "op", Target: openat}},
		{"e syscalls.sys_enter_openat", ProbeSpec{Type: Eprobe, Target: openat}},
	}
	for _, tt := range tests {
		if !IsProbeSpec(tt.in) {
			t.Errorf("IsProbeSpec(%q) = false", tt.in)
		}
		got, err := ParseProbeSpec(tt.in)
		if err != nil {
			t.Errorf("ParseProbeSpec(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseProbeSpec(%q)\n got %+v\nwant %+v", tt.in, *got, tt.want)
		}
	}
	for _, s := range []string{"ext4:*", "exceptions:page_fault_user", "e", "eprobes"} {
		if IsProbeSpec(s) {
			t.Errorf("IsProbeSpec(%q) = true", s)
		}
	}
}

func TestParseEprobeSpecErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"eprobe:", "SYSTEM:EVENT"},
		{"eprobe:syscalls", "SYSTEM:EVENT"},
		{"eprobe:syscalls:", "SYSTEM:EVENT"},
		{"eprobe:sys-calls:x", "letters, digits"},
		{"eprobe:syscalls:" + strings.Repeat("x", 100), "at most 64"},
		{"e:op", "missing the event"},
		{"e:op syscalls", "SYSTEM.EVENT"},
		{"eprobe:syscalls:sys_enter_openat x=$arg1+", "want $FIELD"},
		{"eprobe:syscalls:sys_enter_openat x=%di", "registers"},
		{"eprobe:syscalls:sys_enter_openat x=@+0x10", "address"},
		{"eprobe:syscalls:sys_enter_openat x=(file)filename->f_path", "BTF"},
		{"eprobe:syscalls:sys_enter_openat x=+0($filename):ustrin", "unknown fetch type"},
		{"eprobe:syscalls:sys_enter_openat x=$a y=$a x=$b", "used twice"},
		{"eprobe:raw_syscalls:sys_enter nr=$id if", "without a filter"},
	}
	for _, tt := range tests {
		_, err := ParseProbeSpec(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseProbeSpec(%q) = %v; want an error with %q", tt.in, err, tt.want)
			continue
		}
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseProbeSpec(%q): %v does not wrap ErrInvalidName", tt.in, err)
		}
		if len(err.Error()) > 400 {
			t.Errorf("ParseProbeSpec(%q): %d-byte error echoes the input", tt.in[:40], len(err.Error()))
		}
	}
}

func TestEprobeCommand(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"eprobe:syscalls:sys_enter_openat path=+0($filename):ustring",
			"e:tracer_1_abcd/ev syscalls.sys_enter_openat path=+0($filename):ustring"},
		{"e:op syscalls/sys_enter_execve a1=+0(+8($argv)):ustring $argv",
			"e:tracer_1_abcd/ev syscalls.sys_enter_execve a1=+0(+8($argv)):ustring argv=$argv"},
		// $comm is a string, as in kprobes, unless typed otherwise.
		{"eprobe:sched:sched_switch c=$comm p=$comm:x64", "e:tracer_1_abcd/ev sched.sched_switch c=$comm:string p=$comm:x64"},
		{"eprobe:raw_syscalls:sys_enter nr=$id:s64 f=+8($args):ustring if id == 257",
			"e:tracer_1_abcd/ev raw_syscalls.sys_enter nr=$id:s64 f=+8($args):ustring if id == 257"},
		{"eprobe:sched:sched_switch", "e:tracer_1_abcd/ev sched.sched_switch"},
	}
	for _, tt := range tests {
		p, err := ParseProbeSpec(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, mapped, err := p.Command("tracer_1_abcd", "ev", 0, ArgMode{Arch: "amd64"})
		if err != nil || mapped {
			t.Errorf("%s: %v mapped=%v", tt.spec, err, mapped)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.spec, got, tt.want)
		}
	}
	p, _ := ParseProbeSpec("eprobe:syscalls:sys_enter_openat path=+0($filename):ustring if dfd == -100")
	if got, want := p.String(), "eprobe:syscalls:sys_enter_openat path=+0($filename):ustring if dfd == -100"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := p.DefaultEvent(); got != "sys_enter_openat" {
		t.Errorf("DefaultEvent() = %q, want the target's name, as the kernel's default", got)
	}
	if _, _, err := (&ProbeSpec{Type: Eprobe}).Command("tracer_1_abcd", "ev", 0, ArgMode{}); err == nil {
		t.Error("an eprobe without a target rendered")
	}
}

func TestCheckEprobeFields(t *testing.T) {
	have := []string{"__syscall_nr", "dfd", "filename", "flags", "mode"}
	ok := []string{
		"eprobe:syscalls:sys_enter_openat path=+0($filename):ustring fl=$flags c=$comm nr=$__syscall_nr",
		"eprobe:syscalls:sys_enter_openat n=\\3 j=@jiffies",
	}
	for _, s := range ok {
		p, err := ParseProbeSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.checkEprobeFields(have); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []struct{ spec, want string }{
		{"eprobe:syscalls:sys_enter_openat p=+0($path):ustring", `no field "path"`},
		{"eprobe:syscalls:sys_enter_openat p=$common_pid", "common fields"},
		{"eprobe:syscalls:sys_enter_openat p=$arg2", "no $argN"},
		{"eprobe:syscalls:sys_enter_openat p=$retval", "no $argN"},
		{"eprobe:syscalls:sys_enter_openat p=+0(+8($stack3))", "no $argN"},
	}
	for _, tt := range bad {
		p, err := ParseProbeSpec(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		err = p.checkEprobeFields(have)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "filename") || !errors.Is(err, ErrInvalidName) {
			t.Errorf("%s: %v; want an error with %q that lists the fields", tt.spec, err, tt.want)
		}
	}
}

// TestParseDynamicEvents: eprobes are listed from dynamic_events (as 6.1
// shows them), and its kprobe and uprobe lines are not taken twice.
func TestParseDynamicEvents(t *testing.T) {
	b := "p:kprobes/open do_sys_openat2\n" +
		"e:tracer_12_ab12/op syscalls.sys_enter_openat path=+0($filename):ustring fl=$flags\n" +
		"e:other/ex syscalls.sys_enter_execve a0=+0(+0($argv)):ustring\n" +
		"s:synthetic/lat u64 lat\n" +
		"e:tracer_named/sw sched.sched_switch\n"
	got := parseProbeList([]byte(b), Eprobe)
	want := []ProbeInfo{
		{Type: Eprobe, Group: "tracer_12_ab12", Event: "op", Definition: "syscalls.sys_enter_openat path=+0($filename):ustring fl=$flags",
			Target: EventID{System: "syscalls", Name: "sys_enter_openat"}, Ours: true, OwnerPID: 12},
		{Type: Eprobe, Group: "other", Event: "ex", Definition: "syscalls.sys_enter_execve a0=+0(+0($argv)):ustring",
			Target: EventID{System: "syscalls", Name: "sys_enter_execve"}},
		{Type: Eprobe, Group: "tracer_named", Event: "sw", Definition: "sched.sched_switch",
			Target: EventID{System: "sched", Name: "sched_switch"}, Ours: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseProbeList(dynamic_events):\n got %+v\nwant %+v", got, want)
	}
	if k := parseProbeList([]byte(b), Kprobe); len(k) != 1 || k[0].Type != Kprobe {
		t.Errorf("kprobe lines: %+v", k)
	}
	if probeFile(Eprobe) != "dynamic_events" {
		t.Errorf("eprobes are written to %s", probeFile(Eprobe))
	}
}

// TestHasEprobes: support is judged from a fixture tracefs and proc: no
// dynamic_events, a README without the e: syntax (before 5.15), a README
// with it but no eprobe code in kallsyms (6.18 built without
// CONFIG_EPROBE_EVENTS), and both.
func TestHasEprobes(t *testing.T) {
	readmeE := "\t           e[:[<group>/][<event>]] <attached-group>.<attached-event> [<args>] [if <filter>]\n"
	tests := []struct {
		name     string
		dynamic  bool
		readme   string
		kallsyms string
		want     bool
	}{
		{"no dynamic_events", false, readmeE, "ffffffff81000000 t eprobe_dyn_event_create\n", false},
		{"5.10", true, "\t   Format: p[:[<group>/][<event>]] <place> [<args>]\n", "ffffffff81000000 T _stext\n", false},
		{"6.18 without CONFIG_EPROBE_EVENTS", true, readmeE, "ffffffff81000000 T _stext\nffffffff81000010 t device_reprobe\n", false},
		{"6.1", true, readmeE, "ffffffff81000000 T _stext\nffffffff9b5d0960 t eprobe_dyn_event_create\n", true},
		{"no kallsyms", true, readmeE, "", true},
	}
	for _, tt := range tests {
		root, proc := t.TempDir(), t.TempDir()
		if tt.dynamic {
			os.WriteFile(filepath.Join(root, "dynamic_events"), nil, 0o644)
		}
		os.WriteFile(filepath.Join(root, "README"), []byte(tt.readme), 0o644)
		if tt.kallsyms != "" {
			os.WriteFile(filepath.Join(proc, "kallsyms"), []byte(tt.kallsyms), 0o644)
		}
		fs := NewFS(root)
		fs.procRoot = proc
		if got := fs.hasEprobes(); got != tt.want {
			t.Errorf("%s: hasEprobes = %v, want %v", tt.name, got, tt.want)
		}
		if got := fs.Features().Eprobes; got != tt.want {
			t.Errorf("%s: Features().Eprobes = %v, want %v", tt.name, got, tt.want)
		}
		err := fs.checkProbeSupport(Eprobe)
		if tt.want != (err == nil) {
			t.Errorf("%s: checkProbeSupport = %v", tt.name, err)
		}
		if err != nil && (!errors.Is(err, ErrNoEprobes) || !errors.Is(err, ErrNotSupported) ||
			!strings.Contains(err.Error(), "5.15") || !strings.Contains(err.Error(), "CONFIG_EPROBE_EVENTS")) {
			t.Errorf("%s: %v; want ErrNoEprobes naming 5.15 and CONFIG_EPROBE_EVENTS", tt.name, err)
		}
	}
}

// TestEprobeNoSupport: on a kernel without eprobes, AddTracepoint refuses
// an eprobe spec before anything is created, naming what is missing.
func TestEprobeNoSupport(t *testing.T) {
	s := NewSession(NewFS(t.TempDir()), SessionOptions{})
	err := s.AddTracepoint("eprobe:syscalls:sys_enter_openat path=+0($filename):ustring", "")
	if !errors.Is(err, ErrNoEprobes) || !strings.Contains(err.Error(), "needs Linux 5.15+ with CONFIG_EPROBE_EVENTS") {
		t.Fatalf("eprobe without eprobe support: %v", err)
	}
}
