package script

import (
	"fmt"
	"strings"
)

// refusedCalls say why tracer has no such function; each is a bpftrace
// function that either needs BPF or acts on the traced system.
var refusedCalls = map[string]string{
	"signal":      "signal() sends a signal from inside the traced kernel path; ftrace only records, so tracer cannot",
	"override":    "override() changes a kernel function's return value (BPF error injection); ftrace only records",
	"system":      "system() runs a shell command for every event; tracer keeps programs to printing and maps",
	"ustack":      "ustack is not supported: ftrace's user stack trace is a raw list of addresses taken without unwinding and tracer does not symbolize it",
	"usym":        "usym() needs the traced process's symbols at event time, which tracer does not resolve yet",
	"uaddr":       "uaddr() needs the traced binary's symbols, which tracer does not resolve yet",
	"reg":         "reg() reads a CPU register in BPF; name the value with argN or retval instead",
	"buf":         "buf() reads arbitrary memory: ftrace fetches only what a probe declares",
	"kptr":        "kptr() marks a kernel pointer for reading: arbitrary kernel memory reads are not supported by ftrace",
	"uptr":        "uptr() marks a user pointer for reading: arbitrary memory reads are not supported by ftrace",
	"path":        "path() needs BTF and a BPF helper to walk dentries",
	"skboutput":   "skboutput() copies packets with a BPF helper",
	"cgroup_path": "cgroup_path() needs BPF's cgroup helpers",
	"cgroupid":    "cgroupid() needs BPF's cgroup helpers",
	"cat":         "cat() reads files while tracing, which tracer does not do",
	"kstack_ext":  "kstack_ext is not a bpftrace function",
}

// unsupportedCalls are bpftrace functions that have a user-space
// counterpart tracer does not implement yet.
var unsupportedCalls = map[string]bool{
	"strncmp": true, "strcontains": true, "len": true, "has_key": true, "macaddr": true,
	"pton": true, "strerror": true, "bswap": true, "errorf": true, "warnf": true,
	"printf_ext": true, "percpu_kaddr": true, "debugf": true, "socket_cookie": true,
	"nsecs": true, "cgroup": true, "unwatch": true, "offsetof": true, "sizeof": true,
}

// funcSpec is a function's arity and result.
type funcSpec struct {
	min, max int // max < 0: any number
	ret      Type
}

var funcs = map[string]funcSpec{
	"printf": {1, -1, TypeVoid}, "print": {1, 3, TypeVoid}, "time": {0, 1, TypeVoid},
	"str": {1, 2, TypeString}, "join": {1, 2, TypeVoid},
	"count": {0, 0, TypeAgg}, "sum": {1, 1, TypeAgg}, "avg": {1, 1, TypeAgg},
	"min": {1, 1, TypeAgg}, "max": {1, 1, TypeAgg}, "stats": {1, 1, TypeAgg},
	"hist": {1, 2, TypeAgg}, "lhist": {4, 4, TypeAgg},
	"delete": {1, 2, TypeVoid}, "clear": {1, 1, TypeVoid}, "zero": {1, 1, TypeVoid},
	"exit": {0, 1, TypeVoid}, "ksym": {1, 1, TypeString}, "kaddr": {1, 1, TypeInt},
	"ntop": {1, 2, TypeString}, "strftime": {2, 2, TypeString},
	"kstack": {1, 2, TypeStack},
	// syscall_name is tracer's own: the name of a system call number
	// (raw_syscalls' id), which bpftrace leaves to the reader.
	"syscall_name": {1, 1, TypeString},
	// table is tracer's own: BCC's tables, one printf per entry of a
	// map, largest first, with the values of other maps under the same key.
	"table": {3, -1, TypeVoid},
}

// Functions lists the names of the functions tracer provides, for
// documentation and completion.
func Functions() []string {
	return []string{"printf", "print", "time", "str", "join", "count", "sum", "avg", "min", "max",
		"stats", "hist", "lhist", "delete", "clear", "zero", "exit", "ksym", "kaddr", "ntop", "strftime", "kstack", "syscall_name", "table"}
}

