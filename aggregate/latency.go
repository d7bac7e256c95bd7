package aggregate

import (
	"hash/fnv"

	"github.com/tracer-dev/tracer/parse"
)

// Pairer matches START and END records by a key (the thread id unless a
// field is named) and yields the time between them. In-flight STARTs live
// in a bounded table, so a stream of STARTs whose ENDs were lost cannot
// grow memory: the oldest is evicted and counted.
type Pairer struct {
	start, end *parse.Schema // nil: decided by Classify's caller
	keyField   string
	idx        map[*parse.Schema]int
	table      *Bounded[uint64, uint64]
	// Matched counts STARTs paired with an END.
	Matched uint64
	// UnmatchedEnd counts ENDs with no START in the table (the START came
	// before tracing began, was lost, or was evicted).
	UnmatchedEnd uint64
	// Negative counts pairs whose END was stamped before the START (clock
	// skew between CPUs); they are dropped.
	Negative uint64
}

// NewPairer returns a pairer keyed by the named field of both events, or
// by the thread id when keyField is "" (or "pid"/"tid"), holding at most
// capacity pending STARTs.
func NewPairer(keyField string, capacity int) *Pairer {
	if keyField == "pid" || keyField == "tid" {
		keyField = ""
	}
	return &Pairer{keyField: keyField, idx: map[*parse.Schema]int{}, table: NewBounded[uint64, uint64](capacity)}
}

// key returns the pairing key of r; ok is false when r's event lacks the
// key field.
func (p *Pairer) key(r *parse.Record) (uint64, bool) {
	if p.keyField == "" {
		return uint64(uint32(r.PID())), true
	}
	i, ok := p.idx[r.Schema]
	if !ok {
		i = r.Schema.FieldIndex(p.keyField)
		p.idx[r.Schema] = i
	}
	if i < 0 {
		return 0, false
	}
	f := &r.Schema.Fields[i]
	if f.Kind == parse.KindScalar {
		return r.Uint(i), true
	}
	b, _ := r.Bytes(i)
	if f.IsString {
		b = r.Str(i)
	}
	h := fnv.New64a() // strings are keyed by hash; a collision pairs two keys, at odds of 2^-64
	h.Write(b)
	return h.Sum64(), true
}

// Start records a START.
func (p *Pairer) Start(r *parse.Record) {
	if k, ok := p.key(r); ok {
		p.table.Put(k, r.TS)
	}
}

// End pairs an END with its START and returns the elapsed trace-clock
// time; ok is false when there was no START for it.
func (p *Pairer) End(r *parse.Record) (delta uint64, ok bool) {
	k, ok := p.key(r)
	if !ok {
		p.UnmatchedEnd++
		return 0, false
	}
	ts, ok := p.table.Take(k)
	if !ok {
		p.UnmatchedEnd++
		return 0, false
	}
	if r.TS < ts {
		p.Negative++
		return 0, false
	}
	p.Matched++
	return r.TS - ts, true
}

// Evicted counts STARTs pushed out of the full table.
func (p *Pairer) Evicted() uint64 { return p.table.Evicted }

// Restarted counts STARTs that replaced a pending START of the same key
// (the END of the first was never seen).
func (p *Pairer) Restarted() uint64 { return p.table.Replaced }

// Pending returns the STARTs still waiting for their END.
func (p *Pairer) Pending() int { return p.table.Len() }
