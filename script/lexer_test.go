package script

import (
	"strings"
	"testing"
)

func lexAll(src string) ([]Token, *Error) {
	l := newLexer(src)
	var toks []Token
	for {
		t := l.next()
		if l.err != nil {
			return toks, l.err
		}
		if t.Kind == tEOF {
			return toks, nil
		}
		toks = append(toks, t)
	}
}

func TestLexer(t *testing.T) {
	tests := []struct {
		src  string
		want string // tokens as kind:text, space separated
	}{
		{"@x[tid] = count();", "map:x op:[ id:tid op:] op:= id:count op:( op:) op:;"},
		{"@ = 1", "map: op:= int:1"},
		{"$a += 0x1f", "var:a op:+= int:31"},
		{"1_000_000 017 1e3 0xFF_FF", "int:1000000 int:15 int:1000 int:65535"},
		{`"a\tb\n\"c\"\\\x41\101"`, `str:a	b
"c"\AA`},
		{"a<<=b>>=c->d++--e", "id:a op:<<= id:b op:>>= id:c op:-> id:d op:++ op:-- id:e"},
		{"a<=b>=c==d!=e&&f||g", "id:a op:<= id:b op:>= id:c op:== id:d op:!= id:e op:&& id:f op:|| id:g"},
		{"x // comment\n/* multi\nline */ y", "id:x id:y"},
		{"$1 $# $10", "param:1 paramcount:$# param:10"},
		{"!~?:.", "op:! op:~ op:? op:: op:."},
	}
	for _, tt := range tests {
		toks, err := lexAll(tt.src)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		var got []string
		for _, tk := range toks {
			switch tk.Kind {
			case tMap:
				got = append(got, "map:"+tk.Text)
			case tVar:
				got = append(got, "var:"+tk.Text)
			case tIdent:
				got = append(got, "id:"+tk.Text)
			case tInt:
				got = append(got, "int:"+itoa(tk.Int))
			case tString:
				got = append(got, "str:"+tk.Str)
			case tParam:
				got = append(got, "param:"+itoa(tk.Int))
			case tParamCount:
				got = append(got, "paramcount:"+tk.Text)
			case tOp:
				got = append(got, "op:"+tk.Text)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, g, tt.want)
		}
	}
}

func itoa(v uint64) string { return (&IntLit{Value: v}).String() }

func TestLexerPositions(t *testing.T) {
	toks, err := lexAll("a\n  bb /* x\n */ c\n\t@d")
	if err != nil {
		t.Fatal(err)
	}
	want := []Pos{{1, 1}, {2, 3}, {3, 5}, {4, 2}}
	for i, tk := range toks {
		if tk.Pos != want[i] {
			t.Errorf("token %d %q at %s, want %s", i, tk.Text, tk.Pos, want[i])
		}
	}
}

func TestLexerErrors(t *testing.T) {
	tests := []struct {
		src, pos, msg string
	}{
		{`"abc`, "1:1", "unterminated string"},
		{"\"ab\ncd\"", "1:1", "unterminated string"},
		{`x "a\q"`, "1:5", `invalid escape '\q'`},
		{"a /* b", "1:3", "unterminated /* comment"},
		{"1_", "1:1", "invalid integer literal"},
		{"0x", "1:1", "invalid integer literal"},
		{"99999999999999999999", "1:1", "invalid integer literal"},
		{"12ab", "1:1", "invalid integer literal"},
		{"08", "1:1", "invalid integer literal"},
		{"a\n  `", "2:3", "invalid character '`'"},
		{"$", "1:1", "'$' must start a variable"},
		{"$0", "1:1", "positional parameter $0 is out of range"},
		{"\x80", "1:1", "invalid character 0x80"},
	}
	for _, tt := range tests {
		_, err := lexAll(tt.src)
		if err == nil {
			t.Errorf("%q: no error", tt.src)
			continue
		}
		if err.Pos.String() != tt.pos || !strings.Contains(err.Msg, tt.msg) {
			t.Errorf("%q: got %v, want %s: ...%s...", tt.src, err, tt.pos, tt.msg)
		}
	}
}

func TestCaret(t *testing.T) {
	src := "BEGIN {\n\tx = 1;\n}"
	e := &Error{Pos: Pos{2, 2}, Msg: "cannot assign"}
	want := "\tx = 1;\n\t^\n2:2: cannot assign"
	if got := e.Caret(src); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A position past the line (end of program) puts the caret at its end.
	e = &Error{Pos: Pos{1, 30}, Msg: "m"}
	if got := e.Caret(src); !strings.HasPrefix(got, "BEGIN {\n       ^\n") {
		t.Errorf("got %q", got)
	}
}
