package script

import (
	"strings"
)

// maxDepth bounds the nesting of expressions and blocks: a deeper program
// is refused rather than allowed to exhaust the stack (fuzzed input can
// nest parentheses by the megabyte).
const maxDepth = 200

// Parse parses a bpftrace program. The error, if any, is an *Error at the
// first problem; the parser does not try to go on after it, since a
// syntax error's followers are mostly noise.
func Parse(src string) (prog *Program, err error) {
	p := &parser{lx: newLexer(src)}
	prog = p.program()
	if p.err != nil {
		return nil, p.err
	}
	return prog, nil
}

type parser struct {
	lx     *lexer
	tok    Token
	err    *Error
	depth  int
	inPred bool // a / followed by { ends the predicate instead of dividing
}

// failf records the first error; every parsing function returns promptly
// once it is set because next() then yields only EOF.
func (p *parser) failf(pos Pos, format string, args ...any) {
	if p.err == nil {
		p.err = errorf(pos, format, args...)
	}
	p.lx.off = len(p.lx.src)
	p.tok = Token{Kind: tEOF, Pos: pos}
}

func (p *parser) next() {
	if p.err != nil {
		p.tok = Token{Kind: tEOF, Pos: p.tok.Pos}
		return
	}
	p.tok = p.lx.next()
	if p.lx.err != nil {
		p.failf(p.lx.err.Pos, "%s", p.lx.err.Msg)
	}
}

// peek returns the token after the current one without consuming it.
func (p *parser) peek() Token {
	c := *p.lx
	return c.next()
}

func (p *parser) expect(op string, what string) bool {
	if !p.tok.is(op) {
		p.failf(p.tok.Pos, "expected '%s' %s, found %s", op, what, p.tok.describe())
		return false
	}
	p.next()
	return true
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		p.failf(p.tok.Pos, "program nested too deeply (more than %d levels)", maxDepth)
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

func (p *parser) program() *Program {
	prog := &Program{}
	lx := p.lx
	for p.err == nil {
		lx.skipSpace()
		if lx.err != nil {
			p.failf(lx.err.Pos, "%s", lx.err.Msg)
			break
		}
		if lx.off >= len(lx.src) {
			break
		}
		pos := lx.pos()
		switch c := lx.src[lx.off]; {
		case c == '#':
			line := lx.restOfLine()
			if lx.line == 1 && pos.Col == 1 && strings.HasPrefix(line, "#!") && len(prog.Includes) == 0 && prog.Shebang == "" {
				prog.Shebang = line[2:]
			} else {
				prog.Includes = append(prog.Includes, &Include{Pos: pos, Text: line})
			}
		case c == ';':
			// A stray ; after a probe's block: harmless, as after an if block.
			lx.advance(1)
		case c == '}':
			p.failf(pos, "unexpected '}' outside a probe block")
		case isCDefStart(lx.src[lx.off:]):
			prog.CDefs = append(prog.CDefs, p.cdef())
		default:
			if pr := p.probe(); pr != nil {
				prog.Probes = append(prog.Probes, pr)
			}
		}
	}
	if p.err == nil && len(prog.Probes) == 0 {
		p.failf(p.lx.pos(), "no probes: a program needs at least one probe and block, e.g. BEGIN { ... }")
	}
	return prog
}

func isCDefStart(s string) bool {
	for _, kw := range []string{"struct", "union", "enum"} {
		if strings.HasPrefix(s, kw) && (len(s) == len(kw) || !isIdentChar(s[len(kw)])) {
			return true
		}
	}
	return false
}

// cdef takes a top-level C definition up to its closing brace (and ;).
func (p *parser) cdef() *CDef {
	lx := p.lx
	pos := lx.pos()
	start := lx.off
	depth := 0
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		lx.advance(1)
		if c == '{' {
			depth++
		} else if c == '}' {
			depth--
			if depth <= 0 {
				break
			}
		} else if c == ';' && depth == 0 {
			break
		}
	}
	if depth > 0 {
		p.failf(pos, "unterminated C definition: missing '}'")
		return nil
	}
	text := lx.src[start:lx.off]
	lx.skipSpace()
	if lx.off < len(lx.src) && lx.src[lx.off] == ';' {
		lx.advance(1)
	}
	return &CDef{Pos: pos, Text: text}
}

