package script

import (
	"sort"
	"strconv"
	"strings"
)

// Compile parses and checks a program: what `tracer run` calls first.
func Compile(src string) (*Program, *Info, error) {
	prog, err := Parse(src)
	if err != nil {
		return nil, nil, err
	}
	info, err := Check(prog)
	if err != nil {
		return prog, info, err
	}
	return prog, info, nil
}

// Check checks a parsed program: function names and arities, printf
// formats, map kinds and key types, variables, the builtins valid for each
// probe kind, and what ftrace cannot do. The error is an ErrorList of
// every problem, in text order, one per construct.
func Check(prog *Program) (*Info, error) {
	// The first pass learns the maps' kinds from every assignment, so that
	// a map read in a probe written before the one assigning it (exit
	// before enter, END before all) has its type. Its errors are dropped:
	// the second pass, which starts afresh, reports them where they are.
	first := newChecker(nil)
	first.program(prog)
	c := newChecker(first.info.Maps)
	c.program(prog)
	c.unassignedMaps()
	if len(c.errs) == 0 {
		return c.info, nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Pos.Before(c.errs[j].Pos) })
	return c.info, c.errs
}

type checker struct {
	info  *Info
	seed  map[string]*MapInfo // kinds from the first pass, for reads
	errs  ErrorList
	seen  map[Pos]bool  // one error per place
	bad   map[Expr]bool // refused: what contains them is not refused again
	reads []*MapRef     // map uses that need an assignment somewhere

	// per probe
	probe *Probe
	vars  map[string]*varInfo
	loops int
}

type varInfo struct {
	typ Type
	pos Pos
	bad bool // assigned a refused expression: its uses are not refused again
}

func newChecker(seed map[string]*MapInfo) *checker {
	return &checker{
		info: &Info{Maps: map[string]*MapInfo{}, Types: map[Expr]Type{}},
		seed: seed,
		seen: map[Pos]bool{},
		bad:  map[Expr]bool{},
	}
}

func (c *checker) errorf(p Pos, format string, args ...any) {
	if c.seen[p] {
		return
	}
	c.seen[p] = true
	c.errs = append(c.errs, errorf(p, format, args...))
}

func (c *checker) program(prog *Program) {
	for _, pr := range prog.Probes {
		c.probe = pr
		c.vars = map[string]*varInfo{}
		c.loops = 0
		for _, ap := range pr.AttachPoints {
			c.attachPoint(ap)
		}
		if pr.Pred != nil {
			switch t := c.expr(pr.Pred); t {
			case TypeString, TypeStack, TypeTuple, TypeVoid:
				c.errorf(pr.Pred.Position(), "a predicate must be an integer, %s is a %s", pr.Pred, t)
			}
		}
		c.block(pr.Body)
	}
}

// refusedKinds say why ftrace has no counterpart for a probe kind.
var refusedKinds = map[ProbeKind]string{
	KindProfile:         "timed sampling of every CPU needs perf events and BPF; ftrace has no sampling probe (use interval: for periodic output)",
	KindSoftware:        "software events are perf events, which only BPF programs attach to",
	KindHardware:        "hardware counters are perf events, which only BPF programs attach to",
	KindWatchpoint:      "hardware watchpoints are perf breakpoints, which only BPF programs attach to",
	KindAsyncWatchpoint: "hardware watchpoints are perf breakpoints, which only BPF programs attach to",
	KindKfunc:           "fentry needs BPF trampolines and BTF; use kprobe: instead",
	KindKretfunc:        "fexit needs BPF trampolines and BTF; use kretprobe: instead",
	KindRawTracepoint:   "raw tracepoints pass raw kernel pointers that only BPF can read; use tracepoint: instead",
	KindIter:            "iterators walk kernel objects with BPF; ftrace has none",
}

func (c *checker) attachPoint(ap *AttachPoint) {
	if why, ok := refusedKinds[ap.Kind]; ok {
		c.errorf(ap.Pos, "%s probes are not supported: %s", ap.Prefix, why)
		return
	}
	if ap.Kind == KindInterval && ap.Unit == "hz" && ap.Period > 1000 {
		c.errorf(ap.Pos, "interval:hz:%d is faster than tracer's 1 ms timer", ap.Period)
	}
	if ap.Kind == KindInterval && ap.Unit == "us" && ap.Period < 1000 {
		c.errorf(ap.Pos, "interval:us:%d is faster than tracer's 1 ms timer", ap.Period)
	}
}

