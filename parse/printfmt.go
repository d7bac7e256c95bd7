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
)

// The compiled printer: printf verbs with their argument nodes, and
// appendBody, which renders a record through them.

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
