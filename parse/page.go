package parse

import (
	"encoding/binary"
	"strconv"
)

// Record header type_len values (see header_event).
const (
	typePadding    = 29
	typeTimeExtend = 30
	typeTimeStamp  = 31
	maxDataType    = 28

	commitSizeMask = 1<<27 - 1
	missedEvents   = 1 << 31 // RB_MISSED_EVENTS
	missedStored   = 1 << 30 // RB_MISSED_STORED
	tsShift        = 27
	tsMSBMask      = uint64(0xf8) << 56
)

// PageIter walks the records of one ring-buffer page. It is reusable and
// allocation-free; Reset it with each new page. Records it yields alias the
// page, so the page must not be overwritten while they are in use.
type PageIter struct {
	dec      *Decoder
	page     []byte
	cpu      int
	pageTS   uint64
	ts       uint64
	pos, end int // absolute offsets in page
	lost     uint64
	lostSeen uint8 // 0: no lost item; 1: lost item pending; 2: delivered
	lostKnow bool
	done     bool
	// Copies of the layout's byte order and long size, read per record.
	bigEndian bool
	longSize  int
}

func (it *PageIter) u32(off int) uint32 {
	if it.dec.Layout.BigEndian {
		return binary.BigEndian.Uint32(it.page[off:])
	}
	return binary.LittleEndian.Uint32(it.page[off:])
}

func (it *PageIter) uword(off, size int) uint64 {
	if size == 4 {
		return uint64(it.u32(off))
	}
	if it.dec.Layout.BigEndian {
		return binary.BigEndian.Uint64(it.page[off:])
	}
	return binary.LittleEndian.Uint64(it.page[off:])
}

func (it *PageIter) errAt(off int, format string, args ...any) error {
	it.done = true
	return errf(ErrCorrupt, "page cpu"+strconv.Itoa(it.cpu), off, format, args...)
}

// Reset prepares the iterator for a page read from cpu. It checks the page
// header and returns an error if the page cannot be trusted at all; the
// page buffer may be longer than the data the commit word announces.
func (it *PageIter) Reset(d *Decoder, cpu int, page []byte) error {
	*it = PageIter{dec: d, page: page, cpu: cpu, bigEndian: d.Layout.BigEndian, longSize: d.Layout.LongSize}
	l := &d.Layout
	if len(page) < l.DataOffset {
		it.done = true
		return errf(ErrTruncated, "page cpu"+strconv.Itoa(cpu), 0, "page of %d bytes is shorter than its header (%d)", len(page), l.DataOffset)
	}
	it.pageTS = it.uword(l.TSOffset, 8)
	it.ts = it.pageTS
	commit := it.uword(l.CommitOff, l.LongSize)
	// The flags are int constants added to a long, so on 64-bit kernels they
	// sign-extend into the top half: read them from the low 32 bits only.
	low := uint32(commit)
	size := int(low & commitSizeMask)
	if size > l.DataSize {
		return it.errAt(l.CommitOff, "commit size %d exceeds the page's data size %d", size, l.DataSize)
	}
	if l.DataOffset+size > len(page) {
		return it.errAt(l.CommitOff, "commit size %d runs past the %d bytes read", size, len(page))
	}
	it.pos, it.end = l.DataOffset, l.DataOffset+size
	if low&missedEvents != 0 {
		it.lostSeen = 1
		if low&missedStored != 0 && it.end+l.LongSize <= len(page) {
			it.lost = it.uword(it.end, l.LongSize)
			it.lostKnow = true
		}
	}
	return nil
}

// PageTS returns the page's base timestamp.
func (it *PageIter) PageTS() uint64 { return it.pageTS }