func (c *checker) block(b *Block) {
	if b == nil {
		return
	}
	for _, s := range b.Stmts {
		c.stmt(s)
	}
}

func (c *checker) stmt(s Stmt) {
	switch s := s.(type) {
	case *ExprStmt:
		if call, ok := s.X.(*Call); ok && aggKinds[call.Name] != 0 {
			c.errorf(call.Pos, "%s() must be assigned to a map: @x = %s(...)", call.Name, call.Name)
			c.checkArgs(call)
			return
		}
		c.expr(s.X)
	case *AssignStmt:
		c.assign(s)
	case *IfStmt:
		c.cond(s.Cond, "if")
		c.block(s.Then)
		if s.Else != nil {
			c.stmt(s.Else)
		}
	case *Block:
		c.block(s)
	case *WhileStmt:
		c.cond(s.Cond, "while")
		c.loops++
		c.block(s.Body)
		c.loops--
	case *UnrollStmt:
		switch n := s.Count.(type) {
		case *IntLit:
			if n.Value < 1 || n.Value > 100 {
				c.errorf(n.Pos, "unroll count must be between 1 and 100, not %s", n)
			}
		case *Param:
		default:
			c.errorf(s.Count.Position(), "unroll count must be an integer literal, not %s", s.Count)
		}
		c.block(s.Body)
	case *ReturnStmt:
		if s.Value != nil {
			c.expr(s.Value)
		}
	case *JumpStmt:
		if c.loops == 0 {
			c.errorf(s.Pos, "%s outside a while loop", s.Tok)
		}
	}
}

func (c *checker) cond(e Expr, what string) {
	switch t := c.expr(e); t {
	case TypeString, TypeStack, TypeTuple, TypeVoid:
		c.errorf(e.Position(), "%s condition must be an integer, %s is a %s", what, e, t)
	}
}

func (c *checker) assign(s *AssignStmt) {
	call, isCall := s.RHS.(*Call)
	agg := MapKind(0)
	if isCall {
		agg = aggKinds[call.Name]
	}
	switch lhs := s.LHS.(type) {
	case *VarRef:
		if agg != 0 {
			c.errorf(call.Pos, "%s() must be assigned to a map, not to $%s", call.Name, lhs.Name)
			c.checkArgs(call)
			return
		}
		t := c.expr(s.RHS)
		if s.Op != "=" {
			v := c.vars[lhs.Name]
			if v == nil {
				c.errorf(lhs.Pos, "variable $%s used before it is assigned", lhs.Name)
				return
			}
			c.info.Types[lhs] = v.typ
			c.arith(s.Pos, s.Op[:len(s.Op)-1], v.typ, t, lhs, s.RHS)
			return
		}
		switch t {
		case TypeVoid:
			c.errorf(s.RHS.Position(), "%s has no value to assign", s.RHS)
			return
		case TypeStack:
			c.errorf(s.RHS.Position(), "kstack cannot be stored in a variable: a stack is recorded with its event by ftrace's stacktrace option; use it as a map key (@[kstack] = count()) or in print/printf")
			return
		}
		if v := c.vars[lhs.Name]; v != nil {
			if v.typ != t && v.typ != TypeUnknown && t != TypeUnknown {
				c.errorf(s.Pos, "$%s holds a %s (assigned at %s), cannot assign a %s", lhs.Name, v.typ, v.pos, t)
			}
			if v.typ == TypeUnknown {
				v.typ = t
			}
		} else {
			c.vars[lhs.Name] = &varInfo{typ: t, pos: lhs.Pos}
		}
		if c.bad[s.RHS] {
			c.vars[lhs.Name].bad = true
		}
		c.info.Types[lhs] = c.vars[lhs.Name].typ
	case *MapRef:
		m := c.mapKeys(lhs)
		if agg != 0 {
			if s.Op != "=" {
				c.errorf(s.Pos, "%s() can only be assigned with =, not %s", call.Name, s.Op)
			}
			c.checkArgs(call)
			c.info.Types[call] = TypeAgg
			c.setKind(m, agg, call, lhs.Pos)
			c.info.Types[lhs] = TypeAgg
			return
		}
		t := c.expr(s.RHS)
		if s.Op != "=" {
			if !m.kindSet {
				if sm := c.seed[lhs.Name]; sm == nil || !sm.kindSet {
					c.reads = append(c.reads, lhs)
				}
			}
			c.arith(s.Pos, s.Op[:len(s.Op)-1], c.mapValueType(lhs, m), t, lhs, s.RHS)
			c.setKind(m, MapInt, nil, lhs.Pos)
			c.info.Types[lhs] = TypeInt
			return
		}
		var k MapKind
		switch t {
		case TypeInt:
			k = MapInt
		case TypeString:
			k = MapString
		case TypeTuple:
			k = MapTuple
		case TypeUnknown:
			k = MapUnknown
		case TypeStack:
			c.errorf(s.RHS.Position(), "kstack cannot be a map value: a stack is recorded with its event by ftrace's stacktrace option; use it as a map key (@[kstack] = count()) or in print/printf")
			c.setKind(m, MapUnknown, nil, lhs.Pos) // refused, not missing
			return
		default:
			c.errorf(s.RHS.Position(), "%s has no value to assign", s.RHS)
			c.setKind(m, MapUnknown, nil, lhs.Pos)
			return
		}
		c.setKind(m, k, nil, lhs.Pos)
		c.info.Types[lhs] = t
	}
}

