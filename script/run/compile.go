package run

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tracer-dev/tracer/script"
)

// evalFn computes an expression for the current event.
type evalFn func(c *Ctx) Value

// flow is how a statement ends.
type flow uint8

const (
	flowNext flow = iota
	flowBreak
	flowContinue
	flowReturn
	flowExit
)

// execFn runs a statement.
type execFn func(c *Ctx) flow

// maxWhile bounds a while loop, as BPF's verifier bounds bpftrace's: a
// loop that would run longer stops, and says so once.
const maxWhile = 1 << 20

// compiler compiles one probe's predicate and actions.
type compiler struct {
	rt     *Runtime
	cp     *cprobe
	vars   map[string]int
	fields map[string]int // args->NAME → slot in binding.fields
	err    error
}

func (k *compiler) fail(pos script.Pos, format string, args ...any) {
	if k.err == nil {
		k.err = &script.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
}

func (k *compiler) varSlot(name string) int {
	if i, ok := k.vars[name]; ok {
		return i
	}
	i := len(k.vars)
	k.vars[name] = i
	return i
}

func (k *compiler) fieldSlot(name string) int {
	if i, ok := k.fields[name]; ok {
		return i
	}
	i := len(k.fields)
	k.fields[name] = i
	k.cp.fieldNames = append(k.cp.fieldNames, name)
	return i
}

func (k *compiler) block(b *script.Block) execFn {
	fns := make([]execFn, 0, len(b.Stmts))
	for _, s := range b.Stmts {
		if f := k.stmt(s); f != nil {
			fns = append(fns, f)
		}
	}
	switch len(fns) {
	case 0:
		return func(*Ctx) flow { return flowNext }
	case 1:
		return fns[0]
	}
	return func(c *Ctx) flow {
		for _, f := range fns {
			if fl := f(c); fl != flowNext {
				return fl
			}
		}
		return flowNext
	}
}

func (k *compiler) stmt(s script.Stmt) execFn {
	switch s := s.(type) {
	case *script.Block:
		return k.block(s)
	case *script.ExprStmt:
		if call, ok := s.X.(*script.Call); ok {
			return k.callStmt(call)
		}
		e := k.expr(s.X)
		return func(c *Ctx) flow { e(c); return flowNext }
	case *script.AssignStmt:
		return k.assign(s)
	case *script.IfStmt:
		cond, then := k.expr(s.Cond), k.block(s.Then)
		var els execFn
		if s.Else != nil {
			els = k.stmt(s.Else)
		}
		return func(c *Ctx) flow {
			if cond(c).truth() {
				return then(c)
			}
			if els != nil {
				return els(c)
			}
			return flowNext
		}
	case *script.UnrollStmt:
		lit, ok := s.Count.(*script.IntLit)
		if !ok {
			k.fail(s.Pos, "unroll needs an integer literal count in tracer run")
			return nil
		}
		n, body := int(lit.Value), k.block(s.Body)
		return func(c *Ctx) flow {
			for i := 0; i < n; i++ {
				if fl := body(c); fl != flowNext {
					return fl
				}
			}
			return flowNext
		}
	case *script.WhileStmt:
		cond, body := k.expr(s.Cond), k.block(s.Body)
		return func(c *Ctx) flow {
			for i := 0; cond(c).truth(); i++ {
				if i == maxWhile {
					c.rt.noteOnce("while", "tracer: a while loop ran %d times and was stopped (bpftrace bounds loops too)", maxWhile)
					break
				}
				switch body(c) {
				case flowBreak:
					return flowNext
				case flowReturn:
					return flowReturn
				case flowExit:
					return flowExit
				}
			}
			return flowNext
		}
	case *script.ReturnStmt:
		return func(*Ctx) flow { return flowReturn }
	case *script.JumpStmt:
		if s.Tok == "break" {
			return func(*Ctx) flow { return flowBreak }
		}
		return func(*Ctx) flow { return flowContinue }
	}
	k.fail(s.Position(), "statement not supported by tracer run")
	return nil
}

// assign compiles = and the compound assignments, to variables and maps.
func (k *compiler) assign(s *script.AssignStmt) execFn {
	if call, ok := s.RHS.(*script.Call); ok && s.Op == "=" {
		if m, ok := s.LHS.(*script.MapRef); ok {
			if f := k.aggregate(m, call); f != nil {
				return f
			}
		}
	}
	rhs := k.expr(s.RHS)
	op := strings.TrimSuffix(s.Op, "=")
	switch lhs := s.LHS.(type) {
	case *script.VarRef:
		slot := k.varSlot(lhs.Name)
		if op == "" {
			return func(c *Ctx) flow { c.vars[slot] = rhs(c); return flowNext }
		}
		bin := binop(op)
		return func(c *Ctx) flow { c.vars[slot] = bin(c.vars[slot], rhs(c)); return flowNext }
	case *script.MapRef:
		m, key := k.mapAndKey(lhs)
		if op == "" {
			return func(c *Ctx) flow {
				mk := key(c)
				m.entry(mk).v = rhs(c)
				return flowNext
			}
		}
		bin := binop(op)
		return func(c *Ctx) flow {
			mk := key(c)
			e := m.entry(mk)
			e.v = bin(e.value(m), rhs(c))
			return flowNext
		}
	}
	k.fail(s.Pos, "cannot assign to %s", s.LHS)
	return nil
}

// aggregate compiles @m[k] = count() and its friends; nil if call is not
// an aggregation.
func (k *compiler) aggregate(m *script.MapRef, call *script.Call) execFn {
	var arg evalFn
	switch call.Name {
	case "count":
	case "sum", "avg", "min", "max", "stats", "hist", "lhist":
		arg = k.expr(call.Args[0])
	default:
		return nil
	}
	mp, key := k.mapAndKey(m)
	switch call.Name {
	case "count":
		return func(c *Ctx) flow {
			mk := key(c)
			mp.entry(mk).count++
			return flowNext
		}
	case "sum", "avg", "stats":
		return func(c *Ctx) flow {
			mk := key(c)
			e := mp.entry(mk)
			e.count++
			e.sum += arg(c).I
			return flowNext
		}
	case "min", "max":
		isMin := call.Name == "min"
		return func(c *Ctx) flow {
			mk := key(c)
			e := mp.entry(mk)
			v := arg(c).I
			if e.count == 0 || isMin && v < e.sum || !isMin && v > e.sum {
				e.sum = v
			}
			e.count++
			return flowNext
		}
	}
	return func(c *Ctx) flow {
		mk := key(c)
		mp.entry(mk).hist(mp).Add(arg(c).I)
		return flowNext
	}
}

// mapAndKey resolves a map reference and compiles its key. The key is
// built in storage of the call site's own (Ctx.keys), not on the heap: a
// key handed to a closure would escape.
func (k *compiler) mapAndKey(m *script.MapRef) (*Map, func(c *Ctx) *mkey) {
	mp := k.rt.maps[m.Name]
	if mp == nil {
		k.fail(m.Pos, "unknown map @%s", m.Name)
		mp = &Map{}
	}
	keys := make([]evalFn, len(m.Keys))
	for i, x := range m.Keys {
		keys[i] = k.expr(x)
	}
	site := k.cp.nkeys
	k.cp.nkeys++
	n := uint8(len(keys))
	switch len(keys) {
	case 0:
		return mp, func(c *Ctx) *mkey { mk := &c.keys[site]; *mk = mkey{}; return mk }
	case 1:
		k0 := keys[0]
		return mp, func(c *Ctx) *mkey {
			v := k0(c)
			mk := &c.keys[site]
			*mk = mkey{n: 1}
			mk.v[0] = v
			return mk
		}
	}
	return mp, func(c *Ctx) *mkey {
		var vs [4]Value
		for i, f := range keys {
			vs[i] = f(c)
		}
		mk := &c.keys[site]
		*mk = mkey{n: n, v: vs}
		return mk
	}
}

// binop returns the function of an arithmetic or bitwise operator.
func binop(op string) func(a, b Value) Value {
	switch op {
	case "+":
		return func(a, b Value) Value { return intV(a.I + b.I) }
	case "-":
		return func(a, b Value) Value { return intV(a.I - b.I) }
	case "*":
		return func(a, b Value) Value { return intV(a.I * b.I) }
	case "/":
		return func(a, b Value) Value {
			if b.I == 0 {
				return intV(0)
			}
			return intV(int64(uint64(a.I) / uint64(b.I)))
		}
	case "%":
		return func(a, b Value) Value {
			if b.I == 0 {
				return intV(0)
			}
			return intV(int64(uint64(a.I) % uint64(b.I)))
		}
	case "&":
		return func(a, b Value) Value { return intV(a.I & b.I) }
	case "|":
		return func(a, b Value) Value { return intV(a.I | b.I) }
	case "^":
		return func(a, b Value) Value { return intV(a.I ^ b.I) }
	case "<<":
		return func(a, b Value) Value { return intV(a.I << uint64(b.I&63)) }
	case ">>":
		return func(a, b Value) Value { return intV(int64(uint64(a.I) >> uint64(b.I&63))) }
	}
	return func(a, b Value) Value { return a }
}

func cmpop(op string) func(a, b Value) bool {
	switch op {
	case "==":
		return func(a, b Value) bool { return a.K == kStr && a.S == b.S || a.K != kStr && a.I == b.I }
	case "!=":
		return func(a, b Value) bool { return !(a.K == kStr && a.S == b.S || a.K != kStr && a.I == b.I) }
	case "<":
		return func(a, b Value) bool { return compareValues(a, b) < 0 }
	case "<=":
		return func(a, b Value) bool { return compareValues(a, b) <= 0 }
	case ">":
		return func(a, b Value) bool { return compareValues(a, b) > 0 }
	case ">=":
		return func(a, b Value) bool { return compareValues(a, b) >= 0 }
	}
	return nil
}

func boolV(b bool) Value {
	if b {
		return intV(1)
	}
	return intV(0)
}

func (k *compiler) expr(e script.Expr) evalFn {
	switch e := e.(type) {
	case *script.IntLit:
		v := intV(int64(e.Value))
		return func(*Ctx) Value { return v }
	case *script.StrLit:
		v := strV(e.Value)
		return func(*Ctx) Value { return v }
	case *script.Param:
		if e.Count {
			v := intV(int64(len(k.rt.opts.Params)))
			return func(*Ctx) Value { return v }
		}
		v := intV(0)
		if e.N >= 1 && e.N <= len(k.rt.opts.Params) {
			s := k.rt.opts.Params[e.N-1]
			if n, err := strconv.ParseInt(s, 0, 64); err == nil {
				v = intV(n)
			} else {
				v = strV(s)
			}
		}
		return func(*Ctx) Value { return v }
	case *script.VarRef:
		slot := k.varSlot(e.Name)
		return func(c *Ctx) Value { return c.vars[slot] }
	case *script.MapRef:
		m, key := k.mapAndKey(e)
		return func(c *Ctx) Value {
			mk := key(c)
			en, ok := m.t.Get(*mk)
			if !ok {
				return m.zero()
			}
			return en.value(m)
		}
	case *script.Builtin:
		return k.builtin(e)
	case *script.Field:
		if isArgs(e.X) {
			slot := k.fieldSlot(e.Name)
			return func(c *Ctx) Value { return c.field(slot) }
		}
		k.fail(e.Pos, "field access %s is not supported by tracer run (only args->FIELD)", e)
	case *script.Binary:
		x, y := k.expr(e.X), k.expr(e.Y)
		switch e.Op {
		case "&&":
			return func(c *Ctx) Value { return boolV(x(c).truth() && y(c).truth()) }
		case "||":
			return func(c *Ctx) Value { return boolV(x(c).truth() || y(c).truth()) }
		}
		if cmp := cmpop(e.Op); cmp != nil {
			return func(c *Ctx) Value { return boolV(cmp(x(c), y(c))) }
		}
		bin := binop(e.Op)
		if e.Op == "/" || e.Op == "%" || e.Op == ">>" {
			// Signed when either side may be negative, as C with int64 does.
			bin = signedOp(e.Op)
		}
		return func(c *Ctx) Value { return bin(x(c), y(c)) }
	case *script.Unary:
		return k.unary(e)
	case *script.Ternary:
		cond, a, b := k.expr(e.Cond), k.expr(e.Then), k.expr(e.Else)
		return func(c *Ctx) Value {
			if cond(c).truth() {
				return a(c)
			}
			return b(c)
		}
	case *script.Cast:
		return k.cast(e)
	case *script.Call:
		return k.callExpr(e)
	default:
		k.fail(e.Position(), "%s is not supported by tracer run yet", e)
	}
	return func(*Ctx) Value { return Value{} }
}

func signedOp(op string) func(a, b Value) Value {
	switch op {
	case "/":
		return func(a, b Value) Value {
			if b.I == 0 {
				return intV(0)
			}
			return intV(a.I / b.I)
		}
	case "%":
		return func(a, b Value) Value {
			if b.I == 0 {
				return intV(0)
			}
			return intV(a.I % b.I)
		}
	}
	return func(a, b Value) Value { return intV(a.I >> uint64(b.I&63)) }
}

func isArgs(e script.Expr) bool {
	b, ok := e.(*script.Builtin)
	return ok && b.Name == "args"
}

func (k *compiler) unary(e *script.Unary) evalFn {
	switch e.Op {
	case "!":
		x := k.expr(e.X)
		return func(c *Ctx) Value { return boolV(!x(c).truth()) }
	case "-":
		x := k.expr(e.X)
		return func(c *Ctx) Value { return intV(-x(c).I) }
	case "~":
		x := k.expr(e.X)
		return func(c *Ctx) Value { return intV(^x(c).I) }
	case "++", "--":
		d := int64(1)
		if e.Op == "--" {
			d = -1
		}
		post := e.Postfix
		switch x := e.X.(type) {
		case *script.VarRef:
			slot := k.varSlot(x.Name)
			return func(c *Ctx) Value {
				old := c.vars[slot]
				c.vars[slot] = intV(old.I + d)
				if post {
					return intV(old.I)
				}
				return c.vars[slot]
			}
		case *script.MapRef:
			m, key := k.mapAndKey(x)
			return func(c *Ctx) Value {
				mk := key(c)
				en := m.entry(mk)
				old := en.value(m).I
				en.v = intV(old + d)
				if post {
					return intV(old)
				}
				return en.v
			}
		}
	}
	k.fail(e.Pos, "operator %s on %s is not supported by tracer run", e.Op, e.X)
	return func(*Ctx) Value { return Value{} }
}

// cast truncates to an integer type, as (uint8)x does in bpftrace.
func (k *compiler) cast(e *script.Cast) evalFn {
	x := k.expr(e.X)
	if e.Type.Ptr > 0 || e.Type.Struct != "" {
		k.fail(e.Pos, "cast to %s is not supported by tracer run", e.Type)
		return x
	}
	bits, signed := 64, true
	switch e.Type.Name {
	case "int8", "char":
		bits = 8
	case "uint8", "u8":
		bits, signed = 8, false
	case "int16", "short":
		bits = 16
	case "uint16", "u16":
		bits, signed = 16, false
	case "int32", "int":
		bits = 32
	case "uint32", "u32", "unsigned":
		bits, signed = 32, false
	case "uint64", "u64":
		signed = false
	}
	if bits == 64 {
		return x
	}
	shift := uint(64 - bits)
	if signed {
		return func(c *Ctx) Value { return intV(x(c).I << shift >> shift) }
	}
	return func(c *Ctx) Value { return intV(int64(uint64(x(c).I) << shift >> shift)) }
}

func (k *compiler) builtin(e *script.Builtin) evalFn {
	switch e.Name {
	case "pid":
		return func(c *Ctx) Value { return intV(int64(c.pid())) }
	case "tid":
		return func(c *Ctx) Value { return intV(int64(c.tid)) }
	case "uid":
		return func(c *Ctx) Value { return intV(int64(c.rt.uid(c.pid()))) }
	case "gid":
		return func(c *Ctx) Value { return intV(int64(c.rt.gid(c.pid()))) }
	case "comm":
		return func(c *Ctx) Value { return strV(c.comm()) }
	case "cpu":
		return func(c *Ctx) Value { return intV(int64(c.cpu)) }
	case "ppid":
		return func(c *Ctx) Value { return intV(int64(c.ppid())) }
	case "nsecs":
		return func(c *Ctx) Value { return intV(int64(c.ts)) }
	case "elapsed":
		return func(c *Ctx) Value { return intV(int64(c.ts - c.rt.startTS)) }
	case "probe":
		return func(c *Ctx) Value { return strV(c.probe) }
	case "func":
		return func(c *Ctx) Value { return strV(c.fn) }
	case "retval":
		slot := k.fieldSlot("retval")
		return func(c *Ctx) Value { return c.field(slot) }
	}
	if strings.HasPrefix(e.Name, "arg") && e.Name != "args" {
		slot := k.fieldSlot(e.Name)
		return func(c *Ctx) Value { return c.field(slot) }
	}
	k.fail(e.Pos, "builtin %s is not supported by tracer run yet", e.Name)
	return func(*Ctx) Value { return Value{} }
}

// callExpr compiles a function used for its value.
func (k *compiler) callExpr(e *script.Call) evalFn {
	switch e.Name {
	case "str":
		x := k.expr(e.Args[0])
		limit := evalFn(func(*Ctx) Value { return intV(defaultStrLen) })
		if len(e.Args) > 1 {
			limit = k.expr(e.Args[1])
		}
		// str(args->F) on a field the kernel copied reads the copy.
		slot := -1
		if f, ok := e.Args[0].(*script.Field); ok && isArgs(f.X) {
			slot = k.fieldSlot(f.Name)
		}
		return func(c *Ctx) Value { return strV(c.str(slot, x(c), limit(c).I)) }
	case "ntop":
		return k.ntop(e)
	case "syscall_name":
		x := k.expr(e.Args[0])
		return func(c *Ctx) Value { return strV(syscallName(x(c).I)) }
	}
	fn := k.callStmt(e)
	return func(c *Ctx) Value { fn(c); return Value{} }
}

// defaultStrLen is bpftrace's BPFTRACE_STRLEN: 64 bytes with the NUL.
const defaultStrLen = 64

// callStmt compiles a function used as a statement.
func (k *compiler) callStmt(e *script.Call) execFn {
	switch e.Name {
	case "printf":
		return k.printf(e)
	case "print":
		return k.print(e)
	case "table":
		return k.table(e)
	case "time":
		format := "%H:%M:%S\n"
		if len(e.Args) > 0 {
			lit, ok := e.Args[0].(*script.StrLit)
			if !ok {
				k.fail(e.Pos, "time() takes a string literal")
				return nil
			}
			format = lit.Value
		}
		return func(c *Ctx) flow { c.rt.emitTime(format); return flowNext }
	case "join":
		f, ok := e.Args[0].(*script.Field)
		if !ok || !isArgs(f.X) {
			k.fail(e.Pos, "join() takes args->FIELD in tracer run")
			return nil
		}
		slot := k.fieldSlot(f.Name)
		sep := " "
		if len(e.Args) > 1 {
			lit, ok := e.Args[1].(*script.StrLit)
			if !ok {
				k.fail(e.Pos, "join(): the separator must be a string literal")
				return nil
			}
			sep = lit.Value
		}
		return func(c *Ctx) flow { c.rt.emitJoin(c.argv(slot), sep); return flowNext }
	case "delete":
		if len(e.Args) == 2 {
			m, ok := e.Args[0].(*script.MapRef)
			if !ok {
				k.fail(e.Pos, "delete(): the first argument must be a map")
				return nil
			}
			mp, _ := k.mapAndKey(m)
			key := k.expr(e.Args[1])
			return func(c *Ctx) flow {
				mk := mkey{n: 1}
				mk.v[0] = key(c)
				mp.t.Take(mk)
				return flowNext
			}
		}
		m, ok := e.Args[0].(*script.MapRef)
		if !ok {
			k.fail(e.Pos, "delete() takes a map element: delete(@m[key])")
			return nil
		}
		mp, key := k.mapAndKey(m)
		return func(c *Ctx) flow {
			mk := key(c)
			mp.t.Take(*mk)
			return flowNext
		}
	case "clear", "zero":
		m, ok := e.Args[0].(*script.MapRef)
		if !ok {
			k.fail(e.Pos, "%s() takes a map", e.Name)
			return nil
		}
		mp, _ := k.mapAndKey(m)
		if e.Name == "clear" {
			return func(*Ctx) flow { mp.t.Reset(); return flowNext }
		}
		return func(*Ctx) flow { mp.zeroAll(); return flowNext }
	case "exit":
		return func(c *Ctx) flow { c.rt.exited = true; return flowExit }
	case "str":
		f := k.callExpr(e)
		return func(c *Ctx) flow { f(c); return flowNext }
	}
	k.fail(e.Pos, "%s() is not supported by tracer run here", e.Name)
	return nil
}

// ntop is ntop([af,] addr): an address field of a tracepoint (a u8[4] or
// u8[16] array such as inet_sock_set_state's saddr_v6) or an integer
// holding an IPv4 address as it lies in memory.
func (k *compiler) ntop(e *script.Call) evalFn {
	addr := e.Args[len(e.Args)-1]
	af := evalFn(func(*Ctx) Value { return intV(0) })
	if len(e.Args) == 2 {
		af = k.expr(e.Args[0])
	}
	if f, ok := addr.(*script.Field); ok && isArgs(f.X) {
		slot := k.fieldSlot(f.Name)
		return func(c *Ctx) Value {
			b := c.fieldBytes(slot)
			if b == nil {
				// Not an array on this event: an integer field.
				return strV(ntopInt(c.field(slot).I))
			}
			return strV(ntopBytes(b, af(c).I))
		}
	}
	x := k.expr(addr)
	return func(c *Ctx) Value { return strV(ntopInt(x(c).I)) }
}

// afInet6 is AF_INET6; with it ntop formats 16 bytes, else 4.
const afInet6 = 10

func ntopBytes(b []byte, af int64) string {
	if (af == afInet6 || af == 0) && len(b) >= 16 {
		return netip.AddrFrom16([16]byte(b[:16])).String()
	}
	if len(b) >= 4 {
		return netip.AddrFrom4([4]byte(b[:4])).String()
	}
	return ""
}

// ntopInt formats an IPv4 address held in an integer: its bytes in memory
// order, which on a little-endian machine is the low byte first.
func ntopInt(v int64) string {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b).String()
}

// syscallName is the name of system call number n on this architecture,
// or the number when tracer does not know it.
func syscallName(n int64) string {
	if s, ok := sysNames[n]; ok {
		return s
	}
	return strconv.FormatInt(n, 10)
}