func (c *checker) call(e *Call) Type {
	if why, ok := refusedCalls[e.Name]; ok {
		c.errorf(e.Pos, "%s", why)
		c.anyArgs(e.Args)
		return TypeUnknown
	}
	spec, ok := funcs[e.Name]
	if !ok {
		if unsupportedCalls[e.Name] {
			c.errorf(e.Pos, "%s() is not supported by tracer yet", e.Name)
		} else {
			c.errorf(e.Pos, "unknown function %s()", e.Name)
		}
		c.anyArgs(e.Args)
		return TypeUnknown
	}
	if spec.ret == TypeAgg {
		c.errorf(e.Pos, "%s() must be assigned to a map: @x = %s(...)", e.Name, e.Name)
	}
	c.checkArgs(e)
	return spec.ret
}

// checkArgs checks a known function's arity, then its arguments.
func (c *checker) checkArgs(e *Call) {
	if !c.arity(e, funcs[e.Name]) {
		c.anyArgs(e.Args)
		return
	}
	c.callArgs(e)
}

func (c *checker) arity(e *Call, spec funcSpec) bool {
	n := len(e.Args)
	if n >= spec.min && (spec.max < 0 || n <= spec.max) {
		return true
	}
	var want string
	switch {
	case spec.max < 0:
		want = fmt.Sprintf("at least %d", spec.min)
	case spec.min == spec.max:
		want = fmt.Sprintf("%d", spec.min)
	default:
		want = fmt.Sprintf("%d to %d", spec.min, spec.max)
	}
	c.errorf(e.Pos, "%s() takes %s argument%s, not %d", e.Name, want, plural(want), n)
	return false
}

func plural(want string) string {
	if want == "1" {
		return ""
	}
	return "s"
}

// anyArgs types arguments without expectations, so errors inside a bad
// call are still found.
func (c *checker) anyArgs(args []Expr) {
	for _, a := range args {
		if m, ok := a.(*MapRef); ok {
			c.mapKeys(m)
			continue
		}
		c.expr(a)
	}
}

func (c *checker) wantInt(e Expr, fn string, what string) {
	switch t := c.expr(e); t {
	case TypeInt, TypeUnknown:
	default:
		c.errorf(e.Position(), "%s(): %s must be an integer, %s is a %s", fn, what, e, t)
	}
}

func (c *checker) wantLiteralString(e Expr, fn, what string) (string, bool) {
	c.expr(e)
	s, ok := e.(*StrLit)
	if !ok {
		c.errorf(e.Position(), "%s(): %s must be a string literal", fn, what)
		return "", false
	}
	return s.Value, true
}

func (c *checker) wantLiteralInt(e Expr, fn, what string) (int64, bool) {
	c.expr(e)
	switch x := e.(type) {
	case *IntLit:
		if x.Value <= 1<<62 {
			return int64(x.Value), true
		}
	case *Unary:
		if l, ok := x.X.(*IntLit); ok && x.Op == "-" && l.Value <= 1<<62 {
			return -int64(l.Value), true
		}
	case *Param:
		return 0, false
	}
	c.errorf(e.Position(), "%s(): %s must be an integer literal", fn, what)
	return 0, false
}

// wantMap checks an argument that must be a map (clear, zero, print);
// withKeys says whether a keyed element is allowed.
func (c *checker) wantMap(e Expr, fn string, withKeys bool) *MapRef {
	m, ok := e.(*MapRef)
	if !ok {
		c.expr(e)
		c.errorf(e.Position(), "%s() takes a map, not %s", fn, e)
		return nil
	}
	switch {
	case m.Keys != nil && !withKeys:
		c.errorf(m.Pos, "%s() takes a whole map: @%s, not %s", fn, m.Name, m)
		c.anyArgs(m.Keys)
	case withKeys:
		c.mapKeys(m)
	default:
		c.mapInfo(m.Name, m.Pos) // the whole map, whatever its keys
	}
	c.reads = append(c.reads, m)
	c.info.Types[m] = TypeUnknown
	return m
}

