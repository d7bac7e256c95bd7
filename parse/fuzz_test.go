package parse

import (
	"testing"
)

// FuzzParseFormat: no input may panic the format parser or make it
// allocate without bound; a schema it accepts must be safe to read records
// against, whatever the payload.
func FuzzParseFormat(f *testing.F) {
	f.Add([]byte(fmtTest))
	f.Add([]byte(fmtKinds))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseFormat("fuzz", b, 8)
		if err != nil {
			return
		}
		payload := make([]byte, 64)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		r := Record{Schema: s, Data: payload, longSize: 8}
		for i := range s.Fields {
			r.Int(i)
			r.Str(i)
			r.Len(i)
			r.Elem(i, 1)
		}
	})
}

// FuzzPage: arbitrary page bytes under 64-bit, 32-bit and big-endian
// layouts iterate to the end or to an error, never panic or loop.
func FuzzPage(f *testing.F) {
	l := mustLayout(f, hdrPage64, false)
	p := newTPage(l, 1000)
	p.event(3, tevPayload(false, 1, 2, "abc"), false)
	p.extend(1 << 28)
	p.event(0, tevPayload(false, 1, 2, string(make([]byte, 130))), false)
	p.pad(5, 16)
	p.stamp(12345)
	p.event(1, tevPayload(false, 1, 2, "z"), true)
	f.Add(uint8(0), p.bytes(missedEvents|missedStored, 308)[:256])
	f.Add(uint8(1), []byte{0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0})
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0x40, 0, 0, 0})
	decs := []*Decoder{
		testDecoder(f, hdrPage64, false),
		testDecoder(f, hdrPage32, false),
		testDecoder(f, hdrPage64, true),
	}
	f.Fuzz(func(t *testing.T, which uint8, page []byte) {
		d := decs[int(which)%len(decs)]
		var it PageIter
		if it.Reset(d, 0, page) != nil {
			return
		}
		var r Record
		vi, ni := d.Schema(7).FieldIndex("val"), d.Schema(7).FieldIndex("name")
		for n := 0; ; n++ {
			if n > len(page) {
				t.Fatalf("more items (%d) than bytes in the page", n)
			}
			ok, err := it.Next(&r)
			if err != nil || !ok {
				return
			}
			r.Int(vi)
			r.Str(ni)
		}
	})
}
