// Package run executes a planned bpftrace program over the records of a
// tracefs session, in time order: builtins from the record and the
// session's process context, scratch variables, maps in bounded tables
// (package aggregate), and output in bpftrace 0.17's text and JSON
// formats. Actions are compiled once to closures; counting, summing and
// histogramming by integer or already-known string keys allocates nothing
// per event.
package run

import (
	"strconv"
)

// kind is a value's type at run time.
type kind uint8

const (
	kNone kind = iota // no value (a missing map entry reads as 0 or "")
	kInt
	kStr
)

// Value is one value: an integer or a string. It is small and comparable,
// so map keys are arrays of it and cost no allocation.
type Value struct {
	S string
	I int64
	K kind
}

func intV(i int64) Value  { return Value{I: i, K: kInt} }
func strV(s string) Value { return Value{S: s, K: kStr} }

// truth is C's: non-zero integers and non-empty strings.
func (v Value) truth() bool {
	if v.K == kStr {
		return v.S != ""
	}
	return v.I != 0
}

// appendText appends v as bpftrace prints it in maps and print().
func (v Value) appendText(dst []byte) []byte {
	if v.K == kStr {
		return append(dst, v.S...)
	}
	return strconv.AppendInt(dst, v.I, 10)
}

// appendJSON appends v as a JSON number or string.
func (v Value) appendJSON(dst []byte) []byte {
	if v.K == kStr {
		return appendJSONString(dst, v.S)
	}
	return strconv.AppendInt(dst, v.I, 10)
}

// appendJSONString quotes s as bpftrace's JSON output does.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// mkey is a map key: up to plan.MaxKeys values.
type mkey struct {
	n uint8
	v [4]Value
}

// compareValues orders values for printing: integers numerically,
// strings bytewise, integers before strings.
func compareValues(a, b Value) int {
	if a.K != b.K {
		if a.K == kStr {
			return 1
		}
		return -1
	}
	if a.K == kStr {
		switch {
		case a.S < b.S:
			return -1
		case a.S > b.S:
			return 1
		}
		return 0
	}
	switch {
	case a.I < b.I:
		return -1
	case a.I > b.I:
		return 1
	}
	return 0
}

func compareKeys(a, b *mkey) int {
	for i := 0; i < int(a.n) && i < int(b.n); i++ {
		if c := compareValues(a.v[i], b.v[i]); c != 0 {
			return c
		}
	}
	return int(a.n) - int(b.n)
}