// Next fills rec with the next item of the page and reports whether there
// was one. A lost-events item comes first when the kernel flagged events
// missing before this page. After an error the iterator is exhausted; the
// records yielded before it are good.
func (it *PageIter) Next(rec *Record) (bool, error) {
	if it.lostSeen == 1 {
		it.lostSeen = 2
		*rec = Record{Kind: ItemLost, CPU: it.cpu, TS: it.pageTS, Type: -1, Lost: it.lost, LostKnown: it.lostKnow,
			Offset: it.dec.Layout.CommitOff, bigEndian: it.dec.Layout.BigEndian, longSize: it.dec.Layout.LongSize}
		return true, nil
	}
	// The common case first: a small data record of a little-endian page.
	if page, p := it.page, it.pos; !it.done && !it.bigEndian && uint(it.end) <= uint(len(page)) && uint(p)+4 <= uint(it.end) {
		page = page[:it.end]
		w := binary.LittleEndian.Uint32(page[p:])
		if typeLen := w & 0x1f; typeLen-1 < maxDataType {
			if end := p + 4 + int(typeLen)*4; end <= len(page) {
				it.pos = end
				it.ts += uint64(w >> 5)
				data := page[p+4 : end]
				d := it.dec
				typ := int(binary.LittleEndian.Uint16(data))
				var sc *Schema
				if typ < len(d.schemas) {
					sc = d.schemas[typ]
				}
				rec.Kind = ItemEvent
				rec.CPU = it.cpu
				rec.TS = it.ts
				rec.Schema = sc
				rec.Type = typ
				rec.Data = data
				rec.Offset = p
				rec.Lost = 0
				rec.LostKnown = false
				rec.bigEndian = false
				rec.longSize = it.longSize
				return true, nil
			}
		}
	}
	for !it.done && it.pos+4 <= it.end {
		p := it.pos
		w := it.u32(p)
		var typeLen, delta uint32
		if it.dec.Layout.BigEndian {
			typeLen, delta = w>>27, w&(1<<27-1)
		} else {
			typeLen, delta = w&0x1f, w>>5
		}
		if typeLen-1 < maxDataType { // the common case: a small data record
			end := p + 4 + int(typeLen)*4
			if end > it.end {
				return false, it.errAt(p, "record of %d bytes runs past the commit size %d", end-p-4, it.end-it.dec.Layout.DataOffset)
			}
			it.pos = end
			it.ts += uint64(delta)
			it.fill(rec, it.page[p+4:end], p)
			return true, nil
		}
		switch {
		case typeLen == typePadding:
			if delta == 0 {
				// Null padding: the rest of the page is unused.
				it.done = true
				return false, nil
			}
			if p+8 > it.end {
				// End-of-page filler whose length word lies past the commit.
				it.done = true
				return false, nil
			}
			l := int(it.u32(p + 4))
			if l < 4 || p+4+l > it.end {
				return false, it.errAt(p, "padding of %d bytes runs past the commit size", l)
			}
			// A discarded event keeps its delta; the end-of-page filler has
			// delta 1, which the kernel itself does not add.
			if delta != 1 {
				it.ts += uint64(delta)
			}
			it.pos = p + 4 + l
		case typeLen == typeTimeExtend:
			if p+8 > it.end {
				return false, it.errAt(p, "time extend runs past the commit size")
			}
			it.ts += uint64(it.u32(p+4))<<tsShift | uint64(delta)
			it.pos = p + 8
		case typeLen == typeTimeStamp:
			if p+8 > it.end {
				return false, it.errAt(p, "time stamp runs past the commit size")
			}
			abs := uint64(it.u32(p+4))<<tsShift | uint64(delta)
			// Only 59 bits are stored: restore the top bits from the page
			// timestamp, and account for a wrap of the low 59 bits.
			abs |= it.pageTS & tsMSBMask
			if abs < it.pageTS {
				abs += 1 << 59
			}
			it.ts = abs
			it.pos = p + 8
		default:
			var data []byte
			if typeLen == 0 {
				if p+8 > it.end {
					return false, it.errAt(p, "record length word runs past the commit size")
				}
				l := int(it.u32(p + 4))
				if l == 0 && allZero(it.page[p:it.end]) {
					it.done = true
					return false, nil
				}
				if l < 4 || p+4+l > it.end {
					return false, it.errAt(p, "record of %d bytes runs past the commit size %d", l, it.end-it.dec.Layout.DataOffset)
				}
				data = it.page[p+8 : p+4+l]
				it.pos = p + 4 + l
			} else {
				l := int(typeLen) * 4
				if p+4+l > it.end {
					return false, it.errAt(p, "record of %d bytes runs past the commit size %d", l, it.end-it.dec.Layout.DataOffset)
				}
				data = it.page[p+4 : p+4+l]
				it.pos = p + 4 + l
			}
			it.ts += uint64(delta)
			it.fill(rec, data, p)
			return true, nil
		}
	}
	return false, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// fill sets every field of rec for a data record, so that a reused Record
// carries nothing over from the previous one.
func (it *PageIter) fill(rec *Record, data []byte, off int) {
	d := it.dec
	typ := -1
	var sc *Schema
	if len(data) >= 2 {
		if d.Layout.BigEndian {
			typ = int(binary.BigEndian.Uint16(data))
		} else {
			typ = int(binary.LittleEndian.Uint16(data))
		}
		if typ < len(d.schemas) {
			sc = d.schemas[typ]
		}
	}
	rec.Kind = ItemEvent
	rec.CPU = it.cpu
	rec.TS = it.ts
	rec.Schema = sc
	rec.Type = typ
	rec.Data = data
	rec.Offset = off
	rec.Lost = 0
	rec.LostKnown = false
	rec.bigEndian = d.Layout.BigEndian
	rec.longSize = d.Layout.LongSize
}