func (p *parser) probe() *Probe {
	lx := p.lx
	pr := &Probe{}
	for {
		lx.skipSpace()
		raw, pos := lx.attachPoint()
		if lx.err != nil {
			p.failf(lx.err.Pos, "%s", lx.err.Msg)
			return nil
		}
		if raw == "" {
			p.next()
			p.failf(pos, "expected a probe, found %s", p.tok.describe())
			return nil
		}
		ap, err := parseAttachPoint(raw, pos)
		if err != nil {
			p.failf(err.Pos, "%s", err.Msg)
			return nil
		}
		if len(pr.AttachPoints) == 0 {
			pr.Pos = pos
		}
		pr.AttachPoints = append(pr.AttachPoints, ap)
		lx.skipSpace()
		if lx.off < len(lx.src) && lx.src[lx.off] == ',' {
			lx.advance(1)
			continue
		}
		break
	}
	p.next()
	if p.tok.is("/") {
		p.inPred = true
		p.next()
		pr.Pred = p.expr()
		p.inPred = false
		if p.err != nil {
			return nil
		}
		if !p.tok.is("/") {
			p.failf(p.tok.Pos, "expected '/' to end the predicate, found %s", p.tok.describe())
			return nil
		}
		p.next()
	}
	if !p.tok.is("{") {
		p.failf(p.tok.Pos, "expected '{' after the probe, found %s", p.tok.describe())
		return nil
	}
	pr.Body = p.block()
	// The closing } stays current: the next top-level item is scanned raw.
	if p.err != nil {
		return nil
	}
	return pr
}

// block parses { stmts } with the current token at {. It returns with
// the } as the current token, not consumed, since what follows a probe's
// block is not lexed as tokens.
func (p *parser) block() *Block {
	b := &Block{Pos: p.tok.Pos}
	if !p.enter() {
		return b
	}
	defer p.leave()
	p.next()
	for p.err == nil {
		switch {
		case p.tok.is("}"):
			return b
		case p.tok.is(";"):
			// Empty statements, and the }; after an if block that old
			// scripts have and bpftrace 0.17 rejects.
			p.next()
			continue
		case p.tok.Kind == tEOF:
			p.failf(p.tok.Pos, "expected '}' to close the block opened at %s, found end of program", b.Pos)
			return b
		}
		s, compound := p.stmt()
		if s == nil {
			return b
		}
		b.Stmts = append(b.Stmts, s)
		if compound {
			continue
		}
		switch {
		case p.tok.is(";"):
			p.next()
		case p.tok.is("}"):
			// The last statement needs no ;.
		default:
			p.failf(p.tok.Pos, "expected ';' or '}' after the statement, found %s", p.tok.describe())
		}
	}
	return b
}

// innerBlock parses a nested block and moves past its }.
func (p *parser) innerBlock(what string) *Block {
	if !p.tok.is("{") {
		p.failf(p.tok.Pos, "expected '{' after %s, found %s", what, p.tok.describe())
		return nil
	}
	b := p.block()
	p.next()
	return b
}

var assignOps = map[string]bool{
	"=": true, "+=": true, "-=": true, "*=": true, "/=": true, "%=": true,
	"&=": true, "|=": true, "^=": true, "<<=": true, ">>=": true,
}

