package script

import (
	"errors"
	"strings"
	"testing"
)

// checkErrs compiles src and returns its errors (parse or check).
func checkErrs(t *testing.T, src string) []*Error {
	t.Helper()
	_, _, err := Compile(src)
	if err == nil {
		return nil
	}
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	t.Fatalf("%q: error of type %T: %v", src, err, err)
	return nil
}

// TestRefusals: every construct ftrace cannot do fails with one error that
// names it, at its line:column, and says why.
func TestRefusals(t *testing.T) {
	tests := []struct {
		src  string
		pos  string
		want string // the construct, as the message names it
		why  string // part of the reason
	}{
		{"profile:hz:99 { @[kstack] = count(); }", "1:1", "profile probes are not supported", "perf events"},
		{"p:s:1 { }", "1:1", "p probes are not supported", "perf events"},
		{"software:cpu-clock:1000 { }", "1:1", "software probes", "perf events"},
		{"hardware:cache-misses:1000 { }", "1:1", "hardware probes", "perf events"},
		{"watchpoint:0x1000:8:w { }", "1:1", "watchpoint probes", "perf breakpoints"},
		{"BEGIN { }\nkfunc:vfs_read { }", "2:1", "kfunc probes", "BTF"},
		{"fentry:vfs_read { }", "1:1", "fentry probes", "BTF"},
		{"kretfunc:vfs_read { }", "1:1", "kretfunc probes", "BTF"},
		{"rawtracepoint:sched_switch { }", "1:1", "rawtracepoint probes", "raw kernel pointers"},
		{"iter:task { }", "1:1", "iter probes", "iterators"},
		{"k:vfs_read { signal(\"KILL\"); }", "1:14", "signal()", "only records"},
		{"k:vfs_read { override(-1); }", "1:14", "override()", "return value"},
		{"BEGIN { system(\"ls\"); }", "1:9", "system()", "shell command"},
		{"k:vfs_read { $x = *arg0; }", "1:19", "*arg0 reads memory", "arbitrary kernel memory reads"},
		{"k:vfs_read { @x = &$y; }", "1:19", "&$y takes an address", "addresses"},
		{"k:vfs_read { $s = (struct sock *)arg0; }", "1:19", "cast to (struct sock *)", "BTF"},
		{"k:vfs_read { @ = ((struct file *)arg0)->f_flags; }", "1:19", "cast to (struct file *)", "arbitrary kernel memory read"},
		{"k:vfs_read { @ = (uint8 *)arg0; }", "1:18", "cast to the pointer (uint8 *)", "arbitrary memory read"},
		{"k:vfs_read { @ = arg0->f_flags; }", "1:22", "-> on arg0", "arbitrary kernel memory reads"},
		{"t:sched:sched_switch { @ = args->prev->pid; }", "1:38", "args->prev->pid", "arbitrary kernel memory reads"},
		{"k:vfs_read { @ = curtask; }", "1:18", "curtask", "task_struct"},
		{"k:vfs_read { @[ustack] = count(); }", "1:16", "ustack is not supported", "user stack"},
		{"u:/bin/sh:main { printf(\"%s\", ustack(5)); }", "1:31", "ustack is not supported", "user stack"},
		{"k:vfs_read { @x = kstack; }", "1:19", "kstack cannot be a map value", "map key"},
		{"k:vfs_read { $x = kstack; }", "1:19", "kstack cannot be stored in a variable", "map key"},
		{"k:vfs_read { @ = sarg0; }", "1:18", "sarg0", "stack"},
		{"k:vfs_read { @ = reg(\"ip\"); }", "1:18", "reg()", "argN"},
		{"k:vfs_read { @ = buf(arg0, 8); }", "1:18", "buf()", "arbitrary memory"},
		{"k:vfs_read { @ = sizeof(struct file); }", "1:18", "sizeof", "BTF"},
		{"k:vfs_read { @ = usym(arg0); }", "1:18", "usym()", "symbols"},
		{"k:vfs_read { @ = $x[0]; }", "1:20", "indexing $x", "arbitrary memory reads"},
		{"k:vfs_read { @ = ctx; }", "1:18", "ctx", "BPF"},
		{"interval:us:10 { }", "1:1", "interval:us:10", "1 ms timer"},
	}
	for _, tt := range tests {
		errs := checkErrs(t, tt.src)
		// Other errors may come from the same line (e.g. an undefined $y);
		// the refusal must be there, once.
		var found []*Error
		for _, e := range errs {
			if strings.Contains(e.Msg, tt.want) {
				found = append(found, e)
			}
		}
		if len(found) != 1 {
			t.Errorf("%q: want one error naming %q, got %v", tt.src, tt.want, ErrorList(errs))
			continue
		}
		e := found[0]
		if e.Pos.String() != tt.pos || !strings.Contains(e.Msg, tt.why) {
			t.Errorf("%q: got %v, want at %s, saying ...%s...", tt.src, e, tt.pos, tt.why)
		}
		if c := e.Caret(tt.src); !strings.Contains(c, "^") {
			t.Errorf("%q: no caret in %q", tt.src, c)
		}
	}
}

