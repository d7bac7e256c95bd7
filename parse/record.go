package parse

import "encoding/binary"

// ItemKind tells a decoded item apart: an event record or a report of lost
// events. Lost events are items in the same stream so that no consumer can
// drop them by accident: every sink has to say what it does with them.
type ItemKind uint8

const (
	// ItemEvent is a record with a payload.
	ItemEvent ItemKind = iota
	// ItemLost reports events the kernel dropped before the next record of
	// this CPU: Lost holds the count when LostKnown, else it is unknown.
	ItemLost
)

// Record is one decoded item. It is owned by the caller and reused: the
// decoders fill it in place and allocate nothing. Data (and every byte slice
// returned by the accessors) aliases the page it came from and is valid only
// until that page buffer is reused; copy what must outlive it.
type Record struct {
	Kind      ItemKind
	CPU       int
	TS        uint64  // in the trace clock's unit (ns for the default clocks)
	Schema    *Schema // nil for an event whose ID no format describes
	Type      int     // common_type: the event ID
	Data      []byte  // the payload, common fields included
	Lost      uint64  // for ItemLost
	LostKnown bool    // for ItemLost: whether Lost is a count or "unknown"
	Offset    int     // byte offset of the record in its page, for error messages

	bigEndian bool
	longSize  int
}

// BigEndian reports the byte order of the record's kernel.
func (r *Record) BigEndian() bool { return r.bigEndian }

// LongSize reports the kernel long size of the record's kernel.
func (r *Record) LongSize() int { return r.longSize }

func (r *Record) order() binary.ByteOrder {
	if r.bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// readUint reads an unsigned integer of size bytes at off, bounded by Data.
func (r *Record) readUint(off, size int) (uint64, bool) {
	if off < 0 || off+size > len(r.Data) {
		return 0, false
	}
	b := r.Data[off : off+size]
	if r.bigEndian {
		switch size {
		case 1:
			return uint64(b[0]), true
		case 2:
			return uint64(binary.BigEndian.Uint16(b)), true
		case 4:
			return uint64(binary.BigEndian.Uint32(b)), true
		case 8:
			return binary.BigEndian.Uint64(b), true
		}
		return 0, false
	}
	switch size {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), true
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), true
	case 8:
		return binary.LittleEndian.Uint64(b), true
	}
	return 0, false
}

func signExtend(v uint64, size int) int64 {
	switch size {
	case 1:
		return int64(int8(v))
	case 2:
		return int64(int16(v))
	case 4:
		return int64(int32(v))
	}
	return int64(v)
}

// Uint returns field i as an unsigned integer (the first element of an
// array). It returns 0 when the field is not an integer or lies outside the
// payload.
func (r *Record) Uint(i int) uint64 {
	v, _ := r.UintOK(i)
	return v
}

// UintOK is Uint that also reports whether the value was inside the payload.
func (r *Record) UintOK(i int) (uint64, bool) {
	s := r.Schema
	if s == nil || uint(i) >= uint(len(s.acc)) {
		return 0, false
	}
	a := s.acc[i]
	off, size := int(a.off), int(a.size)
	if a.size == 0 || off+size > len(r.Data) {
		return 0, false
	}
	if !r.bigEndian && size == 4 { // the most common width, kept branch-light
		return uint64(binary.LittleEndian.Uint32(r.Data[off:])), true
	}
	return r.readUint(off, size)
}

// Int returns field i as a signed integer, sign-extended when the format
// file says the field is signed, zero-extended otherwise.
func (r *Record) Int(i int) int64 {
	v, _ := r.IntOK(i)
	return v
}

// IntOK is Int that also reports whether the value was inside the payload.
func (r *Record) IntOK(i int) (int64, bool) {
	s := r.Schema
	if s == nil || uint(i) >= uint(len(s.acc)) {
		return 0, false
	}
	a := s.acc[i]
	off, size := int(a.off), int(a.size)
	if a.size == 0 || off+size > len(r.Data) {
		return 0, false
	}
	if !r.bigEndian && size == 4 {
		v := binary.LittleEndian.Uint32(r.Data[off:])
		if a.signed {
			return int64(int32(v)), true
		}
		return int64(v), true
	}
	v, ok := r.readUint(off, size)
	if a.signed {
		return signExtend(v, size), ok
	}
	return int64(v), ok
}

