package parse

// The print fmt parser: C expressions over REC->field into typed nodes.

import (
	"strconv"
	"strings"
)

type parser struct {
	toks       []token
	pos        int
	s          *Schema
	longSize   int
	unresolved []string
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}
func (p *parser) is(text string) bool {
	t := p.toks[p.pos]
	return t.kind == tPunct && t.text == text
}
func (p *parser) expect(text string) error {
	if !p.is(text) {
		t := p.peek()
		return cerr(t.pos, "expected "+strconv.Quote(text)+", found "+strconv.Quote(t.text))
	}
	p.pos++
	return nil
}

const maxDepth = 200

func (p *parser) expr(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, cerr(p.peek().pos, "expression nested too deeply")
	}
	cond, err := p.binary(0, depth+1)
	if err != nil {
		return nil, err
	}
	if !p.is("?") {
		return cond, nil
	}
	p.pos++
	x, err := p.expr(depth + 1)
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	y, err := p.expr(depth + 1)
	if err != nil {
		return nil, err
	}
	n := &node{op: opCond, a: cond, b: x, c: y}
	switch {
	case x.kind == vInt && y.kind == vInt:
		n.kind, n.t = vInt, arith(x.t, y.t)
	case x.kind == vInt:
		n.kind, n.t, n.isStr = y.kind, y.t, y.isStr
	default:
		n.kind, n.t, n.isStr = x.kind, x.t, x.isStr || y.isStr
	}
	return n, nil
}

var binPrec = map[string]int{
	"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5,
	"==": 6, "!=": 6, "<": 7, "<=": 7, ">": 7, ">=": 7,
	"<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}

func (p *parser) binary(minPrec, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, cerr(p.peek().pos, "expression nested too deeply")
	}
	left, err := p.unary(depth + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec, ok := binPrec[t.text]
		if t.kind != tPunct || !ok || prec <= minPrec {
			return left, nil
		}
		p.pos++
		right, err := p.binary(prec, depth+1)
		if err != nil {
			return nil, err
		}
		left = makeBin(t.text, left, right)
	}
}

func makeBin(o string, a, b *node) *node {
	n := &node{kind: vInt, a: a, b: b, bin: o, bop: binOps[o]}
	switch o {
	case "&&":
		n.op, n.t = opAndAnd, tInt
	case "||":
		n.op, n.t = opOrOr, tInt
	case "==", "!=", "<", "<=", ">", ">=":
		n.op, n.t = opBin, tInt
	case "<<", ">>":
		n.op, n.t = opBin, a.t.promote()
	default:
		n.op, n.t = opBin, arith(a.t, b.t)
		if (o == "+" || o == "-") && a.kind == vBytes && b.kind == vInt {
			// Pointer arithmetic on memory from the record.
			n.kind, n.t, n.isStr = vBytes, a.t, a.isStr
		}
	}
	if a.kind != vInt && n.t.size == 0 {
		n.t = tU64
	}
	return n
}

