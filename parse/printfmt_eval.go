package parse

// The print fmt evaluator: the value of a node for one record, with C's
// integer semantics.

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
	case opAddrElem:
		a := evalNode(n.a, rec)
		idx, es := evalNode(n.b, rec).u, uint64(n.t.size)
		b := []byte{}
		if a.kind == vBytes && es > 0 && idx <= uint64(len(a.b))/es {
			b = a.b[idx*es:]
		}
		return value{kind: vBytes, t: n.t, b: b}
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
