package parse

// The print fmt compiler: a format file's `print fmt:` line is a C string
// literal and C argument expressions over REC->field (the TP_printk of the
// event). compilePrint lexes and parses it once per schema into a tree of
// typed nodes and a list of printf pieces; appendBody evaluates that per
// record into the caller's buffer without allocating.
//
// Integers are evaluated with C's types (size and signedness, integer
// promotions and the usual arithmetic conversions) so that comparisons,
// shifts, divisions and casts give what the kernel's compiled TP_printk
// gives. What cannot be evaluated from the record (GCC statement
// expressions, calls to kernel functions) is a compile error, and the
// caller prints the event in fields mode instead. Identifiers the format
// file leaves unresolved (enum constants without TRACE_DEFINE_ENUM), other
// than a few with stable values (stableEnums), drop out of
// __print_symbolic/__print_flags tables and read as 0 elsewhere, as in
// libtraceevent; printer.unresolved names them. Such events print what the
// kernel prints only as far as those names do not matter.

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// ---------------------------------------------------------------- lexer

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNum
	tStr
	tChar
	tPunct
)

type token struct {
	kind tokKind
	text string // identifier, punctuator, number text; decoded string or char
	pos  int
}

type compileError struct {
	pos int
	msg string
}

func (e *compileError) Error() string { return "print fmt at " + strconv.Itoa(e.pos) + ": " + e.msg }

func cerr(pos int, msg string) error { return &compileError{pos, msg} }

var puncts3 = []string{"<<=", ">>=", "..."}
var puncts2 = []string{"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--"}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdent(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, token{tNum, s[i:j], i})
			i = j
		case c == '"' || c == '\'':
			str, j, err := lexQuoted(s, i)
			if err != nil {
				return nil, err
			}
			k := tStr
			if c == '\'' {
				k = tChar
			}
			toks = append(toks, token{k, str, i})
			i = j
		default:
			n := 1
			for _, p := range puncts3 {
				if strings.HasPrefix(s[i:], p) {
					n = 3
				}
			}
			if n == 1 {
				for _, p := range puncts2 {
					if strings.HasPrefix(s[i:], p) {
						n = 2
					}
				}
			}
			if n == 1 && !strings.ContainsRune("()[]{},?:+-*/%<>&^|!~.;=#", rune(c)) {
				return nil, cerr(i, "unexpected character "+strconv.QuoteRune(rune(c)))
			}
			toks = append(toks, token{tPunct, s[i : i+n], i})
			i += n
		}
	}
	toks = append(toks, token{tEOF, "", len(s)})
	return toks, nil
}