// stmt parses one statement; compound is true for those ending in a block
// (if, while, unroll), which need no ;.
func (p *parser) stmt() (s Stmt, compound bool) {
	t := p.tok
	if t.Kind == tIdent {
		switch t.Text {
		case "if":
			return p.ifStmt(), true
		case "while":
			p.next()
			if !p.expect("(", "after while") {
				return nil, true
			}
			cond := p.expr()
			if !p.expect(")", "after the while condition") {
				return nil, true
			}
			body := p.innerBlock("while (...)")
			if body == nil {
				return nil, true
			}
			return &WhileStmt{Pos: t.Pos, Cond: cond, Body: body}, true
		case "unroll":
			p.next()
			if !p.expect("(", "after unroll") {
				return nil, true
			}
			n := p.expr()
			if !p.expect(")", "after the unroll count") {
				return nil, true
			}
			body := p.innerBlock("unroll (...)")
			if body == nil {
				return nil, true
			}
			return &UnrollStmt{Pos: t.Pos, Count: n, Body: body}, true
		case "for":
			p.failf(t.Pos, "for loops are not supported: use while or unroll")
			return nil, true
		case "return":
			p.next()
			r := &ReturnStmt{Pos: t.Pos}
			if !p.tok.is(";") && !p.tok.is("}") {
				r.Value = p.expr()
			}
			return r, false
		case "break", "continue":
			p.next()
			return &JumpStmt{Pos: t.Pos, Tok: t.Text}, false
		case "else":
			p.failf(t.Pos, "else without if")
			return nil, false
		}
	}
	if t.is("{") {
		p.failf(t.Pos, "unexpected '{': a block must follow if, else, while or unroll")
		return nil, false
	}
	x := p.expr()
	if p.err != nil {
		return nil, false
	}
	if p.tok.Kind == tOp && assignOps[p.tok.Text] {
		op := p.tok
		switch x.(type) {
		case *MapRef, *VarRef:
		default:
			p.failf(op.Pos, "cannot assign to %s: only maps and $variables can be assigned", x.String())
			return nil, false
		}
		p.next()
		rhs := p.expr()
		if p.err != nil {
			return nil, false
		}
		return &AssignStmt{Pos: op.Pos, Op: op.Text, LHS: x, RHS: rhs}, false
	}
	return &ExprStmt{X: x}, false
}

func (p *parser) ifStmt() Stmt {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	s := &IfStmt{Pos: p.tok.Pos}
	p.next()
	if !p.expect("(", "after if") {
		return nil
	}
	s.Cond = p.expr()
	if !p.expect(")", "after the if condition") {
		return nil
	}
	if s.Then = p.innerBlock("if (...)"); s.Then == nil {
		return nil
	}
	if p.tok.Kind == tIdent && p.tok.Text == "else" {
		p.next()
		if p.tok.Kind == tIdent && p.tok.Text == "if" {
			e := p.ifStmt()
			if e == nil {
				return nil
			}
			s.Else = e
		} else {
			b := p.innerBlock("else")
			if b == nil {
				return nil
			}
			s.Else = b
		}
	}
	return s
}

// expr parses a full expression: the ternary level, right-associative.
func (p *parser) expr() Expr {
	if !p.enter() {
		return &IntLit{Pos: p.tok.Pos}
	}
	defer p.leave()
	cond := p.binary(0)
	if !p.tok.is("?") {
		return cond
	}
	q := p.tok.Pos
	p.next()
	then := p.expr()
	if !p.expect(":", "in the ternary ?:") {
		return cond
	}
	els := p.expr()
	return &Ternary{Pos: q, Cond: cond, Then: then, Else: els}
}

// levels are C's binary operator precedences, loosest first.
var levels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", "<=", ">", ">="},
	{"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (p *parser) binary(level int) Expr {
	if level == len(levels) {
		return p.unary()
	}
	x := p.binary(level + 1)
	// A chain a+b+c... builds a left-deep tree; each link counts as a
	// level so that walking the tree later is bounded too.
	chained := 0
	defer func() { p.depth -= chained }()
	for p.err == nil && p.tok.Kind == tOp && inList(levels[level], p.tok.Text) {
		if p.inPred && p.tok.Text == "/" {
			// The / that closes a predicate is followed by the block.
			if nt := p.peek(); nt.is("{") || nt.Kind == tEOF {
				break
			}
		}
		op := p.tok
		if !p.enter() {
			return x
		}
		chained++
		p.next()
		y := p.binary(level + 1)
		x = &Binary{Pos: op.Pos, Op: op.Text, X: x, Y: y}
	}
	return x
}

