package parse

// The print fmt lexer: C tokens of a print fmt line, with their byte
// offsets for compile errors.

import (
	"strconv"
	"strings"
)

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