// lexQuoted decodes a C string or char literal starting at s[i].
func lexQuoted(s string, i int) (string, int, error) {
	q := s[i]
	var b []byte
	j := i + 1
	for {
		if j >= len(s) {
			return "", 0, cerr(i, "unterminated literal")
		}
		c := s[j]
		if c == q {
			return string(b), j + 1, nil
		}
		if c != '\\' {
			b = append(b, c)
			j++
			continue
		}
		j++
		if j >= len(s) {
			return "", 0, cerr(i, "unterminated literal")
		}
		c = s[j]
		j++
		if e, ok := simpleEscape(c); ok {
			b = append(b, e)
			continue
		}
		switch c {
		case 'x':
			v, n := 0, 0
			for j < len(s) && n < 2 && hexVal(s[j]) >= 0 {
				v = v*16 + hexVal(s[j])
				j++
				n++
			}
			if n == 0 {
				return "", 0, cerr(j, "bad \\x escape")
			}
			b = append(b, byte(v))
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := int(c-'0'), 1
			for j < len(s) && n < 3 && s[j] >= '0' && s[j] <= '7' {
				v = v*8 + int(s[j]-'0')
				j++
				n++
			}
			b = append(b, byte(v))
		default:
			b = append(b, c) // \" \\ \' \? and unknown escapes
		}
	}
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ---------------------------------------------------------------- types and nodes

// ctype is a C integer type: its size in bytes and signedness.
type ctype struct {
	size   uint8
	signed bool
}

var tInt = ctype{4, true}
var tUint = ctype{4, false}
var tU64 = ctype{8, false}

// norm truncates v to t and sign- or zero-extends it back to 64 bits.
func (t ctype) norm(v uint64) uint64 {
	switch t.size {
	case 1:
		if t.signed {
			return uint64(int64(int8(v)))
		}
		return uint64(uint8(v))
	case 2:
		if t.signed {
			return uint64(int64(int16(v)))
		}
		return uint64(uint16(v))
	case 4:
		if t.signed {
			return uint64(int64(int32(v)))
		}
		return uint64(uint32(v))
	}
	return v
}

// promote is C's integer promotion.
func (t ctype) promote() ctype {
	if t.size < 4 {
		return tInt
	}
	return t
}

// arith is C's usual arithmetic conversion of two integer types.
func arith(a, b ctype) ctype {
	a, b = a.promote(), b.promote()
	switch {
	case a.size > b.size:
		return a
	case b.size > a.size:
		return b
	}
	return ctype{a.size, a.signed && b.signed}
}

type op uint8

const (
	opConst      op = iota // u, t
	opStr                  // s: a string literal
	opField                // field: REC->field
	opElem                 // a[b]
	opAddr                 // &REC->field: the field's bytes
	opDeref                // *a
	opCast                 // (t)a
	opNeg                  // -a
	opNot                  // !a
	opCompl                // ~a
	opBin                  // a binop b
	opAndAnd               // a && b
	opOrOr                 // a || b
	opCond                 // a ? b : c
	opUnknown              // an identifier the file leaves unresolved: 0
	opDynArray             // __get_dynamic_array / __get_str / __get_sockaddr (and rel)
	opDynLen               // __get_dynamic_array_len (and rel)
	opFlags                // __print_flags(a, delim, table)
	opSymbolic             // __print_symbolic(a, table)
	opHex                  // __print_hex(a, b); hexNoSpace for _str
	opArray                // __print_array(a, b, c)
	opBitmask              // __get_bitmask / __get_cpumask (and rel)
	opNsSecs               // __print_ns_to_secs
	opNsRem                // __print_ns_without_secs
	opEventFlags           // __event_in_hardirq etc: common_flags & u
)

// binOp is a binary operator of opBin.
type binOp uint8

const (
	bAdd binOp = iota
	bSub
	bMul
	bDiv
	bMod
	bShl
	bShr
	bAnd
	bOr
	bXor
	bEq
	bNe
	bLt
	bLe
	bGt
	bGe
)

var binOps = map[string]binOp{
	"+": bAdd, "-": bSub, "*": bMul, "/": bDiv, "%": bMod, "<<": bShl, ">>": bShr,
	"&": bAnd, "|": bOr, "^": bXor, "==": bEq, "!=": bNe, "<": bLt, "<=": bLe, ">": bGt, ">=": bGe,
}

// Static and dynamic value kinds.
type vkind uint8

const (
	vInt    vkind = iota
	vBytes        // memory: a field, a dynamic array or a string literal
	vHelper       // text a print helper produces when formatted
)

type flagEnt struct {
	mask uint64
	name []byte
}

type node struct {
	op    op
	kind  vkind  // static kind of the result
	t     ctype  // for vInt: the C type; for vBytes: the element type
	bin   string // the operator of opBin, for messages
	bop   binOp  // the operator of opBin, for evaluation
	a     *node
	b     *node
	c     *node
	field int // field index for opField, opAddr, opDynArray, opDynLen, opBitmask
	u     uint64
	s     []byte
	table []flagEnt
	u64   bool // __print_flags_u64 / __print_symbolic_u64
	isStr bool // vBytes that is text (char arrays, __get_str, literals)
}

// value is the result of evaluating a node for one record.
type value struct {
	kind vkind
	t    ctype
	u    uint64 // vInt: normalized to t
	b    []byte // vBytes
	n    *node  // vHelper
}

// ---------------------------------------------------------------- parser

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
	i := p.s.FieldIndex(t.text)
	if i < 0 {
		return 0, cerr(t.pos, "no field "+strconv.Quote(t.text))
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

// ---------------------------------------------------------------- compiled printer

// printArg is one verb of the format with the nodes of its arguments.
type printArg struct {
	lit   []byte // literal text before nothing: set for literal pieces
	piece fmtPiece
	width *node
	prec  *node
	arg   *node
	fast  fastKind // how appendBody formats this piece
	size  uint8    // for fastDec, fastUns, fastHex: the argument size va_arg reads
}

// fastKind selects a specialised path of appendBody for the commonest
// pieces; each gives exactly what the generic appendValue path gives.
type fastKind uint8

const (
	fastGeneric fastKind = iota
	fastLit              // literal text
	fastInt              // an integer verb of an integer argument: appendIntVerb
	fastDec              // plain %d/%i (no flags, width or precision) of an integer
	fastUns              // plain %u of an integer
	fastHex              // plain %x of an integer
	fastPtr              // %p of an integer
	fastStr              // %s of record memory (a field or a dynamic array)
	fastText             // %s of a text tree (see isTextTree)
	fastSym              // %pS %ps %pB %pF %pf of an integer, no width or precision
)

// isTextTree reports whether n is text for %s whatever the record: a
// string literal, record memory, a print helper, or a condition choosing
// between such trees. appendText gives what appendValue gives for it.
func isTextTree(n *node) bool {
	switch n.op {
	case opStr:
		return n.kind == vBytes
	case opField:
		return n.kind == vBytes
	case opDynArray:
		return true
	case opFlags, opSymbolic, opHex, opArray, opBitmask:
		return n.kind == vHelper
	case opCond:
		return n.kind != vInt && isTextTree(n.b) && isTextTree(n.c)
	}
	return false
}

// appendTextTree appends the %s text of a text tree (without width and
// precision): C strings cut at their first NUL, helpers' text.
func (p *printer) appendTextTree(dst []byte, n *node, rec *Record) []byte {
	for n.op == opCond {
		if evalTruth(n.a, rec) {
			n = n.b
		} else {
			n = n.c
		}
	}
	switch n.op {
	case opStr:
		return append(dst, cstr(n.s)...)
	case opField, opDynArray:
		b, _ := rec.Bytes(n.field)
		return AppendEscaped(dst, cstr(b))
	}
	return p.appendHelper(dst, n, rec)
}

// classify picks the fast path of a compiled piece.
func (op *printArg) classify(longSize int) {
	if op.piece.conv == 0 {
		op.fast = fastLit
		return
	}
	if op.width != nil || op.prec != nil || op.arg == nil {
		return
	}
	sp := &op.piece.fmtSpec
	a := op.arg
	switch {
	case a.kind == vInt && sp.conv == 'p':
		op.fast = fastPtr
		if sp.ext != "" && sp.width < 0 && sp.prec < 0 {
			switch sp.ext[0] {
			case 'S', 's', 'B', 'F', 'f':
				op.fast = fastSym
			}
		}
	case a.kind == vInt && sp.conv != 's':
		op.fast = fastInt
		op.size = uint8(sp.argSize(longSize))
		if sp.flags == 0 && sp.width < 0 && sp.prec < 0 {
			switch sp.conv {
			case 'd', 'i':
				op.fast = fastDec
			case 'u':
				op.fast = fastUns
			case 'x':
				op.fast = fastHex
			}
		}
	case sp.conv == 's' && a.kind == vBytes && (a.op == opField || a.op == opDynArray):
		op.fast = fastStr
	case sp.conv == 's' && isTextTree(a):
		op.fast = fastText
	}
}

// printer is a compiled print fmt. It is read-only after compilePrint, so
// any number of goroutines may use it at once.
type printer struct {
	ops        []printArg
	fops       []fastOp // ops as appendBody runs them
	schema     *Schema  // the schema compiled for
	longSize   int
	unresolved []string // identifiers the format left unresolved (read as 0)
}

// compilePrint compiles s.PrintFmt. An error means: use the fields fallback.
func compilePrint(s *Schema) (*printer, error) {
	ls := s.longSize
	if ls != 4 && ls != 8 {
		ls = 8
	}
	src := s.PrintFmt
	if len(src) > 1<<20 {
		return nil, cerr(0, "print fmt too long")
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, s: s, longSize: ls}
	first := p.next()
	if first.kind != tStr {
		return nil, cerr(first.pos, "print fmt does not start with a string")
	}
	format := first.text
	for p.peek().kind == tStr {
		format += p.next().text
	}
	var args []*node
	for p.is(",") {
		p.pos++
		a, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		args = append(args, fold(a))
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, cerr(t.pos, "unexpected "+strconv.Quote(t.text)+" after the arguments")
	}
	pieces, err := parsePrintf(format)
	if err != nil {
		return nil, err
	}
	pr := &printer{longSize: ls, unresolved: p.unresolved, schema: s}
	ai := 0
	take := func() (*node, error) {
		if ai >= len(args) {
			return nil, cerr(len(src), "fewer arguments than conversions")
		}
		ai++
		return args[ai-1], nil
	}
	for _, pc := range pieces {
		if pc.conv == 0 {
			pr.ops = append(pr.ops, printArg{lit: []byte(pc.lit)})
			continue
		}
		op := printArg{piece: pc}
		if pc.widthStar {
			if op.width, err = take(); err != nil {
				return nil, err
			}
		}
		if pc.precStar {
			if op.prec, err = take(); err != nil {
				return nil, err
			}
		}
		if op.arg, err = take(); err != nil {
			return nil, err
		}
		if pc.conv == 'p' && !ptrExtSupported(pc.ext) {
			return nil, cerr(0, "unsupported %p"+pc.ext)
		}
		pr.ops = append(pr.ops, op)
	}
	pr.fops = make([]fastOp, len(pr.ops))
	for i := range pr.ops {
		op := &pr.ops[i]
		op.classify(ls)
		f := &pr.fops[i]
		*f = fastOp{kind: op.fast, size: op.size, arg: op.arg, op: op, lit: string(op.lit)}
		if op.fast == fastSym {
			f.ext = op.piece.ext[0]
		}
		// A scalar field, or a cast of one, is read without the evaluator.
		a := op.arg
		var casts []ctype
		for a != nil && a.op == opCast && a.kind == vInt && a.a.kind == vInt {
			casts = append(casts, a.t)
			a = a.a
		}
		if a != nil && a.op == opField && a.kind == vInt && len(casts) <= 1 {
			f.direct, f.field, f.t1, f.t2 = true, int32(a.field), a.t, a.t
			if len(casts) == 1 {
				f.t2 = casts[0]
			}
			if a.field < len(s.acc) {
				f.acc = s.acc[a.field]
			}
		}
	}
	return pr, nil
}

// fastOp is a compact form of one piece for appendBody.
type fastOp struct {
	kind   fastKind
	size   uint8 // fastDec, fastUns, fastHex: the argument's size
	ext    byte  // fastSym: the %p extension letter
	direct bool  // arg is REC->field or (type)REC->field: read field, normalize to t1 then t2
	t1, t2 ctype
	field  int32
	acc    access // the field's access in the schema compiled for
	lit    string // fastLit
	arg    *node
	op     *printArg
}

// intArg evaluates the op's integer argument.
func (f *fastOp) intArg(p *printer, rec *Record) uint64 {
	if f.direct {
		var u uint64
		if rec.Schema == p.schema && !rec.bigEndian {
			// The record is of the schema compiled for: read the field
			// as UintOK would, without looking its access up.
			off, size := int(f.acc.off), int(f.acc.size)
			if d := rec.Data; off+size <= len(d) {
				switch size {
				case 4:
					u = uint64(binary.LittleEndian.Uint32(d[off:]))
				case 8:
					u = binary.LittleEndian.Uint64(d[off:])
				case 2:
					u = uint64(binary.LittleEndian.Uint16(d[off:]))
				case 1:
					u = uint64(d[off])
				}
			}
		} else {
			u, _ = rec.UintOK(int(f.field))
		}
		return f.t2.norm(f.t1.norm(u))
	}
	return evalInt(f.arg, rec)
}

// appendBody appends the event body (what follows "name: " in the kernel's
// text) for rec, without the trailing newline. It allocates nothing but
// dst's growth.
func (p *printer) appendBody(dst []byte, rec *Record, d *Decoder) []byte {
	for i := range p.fops {
		f := &p.fops[i]
		switch f.kind {
		case fastLit:
			dst = append(dst, f.lit...)
			continue
		case fastDec:
			size := int(f.size)
			dst = appendDecInt(dst, signExtend(truncBits(f.intArg(p, rec), size), size))
			continue
		case fastUns:
			dst = appendDec(dst, truncBits(f.intArg(p, rec), int(f.size)))
			continue
		case fastHex:
			dst = appendHexU(dst, truncBits(f.intArg(p, rec), int(f.size)))
			continue
		case fastInt:
			dst = appendIntVerb(dst, f.intArg(p, rec), f.op.piece.fmtSpec, p.longSize)
			continue
		case fastSym:
			var syms *Symbols
			if d != nil {
				syms = d.Symbols
			}
			v := f.intArg(p, rec)
			if p.longSize == 4 {
				v &= 0xffffffff
			}
			dst = appendSym(dst, v, f.ext, syms)
			continue
		case fastPtr:
			var syms *Symbols
			if d != nil {
				syms = d.Symbols
			}
			dst = appendPtr(dst, f.intArg(p, rec), f.op.piece.fmtSpec, p.longSize, syms)
			continue
		case fastStr:
			b, _ := rec.Bytes(f.arg.field)
			if sp := &f.op.piece; sp.width < 0 && sp.prec < 0 {
				dst = AppendEscaped(dst, cstr(b))
			} else {
				dst = appendStr(dst, b, sp.fmtSpec)
			}
			continue
		case fastText:
			start := len(dst)
			dst = p.appendTextTree(dst, f.arg, rec)
			if sp := &f.op.piece; sp.width >= 0 || sp.prec >= 0 {
				dst = padFrom(dst, start, sp.fmtSpec)
			}
			continue
		}
		op := f.op
		if op.piece.conv == 0 {
			dst = append(dst, op.lit...)
			continue
		}
		sp := op.piece.fmtSpec
		if op.width != nil || op.prec != nil {
			var w, pr int64
			if op.width != nil {
				w = int64(evalNode(op.width, rec).u)
			}
			if op.prec != nil {
				pr = int64(evalNode(op.prec, rec).u)
			}
			sp = sp.withStar(&op.piece, w, pr)
		}
		v := evalNode(op.arg, rec)
		dst = p.appendValue(dst, v, sp, rec, d)
	}
	return dst
}

// appendValue formats one evaluated argument for one verb.
func (p *printer) appendValue(dst []byte, v value, sp fmtSpec, rec *Record, d *Decoder) []byte {
	var syms *Symbols
	if d != nil {
		syms = d.Symbols
	}
	switch sp.conv {
	case 's':
		switch v.kind {
		case vBytes:
			return appendStr(dst, v.b, sp)
		case vHelper:
			start := len(dst)
			dst = p.appendHelper(dst, v.n, rec)
			return padFrom(dst, start, sp)
		}
		// A pointer to a kernel string: a constant in printk_formats, if
		// it is there; else what libtraceevent prints, the address.
		if d != nil {
			if s, ok := d.Printk.Lookup(v.u); ok {
				return appendStrString(dst, s, sp)
			}
		}
		if v.u == 0 {
			return appendStrString(dst, "(null)", sp)
		}
		start := len(dst)
		dst = strconv.AppendUint(dst, truncBits(v.u, p.longSize), 16)
		return padFrom(dst, start, sp)
	case 'p':
		if ptrExtDerefs(sp.ext) {
			switch v.kind {
			case vBytes:
				return appendPtrBytes(dst, v.b, sp, rec.bigEndian, p.longSize)
			case vHelper:
				start := len(dst)
				dst = p.appendHelper(dst, v.n, rec)
				return padFrom(dst, start, sp)
			}
			return appendPtr(dst, v.u, sp, p.longSize, syms)
		}
		if v.kind != vInt {
			v.u = 0
		}
		return appendPtr(dst, v.u, sp, p.longSize, syms)
	}
	if v.kind == vHelper {
		// An int conversion of a helper's text: print the text.
		start := len(dst)
		dst = p.appendHelper(dst, v.n, rec)
		return padFrom(dst, start, sp)
	}
	if v.kind != vInt {
		v.u = 0
	}
	return appendIntVerb(dst, v.u, sp, p.longSize)
}

// appendHelper appends the text of a print helper node.
func (p *printer) appendHelper(dst []byte, n *node, rec *Record) []byte {
	switch n.op {
	case opFlags:
		flags := evalNode(n.a, rec).u
		if !n.u64 && p.longSize == 4 {
			flags &= 0xffffffff
		}
		first := true
		for i := range n.table {
			if flags == 0 {
				break
			}
			e := &n.table[i]
			if flags&e.mask != e.mask {
				continue
			}
			flags &^= e.mask
			if !first {
				dst = append(dst, n.s...)
			}
			first = false
			dst = append(dst, e.name...)
		}
		if flags != 0 {
			if !first {
				dst = append(dst, n.s...)
			}
			dst = append(dst, "0x"...)
			dst = strconv.AppendUint(dst, flags, 16)
		}
		return dst
	case opSymbolic:
		val := evalNode(n.a, rec).u
		if !n.u64 && p.longSize == 4 {
			val &= 0xffffffff
		}
		for i := range n.table {
			if n.table[i].mask == val {
				return append(dst, n.table[i].name...)
			}
		}
		dst = append(dst, "0x"...)
		return strconv.AppendUint(dst, val, 16)
	case opHex:
		buf := evalNode(n.a, rec)
		l := int(int32(evalNode(n.b, rec).u))
		b := buf.b
		if l < len(b) {
			b = b[:max(l, 0)]
		}
		for i, c := range b {
			if i > 0 && !n.u64 {
				dst = append(dst, ' ')
			}
			dst = appendHexByte(dst, c, hexLower)
		}
		return dst
	case opArray:
		buf := evalNode(n.a, rec)
		count := int64(int32(evalNode(n.b, rec).u))
		es := int64(evalNode(n.c, rec).u)
		b := buf.b
		dst = append(dst, '{')
		if count > 0 && es > 0 {
			total := count * es
			if total < int64(len(b)) {
				b = b[:total]
			}
			for i := 0; i < len(b); {
				if i > 0 {
					dst = append(dst, ',')
				}
				switch es {
				case 1, 2, 4, 8:
					if i+int(es) > len(b) {
						i = len(b)
						continue
					}
					dst = append(dst, "0x"...)
					dst = strconv.AppendUint(dst, rec.uintAt(b[i:], int(es)), 16)
					i += int(es)
				default:
					dst = append(dst, "BAD SIZE:"...)
					dst = strconv.AppendInt(dst, es, 10)
					dst = append(dst, " 0x"...)
					dst = strconv.AppendUint(dst, uint64(b[i]), 16)
					es = 1
					i++
				}
			}
		}
		return append(dst, '}')
	case opBitmask:
		b, _ := rec.Bytes(n.field)
		return appendBitmap(dst, b, len(b)*8, rec.bigEndian, p.longSize)
	case opCond:
		// Reached only through a vHelper value, which evalNode resolves.
	}
	return dst
}

// ---------------------------------------------------------------- evaluator

func boolVal(b bool) value {
	if b {
		return value{kind: vInt, t: tInt, u: 1}
	}
	return value{kind: vInt, t: tInt}
}

func truth(v value) bool {
	switch v.kind {
	case vBytes:
		return v.b != nil
	case vHelper:
		return true
	}
	return v.u != 0
}

// evalNode evaluates n for rec. It never panics on any record: every
// access goes through the Record's bounds-checked methods.
func evalNode(n *node, rec *Record) value {
	if n.kind == vInt {
		// A node whose static kind is an integer always evaluates to an
		// integer of its static type: evalInt computes just the bits.
		return value{kind: vInt, t: n.t, u: evalInt(n, rec)}
	}
	return evalSlow(n, rec)
}

// evalU returns the integer bits of n's value: 0 for memory and helpers,
// as the generic evaluator reads them.
func evalU(n *node, rec *Record) uint64 {
	if n.kind == vInt {
		return evalInt(n, rec)
	}
	return evalSlow(n, rec).u
}

// evalTruth is truth(evalNode(n, rec)).
func evalTruth(n *node, rec *Record) bool {
	if n.kind == vInt {
		return evalInt(n, rec) != 0
	}
	return truth(evalSlow(n, rec))
}

// evalInt evaluates a node of static kind vInt, returning its value
// normalized to n.t. It gives exactly what evalSlow gives, without building
// value structs on the way.
func evalInt(n *node, rec *Record) uint64 {
	switch n.op {
	case opConst:
		return n.u
	case opUnknown:
		return 0
	case opField:
		u, _ := rec.UintOK(n.field)
		return n.t.norm(u)
	case opCast:
		if n.a.kind == vInt {
			return n.t.norm(evalInt(n.a, rec))
		}
	case opBin:
		if n.a.kind == vInt && n.b.kind == vInt {
			return evalBinInt(n, evalInt(n.a, rec), evalInt(n.b, rec))
		}
	case opNeg:
		return n.t.norm(-evalU(n.a, rec))
	case opCompl:
		return n.t.norm(^evalU(n.a, rec))
	case opNot:
		return b2u(!evalTruth(n.a, rec))
	case opAndAnd:
		return b2u(evalTruth(n.a, rec) && evalTruth(n.b, rec))
	case opOrOr:
		return b2u(evalTruth(n.a, rec) || evalTruth(n.b, rec))
	case opCond:
		if n.b.kind == vInt && n.c.kind == vInt {
			if evalTruth(n.a, rec) {
				return n.t.norm(evalInt(n.b, rec))
			}
			return n.t.norm(evalInt(n.c, rec))
		}
	case opNsSecs:
		return evalU(n.a, rec) / 1000000000
	case opNsRem:
		return evalU(n.a, rec) % 1000000000
	case opEventFlags:
		return rec.Uint(n.field) & n.u
	}
	return evalSlow(n, rec).u
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// evalSlow is the generic evaluator behind evalNode.
func evalSlow(n *node, rec *Record) value {
	switch n.op {
	case opConst:
		return value{kind: vInt, t: n.t, u: n.u}
	case opUnknown:
		return value{kind: vInt, t: n.t}
	case opStr:
		return value{kind: vBytes, t: n.t, b: n.s}
	case opField:
		if n.kind == vInt {
			u, _ := rec.UintOK(n.field)
			return value{kind: vInt, t: n.t, u: n.t.norm(u)}
		}
		b, _ := rec.Bytes(n.field)
		return value{kind: vBytes, t: n.t, b: b}
	case opAddr, opDynArray:
		b, ok := rec.Bytes(n.field)
		if !ok {
			b = []byte{}
		}
		return value{kind: vBytes, t: n.t, b: b}
	case opDynLen:
		var u uint64
		if rec.Schema != nil && n.field < len(rec.Schema.Fields) {
			f := &rec.Schema.Fields[n.field]
			if f.Kind == KindDataLoc || f.Kind == KindRelLoc {
				w, _ := rec.readUint(f.Offset, 4)
				u = w >> 16
			} else {
				b, _ := rec.Bytes(n.field)
				u = uint64(len(b))
			}
		}
		return value{kind: vInt, t: tUint, u: u}
	case opElem, opDeref:
		a := evalNode(n.a, rec)
		idx := int64(0)
		if n.op == opElem {
			idx = int64(evalNode(n.b, rec).u)
		}
		es := int64(n.t.size)
		var u uint64
		if a.kind == vBytes && idx >= 0 && idx < int64(len(a.b)) && es > 0 && (idx+1)*es <= int64(len(a.b)) {
			u = rec.uintAt(a.b[idx*es:], int(es))
		}
		return value{kind: vInt, t: n.t, u: n.t.norm(u)}
	case opCast:
		a := evalNode(n.a, rec)
		if a.kind != vInt {
			return a
		}
		return value{kind: vInt, t: n.t, u: n.t.norm(a.u)}
	case opNeg:
		a := evalNode(n.a, rec)
		return value{kind: vInt, t: n.t, u: n.t.norm(-a.u)}
	case opCompl:
		a := evalNode(n.a, rec)
		return value{kind: vInt, t: n.t, u: n.t.norm(^a.u)}
	case opNot:
		return boolVal(!truth(evalNode(n.a, rec)))
	case opAndAnd:
		return boolVal(truth(evalNode(n.a, rec)) && truth(evalNode(n.b, rec)))
	case opOrOr:
		return boolVal(truth(evalNode(n.a, rec)) || truth(evalNode(n.b, rec)))
	case opCond:
		var v value
		if truth(evalNode(n.a, rec)) {
			v = evalNode(n.b, rec)
		} else {
			v = evalNode(n.c, rec)
		}
		if v.kind == vInt && n.kind == vInt {
			v.u, v.t = n.t.norm(v.u), n.t
		}
		return v
	case opBin:
		return evalBin(n, rec)
	case opNsSecs:
		return value{kind: vInt, t: tU64, u: evalNode(n.a, rec).u / 1000000000}
	case opNsRem:
		return value{kind: vInt, t: tUint, u: evalNode(n.a, rec).u % 1000000000}
	case opEventFlags:
		return value{kind: vInt, t: tInt, u: rec.Uint(n.field) & n.u}
	}
	// Helpers producing text.
	return value{kind: vHelper, n: n}
}

func evalBin(n *node, rec *Record) value {
	a := evalNode(n.a, rec)
	b := evalNode(n.b, rec)
	if a.kind == vBytes && n.kind == vBytes {
		// record memory +/- an element count
		off := int64(b.u) * int64(max(int(n.t.size), 1))
		if n.bop == bSub {
			off = -off
		}
		if off < 0 || off > int64(len(a.b)) {
			return value{kind: vBytes, t: n.t, b: []byte{}}
		}
		return value{kind: vBytes, t: n.t, b: a.b[off:]}
	}
	if a.kind != vInt {
		a = value{kind: vInt, t: tU64}
	}
	if b.kind != vInt {
		b = value{kind: vInt, t: tU64}
	}
	return value{kind: vInt, t: n.t, u: evalBinTyped(n, a.u, a.t, b.u, b.t)}
}

// evalBinInt is evalBin for two operands of static kind vInt (whose
// dynamic types are their static types).
func evalBinInt(n *node, x, y uint64) uint64 {
	return evalBinTyped(n, x, n.a.t, y, n.b.t)
}

// evalBinTyped applies the integer operator of n to a (of type at) and b
// (of type bt); the result is normalized to n.t.
func evalBinTyped(n *node, au uint64, at ctype, bu uint64, bt ctype) uint64 {
	if n.bop == bShl || n.bop == bShr {
		t := n.t
		x := t.norm(au)
		sh := bu
		var r uint64
		if sh < 64 {
			if n.bop == bShl {
				r = x << sh
			} else if t.signed {
				r = uint64(int64(x) >> sh)
			} else {
				r = x >> sh
			}
		} else if n.bop == bShr && t.signed && int64(x) < 0 {
			r = ^uint64(0)
		}
		return t.norm(r)
	}
	ct := arith(at, bt)
	x, y := ct.norm(au), ct.norm(bu)
	var lt bool
	if ct.signed {
		lt = int64(x) < int64(y)
	} else {
		lt = x < y
	}
	t := n.t
	var r uint64
	switch n.bop {
	case bEq:
		return b2u(x == y)
	case bNe:
		return b2u(x != y)
	case bLt:
		return b2u(lt)
	case bLe:
		return b2u(lt || x == y)
	case bGt:
		return b2u(!lt && x != y)
	case bGe:
		return b2u(!lt)
	case bAdd:
		r = x + y
	case bSub:
		r = x - y
	case bMul:
		r = x * y
	case bDiv, bMod:
		switch {
		case y == 0:
			r = 0
		case ct.signed && n.bop == bDiv:
			r = uint64(int64(x) / int64(y))
		case ct.signed:
			r = uint64(int64(x) % int64(y))
		case n.bop == bDiv:
			r = x / y
		default:
			r = x % y
		}
	case bAnd:
		r = x & y
	case bOr:
		r = x | y
	case bXor:
		r = x ^ y
	}
	return t.norm(r)
}
