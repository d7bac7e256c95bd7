package aggregate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"github.com/tracer-dev/tracer/parse"
)

// Hist is a histogram of integer values with power-of-two buckets, like
// bpftrace's hist(), or linear ones, like lhist(). Adding a value is a
// little arithmetic and one increment: no allocation.
type Hist struct {
	linear           bool
	min, max, step   int64
	counts           []uint64
	Count            uint64
	Sum              int64 // wraps silently past the int64 range, like bpftrace's sum()
	MinSeen, MaxSeen int64
}

// log2Buckets: index 0 holds negative values, 1 holds 0, and k >= 2 holds
// [2^(k-2), 2^(k-1)).
const log2Buckets = 66

// NewLog2 returns an empty power-of-two histogram.
func NewLog2() *Hist { return &Hist{counts: make([]uint64, log2Buckets)} }

// NewLinear returns an empty histogram with buckets of step from min to
// max, plus one below min and one at max and above.
func NewLinear(min, max, step int64) (*Hist, error) {
	if step <= 0 {
		return nil, errors.New("linear histogram: step must be positive")
	}
	if max <= min {
		return nil, errors.New("linear histogram: max must be above min")
	}
	n := (max - min + step - 1) / step
	if n > 10000 {
		return nil, fmt.Errorf("linear histogram: %d buckets is too many (at most 10000)", n)
	}
	return &Hist{linear: true, min: min, max: max, step: step, counts: make([]uint64, n+2)}, nil
}

// ParseLinear parses "MIN,MAX,STEP".
func ParseLinear(s string) (*Hist, error) {
	p := strings.Split(s, ",")
	if len(p) != 3 {
		return nil, fmt.Errorf("linear histogram %q: want MIN,MAX,STEP", s)
	}
	var v [3]int64
	for i := range p {
		n, err := strconv.ParseInt(strings.TrimSpace(p[i]), 0, 64)
		if err != nil {
			return nil, fmt.Errorf("linear histogram %q: %w", s, err)
		}
		v[i] = n
	}
	return NewLinear(v[0], v[1], v[2])
}

// Like returns an empty histogram with the same buckets as h.
func (h *Hist) Like() *Hist {
	return &Hist{linear: h.linear, min: h.min, max: h.max, step: h.step, counts: make([]uint64, len(h.counts))}
}

func (h *Hist) bucket(v int64) int {
	if h.linear {
		switch {
		case v < h.min:
			return 0
		case v >= h.max:
			return len(h.counts) - 1
		}
		return 1 + int((v-h.min)/h.step)
	}
	if v < 0 {
		return 0
	}
	return bits.Len64(uint64(v)) + 1
}

// Add counts one value.
func (h *Hist) Add(v int64) {
	h.counts[h.bucket(v)]++
	if h.Count == 0 || v < h.MinSeen {
		h.MinSeen = v
	}
	if h.Count == 0 || v > h.MaxSeen {
		h.MaxSeen = v
	}
	h.Count++
	h.Sum += v
}

// Reset empties the histogram, keeping its buckets.
func (h *Hist) Reset() {
	clear(h.counts)
	h.Count, h.Sum, h.MinSeen, h.MaxSeen = 0, 0, 0, 0
}

// Bucket is one bucket for output. Lo and Hi are nil for an open end; Hi
// is exclusive.
type Bucket struct {
	Lo    *int64 `json:"min"`
	Hi    *int64 `json:"max"`
	Count uint64 `json:"count"`
	Label string `json:"-"`
}

