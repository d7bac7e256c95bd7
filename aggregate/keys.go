// Package aggregate turns a stream of decoded records into summaries:
// counts per key, histograms, latencies between paired events, and bounded
// joins by thread. It is pure code over parse.Record, so every bucket and
// eviction rule is tested without a kernel; the commands feed it live.
package aggregate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tracer-dev/tracer/parse"
)

// KeyKind says where a key's value comes from.
type KeyKind uint8

// The key kinds: an event field by name, or the record's context.
const (
	KeyField KeyKind = iota
	KeyComm          // the task's command name, at the time the key is built
	KeyPID           // common_pid: the kernel's pid, that is the thread id
	KeyCPU
	KeyEvent // "system:event"
)

// Value is one part of a decoded key, for output: a number or a string.
type Value struct {
	IsStr bool
	Int   int64
	Str   string
}

func (v Value) String() string {
	if v.IsStr {
		return parse.EscapeText(v.Str) // a comm or path with \n or ESC must not split a row
	}
	return strconv.FormatInt(v.Int, 10)
}

// MarshalJSON writes numbers as numbers and strings as strings, escaped
// like record --json (parse.AppendJSONString): a key holding control
// bytes or invalid UTF-8 still gives valid JSON.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.IsStr {
		return parse.AppendJSONString(nil, v.Str), nil
	}
	return strconv.AppendInt(nil, v.Int, 10), nil
}

// Tags in the encoded key: each part starts with one, so that keys of
// different kinds never compare equal by accident.
const (
	tagInt    = 'i'
	tagStr    = 's'
	tagAbsent = '-'
)

// Keyer builds compact binary keys from records. Names are resolved to
// field indexes once per schema; per record it only reads fields and
// appends bytes, so the caller's map lookup is the only cost that grows
// with the number of keys.
type Keyer struct {
	names []string
	kinds []KeyKind
	// Comm resolves a pid to its command name for the comm key; nil
	// renders comm as the pid's number.
	Comm func(pid int) string

	last    *parse.Schema
	lastIdx []int
	cache   map[*parse.Schema][]int
	events  map[int]string // schema ID -> name, for output of the event key
}

// ErrNoKeys is returned for an empty key list.
var ErrNoKeys = errors.New("no keys given")

// NewKeyer parses key names: comm, pid, cpu, event, or any field name.
func NewKeyer(names []string) (*Keyer, error) {
	k := &Keyer{cache: map[*parse.Schema][]int{}, events: map[int]string{}}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		kind := KeyField
		switch n {
		case "comm":
			kind = KeyComm
		case "pid", "tid":
			kind = KeyPID
		case "cpu":
			kind = KeyCPU
		case "event":
			kind = KeyEvent
		}
		k.names = append(k.names, n)
		k.kinds = append(k.kinds, kind)
	}
	if len(k.names) == 0 {
		return nil, ErrNoKeys
	}
	return k, nil
}

// Names returns the key names, as given.
func (k *Keyer) Names() []string { return k.names }

// Check reports key fields that the schema lacks, so that a typo fails
// before tracing starts instead of giving an empty table.
func (k *Keyer) Check(s *parse.Schema) error {
	for i, n := range k.names {
		if k.kinds[i] == KeyField && s.FieldIndex(n) < 0 {
			return fmt.Errorf("key %q: event %s has no such field (fields: %s)", n, s.FullName(), fieldNames(s))
		}
	}
	return nil
}

func fieldNames(s *parse.Schema) string {
	var out []string
	for _, f := range s.Fields {
		if !f.IsCommon {
			out = append(out, f.Name)
		}
	}
	return strings.Join(out, ", ")
}

func (k *Keyer) indexes(s *parse.Schema) []int {
	if s == k.last {
		return k.lastIdx
	}
	idx, ok := k.cache[s]
	if !ok {
		idx = make([]int, len(k.names))
		for i, n := range k.names {
			idx[i] = -1
			if k.kinds[i] == KeyField {
				idx[i] = s.FieldIndex(n)
			}
		}
		k.cache[s] = idx
		k.events[s.ID] = s.FullName()
	}
	k.last, k.lastIdx = s, idx
	return idx
}

// Append appends the key of r to buf. A field the record's event lacks
// encodes as absent (shown as "-"), so events of several kinds can share a
// table.
func (k *Keyer) Append(buf []byte, r *parse.Record) []byte {
	if r.Schema == nil {
		return buf
	}
	idx := k.indexes(r.Schema)
	for i, kind := range k.kinds {
		switch kind {
		case KeyComm:
			if k.Comm != nil {
				buf = appendStr(buf, k.Comm(r.PID()))
			} else {
				buf = appendInt(buf, int64(r.PID()))
			}
		case KeyPID:
			buf = appendInt(buf, int64(r.PID()))
		case KeyCPU:
			buf = appendInt(buf, int64(r.CPU))
		case KeyEvent:
			buf = appendInt(buf, int64(r.Schema.ID))
		default:
			j := idx[i]
			if j < 0 {
				buf = append(buf, tagAbsent)
				continue
			}
			f := &r.Schema.Fields[j]
			switch {
			case f.IsString:
				buf = appendStrBytes(buf, r.Str(j))
			case f.Kind == parse.KindScalar:
				buf = appendInt(buf, r.Int(j))
			default:
				b, _ := r.Bytes(j)
				buf = appendStrBytes(buf, b)
			}
		}
	}
	return buf
}

func appendInt(buf []byte, v int64) []byte {
	buf = append(buf, tagInt)
	return binary.LittleEndian.AppendUint64(buf, uint64(v))
}

func appendStr(buf []byte, s string) []byte {
	buf = append(buf, tagStr)
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendStrBytes(buf []byte, s []byte) []byte {
	buf = append(buf, tagStr)
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// Decode turns an encoded key back into its values, for output. The event
// key becomes the event's name.
func (k *Keyer) Decode(key string) []Value {
	out := make([]Value, 0, len(k.kinds))
	b := []byte(key)
	for i := 0; i < len(k.kinds) && len(b) > 0; i++ {
		switch b[0] {
		case tagInt:
			if len(b) < 9 {
				return out
			}
			v := int64(binary.LittleEndian.Uint64(b[1:9]))
			b = b[9:]
			if k.kinds[i] == KeyEvent {
				name, ok := k.events[int(v)]
				if !ok {
					name = "id " + strconv.FormatInt(v, 10)
				}
				out = append(out, Value{IsStr: true, Str: name})
				continue
			}
			out = append(out, Value{Int: v})
		case tagStr:
			n, w := binary.Uvarint(b[1:])
			if w <= 0 || uint64(len(b)-1-w) < n {
				return out
			}
			out = append(out, Value{IsStr: true, Str: string(b[1+w : 1+w+int(n)])})
			b = b[1+w+int(n):]
		default:
			out = append(out, Value{IsStr: true, Str: "-"})
			b = b[1:]
		}
	}
	return out
}
