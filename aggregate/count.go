package aggregate

import (
	"sort"

	"github.com/tracer-dev/tracer/parse"
)

// Counter counts records per key, like bpftrace's @[key] = count().
type Counter struct {
	Keyer *Keyer
	m     map[string]*uint64
	buf   []byte
	// Total is every record counted, whatever its key.
	Total uint64
	// MaxKeys bounds the table (0: no bound). Once it holds MaxKeys keys,
	// records of a new key are counted in Other instead, so memory stays
	// flat however many distinct keys arrive.
	MaxKeys int
	// Other counts the records folded out of the table by MaxKeys.
	Other uint64
}

// NewCounter returns a counter keyed by k.
func NewCounter(k *Keyer) *Counter {
	return &Counter{Keyer: k, m: map[string]*uint64{}, buf: make([]byte, 0, 256)}
}

// Add counts one record. Only a key seen for the first time allocates.
func (c *Counter) Add(r *parse.Record) {
	c.buf = c.Keyer.Append(c.buf[:0], r)
	c.Total++
	if p := c.m[string(c.buf)]; p != nil {
		*p++
		return
	}
	if c.full() {
		c.Other++
		return
	}
	n := uint64(1)
	c.m[string(c.buf)] = &n
}

func (c *Counter) full() bool { return c.MaxKeys > 0 && len(c.m) >= c.MaxKeys }

// Len returns the number of distinct keys.
func (c *Counter) Len() int { return len(c.m) }

// Reset forgets every count, for per-interval output.
func (c *Counter) Reset() {
	clear(c.m)
	c.Total, c.Other = 0, 0
}

// CountRow is one key and its count.
type CountRow struct {
	Key   []Value
	Count uint64
}

// Rows returns the counts sorted by count, highest first (ties by key), at
// most top of them when top > 0.
func (c *Counter) Rows(top int) []CountRow {
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := *c.m[keys[i]], *c.m[keys[j]]
		if a != b {
			return a > b
		}
		return keys[i] < keys[j]
	})
	if top > 0 && len(keys) > top {
		keys = keys[:top]
	}
	out := make([]CountRow, len(keys))
	for i, k := range keys {
		out[i] = CountRow{Key: c.Keyer.Decode(k), Count: *c.m[k]}
	}
	return out
}
