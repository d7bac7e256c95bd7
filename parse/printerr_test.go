package parse

import (
	"errors"
	"strings"
	"testing"
)

const fmtPrintErr = `name: broken
ID: 901
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int dfd;	offset:8;	size:4;	signed:1;

print fmt: PRINT_FMT
`

// TestPrintError: the reason an event prints in fields mode is kept on the
// schema, with its byte offset into the print fmt.
func TestPrintError(t *testing.T) {
	for _, tt := range []struct {
		printFmt string
		off      int // -1: compiles
	}{
		{`"dfd=%d", REC->dfd`, -1},
		{`REC->dfd`, 0},              // does not start with a string
		{`"dfd=%d", REC->dfd )`, 19}, // stray token
	} {
		s, err := ParseFormat("test", []byte(strings.Replace(fmtPrintErr, "PRINT_FMT", tt.printFmt, 1)), 8)
		if err != nil {
			t.Fatal(err)
		}
		perr := s.PrintError()
		d := NewDecoder(Layout{})
		if got := d.Fallback(s); got != (perr != nil) {
			t.Errorf("%s: Fallback = %v with PrintError %v", tt.printFmt, got, perr)
		}
		if tt.off < 0 {
			if perr != nil {
				t.Errorf("%s: PrintError = %v, want nil", tt.printFmt, perr)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(perr, &fe) || !errors.Is(perr, ErrSyntax) {
			t.Fatalf("%s: PrintError = %#v, want a *FormatError with ErrSyntax", tt.printFmt, perr)
		}
		if fe.Off != tt.off || !strings.Contains(fe.Where, "test/broken") {
			t.Errorf("%s: PrintError = %v (offset %d), want offset %d in test/broken", tt.printFmt, perr, fe.Off, tt.off)
		}
		if again := s.PrintError(); again != perr {
			t.Errorf("%s: a second PrintError = %v, want the kept %v", tt.printFmt, again, perr)
		}
	}
}