func (p *parser) unary(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, cerr(p.peek().pos, "expression nested too deeply")
	}
	t := p.peek()
	if t.kind == tPunct {
		switch t.text {
		case "-", "+", "~", "!", "&", "*":
			p.pos++
			a, err := p.unary(depth + 1)
			if err != nil {
				return nil, err
			}
			switch t.text {
			case "+":
				return a, nil
			case "-":
				return &node{op: opNeg, kind: vInt, t: a.t.promote(), a: a}, nil
			case "~":
				return &node{op: opCompl, kind: vInt, t: a.t.promote(), a: a}, nil
			case "!":
				return &node{op: opNot, kind: vInt, t: tInt, a: a}, nil
			case "&":
				if a.op == opElem && a.a.kind == vBytes {
					// &REC->arr[i]: the array's bytes from element i on
					// (cxl's __print_hex(&REC->comp_id[1], 6), 7.x).
					return &node{op: opAddrElem, kind: vBytes, t: a.t, a: a.a, b: a.b}, nil
				}
				if a.op != opField {
					return nil, cerr(t.pos, "& of something other than a field")
				}
				return &node{op: opAddr, kind: vBytes, t: ctype{uint8(p.s.Fields[a.field].ElemSize), p.s.Fields[a.field].Signed}, field: a.field}, nil
			case "*":
				et := a.t
				if a.kind != vBytes || et.size == 0 {
					return nil, cerr(t.pos, "dereference of something other than record memory")
				}
				return &node{op: opDeref, kind: vInt, t: et, a: a}, nil
			}
		case "(":
			if p.toks[p.pos+1].kind == tPunct && p.toks[p.pos+1].text == "{" {
				return nil, cerr(t.pos, "GCC statement expression")
			}
			save := p.pos
			p.pos++
			if ct, ptr, ok := p.typeName(); ok && p.is(")") {
				p.pos++
				a, err := p.unary(depth + 1)
				if err != nil {
					return nil, err
				}
				return p.makeCast(ct, ptr, a), nil
			}
			p.pos = save
		}
	}
	if t.kind == tIdent && t.text == "sizeof" {
		p.pos++
		if err := p.expect("("); err != nil {
			return nil, err
		}
		sz := 0
		if ct, ptr, ok := p.typeName(); ok {
			sz = int(ct.size)
			if ptr > 0 {
				sz = p.longSize
			}
		} else {
			a, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			switch {
			case a.op == opField:
				sz = p.s.Fields[a.field].Size
			case a.op == opStr:
				sz = len(a.s) + 1
			case a.kind == vInt:
				sz = int(a.t.size)
			default:
				return nil, cerr(t.pos, "sizeof of an expression of unknown size")
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if sz == 0 {
			return nil, cerr(t.pos, "sizeof of an unknown type")
		}
		return &node{op: opConst, kind: vInt, t: ctype{uint8(p.longSize), false}, u: uint64(sz)}, nil
	}
	return p.postfix(depth + 1)
}

func (p *parser) makeCast(ct ctype, ptr int, a *node) *node {
	if ptr > 0 {
		if a.kind == vBytes {
			// (const char *)__get_dynamic_array(x), (u32 *)REC->arr...
			n := *a
			if ptr == 1 && ct.size != 0 {
				n.t = ct
			} else {
				n.t = ctype{uint8(p.longSize), false}
			}
			n.isStr = ptr == 1 && ct.size == 1
			return &n
		}
		ct = ctype{uint8(p.longSize), false}
	}
	if ct.size == 0 { // (void)
		ct = tInt
	}
	if a.kind != vInt {
		return &node{op: opCast, kind: a.kind, t: ct, a: a, isStr: a.isStr}
	}
	return &node{op: opCast, kind: vInt, t: ct, a: a}
}

// typeName parses a C type name at the current position: qualifiers,
// specifiers or a known typedef, then any '*'. ct.size is 0 for void and
// for struct/union/enum types (only usable behind a pointer). It moves the
// position only when it reports ok.
func (p *parser) typeName() (ct ctype, ptr int, ok bool) {
	save := p.pos
	var (
		nSigned, nUnsigned, nShort, nLong, nChar, nInt, nVoid, nBool int
		named                                                        ctype
		haveNamed, tagged                                            bool
	)
	words := 0
loop:
	for {
		t := p.peek()
		if t.kind != tIdent {
			break
		}
		switch t.text {
		case "const", "volatile", "__user", "__iomem", "__rcu", "__percpu", "__force", "__bitwise", "restrict", "__restrict":
		case "signed", "__signed__":
			nSigned++
		case "unsigned":
			nUnsigned++
		case "short":
			nShort++
		case "long":
			nLong++
		case "char":
			nChar++
		case "int":
			nInt++
		case "void":
			nVoid++
		case "_Bool", "bool":
			nBool++
		case "struct", "union", "enum":
			p.pos++
			if p.peek().kind != tIdent {
				p.pos = save
				return ctype{}, 0, false
			}
			tagged = true
			if t.text == "enum" {
				named, haveNamed = tUint, true
			}
		default:
			if haveNamed || tagged || words > 0 && (nSigned+nUnsigned+nShort+nLong+nChar+nInt+nVoid+nBool) > 0 {
				break loop
			}
			nt, known := typedefType(t.text, p.longSize)
			if !known {
				break loop
			}
			named, haveNamed = nt, true
		}
		p.pos++
		words++
	}
	if words == 0 {
		p.pos = save
		return ctype{}, 0, false
	}
	for p.is("*") {
		p.pos++
		ptr++
	}
	switch {
	case haveNamed:
		ct = named
	case tagged || nVoid > 0:
		ct = ctype{}
	case nBool > 0:
		ct = ctype{1, false}
	case nChar > 0:
		ct = ctype{1, nSigned > 0} // char is unsigned in the kernel since 6.2
	case nShort > 0:
		ct = ctype{2, nUnsigned == 0}
	case nLong >= 2:
		ct = ctype{8, nUnsigned == 0}
	case nLong == 1:
		ct = ctype{uint8(p.longSize), nUnsigned == 0}
	default:
		ct = ctype{4, nUnsigned == 0}
	}
	if tagged && ptr == 0 && !haveNamed {
		p.pos = save
		return ctype{}, 0, false
	}
	return ct, ptr, true
}

// typedefType knows the kernel typedefs that appear in casts of print fmts.
func typedefType(name string, longSize int) (ctype, bool) {
	switch name {
	case "u8", "__u8", "uint8_t", "u_char", "unchar":
		return ctype{1, false}, true
	case "s8", "__s8", "int8_t":
		return ctype{1, true}, true
	case "u16", "__u16", "uint16_t", "__le16", "__be16", "umode_t", "u_short", "ushort":
		return ctype{2, false}, true
	case "s16", "__s16", "int16_t":
		return ctype{2, true}, true
	case "u32", "__u32", "uint32_t", "__le32", "__be32", "gfp_t", "fmode_t", "dev_t", "uid_t", "gid_t", "blk_opf_t", "blk_status_t", "slab_flags_t", "vm_fault_t", "uint", "u_int", "xfs_agnumber_t", "xfs_agblock_t", "xfs_extlen_t", "__poll_t", "isolate_mode_t", "zap_flags_t", "rpc_authflavor_t":
		return ctype{4, false}, true
	case "s32", "__s32", "int32_t", "pid_t", "__kernel_rwf_t", "rwf_t", "clockid_t", "key_serial_t", "xfs_lsn_t32":
		return ctype{4, true}, true
	case "u64", "__u64", "uint64_t", "__le64", "__be64", "sector_t", "blkcnt_t", "phys_addr_t", "dma_addr_t", "resource_size_t", "xfs_ino_t", "xfs_fsblock_t", "xfs_rfsblock_t", "xfs_fileoff_t", "xfs_filblks_t", "xfs_daddr_t", "ino64_t", "u_int64_t":
		return ctype{8, false}, true
	case "s64", "__s64", "int64_t", "loff_t", "ktime_t", "time64_t", "xfs_off_t", "xfs_fsize_t", "__kernel_loff_t":
		return ctype{8, true}, true
	case "size_t", "uintptr_t", "ulong", "u_long", "pgoff_t", "irq_hw_number_t", "ino_t", "__kernel_size_t", "vm_flags_t", "pteval_t", "pmdval_t", "pudval_t", "p4dval_t", "pgdval_t":
		return ctype{uint8(longSize), false}, true
	case "ssize_t", "intptr_t", "ptrdiff_t", "off_t", "time_t", "clock_t", "__kernel_ssize_t", "long_t":
		return ctype{uint8(longSize), true}, true
	}
	return ctype{}, false
}

func (p *parser) postfix(depth int) (*node, error) {
	n, err := p.primary(depth + 1)
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.is("["):
			pos := p.peek().pos
			p.pos++
			idx, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			if n.kind != vBytes || n.t.size == 0 {
				return nil, cerr(pos, "subscript of something other than record memory")
			}
			n = &node{op: opElem, kind: vInt, t: n.t, a: n, b: idx}
		case p.is("->") || p.is("."):
			return nil, cerr(p.peek().pos, "member access other than REC->field")
		default:
			return n, nil
		}
	}
}