// callArgs checks the arguments of a known function.
func (c *checker) callArgs(e *Call) {
	a := e.Args
	switch e.Name {
	case "printf":
		c.printf(e)
	case "print":
		if m, ok := a[0].(*MapRef); ok && m.Keys == nil {
			c.wantMap(m, "print", false)
			for i, x := range a[1:] {
				c.wantInt(x, "print", []string{"top", "divisor"}[i])
			}
			return
		}
		if len(a) > 1 {
			c.errorf(a[1].Position(), "print(): top and divisor apply to a whole map only")
		}
		if t := c.expr(a[0]); t == TypeVoid || t == TypeAgg {
			c.errorf(a[0].Position(), "print(): %s has no value", a[0])
		}
	case "time":
		if len(a) == 1 {
			c.wantLiteralString(a[0], "time", "the format")
		}
	case "str":
		switch t := c.expr(a[0]); t {
		case TypeVoid, TypeAgg, TypeStack, TypeTuple:
			c.errorf(a[0].Position(), "str(): %s is a %s, not a pointer or string", a[0], t)
		}
		if len(a) == 2 {
			c.wantInt(a[1], "str", "the length")
		}
	case "join":
		switch t := c.expr(a[0]); t {
		case TypeUnknown, TypeInt:
		default:
			c.errorf(a[0].Position(), "join(): %s is a %s, not an array of strings", a[0], t)
		}
		if len(a) == 2 {
			c.wantLiteralString(a[1], "join", "the separator")
		}
	case "count":
	case "sum", "avg", "min", "max", "stats":
		c.wantInt(a[0], e.Name, "the value")
	case "hist":
		c.wantInt(a[0], "hist", "the value")
		if len(a) == 2 {
			if k, ok := c.wantLiteralInt(a[1], "hist", "the bits per power of two"); ok && (k < 0 || k > 5) {
				c.errorf(a[1].Position(), "hist(): bits per power of two must be 0 to 5, not %d", k)
			}
		}
	case "lhist":
		c.wantInt(a[0], "lhist", "the value")
		lo, ok1 := c.wantLiteralInt(a[1], "lhist", "the minimum")
		hi, ok2 := c.wantLiteralInt(a[2], "lhist", "the maximum")
		step, ok3 := c.wantLiteralInt(a[3], "lhist", "the step")
		switch {
		case ok1 && lo < 0:
			c.errorf(a[1].Position(), "lhist(): the minimum must not be negative")
		case ok3 && step <= 0:
			c.errorf(a[3].Position(), "lhist(): the step must be positive")
		case ok1 && ok2 && hi <= lo:
			c.errorf(a[2].Position(), "lhist(): the maximum must be above the minimum")
		case ok1 && ok2 && ok3 && (hi-lo)/step > 1000:
			c.errorf(a[3].Position(), "lhist(): more than 1000 buckets")
		}
	case "delete":
		m, ok := a[0].(*MapRef)
		if !ok {
			c.expr(a[0])
			c.errorf(a[0].Position(), "delete() takes a map element, @name[key], not %s", a[0])
			return
		}
		if len(a) == 2 {
			// delete(@m, key): bpftrace's newer spelling.
			if m.Keys != nil {
				c.errorf(a[1].Position(), "delete(): give the key once, as delete(@%s, key) or delete(%s)", m.Name, m)
			}
			c.wantMap(&MapRef{Pos: m.Pos, Name: m.Name, Keys: a[1:]}, "delete", true)
			return
		}
		c.wantMap(m, "delete", true)
	case "clear", "zero":
		c.wantMap(a[0], e.Name, false)
	case "exit":
		if len(a) == 1 {
			c.wantInt(a[0], "exit", "the code")
		}
	case "ksym":
		c.wantInt(a[0], "ksym", "the address")
	case "kaddr":
		c.wantLiteralString(a[0], "kaddr", "the symbol")
	case "ntop":
		if len(a) == 2 {
			c.wantInt(a[0], "ntop", "the address family")
		}
		c.expr(a[len(a)-1])
	case "strftime":
		c.wantLiteralString(a[0], "strftime", "the format")
		c.wantInt(a[1], "strftime", "the time")
	case "kstack":
		c.kstackArgs(e)
	case "syscall_name":
		c.wantInt(a[0], "syscall_name", "the system call number")
	case "table":
		c.wantLiteralString(a[0], "table", "the row format")
		c.wantInt(a[1], "table", "the number of rows")
		for _, m := range a[2:] {
			c.wantMap(m, "table", false)
		}
	}
}