// Bytes returns the bytes of field i: the scalar or fixed array itself, the
// area a __data_loc/__rel_loc points to, or the rest of the payload for a
// flexible array. ok is false when the field (or what it points to) lies
// outside the payload, where the kernel prints <OVERFLOW>. The slice
// aliases the page.
func (r *Record) Bytes(i int) (b []byte, ok bool) {
	if r.Schema == nil || uint(i) >= uint(len(r.Schema.Fields)) {
		return nil, false
	}
	return r.fieldBytes(&r.Schema.Fields[i])
}

func (r *Record) fieldBytes(f *Field) ([]byte, bool) {
	n := len(r.Data)
	switch f.Kind {
	case KindDataLoc, KindRelLoc:
		v, ok := r.readUint(f.Offset, 4)
		if !ok {
			return nil, false
		}
		off, l := int(v&0xffff), int(v>>16)
		if f.Kind == KindRelLoc {
			off += f.Offset + 4
		}
		if off+l > n {
			return nil, false
		}
		return r.Data[off : off+l], true
	case KindDynOld:
		v, ok := r.readUint(f.Offset, 2)
		if !ok || int(v) > n {
			return nil, false
		}
		return r.Data[v:], true
	case KindFlex:
		if f.Offset > n {
			return nil, false
		}
		return r.Data[f.Offset:], true
	}
	if f.Offset+f.Size > n {
		return nil, false
	}
	return r.Data[f.Offset : f.Offset+f.Size], true
}

// Str returns field i as a C string: its bytes up to the first NUL.
func (r *Record) Str(i int) []byte {
	b, _ := r.Bytes(i)
	return cstr(b)
}

func cstr(b []byte) []byte {
	for j, c := range b {
		if c == 0 {
			return b[:j]
		}
	}
	return b
}

// Len returns the number of elements of an array or dynamic field.
func (r *Record) Len(i int) int {
	b, ok := r.Bytes(i)
	if !ok {
		return 0
	}
	es := r.Schema.Fields[i].ElemSize
	if es <= 0 {
		return len(b)
	}
	return len(b) / es
}

// Elem returns element j of the array or dynamic field i as an unsigned
// integer (sign-extended into the uint64 when signed).
func (r *Record) Elem(i, j int) uint64 {
	b, ok := r.Bytes(i)
	if !ok {
		return 0
	}
	f := &r.Schema.Fields[i]
	es := f.ElemSize
	if es != 1 && es != 2 && es != 4 && es != 8 {
		return 0
	}
	if j < 0 || (j+1)*es > len(b) {
		return 0
	}
	v := r.uintAt(b[j*es:], es)
	if f.Signed {
		return uint64(signExtend(v, es))
	}
	return v
}

func (r *Record) uintAt(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(r.order().Uint16(b))
	case 4:
		return uint64(r.order().Uint32(b))
	case 8:
		return r.order().Uint64(b)
	}
	return 0
}

// PID returns common_pid, or -1 when the record has no such field.
func (r *Record) PID() int {
	if r.Schema == nil || r.Schema.pidIdx < 0 {
		return -1
	}
	return int(r.Int(r.Schema.pidIdx))
}

// Flags returns common_flags (irqs-off, need-resched, hardirq ... bits).
func (r *Record) Flags() uint8 {
	if r.Schema == nil || r.Schema.flagsIdx < 0 {
		return 0
	}
	return uint8(r.Uint(r.Schema.flagsIdx))
}

// PreemptCount returns common_preempt_count: the low nibble is the preempt
// depth, the high nibble the migrate-disable depth.
func (r *Record) PreemptCount() uint8 {
	if r.Schema == nil || r.Schema.preemptIdx < 0 {
		return 0
	}
	return uint8(r.Uint(r.Schema.preemptIdx))
}

// Name returns "system:event" or "" for a lost-events item or an unknown ID.
func (r *Record) Name() string {
	if r.Schema == nil {
		return ""
	}
	return r.Schema.FullName()
}
