package script

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .ast files from the parser and checker")

// golden renders what the parser and checker make of a program: the tree,
// then the maps with their kinds and key types, or the errors with carets.
func golden(src string) string {
	prog, err := Parse(src)
	if err != nil {
		var e *Error
		errors.As(err, &e)
		return "parse error:\n" + e.Caret(src) + "\n"
	}
	var b strings.Builder
	b.WriteString(prog.Dump())
	info, err := Check(prog)
	if err != nil {
		var l ErrorList
		errors.As(err, &l)
		b.WriteString("check errors:\n" + l.Caret(src) + "\n")
		return b.String()
	}
	b.WriteString("maps:\n")
	for _, name := range info.MapOrder {
		m := info.Maps[name]
		keys := make([]string, len(m.Keys))
		for i, k := range m.Keys {
			keys[i] = k.String()
		}
		fmt.Fprintf(&b, "  %s %s keys=[%s] at %s\n", m.Display(), m.Kind, strings.Join(keys, ", "), m.Pos)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := golden(string(src))
			want := strings.TrimSuffix(f, ".bt") + ".ast"
			if *update {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			w, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test ./script -run TestGolden -update)", err)
			}
			if got != string(w) {
				t.Errorf("%s differs from %s (-update rewrites it):\n%s", f, want, got)
			}
		})
	}
}

// TestIssuePrograms: the four programs of issue 13 compile cleanly, as
// they must run unchanged.
func TestIssuePrograms(t *testing.T) {
	files, _ := filepath.Glob("testdata/issue13_*.bt")
	if len(files) != 4 {
		t.Fatalf("%d issue programs, want 4", len(files))
	}
	for _, f := range files {
		src, _ := os.ReadFile(f)
		if _, _, err := Compile(string(src)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
