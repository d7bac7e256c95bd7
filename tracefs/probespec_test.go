package tracefs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseProbeSpec(t *testing.T) {
	tests := []struct {
		in   string
		want ProbeSpec
	}{
		{"kprobe:do_sys_openat2 dfd=$arg1 path=+0($arg2):string", ProbeSpec{Type: Kprobe, Symbol: "do_sys_openat2",
			Args: []ProbeArg{{"dfd", "$arg1", ""}, {"path", "+0($arg2)", "string"}}}},
		{"kretprobe:do_sys_openat2 ret=$retval", ProbeSpec{Type: Kretprobe, Symbol: "do_sys_openat2",
			Args: []ProbeArg{{"ret", "$retval", ""}}}},
		{"kr:vfs_read $retval:s64", ProbeSpec{Type: Kretprobe, Symbol: "vfs_read", Args: []ProbeArg{{"retval", "$retval", "s64"}}}},
		{"uprobe:/bin/bash:readline", ProbeSpec{Type: Uprobe, Path: "/bin/bash", Symbol: "readline"}},
		{"uretprobe:/bin/bash:readline line=+0($retval):string", ProbeSpec{Type: Uretprobe, Path: "/bin/bash", Symbol: "readline",
			Args: []ProbeArg{{"line", "+0($retval)", "string"}}}},
		{"uprobe:/path/bin:0x1234", ProbeSpec{Type: Uprobe, Path: "/path/bin", Offset: 0x1234}},
		{"uprobe:/usr/lib/libc.so.6:malloc+4 size=%di:u64", ProbeSpec{Type: Uprobe, Path: "/usr/lib/libc.so.6", Symbol: "malloc", Offset: 4,
			Args: []ProbeArg{{"size", "%di", "u64"}}}},
		{"u:./a.out:main.(*T).Run", ProbeSpec{Type: Uprobe, Path: "./a.out", Symbol: "main.(*T).Run"}},
		{"kprobe:vfs_read+0x10 %ax", ProbeSpec{Type: Kprobe, Symbol: "vfs_read", Offset: 0x10, Args: []ProbeArg{{"ax", "%ax", ""}}}},
		{"kprobe:ext4:ext4_sync_file", ProbeSpec{Type: Kprobe, Symbol: "ext4:ext4_sync_file"}},
		{"kprobe:f x=+8(+0(-4($stack2))):x32[4] c=$comm b=+0(%si):b3@2/8 s=@jiffies n=\\42 sym=+0(%di):symbol u=+0(%si):ustring",
			ProbeSpec{Type: Kprobe, Symbol: "f", Args: []ProbeArg{
				{"x", "+8(+0(-4($stack2)))", "x32[4]"}, {"c", "$comm", ""}, {"b", "+0(%si)", "b3@2/8"},
				{"s", "@jiffies", ""}, {"n", `\42`, ""}, {"sym", "+0(%di)", "symbol"}, {"u", "+0(%si)", "ustring"}}}},
		{"kprobe:f +u0($arg1):u8", ProbeSpec{Type: Kprobe, Symbol: "f", Args: []ProbeArg{{"arg1", "+u0($arg1)", "u8"}}}},
		// The kernel's own syntax.
		{"p:myopen do_sys_open filename=+0(%si):string", ProbeSpec{Type: Kprobe, Event: "myopen", Symbol: "do_sys_open",
			Args: []ProbeArg{{"filename", "+0(%si)", "string"}}}},
		{"p:othergroup/ev do_sys_open", ProbeSpec{Type: Kprobe, Event: "ev", Symbol: "do_sys_open"}},
		{"r16:ret vfs_write $retval", ProbeSpec{Type: Kretprobe, Event: "ret", Symbol: "vfs_write", MaxActive: 16,
			Args: []ProbeArg{{"retval", "$retval", ""}}}},
		{"r /bin/bash:0x4f00 $retval", ProbeSpec{Type: Uretprobe, Path: "/bin/bash", Offset: 0x4f00,
			Args: []ProbeArg{{"retval", "$retval", ""}}}},
		{"p:u /bin/bash:readline", ProbeSpec{Type: Uprobe, Event: "u", Path: "/bin/bash", Symbol: "readline"}},
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
}

func TestIsProbeSpecTracepoints(t *testing.T) {
	for _, s := range []string{"sched:sched_switch", "sched:*", "*exec*", "raw_syscalls", "power:cpu_idle", "probe_libc:malloc", "rcu:rcu_utilization"} {
		if IsProbeSpec(s) {
			t.Errorf("IsProbeSpec(%q) = true", s)
		}
	}
}

func TestParseProbeSpecErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kprobe:", "missing the function"},
		{"kprobe:do_open;rm", "bad symbol"},
		{"kprobe:f x=$arg0", "from $arg1"},
		{"kprobe:f x=$foo", "unknown variable"},
		{"kprobe:f x=%di:u7", "unknown fetch type"},
		{"kprobe:f x=%di:b9@0/8", "bitfield"},
		{"kprobe:f x=%di:u8[0]", "array length"},
		{"kprobe:f x=+0(%di", "dereference"},
		{"kprobe:f x=+z(%di)", "bad offset"},
		{"kprobe:f x=%di y=%si x=%dx", "used twice"},
		{"kprobe:f x=" + strings.Repeat("+0(", 12) + "%di" + strings.Repeat(")", 12), "nested"},
		{"kretprobe:f+4", "return probe"},
		{"uprobe:/bin/bash", "PATH:SYMBOL"},
		{"uprobe:/bin/bash:readline%return", "uretprobe"},
		{"kprobe:f\nx", "newline"},
		{"p:bad-name f", "event name"},
		{"q:x f", "not a probe"},
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
	}
}

