package aggregate

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tracer-dev/tracer/parse"
)

// KernelHist is the parsed text of an event's hist file: the entries of a
// kernel hist trigger and its totals.
type KernelHist struct {
	Entries []KernelEntry
	Hits    uint64
	Dropped uint64 // events the kernel's table had no room for
	NEntry  uint64 // "Entries:" as the kernel reports it
}

// KernelEntry is one line of a hist file: its keys in trigger order and
// its values ("hitcount" first).
type KernelEntry struct {
	Keys []KernelKey
	Vals []KernelVal
}

// KernelKey is one key of an entry as printed, e.g. {"common_pid", "1234"}
// or, for .execname, {"common_pid", "bash            [      1234]"}.
type KernelKey struct{ Name, Raw string }

// KernelVal is one value of an entry.
type KernelVal struct {
	Name string
	Val  uint64
}

// Hitcount returns the entry's hitcount (0 if absent).
func (e *KernelEntry) Hitcount() uint64 {
	for _, v := range e.Vals {
		if v.Name == "hitcount" {
			return v.Val
		}
	}
	return 0
}

// Int returns a numeric key. The kernel prints keys as unsigned 64-bit
// numbers of the sign-extended field, so negative values come back right.
func (k KernelKey) Int() (int64, error) {
	s := strings.TrimSpace(k.Raw)
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return int64(u), nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("hist key %s: %q is not a number", k.Name, k.Raw)
	}
	return v, nil
}

// Str returns a string key without the kernel's padding.
func (k KernelKey) Str() string { return strings.TrimRight(k.Raw, " ") }

// ExecName splits a .execname key ("comm [pid]").
func (k KernelKey) ExecName() (comm string, pid int64, err error) {
	i := strings.LastIndexByte(k.Raw, '[')
	j := strings.LastIndexByte(k.Raw, ']')
	if i < 0 || j < i {
		return "", 0, fmt.Errorf("hist key %s: %q is not \"comm [pid]\"", k.Name, k.Raw)
	}
	pid, err = strconv.ParseInt(strings.TrimSpace(k.Raw[i+1:j]), 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("hist key %s: %q: bad pid", k.Name, k.Raw)
	}
	return strings.TrimSpace(k.Raw[:i]), pid, nil
}

// keySep finds the start of the next key inside "{ ... }": ", name: ".
var keySep = regexp.MustCompile(`, ([A-Za-z_][A-Za-z0-9_.]*): `)

// ParseKernelHist parses an event's hist file as Linux 4.7+ prints it:
//
//	{ common_pid:       1234 } hitcount:          5
//	...
//	Totals:
//	    Hits: 8
//	    Entries: 2
//	    Dropped: 0
//
// Comment lines (#) and blank lines are skipped.
func ParseKernelHist(text []byte) (*KernelHist, error) {
	h := &KernelHist{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		t := strings.TrimSpace(l)
		switch {
		case t == "" || t[0] == '#' || t == "Totals:":
			continue
		case strings.HasPrefix(t, "Hits:"):
			h.Hits, _ = strconv.ParseUint(strings.TrimSpace(t[5:]), 10, 64)
			continue
		case strings.HasPrefix(t, "Entries:"):
			h.NEntry, _ = strconv.ParseUint(strings.TrimSpace(t[8:]), 10, 64)
			continue
		case strings.HasPrefix(t, "Dropped:"):
			h.Dropped, _ = strconv.ParseUint(strings.TrimSpace(t[8:]), 10, 64)
			continue
		case !strings.HasPrefix(t, "{ "):
			return nil, fmt.Errorf("hist line %d: unexpected %q", line, l)
		}
		end := strings.LastIndex(t, " }")
		if end < 0 {
			return nil, fmt.Errorf("hist line %d: no closing brace in %q", line, l)
		}
		e, err := parseKeys(t[2:end])
		if err != nil {
			return nil, fmt.Errorf("hist line %d: %w", line, err)
		}
		f := strings.Fields(t[end+2:])
		for i := 0; i+1 < len(f); i += 2 {
			name := strings.TrimSuffix(f[i], ":")
			v, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("hist line %d: value %s: %q is not a number", line, name, f[i+1])
			}
			e.Vals = append(e.Vals, KernelVal{Name: name, Val: v})
		}
		h.Entries = append(h.Entries, e)
	}
	return h, sc.Err()
}