func inList(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) unary() Expr {
	t := p.tok
	if t.Kind == tOp {
		switch t.Text {
		case "!", "-", "~", "*", "&", "++", "--":
			if !p.enter() {
				return &IntLit{Pos: t.Pos}
			}
			defer p.leave()
			p.next()
			x := p.unary()
			if (t.Text == "++" || t.Text == "--") && !isLvalue(x) {
				p.failf(t.Pos, "%s needs a map or a $variable", t.Text)
			}
			return &Unary{Pos: t.Pos, Op: t.Text, X: x}
		case "(":
			if p.castAhead() {
				if !p.enter() {
					return &IntLit{Pos: t.Pos}
				}
				defer p.leave()
				p.next()
				typ := p.typeName()
				if !p.expect(")", "after the cast type") {
					return &IntLit{Pos: t.Pos}
				}
				x := p.unary()
				return &Cast{Pos: t.Pos, Type: typ, X: x}
			}
		}
	}
	return p.postfix()
}

func isLvalue(x Expr) bool {
	switch x.(type) {
	case *MapRef, *VarRef:
		return true
	}
	return false
}

// castTypes are the names that start a cast after (: bpftrace's integer
// types, and C's names, which are parsed so the checker can say what it
// does with them.
var castTypes = map[string]bool{
	"bool": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"struct": true, "union": true, "enum": true,
	"char": true, "short": true, "int": true, "long": true, "unsigned": true, "signed": true, "void": true,
	"u8": true, "u16": true, "u32": true, "u64": true, "s8": true, "s16": true, "s32": true, "s64": true,
}

func (p *parser) castAhead() bool {
	nt := p.peek()
	return nt.Kind == tIdent && castTypes[nt.Text]
}

func (p *parser) typeName() TypeName {
	var t TypeName
	if p.tok.Kind == tIdent && (p.tok.Text == "struct" || p.tok.Text == "union" || p.tok.Text == "enum") {
		t.Struct = p.tok.Text
		p.next()
		if p.tok.Kind != tIdent {
			p.failf(p.tok.Pos, "expected a name after %s, found %s", t.Struct, p.tok.describe())
			return t
		}
	}
	var words []string
	for p.tok.Kind == tIdent {
		words = append(words, p.tok.Text)
		p.next()
		if t.Struct != "" {
			break
		}
	}
	t.Name = strings.Join(words, " ")
	for p.tok.is("*") {
		t.Ptr++
		p.next()
	}
	return t
}

func (p *parser) postfix() Expr {
	x := p.primary()
	chained := 0
	defer func() { p.depth -= chained }()
	for p.err == nil {
		t := p.tok
		if t.is(".") || t.is("->") || t.is("[") || t.is("++") || t.is("--") {
			if !p.enter() {
				return x
			}
			chained++
		}
		switch {
		case t.is(".") || t.is("->"):
			p.next()
			if p.tok.Kind != tIdent && p.tok.Kind != tInt {
				p.failf(p.tok.Pos, "expected a field name after '%s', found %s", t.Text, p.tok.describe())
				return x
			}
			x = &Field{Pos: t.Pos, X: x, Name: p.tok.Text, Arrow: t.Text == "->"}
			p.next()
		case t.is("["):
			p.next()
			i := p.expr()
			if !p.expect("]", "after the index") {
				return x
			}
			x = &Index{Pos: t.Pos, X: x, Index: i}
		case t.is("++") || t.is("--"):
			if !isLvalue(x) {
				return x
			}
			p.next()
			x = &Unary{Pos: t.Pos, Op: t.Text, X: x, Postfix: true}
		default:
			return x
		}
	}
	return x
}

// builtins are the names bpftrace reads as builtin variables; the checker
// decides which tracer provides, and where.
var builtins = map[string]bool{
	"pid": true, "tid": true, "uid": true, "gid": true, "comm": true, "cpu": true,
	"nsecs": true, "elapsed": true, "probe": true, "func": true, "retval": true,
	"args": true, "kstack": true, "ustack": true, "curtask": true, "rand": true,
	"cgroup": true, "ctx": true, "cpid": true, "username": true, "numaid": true,
	"jiffies": true, "stack": true, "sarg": true, "__probe": true,
	// ppid is tracer's own: the parent process at the event, from the
	// session's process context (bpftrace reads curtask->real_parent).
	"ppid": true,
}

