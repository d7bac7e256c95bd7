// # JSON lines
//
// Decoder.AppendJSON writes one JSON object per item, typed from the format
// file. This schema is stable. It is also written as a JSON Schema, with
// the other commands' JSON output, in schema/tracer-json-v1.schema.json
// ($defs "event" and "lost"); the commands' tests validate real output
// against it, so a change here is a change there (a new key within the
// version, a new version file for a change of meaning).
//
// Every item is one JSON object on one line, ended by "\n". Keys appear in
// the order below; a consumer must not rely on the order, and must ignore
// keys it does not know (new ones may be added, existing ones keep their
// meaning).
//
// An event record:
//
//	{"ts":260246510944,"time":"260.246511","cpu":0,"pid":6868,"comm":"true","flags":".....","event":"sched:sched_process_exec","fields":{"filename":"/bin/true","pid":6868,"old_pid":6868}}
//
// Its keys:
//
//   - ts: the raw timestamp in the trace clock's unit (nanoseconds for the
//     default clocks), as an exact unsigned integer.
//   - time: ts as the kernel's text shows it: "seconds.microseconds" with
//     the microseconds rounded, or for counter clocks (counter, uptime,
//     x86-tsc) the same decimal integer as ts.
//   - cpu: the CPU whose buffer held the record.
//   - pid: common_pid (-1 when the format has none).
//   - comm: the command name from Decoder.Comms: in a live session the
//     name the task had at the event (package taskctx), from a file what
//     its saved_cmdlines say; "<idle>" for pid 0, null when unknown.
//   - flags: the five latency characters of the kernel's text (irqs-off,
//     need-resched, hardirq/softirq, preempt depth, migrate-disable).
//   - event: "system:name"; null for an ID no format describes, with the ID
//     in "id" and no "fields".
//   - fields: every field of the format except the common_* ones, in format
//     order, typed as the next list says.
//
// Field values:
//
//   - Integers (1, 2, 4 or 8 bytes) are JSON numbers, signed or unsigned as
//     the format's "signed:" says, written as exact integers even beyond
//     2^53 (decode them into int64/uint64, not float64).
//   - Strings (char arrays, __data_loc/__rel_loc char[], char buf[]) are
//     JSON strings cut at the first NUL. Bytes that are not valid UTF-8
//     become U+FFFD and control characters are escaped, so the line is
//     always valid JSON but a string is not always byte-exact.
//   - Other arrays (fixed, dynamic or flexible) are arrays of numbers, one
//     per element of the element size; fields of odd sizes are arrays of
//     byte values. ftrace:kernel_stack's caller lists the recorded entries
//     only (its declared [8] is nominal).
//   - A field that lies outside the record is null.
//
// Pointers are plain numbers (no symbol lookup) and print fmt helpers such
// as __print_flags are not applied: JSON carries values, the text sink
// carries the kernel's rendering.
//
// A lost-events item (the kernel dropped events before the next record of
// that CPU):
//
//	{"ts":260246510944,"time":"260.246511","cpu":1,"event":"lost","lost":308}
//
// with "lost":null when the kernel did not store the count. ts is the
// timestamp of the page that reported the loss. "lost" cannot clash with
// an event name, which always has a colon.
package parse

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends rec as one JSON object and a newline (see the schema
// above) and returns the extended buffer. It allocates nothing.
func (d *Decoder) AppendJSON(dst []byte, rec *Record) []byte {
	dst = d.appendJSONStamp(dst, rec.TS)
	dst = appendDecInt(dst, int64(rec.CPU))
	if rec.Kind == ItemLost {
		dst = append(dst, `,"event":"lost","lost":`...)
		if rec.LostKnown {
			dst = strconv.AppendUint(dst, rec.Lost, 10)
		} else {
			dst = append(dst, "null"...)
		}
		return append(dst, "}\n"...)
	}
	pid, flags, pc := commonFields(rec)
	// `,"pid":N,"comm":"NAME","flags":"` comes ready made from the comm
	// table when it has one for this pid.
	if h := d.Comms.jsonHead(pid); h != nil {
		dst = append(dst, h...)
	} else {
		dst = d.appendJSONPidComm(dst, pid)
	}
	dst = appendLatFmt(dst, flags, pc, d.latStyle)
	s := rec.Schema
	if s == nil {
		dst = append(dst, `","event":null,"id":`...)
		dst = strconv.AppendInt(dst, int64(rec.Type), 10)
		return append(dst, "}\n"...)
	}
	if s.jsonEvent != "" && s.jsonFields == len(s.Fields) {
		// jsonEvent runs from the flags' closing quote to the first
		// field's key, whose own key is then empty.
		dst = append(dst, s.jsonEvent...)
		for k := range s.jsonOps {
			o := &s.jsonOps[k]
			if o.key != "" {
				dst = append(dst, o.key...)
			}
			switch o.kind {
			case jsonScalar:
				v, ok := rec.readUint(o.off, o.size)
				switch {
				case !ok:
					dst = append(dst, "null"...)
				case o.signed:
					if x := signExtend(v, o.size); x >= 0 {
						dst = appendDec(dst, uint64(x))
					} else {
						dst = appendDec(append(dst, '-'), uint64(-x))
					}
				default:
					dst = appendDec(dst, v)
				}
			case jsonStack:
				dst = appendJSONStack(dst, rec, &s.Fields[o.idx])
			default:
				dst = appendJSONField(dst, rec, &s.Fields[o.idx])
			}
		}
		return append(dst, "}}\n"...)
	}
	// A schema not built by ParseFormat.
	dst = append(dst, `","event":"`...)
	dst = appendJSONStringBody(dst, s.System)
	dst = append(dst, ':')
	dst = appendJSONStringBody(dst, s.Name)
	dst = append(dst, `","fields":{`...)
	first := true
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.IsCommon {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, f.Name)
		dst = append(dst, ':')
		if s.special == specialKernelStack && f.Name == "caller" {
			dst = appendJSONStack(dst, rec, f)
			continue
		}
		dst = appendJSONField(dst, rec, f)
	}
	return append(dst, "}}\n"...)
}