func TestProbeCommand(t *testing.T) {
	native := ArgMode{Native: true, Arch: "amd64"}
	old := ArgMode{Arch: "amd64"}
	arm := ArgMode{Arch: "arm64"}
	tests := []struct {
		spec   string
		off    uint64
		mode   ArgMode
		want   string
		mapped bool
	}{
		{"kprobe:do_sys_openat2 dfd=$arg1 path=+0($arg2):string", 0, native,
			"p:tracer_1_abcd/ev do_sys_openat2 dfd=$arg1 path=+0($arg2):string", false},
		{"kprobe:do_sys_openat2 dfd=$arg1 path=+0($arg2):string", 0, old,
			"p:tracer_1_abcd/ev do_sys_openat2 dfd=%di path=+0(%si):string", true},
		{"kprobe:f a=$arg3 b=+8(+0($arg6)):u32", 0, old, "p:tracer_1_abcd/ev f a=%dx b=+8(+0(%r9)):u32", true},
		{"kprobe:f a=$arg1 h=$arg8", 0, arm, "p:tracer_1_abcd/ev f a=%x0 h=%x7", true},
		{"kprobe:vfs_read+0x10 %ax", 0, native, "p:tracer_1_abcd/ev vfs_read+0x10 ax=%ax", false},
		{"kretprobe:do_sys_openat2 ret=$retval:s64", 0, native, "r:tracer_1_abcd/ev do_sys_openat2 ret=$retval:s64", false},
		{"r16:x vfs_write $retval", 0, native, "r16:tracer_1_abcd/ev vfs_write retval=$retval", false},
		// Uprobes: $argN is always mapped (the kernel fetches it only for
		// kernel functions), without a notice: that is the normal way.
		{"uprobe:/bin/bash:readline p=+0($arg1):string", 0x4f20, native, "p:tracer_1_abcd/ev /bin/bash:0x4f20 p=+0(%di):string", false},
		{"uretprobe:/bin/bash:readline line=+0($retval):string", 0x4f20, native, "r:tracer_1_abcd/ev /bin/bash:0x4f20 line=+0($retval):string", false},
	}
	for _, tt := range tests {
		p, err := ParseProbeSpec(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, mapped, err := p.Command("tracer_1_abcd", "ev", tt.off, tt.mode)
		if err != nil {
			t.Errorf("%s: %v", tt.spec, err)
			continue
		}
		if got != tt.want || mapped != tt.mapped {
			t.Errorf("%s (%+v):\n got %q mapped=%v\nwant %q mapped=%v", tt.spec, tt.mode, got, mapped, tt.want, tt.mapped)
		}
	}
}

func TestProbeCommandErrors(t *testing.T) {
	native := ArgMode{Native: true, Arch: "amd64"}
	old := ArgMode{Arch: "amd64"}
	tests := []struct {
		spec string
		mode ArgMode
		want string
	}{
		{"kprobe:f r=$retval", native, "only available in return probes"},
		{"kprobe:f a=$arg7", old, "only 6 arguments"},
		{"kprobe:f+4 a=$arg1", native, "function entry"},
		{"kretprobe:f a=$arg1", native, "6.4"},
		{"kprobe:f a=$arg1", ArgMode{Arch: "mips"}, "no calling convention"},
		{"uprobe:relative/bin:f", native, "not absolute"},
	}
	for _, tt := range tests {
		p, err := ParseProbeSpec(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Command("tracer_1_abcd", "ev", 0, tt.mode)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error with %q", tt.spec, err, tt.want)
		}
	}
	p, _ := ParseProbeSpec("kprobe:f")
	if _, _, err := p.Command("bad/group", "ev", 0, native); err == nil {
		t.Error("a group with '/' was accepted")
	}
}

func TestArgRegisters(t *testing.T) {
	if got := ArgRegisters("amd64"); strings.Join(got, " ") != "%di %si %dx %cx %r8 %r9" {
		t.Errorf("amd64: %v", got)
	}
	if got := ArgRegisters("arm64"); len(got) != 8 || got[0] != "%x0" || got[7] != "%x7" {
		t.Errorf("arm64: %v", got)
	}
	if ArgRegisters("mips") != nil {
		t.Error("mips should be unknown")
	}
}

func TestDefaultEvent(t *testing.T) {
	tests := map[string]string{
		"kprobe:do_sys_openat2":                 "do_sys_openat2",
		"kretprobe:do_sys_openat2":              "do_sys_openat2__return",
		"kprobe:vfs_read+0x10":                  "vfs_read_10",
		"kprobe:ext4:ext4_sync_file":            "ext4_sync_file",
		"uprobe:/bin/bash:0x1234":               "bash_0x1234",
		"uprobe:/usr/lib/libc.so.6:malloc":      "malloc",
		"uretprobe:/x:main.(*T).Run":            "main___T__Run__return",
		"p:mine do_sys_open":                    "mine",
		"uprobe:/x:example.com/pkg.Func":        "pkg_Func",
		"kretprobe:" + strings.Repeat("b", 100): strings.Repeat("b", 48) + "__return",
		"uprobe:/opt/9lives:0x10":               "p_9lives_0x10",
		"kprobe:" + strings.Repeat("a", 100):    strings.Repeat("a", 56),
	}
	for in, want := range tests {
		p, err := ParseProbeSpec(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.DefaultEvent(); got != want {
			t.Errorf("DefaultEvent(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseProbeList(t *testing.T) {
	k := "p:tracer_123_ab12/do_sys_openat2 do_sys_openat2 path=+0(%si):string\nr16:kprobes/r_vfs_read vfs_read ret=$retval\np:tracer_named/mine do_sys_open\n"
	got := parseProbeList([]byte(k), Kprobe)
	want := []ProbeInfo{
		{Type: Kprobe, Group: "tracer_123_ab12", Event: "do_sys_openat2", Definition: "do_sys_openat2 path=+0(%si):string", Ours: true, OwnerPID: 123},
		{Type: Kretprobe, Group: "kprobes", Event: "r_vfs_read", Definition: "vfs_read ret=$retval"},
		{Type: Kprobe, Group: "tracer_named", Event: "mine", Definition: "do_sys_open", Ours: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseProbeList:\n got %+v\nwant %+v", got, want)
	}
	u := parseProbeList([]byte("r:tracer_9_0000/readline__return /bin/bash:0x00000000000b6c40 line=+0($retval):string\n"), Uprobe)
	if len(u) != 1 || u[0].Type != Uretprobe || u[0].OwnerPID != 9 {
		t.Errorf("uprobe list: %+v", u)
	}
	if g := sessionProbeGroup("tracer-123-ab12"); g != "tracer_123_ab12" {
		t.Errorf("sessionProbeGroup = %q", g)
	}
	for _, g := range []string{"tracer_named", "tracer_x_ab12", "tracer_12_abc", "tracers_1_abcd"} {
		if pid, ok := probeOwner(g); ok {
			t.Errorf("probeOwner(%q) = %d", g, pid)
		}
	}
}
