package parse

import (
	"fmt"
	"strconv"
	"strings"
)

// Filter is an event filter in the kernel's syntax (Documentation/trace/
// events.rst, "Event filtering"), evaluated in user space on decoded
// records: comparisons ==, !=, <, <=, >, >= and & on numeric fields, == !=
// and ~ (glob) on string fields, combined with &&, || and !, with
// parentheses. Field names resolve once per schema. A record whose event
// lacks a field the filter names does not match (the kernel would have
// refused the filter for that event).
type Filter struct {
	root  *fnode
	src   string
	cache map[*Schema][]int // per schema: field index per leaf (-1 absent)
	nleaf int
}

type fop uint8

const (
	fAnd fop = iota
	fOr
	fNot
	fCmp
)

type fnode struct {
	op   fop
	l, r *fnode
	// leaves
	leaf  int
	field string
	cmp   string
	num   int64
	isNum bool
	str   string
}

// CompileFilter parses expr. Errors say at which byte.
func CompileFilter(expr string) (*Filter, error) {
	p := &fparser{s: expr}
	p.lex()
	if p.err != nil {
		return nil, p.err
	}
	n := p.or()
	if p.err == nil && p.pos < len(p.toks) {
		p.fail("unexpected %q", p.toks[p.pos].s)
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Filter{root: n, src: expr, cache: map[*Schema][]int{}, nleaf: p.nleaf}, nil
}

// Fields returns the field names the filter compares, each once, in
// order of appearance.
func (f *Filter) Fields() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n *fnode)
	walk = func(n *fnode) {
		if n == nil {
			return
		}
		if n.op == fCmp {
			if !seen[n.field] {
				seen[n.field] = true
				out = append(out, n.field)
			}
			return
		}
		walk(n.l)
		walk(n.r)
	}
	walk(f.root)
	return out
}

// HasField reports whether s has the field name as the filter resolves it
// (with the common_ shorthand).
func HasField(s *Schema, name string) bool {
	return s.FieldIndex(name) >= 0 || (!strings.HasPrefix(name, "common_") && s.FieldIndex("common_"+name) >= 0)
}

// String returns the expression as given.
func (f *Filter) String() string { return f.src }

// Match reports whether the record passes. Lost-events items always pass.
func (f *Filter) Match(rec *Record) bool {
	if rec.Kind != ItemEvent {
		return true
	}
	if rec.Schema == nil {
		return false
	}
	idx, ok := f.cache[rec.Schema]
	if !ok {
		idx = make([]int, f.nleaf)
		f.resolve(f.root, rec.Schema, idx)
		f.cache[rec.Schema] = idx
	}
	return f.eval(f.root, rec, idx)
}

func (f *Filter) resolve(n *fnode, s *Schema, idx []int) {
	if n == nil {
		return
	}
	if n.op == fCmp {
		idx[n.leaf] = s.FieldIndex(n.field)
		if idx[n.leaf] < 0 && !strings.HasPrefix(n.field, "common_") {
			idx[n.leaf] = s.FieldIndex("common_" + n.field) // "pid" style shorthands are not kernel syntax; harmless
		}
		return
	}
	f.resolve(n.l, s, idx)
	f.resolve(n.r, s, idx)
}

func (f *Filter) eval(n *fnode, rec *Record, idx []int) bool {
	switch n.op {
	case fAnd:
		return f.eval(n.l, rec, idx) && f.eval(n.r, rec, idx)
	case fOr:
		return f.eval(n.l, rec, idx) || f.eval(n.r, rec, idx)
	case fNot:
		return !f.eval(n.l, rec, idx)
	}
	i := idx[n.leaf]
	if i < 0 {
		return false
	}
	fd := &rec.Schema.Fields[i]
	if fd.IsString || fd.Kind == KindDataLoc && fd.ElemSize == 1 || fd.Kind == KindRelLoc && fd.ElemSize == 1 {
		s := string(rec.Str(i))
		want := n.str
		switch n.cmp {
		case "==":
			return s == want
		case "!=":
			return s != want
		case "~":
			return globMatch(want, s)
		}
		return false
	}
	if !n.isNum {
		return false
	}
	if fd.Signed {
		v, ok := rec.IntOK(i)
		if !ok {
			return false
		}
		return cmpInt(n.cmp, v, n.num)
	}
	v, ok := rec.UintOK(i)
	if !ok {
		return false
	}
	w := uint64(n.num)
	switch n.cmp {
	case "==":
		return v == w
	case "!=":
		return v != w
	case "<":
		return n.num >= 0 && v < w
	case "<=":
		return n.num >= 0 && v <= w
	case ">":
		return n.num < 0 || v > w
	case ">=":
		return n.num < 0 || v >= w
	case "&":
		return v&w != 0
	}
	return false
}

func cmpInt(op string, v, w int64) bool {
	switch op {
	case "==":
		return v == w
	case "!=":
		return v != w
	case "<":
		return v < w
	case "<=":
		return v <= w
	case ">":
		return v > w
	case ">=":
		return v >= w
	case "&":
		return v&w != 0
	}
	return false
}