func parseKeys(s string) (KernelEntry, error) {
	var e KernelEntry
	for {
		c := strings.Index(s, ": ")
		if c < 0 {
			return e, fmt.Errorf("no key in %q", s)
		}
		name, rest := s[:c], s[c+2:]
		// .execname prints "%-16s[%10llu]": a comm (at most 15 bytes, any
		// characters) is taken by width, never by searching separators.
		end := -1
		if n := execNameLen(rest); n > 0 {
			end = n
			if end < len(rest) && !strings.HasPrefix(rest[end:], ", ") {
				return e, fmt.Errorf("key %s: junk after %q", name, rest[:end])
			}
		} else if m := keySep.FindStringIndex(rest); m != nil {
			end = m[0]
		}
		if end < 0 || end >= len(rest) {
			e.Keys = append(e.Keys, KernelKey{Name: name, Raw: strings.TrimLeft(rest, " ")})
			return e, nil
		}
		e.Keys = append(e.Keys, KernelKey{Name: name, Raw: strings.TrimLeft(rest[:end], " ")})
		s = rest[end+2:]
	}
}

// execNameLen returns the length of a leading "comm            [       pid]",
// or 0.
func execNameLen(s string) int {
	if len(s) < 28 || s[16] != '[' {
		return 0
	}
	j := strings.IndexByte(s[17:], ']')
	if j < 10 {
		return 0
	}
	for _, r := range s[17 : 17+j] {
		if r != ' ' && (r < '0' || r > '9') {
			return 0
		}
	}
	return 17 + j + 1
}

// KernelPlan maps a Keyer's keys (and optionally one numeric field, for
// histograms) onto the keys of a hist trigger on one event, and decodes
// the kernel's entries back into the same keys the user-space path builds.
type KernelPlan struct {
	// Keys are the trigger's keys, e.g. ["common_pid.execname", "fd"].
	Keys  []string
	parts []planPart
	value int // index in Keys of the histogrammed field, -1 for none
}

type planSrc uint8

const (
	srcConst planSrc = iota
	srcInt
	srcStr
	srcExecComm
	srcExecPID
)

type planPart struct {
	src   planSrc
	key   int // index in the trigger's keys
	value Value
}

// KernelPlan returns the trigger keys for event s. k may be nil (one
// histogram); field, if not "", is appended as a raw-value key so that
// user space buckets exactly as it does for records (the kernel's .log2
// rounds up and would shift powers of two to the bucket below).
func (k *Keyer) KernelPlan(s *parse.Schema, field string) (*KernelPlan, error) {
	p := &KernelPlan{value: -1}
	add := func(name string) int {
		for i, n := range p.Keys {
			if n == name {
				return i
			}
		}
		p.Keys = append(p.Keys, name)
		return len(p.Keys) - 1
	}
	pidKey := func(exec bool) int {
		// One common_pid key serves both comm and pid: .execname prints both.
		for i, n := range p.Keys {
			if n == "common_pid" || n == "common_pid.execname" {
				if exec && n == "common_pid" {
					p.Keys[i] = "common_pid.execname"
					for j := range p.parts {
						if p.parts[j].key == i && p.parts[j].src == srcInt {
							p.parts[j].src = srcExecPID
						}
					}
				}
				return i
			}
		}
		if exec {
			return add("common_pid.execname")
		}
		return add("common_pid")
	}
	if k != nil {
		for i, kind := range k.kinds {
			switch kind {
			case KeyComm:
				p.parts = append(p.parts, planPart{src: srcExecComm, key: pidKey(true)})
			case KeyPID:
				j := pidKey(false)
				src := srcInt
				if p.Keys[j] == "common_pid.execname" {
					src = srcExecPID
				}
				p.parts = append(p.parts, planPart{src: src, key: j})
			case KeyCPU:
				p.parts = append(p.parts, planPart{src: srcInt, key: add("common_cpu")})
			case KeyEvent:
				p.parts = append(p.parts, planPart{src: srcConst, value: Value{IsStr: true, Str: s.FullName()}})
			default:
				j := s.FieldIndex(k.names[i])
				if j < 0 {
					p.parts = append(p.parts, planPart{src: srcConst, value: Value{IsStr: true, Str: "-"}})
					continue
				}
				f := &s.Fields[j]
				switch {
				case f.IsString:
					p.parts = append(p.parts, planPart{src: srcStr, key: add(f.Name)})
				case f.Kind == parse.KindScalar:
					p.parts = append(p.parts, planPart{src: srcInt, key: add(f.Name)})
				default:
					return nil, fmt.Errorf("key %q: field of %s is neither a number nor a string; the kernel cannot key on it", f.Name, s.FullName())
				}
			}
		}
	}
	if field != "" {
		j := s.FieldIndex(field)
		if j < 0 || s.Fields[j].Kind != parse.KindScalar {
			return nil, fmt.Errorf("field %q: %s has no such numeric field", field, s.FullName())
		}
		// A separate key even if it is also a --by key: the kernel refuses
		// duplicate keys, so reuse the index then.
		p.value = add(field)
	}
	if len(p.Keys) == 0 {
		// A trigger needs a key; every event has a cpu.
		add("common_cpu")
	}
	return p, nil
}

