package script

import (
	"math"
	"math/bits"
	"strings"
)

// tokKind is the class of a token; operators and punctuation share tOp and
// are told apart by their text, which keeps the parser's tables readable.
type tokKind int

const (
	tEOF        tokKind = iota
	tIdent              // names, keywords and builtins alike: the parser decides
	tInt                // integer literal, value in Token.Int
	tString             // string literal, unescaped value in Token.Str
	tMap                // @ or @name, name in Token.Text without the @
	tVar                // $name, name in Token.Text without the $
	tParam              // $1, $2...: positional parameter, number in Token.Int
	tParamCount         // $#
	tOp                 // operator or punctuation, in Token.Text
)

// Token is one lexeme with the position of its first byte.
type Token struct {
	Kind tokKind
	Text string // source text (without @ or $ for maps and variables)
	Pos  Pos
	Int  uint64
	Str  string
}

func (t Token) is(op string) bool { return t.Kind == tOp && t.Text == op }

func (t Token) describe() string {
	switch t.Kind {
	case tEOF:
		return "end of program"
	case tString:
		return "string"
	case tInt:
		return "integer " + t.Text
	case tMap:
		return "map @" + t.Text
	case tVar:
		return "variable $" + t.Text
	}
	return "'" + t.Text + "'"
}

// lexer turns program text into tokens on demand. It is a plain value so
// the parser can look ahead by copying it; the first error stops it.
type lexer struct {
	src       string
	off       int
	line      int
	lineStart int
	err       *Error
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1} }

func (l *lexer) pos() Pos { return Pos{Line: l.line, Col: l.off - l.lineStart + 1} }

func (l *lexer) posAt(off int) Pos {
	// off is at or after lineStart only when no newline intervenes; callers
	// use it for offsets on the current line.
	return Pos{Line: l.line, Col: off - l.lineStart + 1}
}

func (l *lexer) fail(p Pos, format string, args ...any) {
	if l.err == nil {
		l.err = errorf(p, format, args...)
	}
	l.off = len(l.src)
}

// advance moves over n bytes, counting lines.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.lineStart = l.off + 1
		}
		l.off++
	}
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

// skipSpace skips blanks and both kinds of comment.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.off++
			}
		case c == '/' && l.peekByte(1) == '*':
			p := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				l.fail(p, "unterminated /* comment")
				return
			}
			l.advance(end + 4)
		default:
			return
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// ops lists the multi-byte operators longest first, so the first match is
// the longest (<<= before <<, -> before -).
var ops = []string{
	"<<=", ">>=",
	"->", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
	"==", "!=", "<=", ">=", "<<", ">>", "&&", "||",
}

const singleOps = "+-*/%&|^!~<>=?:;,.{}[]()"

// next returns the next token of a statement or expression.
func (l *lexer) next() Token {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return Token{Kind: tEOF, Pos: p}
	}
	c := l.src[l.off]
	start := l.off
	switch {
	case isIdentStart(c):
		for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
			l.off++
		}
		return Token{Kind: tIdent, Text: l.src[start:l.off], Pos: p}
	case isDigit(c):
		return l.number(p)
	case c == '"':
		return l.str(p)
	case c == '@':
		l.off++
		for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
			l.off++
		}
		return Token{Kind: tMap, Text: l.src[start+1 : l.off], Pos: p}
	case c == '$':
		l.off++
		switch {
		case l.off < len(l.src) && l.src[l.off] == '#':
			l.off++
			return Token{Kind: tParamCount, Text: "$#", Pos: p}
		case l.off < len(l.src) && isDigit(l.src[l.off]):
			for l.off < len(l.src) && isDigit(l.src[l.off]) {
				l.off++
			}
			n, ok := parseUint(l.src[start+1:l.off], 10)
			if !ok || n == 0 || n > math.MaxInt32 {
				l.fail(p, "positional parameter %s is out of range", l.src[start:l.off])
				return Token{Kind: tEOF, Pos: p}
			}
			return Token{Kind: tParam, Text: l.src[start:l.off], Int: n, Pos: p}
		case l.off < len(l.src) && isIdentStart(l.src[l.off]):
			for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
				l.off++
			}
			return Token{Kind: tVar, Text: l.src[start+1 : l.off], Pos: p}
		}
		l.fail(p, "'$' must start a variable ($name) or a positional parameter ($1, $#)")
		return Token{Kind: tEOF, Pos: p}
	}
	for _, op := range ops {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.off += len(op)
			return Token{Kind: tOp, Text: op, Pos: p}
		}
	}
	if strings.IndexByte(singleOps, c) >= 0 {
		l.off++
		return Token{Kind: tOp, Text: l.src[start:l.off], Pos: p}
	}
	if c >= 0x80 || c < 0x20 {
		l.fail(p, "invalid character 0x%02x", c)
	} else {
		l.fail(p, "invalid character '%c'", c)
	}
	return Token{Kind: tEOF, Pos: p}
}

