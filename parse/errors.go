// Package parse decodes ftrace data: the header_page and format files of
// tracefs, the per-CPU ring-buffer pages read from trace_pipe_raw, and the
// records inside them, into typed fields, the kernel's own text and JSON.
//
// It is pure: it takes bytes and returns values, and never touches the live
// system, so live recording, trace.dat files and tests share one decoder.
// Every offset and length read from input is bounded before use; bad input
// yields a *FormatError that says where, never a panic.
package parse

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped by *FormatError so callers can test the kind of
// damage with errors.Is without parsing messages.
var (
	// ErrTruncated means the input ended before a structure it announced.
	ErrTruncated = errors.New("truncated input")
	// ErrCorrupt means a value read from the input is impossible.
	ErrCorrupt = errors.New("corrupt input")
	// ErrSyntax means a text file (format, header, print fmt) did not parse.
	ErrSyntax = errors.New("syntax error")
)

// FormatError says where in which input a problem was found. Offsets are in
// bytes for binary input and lines for text input, as Where describes.
type FormatError struct {
	Where string // what was being decoded, e.g. "page cpu1" or "format sched/sched_switch"
	Off   int    // byte offset (binary) or line number (text); -1 if unknown
	Msg   string
	Err   error // one of the sentinels
}

func (e *FormatError) Error() string {
	if e.Off >= 0 {
		return fmt.Sprintf("%s: at %d: %s", e.Where, e.Off, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Where, e.Msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

func errf(sentinel error, where string, off int, format string, args ...any) error {
	return &FormatError{Where: where, Off: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}