func (p *parser) fieldRef() (int, error) {
	t := p.next()
	if t.kind != tIdent {
		return 0, cerr(t.pos, "expected a field name")
	}
	name := t.text
	// REC->ent.pid: the struct trace_entry every record starts with,
	// whose members the format file lists as common_type, common_flags,
	// common_preempt_count and common_pid (vmscan's events, 7.x).
	if name == "ent" && p.s.FieldIndex("ent") < 0 && p.is(".") &&
		p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tIdent {
		p.pos++
		m := p.next()
		if i := p.s.FieldIndex("common_" + m.text); i >= 0 && p.s.Fields[i].IsCommon {
			return i, nil
		}
		return 0, cerr(m.pos, "no common field "+strconv.Quote("common_"+m.text))
	}
	i := p.s.FieldIndex(name)
	if i < 0 {
		return 0, cerr(t.pos, "no field "+strconv.Quote(name))
	}
	return i, nil
}

func (p *parser) fieldNode(i int) *node {
	f := &p.s.Fields[i]
	switch f.Kind {
	case KindScalar:
		return &node{op: opField, kind: vInt, t: ctype{uint8(f.Size), f.Signed}, field: i}
	}
	es := f.ElemSize
	if es != 1 && es != 2 && es != 4 && es != 8 {
		es = 1
	}
	return &node{op: opField, kind: vBytes, t: ctype{uint8(es), f.Signed}, field: i, isStr: f.IsString}
}