type ftok struct {
	s   string
	off int
	str bool // a quoted string
}

type fparser struct {
	s     string
	toks  []ftok
	pos   int
	err   error
	nleaf int
}

func (p *fparser) fail(format string, args ...any) {
	if p.err != nil {
		return
	}
	off := len(p.s)
	if p.pos < len(p.toks) {
		off = p.toks[p.pos].off
	}
	p.err = &FormatError{Where: "filter", Off: off, Msg: fmt.Sprintf(format, args...), Err: ErrSyntax}
}

func (p *fparser) lex() {
	s := p.s
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				p.err = &FormatError{Where: "filter", Off: i, Msg: "unterminated string", Err: ErrSyntax}
				return
			}
			p.toks = append(p.toks, ftok{s: b.String(), off: i, str: true})
			i = j + 1
		case strings.ContainsRune("()", rune(c)):
			p.toks = append(p.toks, ftok{s: s[i : i+1], off: i})
			i++
		case strings.ContainsRune("=!<>&|~", rune(c)):
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '&' && s[j] == '&') || (c == '|' && s[j] == '|')) {
				j++
			}
			p.toks = append(p.toks, ftok{s: s[i:j], off: i})
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()=!<>&|~\"'", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, ftok{s: s[i:j], off: i})
			i = j
		}
	}
}

func (p *fparser) peek() string {
	if p.pos < len(p.toks) && !p.toks[p.pos].str {
		return p.toks[p.pos].s
	}
	return ""
}

func (p *fparser) or() *fnode {
	n := p.and()
	for p.err == nil && p.peek() == "||" {
		p.pos++
		n = &fnode{op: fOr, l: n, r: p.and()}
	}
	return n
}

func (p *fparser) and() *fnode {
	n := p.unary()
	for p.err == nil && p.peek() == "&&" {
		p.pos++
		n = &fnode{op: fAnd, l: n, r: p.unary()}
	}
	return n
}

func (p *fparser) unary() *fnode {
	if p.err != nil {
		return nil
	}
	switch p.peek() {
	case "!":
		p.pos++
		return &fnode{op: fNot, l: p.unary()}
	case "(":
		p.pos++
		n := p.or()
		if p.peek() != ")" {
			p.fail("missing ')'")
			return nil
		}
		p.pos++
		return n
	}
	return p.cmp()
}

func (p *fparser) cmp() *fnode {
	if p.pos >= len(p.toks) {
		p.fail("expected a field name")
		return nil
	}
	ft := p.toks[p.pos]
	if ft.str || !isFilterIdent(ft.s) {
		p.fail("expected a field name, found %q", ft.s)
		return nil
	}
	p.pos++
	op := p.peek()
	switch op {
	case "==", "!=", "<", "<=", ">", ">=", "&", "~":
	default:
		p.fail("expected a comparison after %s", ft.s)
		return nil
	}
	p.pos++
	if p.pos >= len(p.toks) {
		p.fail("expected a value after %s %s", ft.s, op)
		return nil
	}
	vt := p.toks[p.pos]
	p.pos++
	n := &fnode{op: fCmp, field: ft.s, cmp: op, leaf: p.nleaf, str: vt.s}
	p.nleaf++
	if !vt.str {
		if v, err := strconv.ParseInt(vt.s, 0, 64); err == nil {
			n.num, n.isNum = v, true
		} else if u, err := strconv.ParseUint(vt.s, 0, 64); err == nil {
			n.num, n.isNum = int64(u), true
		}
	}
	if !n.isNum {
		if !vt.str && (vt.s == "(" || vt.s == ")" || vt.s == "&&" || vt.s == "||") {
			p.pos--
			p.fail("expected a value after %s %s", ft.s, op)
			return nil
		}
		switch op {
		case "==", "!=", "~":
		default:
			p.pos--
			p.fail("%s needs a number, found %q", op, vt.s)
			return nil
		}
	}
	return n
}

func isFilterIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdent(s[i]) {
			return false
		}
	}
	return !(s[0] >= '0' && s[0] <= '9')
}

// globMatch matches s against a glob where * is any run of bytes (slashes
// included, as in the kernel's glob_match), ? one byte, [..] a class.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				px++
				sx++
				continue
			case '[':
				if end := strings.IndexByte(p[px+1:], ']'); end >= 0 {
					class := p[px+1 : px+1+end]
					neg := len(class) > 0 && (class[0] == '!' || class[0] == '^')
					if neg {
						class = class[1:]
					}
					in := false
					for i := 0; i < len(class); i++ {
						if i+2 < len(class) && class[i+1] == '-' {
							if s[sx] >= class[i] && s[sx] <= class[i+2] {
								in = true
							}
							i += 2
						} else if class[i] == s[sx] {
							in = true
						}
					}
					if in != neg {
						px += end + 2
						sx++
						continue
					}
				} else if s[sx] == '[' {
					px++
					sx++
					continue
				}
			default:
				if c == '\\' && px+1 < len(p) {
					c = p[px+1]
					if s[sx] == c {
						px += 2
						sx++
						continue
					}
				} else if s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}
