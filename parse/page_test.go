package parse

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// tpage builds synthetic ring-buffer pages, for the cases real kernels
// won't produce on demand (big-endian, 32-bit, absolute stamps, damage).
type tpage struct {
	l    Layout
	ts   uint64
	data []byte
}

func newTPage(l Layout, ts uint64) *tpage { return &tpage{l: l, ts: ts} }

func (p *tpage) ord() interface {
	binary.ByteOrder
	binary.AppendByteOrder
} {
	if p.l.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (p *tpage) word(typeLen, delta uint32) {
	var w uint32
	if p.l.BigEndian {
		w = typeLen<<27 | delta&(1<<27-1)
	} else {
		w = typeLen | delta<<5
	}
	p.data = p.ord().AppendUint32(p.data, w)
}

func (p *tpage) u32(v uint32) { p.data = p.ord().AppendUint32(p.data, v) }

// event appends a data record, with type_len 0 when the payload is over
// 112 bytes, not a multiple of 4, or force0 is set.
func (p *tpage) event(delta uint32, payload []byte, force0 bool) {
	pl := append([]byte(nil), payload...)
	for len(pl)%4 != 0 {
		pl = append(pl, 0)
	}
	if len(pl) <= 112 && len(pl) > 0 && !force0 {
		p.word(uint32(len(pl)/4), delta)
	} else {
		p.word(0, delta)
		p.u32(uint32(len(pl) + 4))
	}
	p.data = append(p.data, pl...)
}

func (p *tpage) extend(v uint64) { p.word(typeTimeExtend, uint32(v&(1<<27-1))); p.u32(uint32(v >> 27)) }
func (p *tpage) stamp(v uint64)  { p.word(typeTimeStamp, uint32(v&(1<<27-1))); p.u32(uint32(v >> 27)) }

// pad appends a padding record of total length n (n >= 8) with delta.
func (p *tpage) pad(delta uint32, n int) {
	p.word(typePadding, delta)
	p.u32(uint32(n - 4))
	p.data = append(p.data, make([]byte, n-8)...)
}

// bytes renders the page with the given commit flags and stored lost count.
func (p *tpage) bytes(flags uint32, lost uint64) []byte {
	page := make([]byte, p.l.SubbufSize())
	o := p.ord()
	o.PutUint64(page[p.l.TSOffset:], p.ts)
	commit := uint64(uint32(len(p.data)) | flags)
	if p.l.LongSize == 8 {
		if flags&(1<<31) != 0 {
			commit |= 0xffffffff << 32 // the kernel's sign extension
		}
		o.PutUint64(page[p.l.CommitOff:], commit)
	} else {
		o.PutUint32(page[p.l.CommitOff:], uint32(commit))
	}
	copy(page[p.l.DataOffset:], p.data)
	if flags&missedStored != 0 {
		end := p.l.DataOffset + len(p.data)
		if p.l.LongSize == 8 {
			o.PutUint64(page[end:], lost)
		} else {
			o.PutUint32(page[end:], uint32(lost))
		}
	}
	return page
}

const hdrPage64 = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n"
const hdrPage32 = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n"

// A small event: common fields plus a u32 and a __data_loc string.
const fmtTest = `name: tev
ID: 7
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int val;	offset:8;	size:4;	signed:1;
	field:__data_loc char[] name;	offset:12;	size:4;	signed:0;

print fmt: "val=%d name=%s", REC->val, __get_str(name)
`

func mustLayout(t testing.TB, hp string, be bool) Layout {
	t.Helper()
	l, err := ParseHeaderPage([]byte(hp), be)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testDecoder(t testing.TB, hp string, be bool) *Decoder {
	t.Helper()
	d := NewDecoder(mustLayout(t, hp, be))
	if _, err := d.AddFormat("test", []byte(fmtTest)); err != nil {
		t.Fatal(err)
	}
	return d
}

// tevPayload encodes a "tev" record for the test decoder's byte order.
func tevPayload(be bool, pid int32, val int32, name string) []byte {
	var o binary.ByteOrder = binary.LittleEndian
	if be {
		o = binary.BigEndian
	}
	b := make([]byte, 16, 16+len(name)+1)
	o.PutUint16(b[0:], 7)
	o.PutUint32(b[4:], uint32(pid))
	o.PutUint32(b[8:], uint32(val))
	o.PutUint32(b[12:], uint32(len(name)+1)<<16|16)
	b = append(b, name...)
	return append(b, 0)
}

type item struct {
	kind  ItemKind
	ts    uint64
	val   int64
	name  string
	lost  uint64
	known bool
}

func collect(t *testing.T, d *Decoder, page []byte) ([]item, error) {
	t.Helper()
	var it PageIter
	if err := it.Reset(d, 0, page); err != nil {
		return nil, err
	}
	var out []item
	var r Record
	vi, ni := d.Schema(7).FieldIndex("val"), d.Schema(7).FieldIndex("name")
	for {
		ok, err := it.Next(&r)
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		if r.Kind == ItemLost {
			out = append(out, item{kind: ItemLost, ts: r.TS, lost: r.Lost, known: r.LostKnown})
			continue
		}
		out = append(out, item{kind: ItemEvent, ts: r.TS, val: r.Int(vi), name: string(r.Str(ni))})
	}
}

func ev(ts uint64, val int64, name string) item {
	return item{kind: ItemEvent, ts: ts, val: val, name: name}
}

func TestPages(t *testing.T) {
	big := make([]byte, 150)
	for i := range big {
		big[i] = 'x'
	}
	type tc struct {
		name  string
		hp    string
		be    bool
		build func(p *tpage) []byte
		want  []item
		err   bool
	}
	cases := []tc{
		{name: "plain", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(10, tevPayload(false, 1, -5, "a"), false)
			p.event(3, tevPayload(false, 1, 6, "bc"), false)
			return p.bytes(0, 0)
		}, want: []item{ev(1010, -5, "a"), ev(1013, 6, "bc")}},
		{name: "missed+stored count (sign-extended commit)", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(1, tevPayload(false, 1, 1, "z"), false)
			return p.bytes(missedEvents|missedStored, 308)
		}, want: []item{{kind: ItemLost, ts: 1000, lost: 308, known: true}, ev(1001, 1, "z")}},
		{name: "missed without count", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(1, tevPayload(false, 1, 1, "z"), false)
			return p.bytes(missedEvents, 0)
		}, want: []item{{kind: ItemLost, ts: 1000}, ev(1001, 1, "z")}},
		{name: "type_len 0 and all type_len 0", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(5, tevPayload(false, 1, 2, string(big)), false)
			p.event(5, tevPayload(false, 1, 3, "s"), true)
			return p.bytes(0, 0)
		}, want: []item{ev(1005, 2, string(big)), ev(1010, 3, "s")}},
		{name: "time extend, zero extend at offset 0", hp: hdrPage64, build: func(p *tpage) []byte {
			p.extend(0)
			p.event(0, tevPayload(false, 1, 1, "a"), false)
			p.extend(303245964)
			p.event(0, tevPayload(false, 1, 2, "b"), false)
			return p.bytes(0, 0)
		}, want: []item{ev(1000, 1, "a"), ev(1000+303245964, 2, "b")}},
		{name: "discarded event keeps delta, end filler delta 1 does not", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(2, tevPayload(false, 1, 1, "a"), false)
			p.pad(7, 24) // a discarded event
			p.event(1, tevPayload(false, 1, 2, "b"), false)
			p.pad(1, 16) // end-of-page filler inside size
			return p.bytes(0, 0)
		}, want: []item{ev(1002, 1, "a"), ev(1010, 2, "b")}},
		{name: "null padding stops", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(2, tevPayload(false, 1, 1, "a"), false)
			p.word(typePadding, 0)
			p.event(2, tevPayload(false, 1, 9, "never"), false)
			return p.bytes(0, 0)
		}, want: []item{ev(1002, 1, "a")}},
		{name: "absolute stamp with MSB restore and wrap", hp: hdrPage64, build: func(p *tpage) []byte {
			p.ts = 1795299580724634136 // a tai clock: above 2^59
			low := (p.ts + 50) & (1<<59 - 1)
			p.stamp(low)
			p.event(0, tevPayload(false, 1, 1, "a"), false)
			p.stamp(5) // low bits wrapped past 2^59
			p.event(0, tevPayload(false, 1, 2, "b"), false)
			return p.bytes(0, 0)
		}, want: []item{ev(1795299580724634186, 1, "a"), ev((1795299580724634136&tsMSBMask)+1<<59+5, 2, "b")}},
		{name: "32-bit page", hp: hdrPage32, build: func(p *tpage) []byte {
			p.event(4, tevPayload(false, 1, -1, "q"), false)
			return p.bytes(missedEvents|missedStored, 3)
		}, want: []item{{kind: ItemLost, ts: 1000, lost: 3, known: true}, ev(1004, -1, "q")}},
		{name: "big-endian page", hp: hdrPage64, be: true, build: func(p *tpage) []byte {
			p.event(4, tevPayload(true, 1, -7, "be"), false)
			p.extend(1 << 30)
			p.event(0, tevPayload(true, 1, 8, "x"), true)
			return p.bytes(0, 0)
		}, want: []item{ev(1004, -7, "be"), ev(1004+1<<30, 8, "x")}},
		{name: "big-endian 32-bit", hp: hdrPage32, be: true, build: func(p *tpage) []byte {
			p.event(4, tevPayload(true, 1, 42, "b32"), false)
			return p.bytes(missedEvents|missedStored, 9)
		}, want: []item{{kind: ItemLost, ts: 1000, lost: 9, known: true}, ev(1004, 42, "b32")}},
		{name: "four-byte commit", hp: hdrPage64, build: func(p *tpage) []byte {
			p.data = []byte{0x08, 0, 0, 0}
			return p.bytes(0, 0)
		}, err: true},
		{name: "zero tail with L=0", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(2, tevPayload(false, 1, 1, "a"), false)
			p.data = append(p.data, make([]byte, 16)...)
			return p.bytes(0, 0)
		}, want: []item{ev(1002, 1, "a")}},
		{name: "record past size", hp: hdrPage64, build: func(p *tpage) []byte {
			p.event(2, tevPayload(false, 1, 1, "a"), false)
			p.word(20, 1) // claims 80 bytes
			p.u32(0)
			return p.bytes(0, 0)
		}, want: []item{ev(1002, 1, "a")}, err: true},
		{name: "commit beyond data size", hp: hdrPage64, build: func(p *tpage) []byte {
			b := p.bytes(0, 0)
			binary.LittleEndian.PutUint64(b[8:], 5000)
			return b
		}, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := testDecoder(t, c.hp, c.be)
			p := newTPage(d.Layout, 1000)
			got, err := collect(t, d, c.build(p))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) || !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) {
					t.Errorf("error %v is not a FormatError with a sentinel", err)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d items %+v, want %d %+v", len(got), got, len(c.want), c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("item %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestHeaderPage(t *testing.T) {
	for _, c := range []struct {
		hp                string
		long, off, subbuf int
	}{
		{hdrPage64, 8, 16, 4096},
		{hdrPage32, 4, 12, 4096},
		{"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:8176;\tsigned:0;\n", 8, 16, 8192},
		// very old kernels: no signed:
		{"\tfield: u64 timestamp;\toffset:0;\tsize:8;\n\tfield: local_t commit;\toffset:8;\tsize:8;\n\tfield: char data;\toffset:16;\tsize:16368;\n", 8, 16, 16384},
	} {
		l, err := ParseHeaderPage([]byte(c.hp), false)
		if err != nil {
			t.Fatal(err)
		}
		if l.LongSize != c.long || l.DataOffset != c.off || l.SubbufSize() != c.subbuf {
			t.Errorf("layout %+v, want long %d off %d subbuf %d", l, c.long, c.off, c.subbuf)
		}
	}
	for _, bad := range []string{"", "garbage", "\tfield: u64 timestamp;\toffset:0;\tsize:8;\n", hdrPage64[:60],
		"\tfield: u64 timestamp;\toffset:0;\tsize:8;\n\tfield: local_t commit;\toffset:8;\tsize:3;\n\tfield: char data;\toffset:16;\tsize:4080;\n",
		"\tfield: u64 timestamp;\toffset:0;\tsize:8;\n\tfield: local_t commit;\toffset:8;\tsize:8;\n\tfield: char data;\toffset:4;\tsize:4080;\n"} {
		if _, err := ParseHeaderPage([]byte(bad), false); err == nil {
			t.Errorf("ParseHeaderPage(%q) succeeded", bad)
		}
	}
}

func TestHeaderEvent(t *testing.T) {
	good := "# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n"
	if err := ParseHeaderEvent([]byte(good)); err != nil {
		t.Fatal(err)
	}
	old := "# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n\tpadding     : type == 29\n\ttime_extend : type == 30\n\tdata max type_len  == 28\n"
	if err := ParseHeaderEvent([]byte(old)); err != nil {
		t.Fatalf("pre-4.17 header_event: %v", err)
	}
	for _, bad := range []string{"", good[:40], replaceOnce(good, "27 bits", "26 bits"), replaceOnce(good, "== 28", "== 27"), replaceOnce(good, "type == 31", "type == 3")} {
		if err := ParseHeaderEvent([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

// TestMerge checks timestamp order across CPUs, a stable order for equal
// timestamps, and that a record stays valid until the next call.
func TestMerge(t *testing.T) {
	d := testDecoder(t, hdrPage64, false)
	mk := func(cpu int, deltas ...uint32) RecordSource {
		p := newTPage(d.Layout, 1000)
		for i, dl := range deltas {
			p.event(dl, tevPayload(false, int32(cpu), int32(cpu*100+i), "n"), false)
		}
		pages := [][]byte{p.bytes(0, 0)}
		return &PageStream{Dec: d, CPU: cpu, NextPage: func() ([]byte, error) {
			if len(pages) == 0 {
				return nil, io.EOF
			}
			pg := pages[0]
			pages = pages[1:]
			return pg, nil
		}}
	}
	m := NewMerger(mk(0, 5, 0, 10), mk(1, 1, 4, 0), mk(2))
	var r Record
	var got []int64
	var ts []uint64
	vi := d.Schema(7).FieldIndex("val")
	for {
		ok, err := m.Next(&r)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, r.Int(vi))
		ts = append(ts, r.TS)
	}
	want := []int64{100, 0, 1, 101, 102, 2}
	if len(got) != len(want) {
		t.Fatalf("got %v ts %v, want %v", got, ts, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v ts %v, want %v", got, ts, want)
		}
	}
}

// TestDecodeAllocs proves the decode path allocates nothing per record.
func TestDecodeAllocs(t *testing.T) {
	d := testDecoder(t, hdrPage64, false)
	p := newTPage(d.Layout, 1000)
	for i := 0; i < 50; i++ {
		p.event(3, tevPayload(false, 1, int32(i), "abc"), false)
	}
	page := p.bytes(0, 0)
	vi := d.Schema(7).FieldIndex("val")
	var it PageIter
	var r Record
	n := testing.AllocsPerRun(100, func() {
		it.Reset(d, 0, page)
		for {
			ok, _ := it.Next(&r)
			if !ok {
				break
			}
			_ = r.Int(vi)
			_ = r.PID()
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per page, want 0", n)
	}
}

func BenchmarkDecode(b *testing.B) {
	d := testDecoder(b, hdrPage64, false)
	p := newTPage(d.Layout, 1000)
	n := 0
	for len(p.data) < 4000 {
		p.event(3, tevPayload(false, 1, int32(n), "abc"), false)
		n++
	}
	page := p.bytes(0, 0)
	vi := d.Schema(7).FieldIndex("val")
	var it PageIter
	var r Record
	b.ReportAllocs()
	b.ResetTimer()
	var sum int64
	for i := 0; i < b.N; i += n {
		it.Reset(d, 0, page)
		for {
			ok, _ := it.Next(&r)
			if !ok {
				break
			}
			sum += r.Int(vi) + int64(r.TS)
		}
	}
	_ = sum
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
}
