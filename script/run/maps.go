package run

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/script"
)

// Map is one bpftrace map: a bounded table of entries by key.
type Map struct {
	name  string
	info  *script.MapInfo
	t     *aggregate.Bounded[mkey, *entry]
	proto *aggregate.Hist // hist() and lhist(): the buckets of every entry
}

// entry is one map value. Which fields mean what depends on the map's
// kind: v for plain values; count for count(); count and sum for sum(),
// avg() and stats(); sum as the extreme for min() and max(); h for
// histograms.
type entry struct {
	v     Value
	count int64
	sum   int64
	h     *aggregate.Hist
}

func (m *Map) setup() error {
	switch m.info.Kind {
	case script.MapHist:
		m.proto = aggregate.NewLog2()
	case script.MapLhist:
		a := m.info.Agg.Args
		var v [3]int64
		for i := 0; i < 3; i++ {
			lit, ok := a[i+1].(*script.IntLit)
			if !ok {
				return fmt.Errorf("lhist(): min, max and step must be integer literals")
			}
			v[i] = int64(lit.Value)
		}
		h, err := aggregate.NewLinear(v[0], v[1], v[2])
		if err != nil {
			return fmt.Errorf("lhist(): %w", err)
		}
		m.proto = h
	}
	return nil
}

// entry returns the entry for k, creating it (the only allocation of a
// count: once per new key).
func (m *Map) entry(k *mkey) *entry {
	if e, ok := m.t.Get(*k); ok {
		return e
	}
	e := &entry{}
	if m.info != nil && m.info.Kind == script.MapString {
		e.v.K = kStr
	}
	m.t.Put(*k, e)
	return e
}

func (e *entry) hist(m *Map) *aggregate.Hist {
	if e.h == nil {
		e.h = m.proto.Like()
	}
	return e.h
}

// zero is what reading a missing entry gives.
func (m *Map) zero() Value {
	if m.info != nil && m.info.Kind == script.MapString {
		return strV("")
	}
	return intV(0)
}

// value is what reading the entry gives (@x in an expression).
func (e *entry) value(m *Map) Value {
	if m.info == nil {
		return e.v
	}
	switch m.info.Kind {
	case script.MapCount:
		return intV(e.count)
	case script.MapSum, script.MapMin, script.MapMax:
		return intV(e.sum)
	case script.MapAvg:
		if e.count == 0 {
			return intV(0)
		}
		return intV(e.sum / e.count)
	case script.MapStats:
		return intV(e.count)
	}
	if e.v.K == kNone {
		return intV(0)
	}
	return e.v
}

func (m *Map) zeroAll() {
	m.t.Range(func(_ mkey, e *entry) bool {
		e.v = m.zero()
		e.count, e.sum = 0, 0
		if e.h != nil {
			e.h.Reset()
		}
		return true
	})
}

type row struct {
	k mkey
	e *entry
}

// sorted returns the entries in bpftrace's print order: by value (the
// average for avg() and stats(), the total for histograms), ties by key.
func (m *Map) sorted() []row {
	var rows []row
	m.t.Range(func(k mkey, e *entry) bool {
		rows = append(rows, row{k, e})
		return true
	})
	sortVal := func(r row) Value {
		switch m.info.Kind {
		case script.MapHist, script.MapLhist:
			if r.e.h == nil {
				return intV(0)
			}
			return intV(int64(r.e.h.Count))
		case script.MapStats:
			if r.e.count == 0 {
				return intV(0)
			}
			return intV(r.e.sum / r.e.count)
		case script.MapString:
			return Value{}
		}
		return r.e.value(m)
	}
	sort.Slice(rows, func(i, j int) bool {
		if c := compareValues(sortVal(rows[i]), sortVal(rows[j])); c != 0 {
			return c < 0
		}
		return compareKeys(&rows[i].k, &rows[j].k) < 0
	})
	return rows
}

