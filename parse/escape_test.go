package parse

import (
	"testing"
)

// TestAppendEscaped: control bytes, DEL and invalid UTF-8 are escaped,
// printable text (UTF-8 too) is kept, and clean text costs nothing.
func TestAppendEscaped(t *testing.T) {
	for in, want := range map[string]string{
		"bash":            "bash",
		"a\nb":            `a\nb`,
		"\x1b[31mred":     `\x1b[31mred`,
		"x\x7f\xff":       `x\x7f\xff`,
		"café":            "café",
		"tab\there":       `tab\there`,
		`say "hi"` + "\n": `say \"hi\"\n`,
	} {
		if got := string(AppendEscaped([]byte("<"), in)); got != "<"+want {
			t.Errorf("AppendEscaped(%q) = %q, want %q", in, got, "<"+want)
		}
		if got := EscapeText(in); got != want {
			t.Errorf("EscapeText(%q) = %q, want %q", in, got, want)
		}
	}
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { dst = AppendEscaped(dst[:0], "sched_switch") }); n != 0 {
		t.Errorf("clean text: %v allocations", n)
	}
	var h [commHeadLen]byte
	if !makeCommHead(&h, 42, "a\nb") || string(h[:]) != "            a\\nb-42     " {
		t.Errorf("comm head %q", h[:])
	}
}
