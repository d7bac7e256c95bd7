package tools

import (
	"testing"

	"github.com/tracer-dev/tracer/script"
)

// TestHeaders: every tool has a header tracer can read, options in
// parameter order, and compiles.
func TestHeaders(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 3 {
		t.Fatalf("%d tools", len(all))
	}
	for _, tl := range all {
		if len(tl.Needs) == 0 {
			t.Errorf("%s: no needs: line", tl.Name)
		}
		if _, _, err := script.Compile(tl.Source); err != nil {
			t.Errorf("%s: %v", tl.Name, err)
		}
	}
}

func TestParams(t *testing.T) {
	tl := Get("syscount")
	if tl == nil {
		t.Fatal("no syscount")
	}
	got := tl.Params(map[string]string{"P": "1", "p": "42"})
	want := []string{"1", "0", "42", "10"}
	if len(got) != len(want) {
		t.Fatalf("params %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("params %q, want %q", got, want)
		}
	}
	if _, err := parseHeader("x", "// x: y\n// option: -a $2 z\n"); err == nil {
		t.Error("an option setting $2 first was accepted")
	}
}
