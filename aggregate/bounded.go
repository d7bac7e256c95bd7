package aggregate

// Bounded is a map with a fixed capacity that evicts its oldest entry when
// full. It holds the in-flight half of a join (a START waiting for its END,
// a file name waiting for its open's result): when the other half never
// comes (lost events, a thread killed mid-syscall), memory stays flat and
// the evictions are counted instead.
type Bounded[K comparable, V any] struct {
	cap   int
	m     map[K]boundedEntry[V]
	order []boundedSlot[K] // insertion order; stale slots are skipped
	head  int
	seq   uint64
	// Evicted counts entries pushed out because the table was full.
	Evicted uint64
	// Replaced counts Puts that found an entry for the key still there
	// (its other half never came; the new one wins).
	Replaced uint64
}

type boundedEntry[V any] struct {
	v   V
	seq uint64
}

type boundedSlot[K comparable] struct {
	k   K
	seq uint64
}

// NewBounded returns a table holding at most capacity entries (at least 1).
func NewBounded[K comparable, V any](capacity int) *Bounded[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	return &Bounded[K, V]{cap: capacity, m: make(map[K]boundedEntry[V], min(capacity, 1<<16))}
}

// Put stores v under k, evicting the oldest entry if the table is full.
func (b *Bounded[K, V]) Put(k K, v V) {
	b.seq++
	if _, ok := b.m[k]; ok {
		b.Replaced++
	} else if len(b.m) >= b.cap {
		b.evictOldest()
	}
	b.m[k] = boundedEntry[V]{v: v, seq: b.seq}
	b.order = append(b.order, boundedSlot[K]{k: k, seq: b.seq})
	b.compact()
}

// Take returns and removes the entry for k.
func (b *Bounded[K, V]) Take(k K) (V, bool) {
	e, ok := b.m[k]
	if ok {
		delete(b.m, k)
	}
	return e.v, ok
}

// Get returns the entry for k and leaves it in place. The pointer is valid
// until the next Put or Take.
func (b *Bounded[K, V]) Get(k K) (V, bool) {
	e, ok := b.m[k]
	return e.v, ok
}

// Update replaces the value of an existing entry, keeping its age.
func (b *Bounded[K, V]) Update(k K, v V) bool {
	e, ok := b.m[k]
	if ok {
		e.v = v
		b.m[k] = e
	}
	return ok
}

// Len returns the number of entries held.
func (b *Bounded[K, V]) Len() int { return len(b.m) }

func (b *Bounded[K, V]) evictOldest() {
	for b.head < len(b.order) {
		s := b.order[b.head]
		b.head++
		if e, ok := b.m[s.k]; ok && e.seq == s.seq {
			delete(b.m, s.k)
			b.Evicted++
			return
		}
	}
}

// compact drops the consumed and stale part of the order queue once it is
// large, so the queue stays within a small multiple of the capacity.
func (b *Bounded[K, V]) compact() {
	if len(b.order) < 2*b.cap+64 {
		return
	}
	live := b.order[:0]
	for _, s := range b.order[b.head:] {
		if e, ok := b.m[s.k]; ok && e.seq == s.seq {
			live = append(live, s)
		}
	}
	clear(b.order[len(live):])
	b.order = live
	b.head = 0
}

// Range calls fn for every entry, in no particular order, until fn
// returns false; for printing a table at the end.
func (b *Bounded[K, V]) Range(fn func(k K, v V) bool) {
	for k, e := range b.m {
		if !fn(k, e.v) {
			return
		}
	}
}

// Reset removes every entry, keeping the counters.
func (b *Bounded[K, V]) Reset() {
	clear(b.m)
	clear(b.order)
	b.order = b.order[:0]
	b.head = 0
}
