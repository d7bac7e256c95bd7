package parse

import "io"

// RecordSource yields the items of one CPU in the order the kernel wrote
// them. PageStream is the usual implementation.
type RecordSource interface {
	Next(rec *Record) (bool, error)
}

// PageStream turns a sequence of one CPU's pages into records. NextPage
// returns the next page, or io.EOF when there are no more; the page must
// stay valid until the following NextPage call, which lets a reader reuse
// one buffer.
type PageStream struct {
	Dec      *Decoder
	CPU      int
	NextPage func() ([]byte, error)

	it      PageIter
	started bool
	done    bool
}

// Next fills rec with the next item. A damaged page yields an error after
// its good records; calling Next again moves on to the following page.
func (s *PageStream) Next(rec *Record) (bool, error) {
	for !s.done {
		if s.started {
			ok, err := s.it.Next(rec)
			if ok || err != nil {
				return ok, err
			}
		}
		page, err := s.NextPage()
		if err == io.EOF {
			s.done = true
			return false, nil
		}
		if err != nil {
			s.done = true
			return false, err
		}
		s.started = true
		if err := s.it.Reset(s.Dec, s.CPU, page); err != nil {
			return false, err
		}
	}
	return false, nil
}

// Merger merges per-CPU sources into one stream in timestamp order. Items
// with equal timestamps keep their per-CPU order and come from the lower
// source index first, so the output is deterministic.
//
// A source is advanced only when the caller asks for the next item after
// consuming its record, so a record returned by Next stays valid (its page
// is not recycled) until the following call.
type Merger struct {
	srcs    []RecordSource
	heads   []Record
	heap    []int // indexes of sources with a head, a min-heap on (TS, index)
	pending []int // sources to advance before the next pick: their head was handed out
	init    bool
}

// NewMerger merges the given sources.
func NewMerger(srcs ...RecordSource) *Merger {
	return &Merger{srcs: srcs, heads: make([]Record, len(srcs))}
}

func (m *Merger) less(a, b int) bool {
	ta, tb := m.heads[a].TS, m.heads[b].TS
	if ta != tb {
		return ta < tb
	}
	return a < b
}

func (m *Merger) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !m.less(m.heap[j], m.heap[p]) {
			break
		}
		m.heap[j], m.heap[p] = m.heap[p], m.heap[j]
		j = p
	}
}

func (m *Merger) down(j int) {
	n := len(m.heap)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(m.heap[r], m.heap[l]) {
			c = r
		}
		if !m.less(m.heap[c], m.heap[j]) {
			return
		}
		m.heap[j], m.heap[c] = m.heap[c], m.heap[j]
		j = c
	}
}

// fill advances source i and pushes it back on the heap if it has an item.
func (m *Merger) fill(i int) error {
	ok, err := m.srcs[i].Next(&m.heads[i])
	if ok {
		m.heap = append(m.heap, i)
		m.up(len(m.heap) - 1)
	}
	return err
}

// Next fills rec with the earliest pending item across all sources. An
// error from one source is returned once; the other sources (and that one,
// if it can continue) go on at the next call.
func (m *Merger) Next(rec *Record) (bool, error) {
	if !m.init {
		m.init = true
		for i := len(m.srcs) - 1; i >= 0; i-- {
			m.pending = append(m.pending, i)
		}
	}
	for len(m.pending) > 0 {
		i := m.pending[len(m.pending)-1]
		m.pending = m.pending[:len(m.pending)-1]
		if err := m.fill(i); err != nil {
			// Retry this source at the next call: a page stream goes on with
			// the page after a damaged one, and an exhausted one says so.
			m.pending = append(m.pending, i)
			return false, err
		}
	}
	if len(m.heap) == 0 {
		return false, nil
	}
	i := m.heap[0]
	last := len(m.heap) - 1
	m.heap[0] = m.heap[last]
	m.heap = m.heap[:last]
	if last > 0 {
		m.down(0)
	}
	*rec = m.heads[i]
	m.pending = append(m.pending, i)
	return true, nil
}
