// Package script is the language front-end of `tracer run`: it lexes,
// parses and checks bpftrace programs and knows nothing of the live system.
//
// A program goes through Parse (syntax, into an AST whose every node has a
// line:column position) and Check (names, arities, types, the probe kinds a
// builtin is valid in, and the refusals: what bpftrace can do that ftrace
// cannot, each named with its position and the reason). Compile does both.
// The result (Program and Info) is what a planner needs: the probes with
// their kind and target, each action's AST, and the maps with their value
// kind and key types. Nothing here panics on any input: recursion is
// bounded and every error is an *Error with a position.
package script

import (
	"fmt"
	"strings"
)

// Pos is a position in the program text: 1-based line and column, the
// column counted in bytes, as the kernel's error_log counts its caret.
type Pos struct {
	Line, Col int
}

// String renders the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// IsValid reports whether the position points into a text (lines start at 1).
func (p Pos) IsValid() bool { return p.Line > 0 }

// Before reports whether p comes before q in the text, for sorting errors.
func (p Pos) Before(q Pos) bool {
	return p.Line < q.Line || p.Line == q.Line && p.Col < q.Col
}

// Error is a problem found in a program: where, and what. Msg is lowercase
// and names the construct, so one line says all; Caret shows the place.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders the error as line:column: message.
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Caret renders the error the way the kernel's error_log does: the
// offending line of src, then a line of blanks and a ^ under the column,
// then the message. Tabs in the line are kept in the blanks so the caret
// lines up in a terminal.
func (e *Error) Caret(src string) string {
	line := sourceLine(src, e.Pos.Line)
	var b strings.Builder
	b.WriteString(line)
	b.WriteByte('\n')
	col := e.Pos.Col - 1
	if col > len(line) {
		col = len(line)
	}
	for i := 0; i < col; i++ {
		if line[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString("^\n")
	b.WriteString(e.Error())
	return b.String()
}

// sourceLine returns line n (1-based) of src without its newline, or ""
// when src has no such line.
func sourceLine(src string, n int) string {
	for i := 1; i < n; i++ {
		j := strings.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := strings.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimSuffix(src, "\r")
}

// ErrorList is every error the checker found, in text order. Check reports
// all of them at once so that a program with three refused constructs says
// so in one run rather than three.
type ErrorList []*Error

// Error renders one error per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes the errors to errors.As and errors.Is, so a caller that
// wants the first *Error gets it without knowing about lists.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Caret renders every error with its caret, separated by newlines.
func (l ErrorList) Caret(src string) string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Caret(src)
	}
	return strings.Join(s, "\n")
}

func errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}