// mapInfo returns the map's entry, creating it at its first use.
func (c *checker) mapInfo(name string, pos Pos) *MapInfo {
	m := c.info.Maps[name]
	if m == nil {
		m = &MapInfo{Name: name, Pos: pos}
		c.info.Maps[name] = m
	}
	return m
}

// setKind records what a map holds and refuses a second, different kind.
func (c *checker) setKind(m *MapInfo, k MapKind, agg *Call, pos Pos) {
	if !m.kindSet {
		m.kindSet, m.Kind, m.Agg, m.Pos = true, k, agg, pos
		c.info.MapOrder = append(c.info.MapOrder, m.Name)
		return
	}
	if m.Kind == k || k == MapUnknown && !m.Kind.IsAggregate() {
		if m.Agg == nil {
			m.Agg = agg
		}
		return
	}
	if m.Kind == MapUnknown && !k.IsAggregate() {
		m.Kind = k
		return
	}
	c.errorf(pos, "map %s holds %s values (assigned at %s), cannot hold %s here", m.Display(), m.Kind, m.Pos, k)
}

// mapKeys checks a map reference's keys against the map's other uses.
func (c *checker) mapKeys(r *MapRef) *MapInfo {
	m := c.mapInfo(r.Name, r.Pos)
	types := make([]Type, len(r.Keys))
	for i, k := range r.Keys {
		t := c.expr(k)
		switch t {
		case TypeVoid, TypeAgg:
			c.errorf(k.Position(), "%s has no value to use as a map key", k)
		}
		types[i] = t
	}
	if r.Keys == nil {
		types = nil
	}
	if !m.keysSet {
		m.keysSet, m.Keys, m.keysPos = true, types, r.Pos
		return m
	}
	if len(m.Keys) != len(types) {
		c.errorf(r.Pos, "map %s is used with %s at %s, and with %s here", m.Display(), nkeys(len(m.Keys)), m.keysPos, nkeys(len(types)))
		return m
	}
	for i, t := range types {
		switch {
		case m.Keys[i] == TypeUnknown:
			m.Keys[i] = t
		case t == TypeUnknown || t == m.Keys[i]:
		default:
			c.errorf(r.Keys[i].Position(), "map %s key %d is a %s at %s, not a %s", m.Display(), i+1, m.Keys[i], m.keysPos, t)
		}
	}
	return m
}

func nkeys(n int) string {
	switch n {
	case 0:
		return "no key"
	case 1:
		return "1 key"
	}
	return strconv.Itoa(n) + " keys"
}