func isBuiltin(name string) bool {
	if builtins[name] {
		return true
	}
	for _, pre := range []string{"arg", "sarg"} {
		if rest, ok := strings.CutPrefix(name, pre); ok && rest != "" && allDigits(rest) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func (p *parser) primary() Expr {
	t := p.tok
	switch t.Kind {
	case tInt:
		p.next()
		return &IntLit{Pos: t.Pos, Value: t.Int, Raw: t.Text}
	case tString:
		p.next()
		return &StrLit{Pos: t.Pos, Value: t.Str}
	case tVar:
		p.next()
		return &VarRef{Pos: t.Pos, Name: t.Text}
	case tParam:
		p.next()
		return &Param{Pos: t.Pos, N: int(t.Int)}
	case tParamCount:
		p.next()
		return &Param{Pos: t.Pos, Count: true}
	case tMap:
		p.next()
		m := &MapRef{Pos: t.Pos, Name: t.Text}
		if p.tok.is("[") {
			p.next()
			m.Keys = p.exprList("]")
			if m.Keys == nil && p.err == nil {
				p.failf(p.tok.Pos, "empty map key: write @%s, not @%s[]", t.Text, t.Text)
			}
			p.expect("]", "after the map key")
		}
		return m
	case tIdent:
		switch t.Text {
		case "sizeof", "offsetof":
			return p.sizeof()
		case "if", "else", "while", "unroll", "return", "for", "break", "continue":
			p.failf(t.Pos, "unexpected '%s' in an expression", t.Text)
			return &Ident{Pos: t.Pos, Name: t.Text}
		}
		p.next()
		if p.tok.is("(") {
			p.next()
			c := &Call{Pos: t.Pos, Name: t.Text, Args: p.exprList(")")}
			p.expect(")", "after the arguments of "+t.Text+"()")
			return c
		}
		if isBuiltin(t.Text) {
			return &Builtin{Pos: t.Pos, Name: t.Text}
		}
		return &Ident{Pos: t.Pos, Name: t.Text}
	case tOp:
		if t.is("(") {
			p.next()
			x := p.expr()
			if p.tok.is(",") {
				p.next()
				rest := p.exprList(")")
				x = &Tuple{Pos: t.Pos, Elems: append([]Expr{x}, rest...)}
			}
			p.expect(")", "to close the '(' at "+t.Pos.String())
			return x
		}
	}
	p.failf(t.Pos, "expected an expression, found %s", t.describe())
	return &IntLit{Pos: t.Pos}
}

// exprList parses comma-separated expressions up to (not past) end.
func (p *parser) exprList(end string) []Expr {
	var l []Expr
	for p.err == nil && !p.tok.is(end) {
		l = append(l, p.expr())
		if !p.tok.is(",") {
			break
		}
		p.next()
	}
	return l
}

// sizeof takes sizeof(...) or offsetof(...) whole, as text: their
// operands are C types the checker refuses without BTF.
func (p *parser) sizeof() Expr {
	t := p.tok
	p.next()
	if !p.tok.is("(") {
		p.failf(p.tok.Pos, "expected '(' after %s, found %s", t.Text, p.tok.describe())
		return &IntLit{Pos: t.Pos}
	}
	var words []string
	depth := 0
	for p.err == nil {
		if p.tok.Kind == tEOF {
			p.failf(p.tok.Pos, "unterminated %s(", t.Text)
			break
		}
		if p.tok.is("(") {
			depth++
		} else if p.tok.is(")") {
			depth--
		}
		if depth > 0 && !(depth == 1 && p.tok.is("(")) {
			words = append(words, p.tok.Text)
		}
		p.next()
		if depth == 0 {
			break
		}
	}
	return &Sizeof{Pos: t.Pos, Name: t.Text, Text: strings.Join(words, " ")}
}