func (p *parser) primary(depth int) (*node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return parseNumber(t, p.longSize)
	case tChar:
		if len(t.text) == 0 {
			return nil, cerr(t.pos, "empty char literal")
		}
		return &node{op: opConst, kind: vInt, t: tInt, u: uint64(int64(int8(t.text[0])))}, nil
	case tStr:
		s := t.text
		for p.peek().kind == tStr {
			s += p.next().text
		}
		return &node{op: opStr, kind: vBytes, t: ctype{1, false}, s: []byte(s), isStr: true}, nil
	case tPunct:
		if t.text == "(" {
			if p.is("{") {
				return nil, cerr(t.pos, "GCC statement expression")
			}
			n, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, cerr(t.pos, "unexpected "+strconv.Quote(t.text))
	case tIdent:
		if t.text == "REC" {
			if err := p.expect("->"); err != nil {
				return nil, err
			}
			i, err := p.fieldRef()
			if err != nil {
				return nil, err
			}
			return p.fieldNode(i), nil
		}
		if p.is("(") {
			return p.call(t, depth+1)
		}
		switch t.text {
		case "NULL", "false":
			return &node{op: opConst, kind: vInt, t: ctype{uint8(p.longSize), false}}, nil
		case "true":
			return &node{op: opConst, kind: vInt, t: tInt, u: 1}, nil
		}
		if v, ok := stableEnums[t.text]; ok {
			return &node{op: opConst, kind: vInt, t: tUint, u: v}, nil
		}
		p.unresolved = append(p.unresolved, t.text)
		return &node{op: opUnknown, kind: vInt, t: ctype{uint8(p.longSize), true}}, nil
	}
	return nil, cerr(t.pos, "unexpected end of print fmt")
}

// stableEnums are enum constants that format files leave unresolved (no
// TRACE_DEFINE_ENUM) but whose values are user ABI or have not changed
// since the events that print them appeared: I/O priority classes, TCP
// states and hrtimer modes. Other unresolved names read as 0.
var stableEnums = map[string]uint64{
	"IOPRIO_CLASS_NONE": 0, "IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3, "IOPRIO_CLASS_INVALID": 7,
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4, "TCP_FIN_WAIT2": 5, "TCP_TIME_WAIT": 6,
	"TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8, "TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11, "TCP_NEW_SYN_RECV": 12,
	"HRTIMER_MODE_ABS": 0, "HRTIMER_MODE_REL": 1, "HRTIMER_MODE_PINNED": 2, "HRTIMER_MODE_SOFT": 4, "HRTIMER_MODE_HARD": 8,
	"HRTIMER_MODE_ABS_PINNED": 2, "HRTIMER_MODE_REL_PINNED": 3, "HRTIMER_MODE_ABS_SOFT": 4, "HRTIMER_MODE_REL_SOFT": 5,
	"HRTIMER_MODE_ABS_PINNED_SOFT": 6, "HRTIMER_MODE_REL_PINNED_SOFT": 7, "HRTIMER_MODE_ABS_HARD": 8, "HRTIMER_MODE_REL_HARD": 9,
	"HRTIMER_MODE_ABS_PINNED_HARD": 10, "HRTIMER_MODE_REL_PINNED_HARD": 11,
}