// Key decodes an entry's keys into the Keyer's values.
func (p *KernelPlan) Key(e *KernelEntry, out []Value) ([]Value, error) {
	out = out[:0]
	for _, pt := range p.parts {
		if pt.src == srcConst {
			out = append(out, pt.value)
			continue
		}
		if pt.key >= len(e.Keys) {
			return nil, fmt.Errorf("hist entry has %d keys, want %d", len(e.Keys), len(p.Keys))
		}
		kk := e.Keys[pt.key]
		switch pt.src {
		case srcInt:
			v, err := kk.Int()
			if err != nil {
				return nil, err
			}
			out = append(out, Value{Int: v})
		case srcStr:
			out = append(out, Value{IsStr: true, Str: kk.Str()})
		case srcExecComm, srcExecPID:
			comm, pid, err := kk.ExecName()
			if err != nil {
				return nil, err
			}
			if pt.src == srcExecComm {
				out = append(out, Value{IsStr: true, Str: comm})
			} else {
				out = append(out, Value{Int: pid})
			}
		}
	}
	return out, nil
}

// Value returns the histogrammed field of an entry.
func (p *KernelPlan) Value(e *KernelEntry) (int64, error) {
	if p.value < 0 || p.value >= len(e.Keys) {
		return 0, fmt.Errorf("hist entry has no value key")
	}
	return e.Keys[p.value].Int()
}

// appendValues encodes decoded values the way Keyer.Append encodes a
// record's key, so that both paths share maps, sorting and Decode.
func appendValues(buf []byte, vals []Value) []byte {
	for _, v := range vals {
		if v.IsStr {
			if v.Str == "-" {
				buf = append(buf, tagAbsent)
				continue
			}
			buf = appendStr(buf, v.Str)
		} else {
			buf = appendInt(buf, v.Int)
		}
	}
	return buf
}

// AddKey adds n to the count of an already decoded key (from a kernel hist).
func (c *Counter) AddKey(key []Value, n uint64) {
	c.buf = appendValues(c.buf[:0], key)
	c.Total += n
	if p := c.m[string(c.buf)]; p != nil {
		*p += n
		return
	}
	if c.full() {
		c.Other += n
		return
	}
	v := n
	c.m[string(c.buf)] = &v
}

// AddN counts the value v n times.
func (h *Hist) AddN(v int64, n uint64) {
	if n == 0 {
		return
	}
	h.counts[h.bucket(v)] += n
	if h.Count == 0 || v < h.MinSeen {
		h.MinSeen = v
	}
	if h.Count == 0 || v > h.MaxSeen {
		h.MaxSeen = v
	}
	h.Count += n
	h.Sum += v * int64(n)
}

// AddValueN adds v n times under an already decoded key (from a kernel hist).
func (kh *KeyedHist) AddValueN(key []Value, v int64, n uint64) {
	kh.buf = appendValues(kh.buf[:0], key)
	kh.hist().AddN(v, n)
}
