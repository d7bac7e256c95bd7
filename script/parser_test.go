package script

import (
	"strings"
	"testing"
)

// exprOf parses src as the only statement of a BEGIN block.
func exprOf(t *testing.T, src string) Expr {
	t.Helper()
	p, err := Parse("BEGIN { " + src + " }")
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	st := p.Probes[0].Body.Stmts
	if len(st) != 1 {
		t.Fatalf("%q: %d statements", src, len(st))
	}
	es, ok := st[0].(*ExprStmt)
	if !ok {
		t.Fatalf("%q: not an expression: %T", src, st[0])
	}
	return es.X
}

func TestParseExprPrecedence(t *testing.T) {
	tests := []struct{ src, want string }{
		{"1 + 2 * 3", "(1 + (2 * 3))"},
		{"1 - 2 - 3", "((1 - 2) - 3)"},
		{"a == b && c || d", "(((a == b) && c) || d)"},
		{"1 | 2 ^ 3 & 4", "(1 | (2 ^ (3 & 4)))"},
		{"1 << 2 + 3", "(1 << (2 + 3))"},
		{"1 < 2 == 3 > 4", "((1 < 2) == (3 > 4))"},
		{"!a && -b + ~c", "(!a && (-b + ~c))"},
		{"a ? b : c ? d : e", "(a ? b : (c ? d : e))"},
		{"x ? 1 + 2 : 3", "(x ? (1 + 2) : 3)"},
		{"(1 + 2) * 3", "((1 + 2) * 3)"},
		{"args->filename", "args->filename"},
		{"args.filename", "args.filename"},
		{"args->argv[0]", "args->argv[0]"},
		{"str(args->filename, 16)", "str(args->filename, 16)"},
		{"@x[tid, comm]", "@x[tid, comm]"},
		{"@", "@"},
		{"@x++", "@x++"},
		{"--$y", "--$y"},
		{"(uint32)arg0 * 2", "((uint32)arg0 * 2)"},
		{"(struct sock *)arg0", "(struct sock *)arg0"},
		{"((1, \"a\"))", "(1, \"a\")"},
		{"$t.0", "$t.0"},
		{"kstack(perf, 5)", "kstack(perf, 5)"},
		{"$1 + $#", "($1 + $#)"},
		{"*arg0", "*arg0"},
		{"10 % 3 / 2", "((10 % 3) / 2)"},
		{"0x10 + 1_000", "(0x10 + 1_000)"},
	}
	for _, tt := range tests {
		if got := exprOf(t, tt.src).String(); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseStatements(t *testing.T) {
	tests := []struct {
		src  string
		want string // statement kinds and operators
	}{
		{"@x = 1; $y = 2", "assign= assign="},
		{"@x += 1; @x -= 2; $v *= 3; $v <<= 1", "assign+= assign-= assign*= assign<<="},
		{"if (1) { } else if (2) { } else { }", "if"},
		{"if (1) { exit() }; print(@x)", "if expr"},
		{"unroll(3) { @x++ }", "unroll"},
		{"while ($i < 10) { $i++; if ($i == 5) { break } }", "while"},
		{"return", "return"},
		{";;@x = 1;;", "assign="},
		{"printf(\"a\")", "expr"},
	}
	for _, tt := range tests {
		p, err := Parse("BEGIN { " + tt.src + " }")
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		var got []string
		for _, s := range p.Probes[0].Body.Stmts {
			switch s := s.(type) {
			case *AssignStmt:
				got = append(got, "assign"+s.Op)
			case *IfStmt:
				got = append(got, "if")
			case *UnrollStmt:
				got = append(got, "unroll")
			case *WhileStmt:
				got = append(got, "while")
			case *ReturnStmt:
				got = append(got, "return")
			case *ExprStmt:
				got = append(got, "expr")
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%q: got %s, want %s", tt.src, g, tt.want)
		}
	}
}

func TestParseAttachPoints(t *testing.T) {
	tests := []struct{ src, want string }{
		{"BEGIN", `"BEGIN" kind=BEGIN`},
		{"END", `"END" kind=END`},
		{"t:syscalls:sys_enter_*", `"t:syscalls:sys_enter_*" kind=tracepoint target="syscalls" func="sys_enter_*" wildcard`},
		{"tracepoint:sched:sched_switch", `"tracepoint:sched:sched_switch" kind=tracepoint target="sched" func="sched_switch"`},
		{"k:vfs_read", `"k:vfs_read" kind=kprobe func="vfs_read"`},
		{"kprobe:do_sys_open+0x10", `"kprobe:do_sys_open+0x10" kind=kprobe func="do_sys_open" offset=0x10`},
		{"kprobe:ext4:ext4_file_open", `"kprobe:ext4:ext4_file_open" kind=kprobe target="ext4" func="ext4_file_open"`},
		{"kretprobe:vfs_*", `"kretprobe:vfs_*" kind=kretprobe func="vfs_*" wildcard`},
		{"kr:tcp_sendmsg", `"kr:tcp_sendmsg" kind=kretprobe func="tcp_sendmsg"`},
		{"uprobe:/bin/bash:readline", `"uprobe:/bin/bash:readline" kind=uprobe target="/bin/bash" func="readline"`},
		{"u:/lib/x86_64-linux-gnu/libc.so.6:0x1234", `"u:/lib/x86_64-linux-gnu/libc.so.6:0x1234" kind=uprobe target="/lib/x86_64-linux-gnu/libc.so.6" addr=0x1234`},
		{"ur:/bin/bash:readline", `"ur:/bin/bash:readline" kind=uretprobe target="/bin/bash" func="readline"`},
		{`uprobe:"/opt/my app/bin":main`, `"uprobe:\"/opt/my app/bin\":main" kind=uprobe target="/opt/my app/bin" func="main"`},
		{"usdt:/usr/bin/python3.11:python:gc__start", `"usdt:/usr/bin/python3.11:python:gc__start" kind=usdt target="/usr/bin/python3.11" provider="python" func="gc__start"`},
		{"U:/usr/lib/libstdc++.so.6:throw", `"U:/usr/lib/libstdc++.so.6:throw" kind=usdt target="/usr/lib/libstdc++.so.6" func="throw"`},
		{"interval:s:1", `"interval:s:1" kind=interval every=1s`},
		{"i:ms:100", `"i:ms:100" kind=interval every=100ms`},
		{"profile:hz:99", `"profile:hz:99" kind=profile every=99hz`},
		{"software:cpu-clock:100", `"software:cpu-clock:100" kind=software target="cpu-clock" func="100"`},
		{"kfunc:vfs_read", `"kfunc:vfs_read" kind=kfunc target="vfs_read" func="vfs_read"`},
	}
	for _, tt := range tests {
		p, err := Parse(tt.src + " { }")
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if got := p.Probes[0].AttachPoints[0].String(); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
	p, err := Parse("k:vfs_read, k:vfs_write,\n  kr:vfs_readv /pid == 1/ { }")
	if err != nil {
		t.Fatal(err)
	}
	if aps := p.Probes[0].AttachPoints; len(aps) != 3 || aps[2].Pos != (Pos{2, 3}) || p.Probes[0].Pred == nil {
		t.Errorf("several attach points: %s", p.Dump())
	}
}

func TestParsePredicate(t *testing.T) {
	tests := []struct{ src, want string }{
		{"BEGIN /pid/ { }", "pid"},
		{"BEGIN / @x[tid] / { }", "@x[tid]"},
		{"BEGIN /pid / 2 == 1/ { }", "((pid / 2) == 1)"},
		{"BEGIN /comm == \"bash\" && pid > 1/\n{ }", "((comm == \"bash\") && (pid > 1))"},
		{"BEGIN /1/ /* c */ { }", "1"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.src)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if got := p.Probes[0].Pred.String(); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseProgramParts(t *testing.T) {
	src := "#!/usr/bin/env -S tracer run\n#include <linux/sched.h>\nstruct foo { int a; struct { int b; } c; };\nBEGIN { }\n;END { exit() }"
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if p.Shebang != "/usr/bin/env -S tracer run" || len(p.Includes) != 1 || len(p.CDefs) != 1 || len(p.Probes) != 2 {
		t.Errorf("got %s", p.Dump())
	}
	if p.Includes[0].Pos != (Pos{2, 1}) || p.CDefs[0].Pos != (Pos{3, 1}) || p.Probes[1].Pos != (Pos{5, 2}) {
		t.Errorf("positions: %s", p.Dump())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, pos, msg string }{
		{"", "1:1", "no probes"},
		{"BEGIN", "1:6", "expected '{' after the probe"},
		{"BEGIN {", "1:8", "expected '}' to close the block opened at 1:7"},
		{"BEGIN { @x = 1 @y = 2 }", "1:16", "expected ';' or '}' after the statement"},
		{"BEGIN { 1 + }", "1:13", "expected an expression, found '}'"},
		{"BEGIN { (1 + 2 }", "1:16", "expected ')' to close the '(' at 1:9"},
		{"BEGIN { pid = 1 }", "1:13", "cannot assign to pid"},
		{"BEGIN { if 1 { } }", "1:12", "expected '(' after if"},
		{"BEGIN { if (1) exit() }", "1:16", "expected '{' after if (...)"},
		{"BEGIN { else { } }", "1:9", "else without if"},
		{"BEGIN { for ($k : @m) { } }", "1:9", "for loops are not supported"},
		{"BEGIN { @x[] = 1 }", "1:12", "empty map key"},
		{"BEGIN { 1++ }", "1:10", "expected ';' or '}'"},
		{"BEGIN { ++1 }", "1:9", "++ needs a map or a $variable"},
		{"foo:bar { }", "1:1", `unknown probe type "foo"`},
		{"BEGN { }", "1:1", `unknown probe "BEGN"`},
		{"tracepoint:sched { }", "1:1", "malformed tracepoint probe"},
		{"t:sched:sched switch { }", "1:15", "expected '{' after the probe"},
		{"uprobe:/bin/bash { }", "1:1", "malformed uprobe probe"},
		{"interval:m:1 { }", "1:1", `unknown interval unit "m"`},
		{"interval:s:0 { }", "1:1", "invalid interval period"},
		{"BEGIN:x { }", "1:1", "probe BEGIN takes no arguments"},
		{"BEGIN { } }", "1:11", "unexpected '}' outside a probe block"},
		{"BEGIN /pid { }", "1:12", "expected '/' to end the predicate"},
		{"BEGIN { $x = \"a }", "1:14", "unterminated string"},
		{"k:vfs_read,\n{ }", "2:1", "expected a probe"},
		{"struct foo { int a;\nBEGIN { }", "1:1", "unterminated C definition"},
		{"BEGIN { (struct) x }", "1:16", "expected a name after struct"},
		{"BEGIN { a.  }", "1:13", "expected a field name after '.'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: got %v, want an *Error", tt.src, err)
			continue
		}
		if e.Pos.String() != tt.pos || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: got %v, want %s: ...%s...", tt.src, e, tt.pos, tt.msg)
		}
		if e.Msg != strings.ToLower(e.Msg[:1])+e.Msg[1:] {
			t.Errorf("%q: message not lowercase: %s", tt.src, e.Msg)
		}
	}
}

func TestParseDepthBounded(t *testing.T) {
	for _, src := range []string{
		"BEGIN { " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + " }",
		"BEGIN { " + strings.Repeat("!", 100000) + "1 }",
		"BEGIN { " + strings.Repeat("1 + ", 100000) + "1 }",
		"BEGIN { " + strings.Repeat("if (1) { ", 10000) + strings.Repeat("}", 10000) + " }",
		"BEGIN { $x" + strings.Repeat(".a", 100000) + " }",
	} {
		_, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
			t.Errorf("%.20q...: got %v", src, err)
		}
	}
	// Ordinary depth is fine.
	if _, err := Parse("BEGIN { " + strings.Repeat("(", 50) + "1" + strings.Repeat(")", 50) + " }"); err != nil {
		t.Error(err)
	}
}