// parseNumber gives an integer literal its C type: int, then long or
// unsigned for decimal/hex values that do not fit, as the suffixes say.
func parseNumber(t token, longSize int) (*node, error) {
	s := t.text
	end := len(s)
	for end > 0 && strings.ContainsRune("uUlL", rune(s[end-1])) {
		end--
	}
	suf := strings.ToLower(s[end:])
	digits := s[:end]
	base := 10
	switch {
	case len(digits) > 2 && (digits[:2] == "0x" || digits[:2] == "0X"):
		base, digits = 16, digits[2:]
	case len(digits) > 1 && digits[0] == '0':
		base, digits = 8, digits[1:]
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return nil, cerr(t.pos, "bad number "+strconv.Quote(s))
	}
	uns := strings.Contains(suf, "u")
	longs := strings.Count(suf, "l")
	if len(suf) != longs+boolInt(uns) || longs > 2 || strings.Count(suf, "u") > 1 {
		return nil, cerr(t.pos, "bad number suffix "+strconv.Quote(s))
	}
	fits := func(ct ctype) bool {
		if ct.size == 8 {
			return !ct.signed || v <= 1<<63-1
		}
		bits := uint(ct.size) * 8
		if ct.signed {
			bits--
		}
		return v < 1<<bits
	}
	ls := uint8(longSize)
	var cands []ctype
	switch {
	case longs == 0 && !uns:
		cands = []ctype{tInt, {4, false}, {ls, true}, {ls, false}, {8, true}, {8, false}}
		if base == 10 {
			cands = []ctype{tInt, {ls, true}, {8, true}, {8, false}}
		}
	case longs == 0 && uns:
		cands = []ctype{tUint, {ls, false}, {8, false}}
	case longs == 1 && !uns:
		cands = []ctype{{ls, true}, {ls, false}, {8, true}, {8, false}}
		if base == 10 {
			cands = []ctype{{ls, true}, {8, true}, {8, false}}
		}
	case longs == 1 && uns:
		cands = []ctype{{ls, false}, {8, false}}
	case !uns:
		cands = []ctype{{8, true}, {8, false}}
	default:
		cands = []ctype{{8, false}}
	}
	ct := ctype{8, false}
	for _, c := range cands {
		if fits(c) {
			ct = c
			break
		}
	}
	return &node{op: opConst, kind: vInt, t: ct, u: ct.norm(v)}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// args parses a parenthesized argument list whose '(' is next.
func (p *parser) args(depth int) ([]*node, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []*node
	if p.is(")") {
		p.pos++
		return out, nil
	}
	for {
		a, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		if p.is(")") {
			p.pos++
			return out, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

// fieldArg parses "(field)" for the __get_* helpers.
func (p *parser) fieldArg() (int, error) {
	if err := p.expect("("); err != nil {
		return 0, err
	}
	i, err := p.fieldRef()
	if err != nil {
		return 0, err
	}
	return i, p.expect(")")
}

func (p *parser) call(name token, depth int) (*node, error) {
	switch name.text {
	case "__get_str", "__get_rel_str", "__get_dynamic_array", "__get_rel_dynamic_array", "__get_sockaddr", "__get_rel_sockaddr":
		i, err := p.fieldArg()
		if err != nil {
			return nil, err
		}
		f := &p.s.Fields[i]
		n := &node{op: opDynArray, kind: vBytes, t: ctype{1, false}, field: i}
		if es := f.ElemSize; es == 1 || es == 2 || es == 4 || es == 8 {
			n.t = ctype{uint8(es), f.Signed}
		}
		n.isStr = strings.HasSuffix(name.text, "_str") || f.IsString
		return n, nil
	case "__get_dynamic_array_len", "__get_rel_dynamic_array_len":
		i, err := p.fieldArg()
		if err != nil {
			return nil, err
		}
		return &node{op: opDynLen, kind: vInt, t: tUint, field: i}, nil
	case "__get_bitmask", "__get_cpumask", "__get_rel_bitmask", "__get_rel_cpumask":
		i, err := p.fieldArg()
		if err != nil {
			return nil, err
		}
		return &node{op: opBitmask, kind: vHelper, field: i}, nil
	case "__print_flags", "__print_flags_u64", "__print_symbolic", "__print_symbolic_u64":
		return p.tableCall(name, depth)
	case "__print_dynamic_array":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		i, err := p.fieldRef()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		es, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		arr := &node{op: opDynArray, kind: vBytes, t: ctype{1, false}, field: i}
		cnt := makeBin("/", &node{op: opDynLen, kind: vInt, t: tUint, field: i}, es)
		return &node{op: opArray, kind: vHelper, a: arr, b: cnt, c: es}, nil
	}
	args, err := p.args(depth + 1)
	if err != nil {
		return nil, err
	}
	want := func(n int) error {
		if len(args) != n {
			return cerr(name.pos, name.text+" wants "+strconv.Itoa(n)+" arguments")
		}
		return nil
	}
	switch name.text {
	case "__builtin_expect":
		if err := want(2); err != nil {
			return nil, err
		}
		return args[0], nil
	case "__builtin_constant_p":
		if err := want(1); err != nil {
			return nil, err
		}
		return &node{op: opConst, kind: vInt, t: tInt}, nil
	case "__print_hex", "__print_hex_str":
		if err := want(2); err != nil {
			return nil, err
		}
		return &node{op: opHex, kind: vHelper, a: args[0], b: args[1], u64: name.text == "__print_hex_str"}, nil
	case "__print_array":
		if err := want(3); err != nil {
			return nil, err
		}
		return &node{op: opArray, kind: vHelper, a: args[0], b: args[1], c: args[2]}, nil
	case "__print_ns_to_secs", "__print_ns_without_secs":
		if err := want(1); err != nil {
			return nil, err
		}
		if name.text == "__print_ns_to_secs" {
			return &node{op: opNsSecs, kind: vInt, t: tU64, a: args[0]}, nil
		}
		return &node{op: opNsRem, kind: vInt, t: tUint, a: args[0]}, nil
	case "__event_in_hardirq", "__event_in_softirq", "__event_in_irq":
		if err := want(0); err != nil {
			return nil, err
		}
		mask := map[string]uint64{"__event_in_hardirq": 0x08, "__event_in_softirq": 0x10, "__event_in_irq": 0x18}[name.text]
		if p.s.flagsIdx < 0 {
			return nil, cerr(name.pos, "no common_flags")
		}
		return &node{op: opEventFlags, kind: vInt, t: tInt, u: mask, field: p.s.flagsIdx}, nil
	}
	return nil, cerr(name.pos, "call of "+name.text)
}

// tableCall parses __print_flags(v, delim, {m, "n"}...) and
// __print_symbolic(v, {m, "n"}...). Table values are constants; entries
// whose value the file leaves unresolved are dropped, and an entry with a
// NULL name ends the table as it ends the kernel's loop.
func (p *parser) tableCall(name token, depth int) (*node, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	v, err := p.expr(depth + 1)
	if err != nil {
		return nil, err
	}
	n := &node{op: opSymbolic, kind: vHelper, a: v, u64: strings.HasSuffix(name.text, "_u64")}
	if strings.HasPrefix(name.text, "__print_flags") {
		n.op = opFlags
		if err := p.expect(","); err != nil {
			return nil, err
		}
		d, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		switch {
		case d.op == opStr:
			n.s = d.s
		case d.op == opConst || d.op == opCast && d.a.op == opConst:
			n.s = nil // a NULL delimiter
		default:
			return nil, cerr(name.pos, "__print_flags delimiter is not a string")
		}
	}
	ended := false
	for p.is(",") {
		p.pos++
		if p.is(")") {
			break
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		if p.is("}") { // { }: a zero entry, whose NULL name ends the table
			p.pos++
			ended = true
			continue
		}
		pos := p.peek().pos
		before := len(p.unresolved)
		mv, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		nm, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.is(",") { // a trailing comma inside the braces
			p.pos++
		}
		if err := p.expect("}"); err != nil {
			return nil, err
		}
		if ended {
			continue
		}
		if nm.op != opStr {
			if v, ok := constValue(nm); ok && v == 0 {
				ended = true
				continue
			}
			return nil, cerr(pos, "table entry name is not a string")
		}
		mask, ok := constValue(mv)
		if !ok {
			if len(p.unresolved) > before {
				continue // an unresolved enum: it can never match
			}
			return nil, cerr(pos, "table entry value is not a constant")
		}
		if !n.u64 && p.longSize == 4 {
			mask &= 0xffffffff
		}
		n.table = append(n.table, flagEnt{mask, nm.s})
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return n, nil
}

// constValue evaluates a node that refers to nothing in the record.
func constValue(n *node) (uint64, bool) {
	if !isConst(n) {
		return 0, false
	}
	var rec Record
	v := evalNode(n, &rec)
	return v.u, v.kind == vInt
}

func isConst(n *node) bool {
	if n == nil {
		return true
	}
	switch n.op {
	case opConst:
		return true
	case opCast, opNeg, opNot, opCompl, opBin, opAndAnd, opOrOr, opCond:
		return n.kind == vInt && isConst(n.a) && isConst(n.b) && isConst(n.c)
	}
	return false
}

// fold replaces constant integer subtrees by their values, so that the
// masks kernel macros expand to are computed once, not per record.
func fold(n *node) *node {
	if n == nil || n.op == opConst {
		return n
	}
	if n.kind == vInt && isConst(n) {
		if v, ok := constValue(n); ok {
			return &node{op: opConst, kind: vInt, t: n.t, u: v}
		}
	}
	c := *n
	c.a, c.b, c.c = fold(n.a), fold(n.b), fold(n.c)
	return &c
}