// TestOneErrorPerConstruct: a refused construct is reported once, not
// once per layer of the tree it spans.
func TestOneErrorPerConstruct(t *testing.T) {
	src := "k:vfs_read { @ = ((struct file *)arg0)->f_path.dentry; }"
	if errs := checkErrs(t, src); len(errs) != 1 {
		t.Errorf("got %d errors: %v", len(errs), ErrorList(errs))
	}
	// A variable holding a refused value is not refused again at each use.
	src = "k:f { $sk = (struct sock *)arg0; @[$sk->a, $sk->b] = count(); }"
	if errs := checkErrs(t, src); len(errs) != 1 {
		t.Errorf("got %d errors: %v", len(errs), ErrorList(errs))
	}
	// A map whose assignment is refused is not also "never assigned".
	src = "k:f { @s[tid] = kstack; } kr:f { print(@s[tid]); delete(@s[tid]); }"
	if errs := checkErrs(t, src); len(errs) != 1 {
		t.Errorf("got %d errors: %v", len(errs), ErrorList(errs))
	}
	src = "profile:hz:99 { @[kstack] = count(); }\nk:f { signal(9); }\nk:g { $a = *arg0; }"
	errs := checkErrs(t, src)
	if len(errs) != 3 || errs[0].Pos.Line != 1 || errs[1].Pos.Line != 2 || errs[2].Pos.Line != 3 {
		t.Errorf("want three errors in text order, got %v", ErrorList(errs))
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct{ src, pos, msg string }{
		// builtins and probe kinds
		{"t:syscalls:sys_enter_read { @ = retval; }", "1:33", "retval is only available in kretprobe and uretprobe probes, not in tracepoint"},
		{"k:vfs_read { @ = args->x; }", "1:18", "args is only available in tracepoint probes, not in kprobe"},
		{"kr:vfs_read { @ = arg0; }", "1:19", "arg0 is only available in kprobe, uprobe and usdt probes, not in kretprobe"},
		{"k:vfs_read, t:a:b { @ = arg1; }", "1:25", "not in tracepoint (t:a:b at 1:13)"},
		{"BEGIN { @ = func; }", "1:13", "func is only available in kprobe"},
		{"BEGIN { @[kstack] = count(); }", "1:11", "kstack is only available in"},
		{"t:a:b { print(args); }", "1:15", "args must be followed by a field"},
		// functions
		{"BEGIN { foo(); }", "1:9", "unknown function foo()"},
		{"BEGIN { strncmp(\"a\", \"b\", 1); }", "1:9", "strncmp() is not supported by tracer yet"},
		{"BEGIN { @ = count(1); }", "1:13", "count() takes 0 arguments, not 1"},
		{"BEGIN { @ = lhist(1, 2); }", "1:13", "lhist() takes 4 arguments, not 2"},
		{"BEGIN { printf(); }", "1:9", "printf() takes at least 1 argument"},
		{"BEGIN { count(); }", "1:9", "count() must be assigned to a map"},
		{"BEGIN { $x = count(); }", "1:14", "count() must be assigned to a map, not to $x"},
		{"BEGIN { @ = hist(1, 9); }", "1:21", "bits per power of two must be 0 to 5"},
		{"BEGIN { @ = lhist(1, 0, 100, 0); }", "1:30", "the step must be positive"},
		{"BEGIN { @ = lhist(1, 10, 5, 1); }", "1:26", "the maximum must be above the minimum"},
		{"BEGIN { @ = lhist(1, $x, 5, 1); }", "1:22", "variable $x used before it is assigned"},
		{"BEGIN { @ = sum(\"a\"); }", "1:17", "sum(): the value must be an integer"},
		{"BEGIN { time(1); }", "1:14", "time(): the format must be a string literal"},
		{"BEGIN { @x = 1; clear(@x[1]); }", "1:23", "clear() takes a whole map"},
		{"BEGIN { delete(1); }", "1:16", "delete() takes a map element"},
		{"BEGIN { @ = kaddr(1); }", "1:19", "kaddr(): the symbol must be a string literal"},
		{"k:f { @[kstack(fast)] = count(); }", "1:16", "unknown stack mode fast"},
		{"BEGIN { print(1, 2); }", "1:18", "top and divisor apply to a whole map only"},
		// printf
		{`BEGIN { printf("%d %s\n", pid); }`, "1:9", "the format has 2 conversions but 1 argument follows"},
		{`BEGIN { printf("%d\n", comm); }`, "1:24", "%d expects an integer, argument 1 (comm) is a string"},
		{`BEGIN { printf("%*d\n", 1, 2); }`, "1:16", "* widths are not supported"},
		{`BEGIN { printf("%q\n", 1); }`, "1:16", "unknown conversion %q"},
		{`BEGIN { printf("%", 1); }`, "1:16", "the format ends inside the conversion"},
		{`BEGIN { printf(comm); }`, "1:16", "the format must be a string literal"},
		{`BEGIN { printf("%d", printf("x")); }`, "1:22", "has no value to print"},
		// maps
		{"BEGIN { @x = count(); @x = 1; }", "1:23", "map @x holds count() values (assigned at 1:9), cannot hold int here"},
		{"BEGIN { @x = 1; @x = \"a\"; }", "1:17", "map @x holds int values"},
		{"BEGIN { @x = hist(1); @x = lhist(1, 0, 10, 1); }", "1:23", "cannot hold lhist() here"},
		{"BEGIN { @x[1] = 1; @x[1, 2] = 1; }", "1:20", "map @x is used with 1 key at 1:9, and with 2 keys here"},
		{"BEGIN { @x[1] = 1; @x = 1; }", "1:20", "with no key here"},
		{"BEGIN { @x[1] = 1; @x[\"a\"] = 1; }", "1:23", "map @x key 1 is a int at 1:9, not a string"},
		{"BEGIN { @x = hist(1); @y = @x + 1; }", "1:28", "map @x holds hist() values, which cannot be read"},
		{"BEGIN { @y = @x; }", "1:14", "map @x is used but never assigned"},
		{"BEGIN { print(@nope); }", "1:15", "map @nope is used but never assigned"},
		{"BEGIN { @x = count(); @x++; }", "1:25", "++ needs an integer, map @x holds count() values"},
		{"BEGIN { @x = printf(\"a\"); }", "1:14", "has no value to assign"},
		// variables and types
		{"BEGIN { @ = $x; }", "1:13", "variable $x used before it is assigned"},
		{"BEGIN { $x = 1; $x = \"a\"; }", "1:20", "$x holds a int (assigned at 1:9), cannot assign a string"},
		{"BEGIN { $x += 1; }", "1:9", "variable $x used before it is assigned"},
		{"BEGIN { @ = comm + 1; }", "1:18", "+ is not defined on strings"},
		{"BEGIN { @ = comm == 1; }", "1:18", "cannot compare a string with an integer"},
		{"BEGIN { @ = -comm; }", "1:13", "- needs an integer, comm is a string"},
		{"BEGIN { if (comm) { } }", "1:13", "if condition must be an integer"},
		{"BEGIN /comm/ { }", "1:8", "a predicate must be an integer"},
		{"BEGIN { @ = 1 ? 2 : \"a\"; }", "1:15", "the branches of ?: are a int and a string"},
		{"BEGIN { @ = (int)1; }", "1:13", `unknown type "int" in cast`},
		{"BEGIN { @ = bogus; }", "1:13", "unknown identifier bogus"},
		{"BEGIN { @ = AF_INET; }", "1:13", "unknown identifier AF_INET: constants from kernel headers and BTF are not available"},
		{"BEGIN { break; }", "1:9", "break outside a while loop"},
		{"BEGIN { unroll(101) { } }", "1:16", "unroll count must be between 1 and 100"},
		{"BEGIN { $t = (1, 2); @ = $t.x; }", "1:28", "tuple elements are numbered"},
		{"BEGIN { @ = comm.x; }", "1:17", "comm has no fields"},
		{"BEGIN { @[printf(\"a\")] = 1; }", "1:11", "has no value to use as a map key"},
	}
	for _, tt := range tests {
		errs := checkErrs(t, tt.src)
		if len(errs) == 0 {
			t.Errorf("%q: no error, want %s", tt.src, tt.msg)
			continue
		}
		e := errs[0]
		if e.Pos.String() != tt.pos || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: got %v, want %s: ...%s...", tt.src, ErrorList(errs), tt.pos, tt.msg)
		}
		for _, e := range errs {
			if e.Msg[:1] != strings.ToLower(e.Msg[:1]) && !strings.HasPrefix(e.Msg, "BEGIN") {
				t.Errorf("%q: message not lowercase: %s", tt.src, e.Msg)
			}
		}
	}
}

