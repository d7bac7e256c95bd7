package parse

import (
	"errors"
	"testing"
)

func TestFilter(t *testing.T) {
	s, err := ParseFormat("test", []byte(fmtTest), 8)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(pid, val int32, name string) *Record {
		return &Record{Kind: ItemEvent, Schema: s, Data: tevPayload(false, pid, val, name), longSize: 8}
	}
	r := rec(42, -5, "bash")
	for _, c := range []struct {
		expr string
		want bool
	}{
		{"val == -5", true},
		{"val != -5", false},
		{"val < 0", true},
		{"val <= -5", true},
		{"val > -6", true},
		{"val >= 0", false},
		{"common_pid == 42", true},
		{"common_pid & 2", true},
		{"common_pid & 1", false},
		{"common_pid == 0x2a", true},
		{`name == "bash"`, true},
		{`name == bash`, true},
		{`name != "bash"`, false},
		{`name ~ "ba*"`, true},
		{`name ~ "*sh"`, true},
		{`name ~ "z*"`, false},
		{`name ~ "b?s[a-h]"`, true},
		{`name ~ "*a*"`, true},
		{`name ~ "[!b]*"`, false},
		{"val < 0 && common_pid == 42", true},
		{"val > 0 || common_pid == 42", true},
		{"!(val < 0)", false},
		{"!val < 0", false},
		{"(val > 0 || name == \"bash\") && !(common_pid != 42)", true},
		{"nosuch == 1", false},
		{"!(nosuch == 1)", true},
	} {
		f, err := CompileFilter(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := f.Match(r); got != c.want {
			t.Errorf("%q: got %v, want %v", c.expr, got, c.want)
		}
		// The cached field indexes give the same answer the second time.
		if got := f.Match(r); got != c.want {
			t.Errorf("%q (cached): got %v", c.expr, got)
		}
	}
	// Lost items pass: a filter must not hide losses.
	f, _ := CompileFilter("val == 1")
	if !f.Match(&Record{Kind: ItemLost}) {
		t.Error("lost item filtered out")
	}
}

func TestFilterErrors(t *testing.T) {
	for _, e := range []string{"", "val", "val ==", "val < bash", "(val == 1", "val == 1)", `name == "x`, "1 == val", "val == 1 &&", "val = 1"} {
		_, err := CompileFilter(e)
		var fe *FormatError
		if err == nil || !errors.As(err, &fe) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: got %v, want a syntax error", e, err)
		}
	}
}
