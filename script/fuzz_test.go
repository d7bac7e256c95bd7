package script

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input panics the lexer, parser, checker or printers, and
// every error they give has a position inside the text.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"", "BEGIN{}", "k:f /1/ {}", "BEGIN { @x[1,2] = (1, \"a\") }",
		"t:a:b { printf(\"%-5.2s %d\", str(args->p), 1 ? 2 : 3) }",
		"BEGIN { if (1) { } else if (2) { } else { } }; END { }",
		"BEGIN { \"\\x", "BEGIN { /*", "u:\"/a b\":c { }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		prog, info, err := Compile(src)
		if err != nil {
			var l ErrorList
			var e *Error
			switch {
			case errors.As(err, &l):
				for _, e := range l {
					checkErrPos(t, src, e)
				}
				_ = l.Caret(src)
			case errors.As(err, &e):
				checkErrPos(t, src, e)
			default:
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		if prog != nil {
			_ = prog.Dump()
			for _, p := range prog.Probes {
				if p.Pred != nil {
					_ = p.Pred.String()
				}
			}
		}
		if err == nil && info == nil {
			t.Fatal("no info without an error")
		}
	})
}

func checkErrPos(t *testing.T, src string, e *Error) {
	t.Helper()
	if !e.Pos.IsValid() || e.Pos.Col < 1 {
		t.Fatalf("error without a position: %v", e)
	}
	lines := 1
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lines++
		}
	}
	if e.Pos.Line > lines {
		t.Fatalf("error at line %d of %d: %v", e.Pos.Line, lines, e)
	}
	if e.Msg == "" {
		t.Fatal("empty message")
	}
	_ = e.Caret(src)
}
