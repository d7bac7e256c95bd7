package parse

// Types and nodes of the print fmt compiler: C integer types and the
// expression tree the parser builds.

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
	opAddrElem             // &a[b]: a's bytes from element b on
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