// mapValueType is the type of reading the map in an expression.
func (c *checker) mapValueType(r *MapRef, m *MapInfo) Type {
	kind, set := m.Kind, m.kindSet
	if !set {
		if sm := c.seed[r.Name]; sm != nil && sm.kindSet {
			kind, set = sm.Kind, true
		}
	}
	if !set {
		return TypeUnknown
	}
	switch kind {
	case MapInt, MapCount, MapSum, MapAvg, MapMin, MapMax:
		return TypeInt
	case MapString:
		return TypeString
	case MapTuple:
		return TypeTuple
	case MapStats, MapHist, MapLhist:
		c.errorf(r.Pos, "map %s holds %s values, which cannot be read in an expression: print(%s) prints them", m.Display(), kind, m.Display())
		return TypeInt
	}
	return TypeUnknown
}

// mapRead checks a map used as a value.
func (c *checker) mapRead(r *MapRef) Type {
	m := c.mapKeys(r)
	c.reads = append(c.reads, r)
	return c.mapValueType(r, m)
}

// unassignedMaps reports maps that are read but assigned nowhere.
func (c *checker) unassignedMaps() {
	for _, r := range c.reads {
		if m := c.info.Maps[r.Name]; m == nil || !m.kindSet {
			c.errorf(r.Pos, "map @%s is used but never assigned", r.Name)
		}
	}
}

func (c *checker) expr(e Expr) Type {
	t := c.exprType(e)
	c.info.Types[e] = t
	return t
}

func (c *checker) exprType(e Expr) Type {
	switch e := e.(type) {
	case *IntLit:
		return TypeInt
	case *StrLit:
		return TypeString
	case *Param:
		if e.Count {
			return TypeInt
		}
		return TypeUnknown
	case *Builtin:
		if e.Name == "args" {
			c.builtin(e)
			c.errorf(e.Pos, "args must be followed by a field: args->NAME or args.NAME")
			return TypeUnknown
		}
		return c.builtin(e)
	case *Ident:
		if strings.ToUpper(e.Name) == e.Name {
			c.errorf(e.Pos, "unknown identifier %s: constants from kernel headers and BTF are not available; write the number", e.Name)
		} else {
			c.errorf(e.Pos, "unknown identifier %s", e.Name)
		}
		return TypeUnknown
	case *VarRef:
		v := c.vars[e.Name]
		if v == nil {
			c.errorf(e.Pos, "variable $%s used before it is assigned", e.Name)
			return TypeUnknown
		}
		if v.bad {
			c.bad[e] = true
		}
		return v.typ
	case *MapRef:
		return c.mapRead(e)
	case *Binary:
		x, y := c.expr(e.X), c.expr(e.Y)
		return c.arith(e.Pos, e.Op, x, y, e.X, e.Y)
	case *Unary:
		return c.unary(e)
	case *Ternary:
		c.cond(e.Cond, "ternary")
		a, b := c.expr(e.Then), c.expr(e.Else)
		switch {
		case a == TypeUnknown:
			return b
		case b == TypeUnknown || a == b:
			return a
		}
		c.errorf(e.Pos, "the branches of ?: are a %s and a %s", a, b)
		return a
	case *Call:
		return c.call(e)
	case *Field:
		return c.field(e)
	case *Index:
		if f, ok := e.X.(*Field); ok && isArgs(f.X) {
			c.expr(e.X)
			if t := c.expr(e.Index); t != TypeInt && t != TypeUnknown {
				c.errorf(e.Index.Position(), "an index must be an integer, %s is a %s", e.Index, t)
			}
			return TypeUnknown
		}
		c.expr(e.X)
		if c.bad[e.X] {
			c.bad[e] = true
			return TypeUnknown
		}
		c.bad[e] = true
		c.errorf(e.Pos, "indexing %s reads memory at an address: arbitrary memory reads are not supported by ftrace (only tracepoint array fields, args->field[N])", e.X)
		return TypeUnknown
	case *Cast:
		return c.cast(e)
	case *Tuple:
		for _, x := range e.Elems {
			switch t := c.expr(x); t {
			case TypeVoid, TypeAgg:
				c.errorf(x.Position(), "%s has no value to put in a tuple", x)
			}
		}
		return TypeTuple
	case *Sizeof:
		c.errorf(e.Pos, "%s needs kernel type information (BTF or headers), which tracer does not read", e.Name)
		return TypeInt
	}
	return TypeUnknown
}