// printMap appends the map to rt.buf in the text or JSON format.
func (rt *Runtime) printMap(m *Map) {
	rows := m.sorted()
	if rt.opts.JSON {
		rt.buf = m.appendJSON(rt.buf, rows)
		return
	}
	b := rt.buf
	kind := m.info.Kind
	for _, r := range rows {
		b = append(b, '@')
		b = append(b, m.name...)
		b = appendKeyText(b, &r.k)
		b = append(b, ": "...)
		switch kind {
		case script.MapHist, script.MapLhist:
			b = append(b, '\n')
			if r.e.h != nil {
				b = appendHist(b, r.e.h)
			}
			b = append(b, '\n')
			continue
		case script.MapStats:
			avg := int64(0)
			if r.e.count > 0 {
				avg = r.e.sum / r.e.count
			}
			b = fmt.Appendf(b, "count %d, average %d, total %d", r.e.count, avg, r.e.sum)
		default:
			b = r.e.value(m).appendText(b)
		}
		b = append(b, '\n')
	}
	if kind == script.MapAvg || kind == script.MapStats {
		b = append(b, '\n') // bpftrace ends these maps with a blank line
	}
	rt.buf = b
}

func appendKeyText(b []byte, k *mkey) []byte {
	if k.n == 0 {
		return b
	}
	b = append(b, '[')
	for i := 0; i < int(k.n); i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = k.v[i].appendText(b)
	}
	return append(b, ']')
}

// appendHist draws a histogram as bpftrace 0.17 does: the bucket label
// left in 16 columns, the count right in the next 8, and a bar of up to
// 52 '@'.
func appendHist(b []byte, h *aggregate.Hist) []byte {
	bs := h.Buckets()
	var peak uint64
	for _, x := range bs {
		peak = max(peak, x.Count)
	}
	for _, x := range bs {
		n := 0
		if peak > 0 {
			n = int(x.Count * 52 / peak)
		}
		b = fmt.Appendf(b, "%-16s%8d |%s%s|\n", x.Label, x.Count, strings.Repeat("@", n), strings.Repeat(" ", 52-n))
	}
	return b
}

// appendJSON renders the map as one bpftrace JSON line.
func (m *Map) appendJSON(b []byte, rows []row) []byte {
	typ := "map"
	switch m.info.Kind {
	case script.MapHist, script.MapLhist:
		typ = "hist"
	case script.MapAvg, script.MapStats:
		typ = "stats"
	}
	b = append(b, `{"type": "`...)
	b = append(b, typ...)
	b = append(b, `", "data": {`...)
	b = appendJSONString(b, "@"+m.name)
	b = append(b, ": "...)
	keyed := len(rows) > 0 && rows[0].k.n > 0
	if keyed {
		b = append(b, '{')
	}
	for i, r := range rows {
		if keyed {
			if i > 0 {
				b = append(b, ", "...)
			}
			var ks []byte
			for j := 0; j < int(r.k.n); j++ {
				if j > 0 {
					ks = append(ks, ',')
				}
				ks = r.k.v[j].appendText(ks)
			}
			b = appendJSONString(b, string(ks))
			b = append(b, ": "...)
		}
		switch m.info.Kind {
		case script.MapHist, script.MapLhist:
			b = appendHistJSON(b, r.e.h)
		case script.MapStats:
			avg := int64(0)
			if r.e.count > 0 {
				avg = r.e.sum / r.e.count
			}
			b = fmt.Appendf(b, `{"count": %d, "average": %d, "total": %d}`, r.e.count, avg, r.e.sum)
		default:
			b = r.e.value(m).appendJSON(b)
		}
		if !keyed {
			break
		}
	}
	if keyed {
		b = append(b, '}')
	}
	return append(b, "}}\n"...)
}

// appendHistJSON lists the buckets; bpftrace's max is inclusive.
func appendHistJSON(b []byte, h *aggregate.Hist) []byte {
	b = append(b, '[')
	if h != nil {
		for i, x := range h.Buckets() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, '{')
			if x.Lo != nil {
				b = append(b, `"min": `...)
				b = strconv.AppendInt(b, *x.Lo, 10)
				b = append(b, ", "...)
			}
			if x.Hi != nil {
				b = append(b, `"max": `...)
				b = strconv.AppendInt(b, *x.Hi-1, 10)
				b = append(b, ", "...)
			}
			b = append(b, `"count": `...)
			b = strconv.AppendUint(b, x.Count, 10)
			b = append(b, '}')
		}
	}
	return append(b, ']')
}