// kstackArgs checks kstack(N), kstack(mode) and kstack(mode, N).
func (c *checker) kstackArgs(e *Call) {
	c.builtin(&Builtin{Pos: e.Pos, Name: "kstack"})
	a := e.Args
	if id, ok := a[0].(*Ident); ok {
		switch id.Name {
		case "bpftrace", "perf", "raw":
		default:
			c.errorf(id.Pos, "kstack(): unknown stack mode %s: expected bpftrace, perf or raw", id.Name)
		}
		c.info.Types[id] = TypeUnknown
		a = a[1:]
	} else if len(a) == 2 {
		c.errorf(a[0].Position(), "kstack(): the first of two arguments is the mode: bpftrace, perf or raw")
		a = a[1:]
	}
	if len(a) == 1 {
		if n, ok := c.wantLiteralInt(a[0], "kstack", "the depth"); ok && (n < 1 || n > 127) {
			c.errorf(a[0].Position(), "kstack(): depth must be 1 to 127, not %d", n)
		}
	}
}

// printf checks the format against the arguments: their number, and
// their types where the program text tells them.
func (c *checker) printf(e *Call) {
	f, ok := c.wantLiteralString(e.Args[0], "printf", "the format")
	args := e.Args[1:]
	for _, a := range args {
		if t := c.expr(a); t == TypeVoid || t == TypeAgg {
			c.errorf(a.Position(), "printf(): %s has no value to print", a)
		}
	}
	if !ok {
		return
	}
	convs, err := parseFormat(f)
	if err != "" {
		c.errorf(e.Args[0].Position(), "printf(): %s", err)
		return
	}
	if len(convs) != len(args) {
		c.errorf(e.Pos, "printf(): the format has %d conversion%s but %d argument%s follow%s", len(convs), pluralN(len(convs)), len(args), pluralN(len(args)), verbS(len(args)))
		return
	}
	for i, conv := range convs {
		t := c.info.Types[args[i]]
		switch conv.verb {
		case 's':
			if t == TypeTuple {
				c.errorf(args[i].Position(), "printf(): %%%s cannot print a tuple", conv.text)
			}
		default:
			if t == TypeString || t == TypeStack || t == TypeTuple {
				c.errorf(args[i].Position(), "printf(): %%%s expects an integer, argument %d (%s) is a %s", conv.text, i+1, args[i], t)
			}
		}
	}
}

func pluralN(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// conversion is one % directive of a printf format.
type conversion struct {
	verb byte
	text string // without the %
}

// parseFormat splits a printf format into its conversions: flags, width,
// precision and length modifiers as C has them; * widths are refused, as
// bpftrace does.
func parseFormat(f string) ([]conversion, string) {
	var convs []conversion
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		start := i + 1
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		for i < len(f) && (isDigit(f[i]) || f[i] == '.') {
			i++
		}
		if i < len(f) && f[i] == '*' {
			return nil, "* widths are not supported in the format"
		}
		for i < len(f) && strings.IndexByte("hlzjt", f[i]) >= 0 {
			i++
		}
		if i >= len(f) {
			return nil, fmt.Sprintf("the format ends inside the conversion %%%s", f[start:])
		}
		switch v := f[i]; v {
		case 'd', 'i', 'u', 'x', 'X', 'o', 'c', 'p', 's':
			convs = append(convs, conversion{verb: v, text: f[start : i+1]})
		case 'r':
			return nil, "%r prints buf() values, which are not supported"
		default:
			return nil, fmt.Sprintf("unknown conversion %%%s in the format", f[start:i+1])
		}
	}
	return convs, ""
}