func TestCheckAccepts(t *testing.T) {
	for _, src := range []string{
		"t:syscalls:sys_exit_read { @ = args->ret; }",
		"t:syscalls:sys_enter_openat { printf(\"%s\\n\", str(args.filename)); }",
		"k:vfs_read, u:/bin/sh:main, U:/bin/x:p:n { @[arg0, arg1] = count(); }",
		"kr:vfs_read, ur:/bin/sh:main { @ = hist(retval); }",
		"k:f { @[func, probe] = sum(arg0); }",
		"interval:s:1 { print(@x); clear(@x); } BEGIN { @x[1, \"a\"] = 2; }",
		"END { printf(\"%d\", @late); } k:f { @late = count(); }",
		"k:f { @s = count(); if (@s > 10) { exit(); } }",
		"k:f { $x = 1; $x = args_unused_ok(); }" + "",
		"BEGIN { $a = \"x\"; if ($a == \"x\") { printf(\"%s\\n\", $a); } }",
		"BEGIN { @t = (1, \"a\"); $t = (2, 3); @n = $t.0; }",
		"k:f { printf(\"%s\\n\", kstack); print(kstack(3)); @[kstack(raw)] = count(); }",
		"BEGIN { @ = $1; printf(\"%d\\n\", $#); unroll($2) { } }",
		"k:f { @m[tid] = 1; delete(@m, tid); }",
		"BEGIN { printf(\"%s %d %lu %-8.3s %05x %%\\n\", strftime(\"%H\", nsecs), 1, 2, \"s\", 3); }",
		"t:a:b { @x[args->argv[0]] = count(); join(args->argv, \",\"); }",
		"BEGIN { exit(1); } END { time(); }",
	} {
		if strings.Contains(src, "args_unused_ok") {
			continue
		}
		if _, _, err := Compile(src); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestInfoForPlanner: what a planner reads: maps with kinds and key
// types, the aggregation call, each expression's type.
func TestInfoForPlanner(t *testing.T) {
	prog, info, err := Compile("kr:vfs_read { @bytes[comm, pid] = lhist(retval, 0, 2000, 200); @s = args_free(); }")
	if err == nil {
		t.Fatal("want an error for the unknown function")
	}
	prog, info, err = Compile("kr:vfs_read { @bytes[comm, pid] = lhist(retval, 0, 2000, 200); $x = retval * 2; }")
	if err != nil {
		t.Fatal(err)
	}
	m := info.Maps["bytes"]
	if m == nil || m.Kind != MapLhist || len(m.Keys) != 2 || m.Keys[0] != TypeString || m.Keys[1] != TypeInt || m.Agg == nil || m.Agg.Name != "lhist" {
		t.Fatalf("map info: %+v", m)
	}
	as := prog.Probes[0].Body.Stmts[1].(*AssignStmt)
	if info.Types[as.RHS] != TypeInt || info.Types[as.LHS] != TypeInt {
		t.Errorf("types: %v %v", info.Types[as.RHS], info.Types[as.LHS])
	}
	if ap := prog.Probes[0].AttachPoints[0]; ap.Kind != KindKretprobe || ap.Func != "vfs_read" {
		t.Errorf("attach point: %s", ap)
	}
}