func isArgs(e Expr) bool {
	b, ok := e.(*Builtin)
	return ok && b.Name == "args"
}

// arith types a binary operation (or the operation of a compound
// assignment). Strings compare with == and != only.
func (c *checker) arith(pos Pos, op string, x, y Type, xe, ye Expr) Type {
	for i, t := range []Type{x, y} {
		ex := []Expr{xe, ye}[i]
		switch t {
		case TypeVoid, TypeAgg:
			c.errorf(ex.Position(), "%s has no value to use with %s", ex, op)
			return TypeInt
		case TypeStack, TypeTuple:
			c.errorf(ex.Position(), "a %s cannot be used with %s", t, op)
			return TypeInt
		}
	}
	if x == TypeString || y == TypeString {
		if op != "==" && op != "!=" {
			c.errorf(pos, "%s is not defined on strings: strings compare with == and != only", op)
			return TypeInt
		}
		if x == TypeInt || y == TypeInt {
			c.errorf(pos, "cannot compare a string with an integer")
		}
	}
	return TypeInt
}

func (c *checker) unary(e *Unary) Type {
	switch e.Op {
	case "*":
		c.expr(e.X)
		c.bad[e] = true
		if c.bad[e.X] {
			return TypeInt
		}
		c.errorf(e.Pos, "*%s reads memory at an address: arbitrary kernel memory reads are not supported by ftrace, which fetches only what a probe declares", e.X)
		return TypeInt
	case "&":
		c.expr(e.X)
		c.errorf(e.Pos, "&%s takes an address: tracer values have no addresses", e.X)
		return TypeInt
	case "++", "--":
		switch x := e.X.(type) {
		case *VarRef:
			v := c.vars[x.Name]
			if v == nil {
				c.errorf(x.Pos, "variable $%s used before it is assigned", x.Name)
				return TypeInt
			}
			if v.typ != TypeInt && v.typ != TypeUnknown {
				c.errorf(e.Pos, "%s needs an integer, $%s is a %s", e.Op, x.Name, v.typ)
			}
			c.info.Types[x] = v.typ
		case *MapRef:
			m := c.mapKeys(x)
			if m.kindSet && m.Kind != MapInt && m.Kind != MapUnknown {
				c.errorf(e.Pos, "%s needs an integer, map %s holds %s values", e.Op, m.Display(), m.Kind)
			} else {
				c.setKind(m, MapInt, nil, x.Pos)
			}
			c.info.Types[x] = TypeInt
		}
		return TypeInt
	}
	t := c.expr(e.X)
	switch t {
	case TypeString, TypeStack, TypeTuple, TypeVoid, TypeAgg:
		c.errorf(e.Pos, "%s needs an integer, %s is a %s", e.Op, e.X, t)
	}
	return TypeInt
}

// validIntTypes are the integer types a cast may name.
var validIntTypes = map[string]bool{
	"bool": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true,
}

func (c *checker) cast(e *Cast) Type {
	c.expr(e.X)
	if e.Type.Struct != "" || e.Type.Ptr > 0 {
		c.bad[e] = true
	}
	switch {
	case e.Type.Struct != "":
		c.errorf(e.Pos, "cast to (%s) is not supported: struct layouts need BTF or kernel headers, and reading through the pointer is an arbitrary kernel memory read, which ftrace cannot do", e.Type)
	case e.Type.Ptr > 0:
		c.errorf(e.Pos, "cast to the pointer (%s) is not supported: reading through it is an arbitrary memory read, which ftrace cannot do", e.Type)
	case !validIntTypes[e.Type.Name]:
		c.errorf(e.Pos, "unknown type %q in cast: use int8..int64, uint8..uint64 or bool", e.Type.Name)
	}
	return TypeInt
}