// appendJSONPidComm appends `,"pid":N,"comm":"NAME","flags":"` (comm
// null when unknown), the part jsonHead keeps ready made.
func (d *Decoder) appendJSONPidComm(dst []byte, pid int) []byte {
	dst = append(dst, `,"pid":`...)
	dst = appendDecInt(dst, int64(pid))
	dst = append(dst, `,"comm":`...)
	if comm, ok := d.Comms.Lookup(pid); ok && pid >= 0 {
		dst = appendJSONString(dst, comm)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, `,"flags":"`...)
}

// appendJSONStamp appends `{"ts":TS,"time":"TIME","cpu":`. For a
// nanosecond clock TS is written as its seconds and nine digits of
// nanoseconds, and TIME as the rounded seconds and six digits, without a
// digit loop.
func (d *Decoder) appendJSONStamp(dst []byte, ts uint64) []byte {
	dst = append(dst, `{"ts":`...)
	secs := ts / 1e9
	if !d.nsClock || secs == 0 || secs >= 1e8 {
		dst = appendDec(dst, ts)
		dst = append(dst, `,"time":"`...)
		dst = d.appendJSONTime(dst, ts)
		return append(dst, `","cpu":`...)
	}
	m := len(dst)
	dst = appendDec(dst, secs)
	k := len(dst)
	dst = appendFixed9(dst, uint32(ts-secs*1e9))
	dst = append(dst, `,"time":"`...)
	us := (ts + 500) / 1000
	s2 := us / 1e6
	if s2 == secs {
		dst = append(dst, dst[m:k]...) // the same seconds, unless rounding carried
	} else {
		dst = appendDec(dst, s2)
	}
	dst = append(dst, '.')
	dst = appendFixed6(dst, uint32(us-s2*1e6))
	return append(dst, `","cpu":`...)
}

func (d *Decoder) appendJSONTime(dst []byte, ts uint64) []byte {
	if !d.nsClock {
		return appendDec(dst, ts)
	}
	us := (ts + 500) / 1000
	secs := us / 1000000
	dst = appendDec(dst, secs)
	dst = append(dst, '.')
	return appendFixed6(dst, uint32(us-secs*1000000))
}

// appendJSONField appends one field's value.
func appendJSONField(dst []byte, rec *Record, f *Field) []byte {
	if f.Kind == KindScalar {
		v, ok := rec.readUint(f.Offset, f.Size)
		if !ok {
			return append(dst, "null"...)
		}
		if f.Signed {
			return appendDecInt(dst, signExtend(v, f.Size))
		}
		return appendDec(dst, v)
	}
	b, ok := rec.fieldBytes(f)
	if !ok {
		return append(dst, "null"...)
	}
	if f.IsString {
		dst = append(dst, '"')
		dst = appendJSONBytesBody(dst, cstr(b))
		return append(dst, '"')
	}
	es := f.ElemSize
	if f.Kind == KindBytes || (es != 1 && es != 2 && es != 4 && es != 8) {
		es = 1
	}
	dst = append(dst, '[')
	for j := 0; j+es <= len(b); j += es {
		if j > 0 {
			dst = append(dst, ',')
		}
		v := rec.uintAt(b[j:], es)
		if f.Signed && f.Kind != KindBytes {
			dst = appendDecInt(dst, signExtend(v, es))
		} else {
			dst = appendDec(dst, v)
		}
	}
	return append(dst, ']')
}

// appendJSONStack lists a kernel_stack's entries: to the end of the record
// or a ULONG_MAX marker, as the kernel prints them.
func appendJSONStack(dst []byte, rec *Record, f *Field) []byte {
	ls := rec.longSize
	if ls != 4 && ls != 8 {
		ls = f.ElemSize
	}
	if ls != 4 && ls != 8 {
		return append(dst, "null"...)
	}
	maxv := ^uint64(0) >> (64 - 8*uint(ls))
	dst = append(dst, '[')
	for off := f.Offset; off+ls <= len(rec.Data); off += ls {
		v, _ := rec.readUint(off, ls)
		if v == maxv {
			break
		}
		if off > f.Offset {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, v, 10)
	}
	return append(dst, ']')
}

// AppendJSONString appends s as a quoted JSON string, escaped as every
// string of the JSON lines is: quote, backslash and control characters
// escaped, bytes that are not valid UTF-8 replaced by U+FFFD. The result is
// always valid JSON, whatever bytes a process put in its name or a field.
// It is the one JSON string escaper of tracer: other sinks (the tables of
// count, hist and latency) use it too.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

// appendJSONString appends s as a quoted JSON string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringBody(dst, s)
	return append(dst, '"')
}

const jsonHex = "0123456789abcdef"

// jsonPlain marks the bytes a JSON string carries as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONStringBody escapes s for a JSON string: quote, backslash and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONStringBody(dst []byte, s string) []byte {
	i := 0
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	dst = append(dst, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = appendJSONEscape(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// appendJSONBytesBody is appendJSONStringBody for bytes.
func appendJSONBytesBody(dst []byte, s []byte) []byte {
	i := 0
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	dst = append(dst, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = appendJSONEscape(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

func appendJSONEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
}