// number lexes an integer literal: decimal, 0x hex, 0 octal, with _
// separators between digits and an optional decimal exponent (1e6), as
// bpftrace accepts them.
func (l *lexer) number(p Pos) Token {
	start := l.off
	for l.off < len(l.src) && (isIdentChar(l.src[l.off])) {
		l.off++
	}
	text := l.src[start:l.off]
	v, ok := parseIntLit(text)
	if !ok {
		l.fail(p, "invalid integer literal %q", text)
		return Token{Kind: tEOF, Pos: p}
	}
	return Token{Kind: tInt, Text: text, Int: v, Pos: p}
}

func parseIntLit(text string) (uint64, bool) {
	if strings.HasPrefix(text, "_") || strings.HasSuffix(text, "_") || strings.Contains(text, "__") {
		return 0, false
	}
	switch {
	case len(text) > 2 && (text[1] == 'x' || text[1] == 'X') && text[0] == '0':
		digits := strings.ReplaceAll(text[2:], "_", "")
		if strings.HasPrefix(text[2:], "_") {
			return 0, false
		}
		return parseUint(digits, 16)
	}
	mant, exp, hasExp := strings.Cut(text, "e")
	if !hasExp {
		mant, exp, hasExp = strings.Cut(text, "E")
	}
	mant = strings.ReplaceAll(mant, "_", "")
	base := uint64(10)
	if len(mant) > 1 && mant[0] == '0' && !hasExp {
		base = 8
	}
	v, ok := parseUint(mant, base)
	if !ok {
		return 0, false
	}
	if hasExp {
		e, ok := parseUint(exp, 10)
		if !ok || e > 19 {
			return 0, false
		}
		for i := uint64(0); i < e; i++ {
			hi, lo := bits.Mul64(v, 10)
			if hi != 0 {
				return 0, false
			}
			v = lo
		}
	}
	return v, true
}

func parseUint(s string, base uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		hi, lo := bits.Mul64(v, base)
		if hi != 0 {
			return 0, false
		}
		lo, carry := bits.Add64(lo, d, 0)
		if carry != 0 {
			return 0, false
		}
		v = lo
	}
	return v, true
}

// str lexes a string literal with C escapes (\n \t \r \\ \" \' \0..\377
// octal, \xHH); a newline before the closing quote is an error, as in
// bpftrace.
func (l *lexer) str(p Pos) Token {
	start := l.off
	l.off++
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			l.fail(p, "unterminated string")
			return Token{Kind: tEOF, Pos: p}
		}
		c := l.src[l.off]
		if c == '"' {
			l.off++
			return Token{Kind: tString, Text: l.src[start:l.off], Str: b.String(), Pos: p}
		}
		if c != '\\' {
			b.WriteByte(c)
			l.off++
			continue
		}
		ep := l.pos()
		if l.off+1 >= len(l.src) {
			l.fail(p, "unterminated string")
			return Token{Kind: tEOF, Pos: p}
		}
		e := l.src[l.off+1]
		l.off += 2
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'e':
			b.WriteByte(0x1b)
		case '\\', '"', '\'', '?':
			b.WriteByte(e)
		case 'x':
			n := 0
			v := 0
			for n < 2 && l.off < len(l.src) {
				d, ok := parseUint(l.src[l.off:l.off+1], 16)
				if !ok {
					break
				}
				v = v*16 + int(d)
				l.off++
				n++
			}
			if n == 0 {
				l.fail(ep, "invalid escape \\x without hex digits")
				return Token{Kind: tEOF, Pos: p}
			}
			b.WriteByte(byte(v))
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for n := 1; n < 3 && l.off < len(l.src) && '0' <= l.src[l.off] && l.src[l.off] <= '7'; n++ {
				v = v*8 + int(l.src[l.off]-'0')
				l.off++
			}
			if v > 255 {
				l.fail(ep, "octal escape out of range")
				return Token{Kind: tEOF, Pos: p}
			}
			b.WriteByte(byte(v))
		default:
			if e == '\n' || e < 0x20 || e >= 0x80 {
				l.fail(ep, "invalid escape in string")
			} else {
				l.fail(ep, "invalid escape '\\%c' in string", e)
			}
			return Token{Kind: tEOF, Pos: p}
		}
	}
}

// restOfLine returns the text up to the end of the line (without it) and
// moves past it; used for #include and #! lines.
func (l *lexer) restOfLine() string {
	start := l.off
	for l.off < len(l.src) && l.src[l.off] != '\n' {
		l.off++
	}
	return strings.TrimRight(l.src[start:l.off], "\r")
}

// attachPoint scans one attach point as raw text: everything up to blank,
// ',' or '{', with double-quoted parts kept whole, since paths and globs
// (uprobe:/bin/bash:readline, tracepoint:syscalls:sys_enter_*) are not
// made of expression tokens.
func (l *lexer) attachPoint() (string, Pos) {
	p := l.pos()
	start := l.off
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == '"' {
			end := strings.IndexAny(l.src[l.off+1:], "\"\n")
			if end < 0 || l.src[l.off+1+end] == '\n' {
				l.fail(l.pos(), "unterminated string in probe")
				return "", p
			}
			l.off += end + 2
			continue
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '{' || c == '}' || c == ';' ||
			c == '/' && (l.peekByte(1) == '/' || l.peekByte(1) == '*') {
			break
		}
		l.off++
	}
	return l.src[start:l.off], p
}