func (c *checker) field(e *Field) Type {
	if isArgs(e.X) {
		c.info.Types[e.X] = c.builtin(e.X.(*Builtin))
		return TypeUnknown
	}
	if f, ok := e.X.(*Field); ok && isArgs(f.X) {
		c.expr(e.X)
		c.bad[e] = true
		op := "."
		if e.Arrow {
			op = "->"
		}
		c.errorf(e.Pos, "%s%s%s reads kernel memory through the field %s: arbitrary kernel memory reads are not supported by ftrace (only the event's own fields)", f, op, e.Name, f)
		return TypeUnknown
	}
	t := c.expr(e.X)
	if c.bad[e.X] {
		c.bad[e] = true // refused already: one error per construct
		return TypeUnknown
	}
	c.bad[e] = true
	if e.Arrow {
		c.errorf(e.Pos, "-> on %s reads kernel memory at an address: arbitrary kernel memory reads are not supported by ftrace (only args->field of a tracepoint)", e.X)
		return TypeUnknown
	}
	if t == TypeTuple || t == TypeUnknown {
		if _, err := strconv.Atoi(e.Name); err == nil {
			delete(c.bad, e)
			return TypeUnknown
		}
		if t == TypeTuple {
			c.errorf(e.Pos, "tuple elements are numbered: .0, .1..., not .%s", e.Name)
			return TypeUnknown
		}
	}
	c.errorf(e.Pos, "%s has no fields: .%s is not supported (struct fields need BTF or kernel headers)", e.X, e.Name)
	return TypeUnknown
}

// builtinKinds lists the probe kinds a builtin is valid in; a builtin not
// listed is valid everywhere.
var builtinKinds = map[string][]ProbeKind{
	"retval": {KindKretprobe, KindUretprobe},
	"args":   {KindTracepoint},
	"func":   {KindKprobe, KindKretprobe, KindUprobe, KindUretprobe},
	"argN":   {KindKprobe, KindUprobe, KindUSDT},
	"kstack": {KindTracepoint, KindKprobe, KindKretprobe, KindUprobe, KindUretprobe, KindUSDT},
}

// refusedBuiltins say why tracer has no such builtin.
var refusedBuiltins = map[string]string{
	"ustack":   "ustack is not supported: ftrace's user stack trace is a raw list of addresses taken without unwinding and tracer does not symbolize it",
	"curtask":  "curtask is a pointer to the kernel's task_struct: arbitrary kernel memory reads are not supported by ftrace",
	"ctx":      "ctx is BPF's raw context pointer: ftrace has none",
	"cgroup":   "cgroup is not supported: ftrace events do not carry the cgroup id",
	"rand":     "rand is not supported yet",
	"cpid":     "cpid is not supported yet",
	"username": "username is not supported yet",
	"numaid":   "numaid is not supported: ftrace events do not carry the NUMA node",
	"jiffies":  "jiffies is not supported: ftrace events do not carry it",
	"stack":    "stack is the old name of kstack: write kstack",
	"__probe":  "__probe is internal to bpftrace",
}

func (c *checker) builtin(b *Builtin) Type {
	name := b.Name
	key := name
	if strings.HasPrefix(name, "sarg") {
		c.errorf(b.Pos, "%s reads the stack at an offset from the stack pointer: not supported (use argN)", name)
		return TypeInt
	}
	if strings.HasPrefix(name, "arg") && name != "args" {
		key = "argN"
		if n, _ := strconv.Atoi(name[3:]); n > 31 {
			c.errorf(b.Pos, "%s: kprobes and uprobes fetch at most 32 arguments (arg0..arg31)", name)
		}
	}
	if why, ok := refusedBuiltins[name]; ok {
		c.errorf(b.Pos, "%s", why)
		return TypeUnknown
	}
	if kinds, ok := builtinKinds[key]; ok {
		for _, ap := range c.probe.AttachPoints {
			if ap.Kind >= KindProfile || containsKind(kinds, ap.Kind) {
				continue
			}
			c.errorf(b.Pos, "%s is only available in %s probes, not in %s (%s at %s)", name, kindList(kinds), ap.Kind, ap.Raw, ap.Pos)
			break
		}
	}
	switch name {
	case "comm", "probe", "func":
		return TypeString
	case "kstack":
		return TypeStack
	case "args":
		return TypeUnknown
	}
	return TypeInt
}

func containsKind(l []ProbeKind, k ProbeKind) bool {
	for _, x := range l {
		if x == k {
			return true
		}
	}
	return false
}

func kindList(l []ProbeKind) string {
	s := make([]string, len(l))
	for i, k := range l {
		s[i] = k.String()
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