// Buckets returns the buckets from the lowest to the highest non-empty
// one, as bpftrace prints them.
func (h *Hist) Buckets() []Bucket {
	first, last := -1, -1
	for i, c := range h.counts {
		if c != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	out := make([]Bucket, 0, last-first+1)
	for i := first; i <= last; i++ {
		out = append(out, h.describe(i))
	}
	return out
}

func ptr(v int64) *int64 { return &v }

func (h *Hist) describe(i int) Bucket {
	b := Bucket{Count: h.counts[i]}
	if h.linear {
		switch {
		case i == 0:
			b.Hi = ptr(h.min)
			b.Label = "(..., " + sizeLabel(h.min) + ")"
		case i == len(h.counts)-1:
			b.Lo = ptr(h.max)
			b.Label = "[" + sizeLabel(h.max) + ", ...)"
		default:
			lo := h.min + int64(i-1)*h.step
			hi := min(lo+h.step, h.max)
			b.Lo, b.Hi = ptr(lo), ptr(hi)
			b.Label = "[" + sizeLabel(lo) + ", " + sizeLabel(hi) + ")"
		}
		return b
	}
	switch i {
	case 0:
		b.Hi = ptr(0)
		b.Label = "(..., 0)"
	case 1:
		b.Lo, b.Hi = ptr(0), ptr(1)
		b.Label = "[0]"
	case 2:
		b.Lo, b.Hi = ptr(1), ptr(2)
		b.Label = "[1]"
	default:
		lo := int64(1) << (i - 2)
		b.Lo = ptr(lo)
		if i-1 < 63 {
			hi := int64(1) << (i - 1)
			b.Hi = ptr(hi)
			b.Label = "[" + sizeLabel(lo) + ", " + sizeLabel(hi) + ")"
		} else {
			b.Label = "[" + sizeLabel(lo) + ", ...)"
		}
	}
	return b
}

// sizeLabel prints a bucket bound the way bpftrace does: with a K, M, G,
// T, P or E suffix when it is an exact multiple of a power of 1024.
func sizeLabel(v int64) string {
	if v == math.MinInt64 || v == 0 {
		return strconv.FormatInt(v, 10)
	}
	neg := v < 0
	u := v
	if neg {
		u = -v
	}
	suffix := ""
	for _, s := range []string{"K", "M", "G", "T", "P", "E"} {
		if u%1024 != 0 {
			break
		}
		u /= 1024
		suffix = s
	}
	if neg {
		u = -u
	}
	return strconv.FormatInt(u, 10) + suffix
}

// barWidth is bpftrace's bar width.
const barWidth = 52

// Write draws the histogram like bpftrace: one line per bucket, with its
// range, count and a bar of '@' scaled to the largest bucket.
func (h *Hist) Write(w io.Writer) error {
	bs := h.Buckets()
	var peak uint64
	for _, b := range bs {
		peak = max(peak, b.Count)
	}
	var sb strings.Builder
	for _, b := range bs {
		n := 0
		if peak > 0 {
			n = int(b.Count * barWidth / peak)
		}
		fmt.Fprintf(&sb, "%-20s %8d |%s%s|\n", b.Label, b.Count, strings.Repeat("@", n), strings.Repeat(" ", barWidth-n))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// KeyedHist holds one histogram per key (or a single one with a nil
// Keyer), filled with one field of the records or with values given
// directly (latencies).
type KeyedHist struct {
	Keyer *Keyer
	Field string
	proto *Hist
	m     map[string]*Hist
	buf   []byte

	lastS  *parse.Schema
	lastI  int
	fieldI map[*parse.Schema]int
	// Missing counts records whose event has no such field.
	Missing uint64
	// MaxKeys bounds the number of keys (0: no bound). Once there are
	// MaxKeys histograms, values of a new key go to Other instead.
	MaxKeys int
	// Other holds the values folded out by MaxKeys; nil until one is.
	Other *Hist
}

// NewKeyedHist returns histograms shaped like proto, keyed by k (nil: one
// histogram), of the named field (for AddRecord).
func NewKeyedHist(proto *Hist, k *Keyer, field string) *KeyedHist {
	return &KeyedHist{Keyer: k, Field: field, proto: proto, m: map[string]*Hist{}, fieldI: map[*parse.Schema]int{}}
}

// AddRecord adds the value of the field of r under r's key.
func (kh *KeyedHist) AddRecord(r *parse.Record) {
	if r.Schema == nil {
		return
	}
	if r.Schema != kh.lastS {
		i, ok := kh.fieldI[r.Schema]
		if !ok {
			i = r.Schema.FieldIndex(kh.Field)
			kh.fieldI[r.Schema] = i
		}
		kh.lastS, kh.lastI = r.Schema, i
	}
	if kh.lastI < 0 {
		kh.Missing++
		return
	}
	kh.AddValue(r, r.Int(kh.lastI))
}

// AddValue adds v under r's key (r may be nil without a Keyer).
func (kh *KeyedHist) AddValue(r *parse.Record, v int64) {
	kh.buf = kh.buf[:0]
	if kh.Keyer != nil && r != nil {
		kh.buf = kh.Keyer.Append(kh.buf, r)
	}
	kh.hist().Add(v)
}

// hist returns the histogram of the key in kh.buf: a new one for a new
// key, or Other when the table is full.
func (kh *KeyedHist) hist() *Hist {
	if h := kh.m[string(kh.buf)]; h != nil {
		return h
	}
	if kh.MaxKeys > 0 && len(kh.m) >= kh.MaxKeys {
		if kh.Other == nil {
			kh.Other = kh.proto.Like()
		}
		return kh.Other
	}
	h := kh.proto.Like()
	kh.m[string(kh.buf)] = h
	return h
}

// Len returns the number of keys held (Other not included).
func (kh *KeyedHist) Len() int { return len(kh.m) }

// Reset forgets everything, for per-interval output.
func (kh *KeyedHist) Reset() {
	clear(kh.m)
	kh.Other = nil
}

// HistRow is one key's histogram.
type HistRow struct {
	Key  []Value
	Hist *Hist
}

// Rows returns the histograms, the busiest first, at most top when top > 0.
func (kh *KeyedHist) Rows(top int) []HistRow {
	keys := make([]string, 0, len(kh.m))
	for k := range kh.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := kh.m[keys[i]].Count, kh.m[keys[j]].Count
		if a != b {
			return a > b
		}
		return keys[i] < keys[j]
	})
	if top > 0 && len(keys) > top {
		keys = keys[:top]
	}
	out := make([]HistRow, len(keys))
	for i, k := range keys {
		var key []Value
		if kh.Keyer != nil {
			key = kh.Keyer.Decode(k)
		}
		out[i] = HistRow{Key: key, Hist: kh.m[k]}
	}
	return out
}

// NumBuckets returns the number of buckets of h's shape, empty ones
// included (for exporters that need every bound, not only the non-empty).
func (h *Hist) NumBuckets() int { return len(h.counts) }

// BucketCount returns the count of bucket i (0 <= i < NumBuckets).
func (h *Hist) BucketCount(i int) uint64 { return h.counts[i] }

// BucketHi returns the exclusive upper bound of bucket i, and false for
// the open top bucket.
func (h *Hist) BucketHi(i int) (int64, bool) {
	b := h.describe(i)
	if b.Hi == nil {
		return 0, false
	}
	return *b.Hi, true
}
