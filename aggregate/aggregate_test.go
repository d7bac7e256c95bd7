package aggregate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/parse"
)

const testFormat = `name: ev
ID: 7
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long value;	offset:8;	size:8;	signed:1;
	field:__data_loc char[] name;	offset:16;	size:4;	signed:0;

print fmt: "value=%ld name=%s", REC->value, __get_str(name)
`

const otherFormat = `name: other
ID: 8
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long value;	offset:8;	size:8;	signed:1;

print fmt: "value=%ld", REC->value
`

func schema(t *testing.T, f string) *parse.Schema {
	t.Helper()
	s, err := parse.ParseFormat("test", []byte(f), 8)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rec builds a record of the test event as the kernel lays it out.
func rec(s *parse.Schema, ts uint64, cpu, pid int, value int64, name string) *parse.Record {
	d := make([]byte, 20, 20+len(name)+1)
	binary.LittleEndian.PutUint16(d[0:], uint16(s.ID))
	binary.LittleEndian.PutUint32(d[4:], uint32(pid))
	binary.LittleEndian.PutUint64(d[8:], uint64(value))
	if s.FieldIndex("name") >= 0 {
		binary.LittleEndian.PutUint32(d[16:], uint32(20)|uint32(len(name)+1)<<16)
		d = append(append(d, name...), 0)
	}
	return &parse.Record{Kind: parse.ItemEvent, Schema: s, Type: s.ID, CPU: cpu, TS: ts, Data: d}
}

func TestCounterByKeys(t *testing.T) {
	s, o := schema(t, testFormat), schema(t, otherFormat)
	k, err := NewKeyer([]string{"comm", "name", "event"})
	if err != nil {
		t.Fatal(err)
	}
	k.Comm = func(pid int) string { return map[int]string{1: "bash", 2: "cat"}[pid] }
	c := NewCounter(k)
	for i := 0; i < 5; i++ {
		c.Add(rec(s, 1, 0, 1, 0, "a"))
	}
	for i := 0; i < 3; i++ {
		c.Add(rec(s, 1, 0, 2, 0, "b"))
	}
	c.Add(rec(o, 1, 0, 2, 0, ""))
	rows := c.Rows(0)
	got := []string{}
	for _, r := range rows {
		parts := []string{}
		for _, v := range r.Key {
			parts = append(parts, v.String())
		}
		got = append(got, strings.Join(parts, "/")+"="+itoa(r.Count))
	}
	want := []string{"bash/a/test:ev=5", "cat/b/test:ev=3", "cat/-/test:other=1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if c.Total != 9 || len(c.Rows(2)) != 2 {
		t.Fatalf("total %d, top 2 gave %d rows", c.Total, len(c.Rows(2)))
	}
	if err := k.Check(o); err == nil {
		t.Error("Check accepted a field the event lacks")
	}
	if allocs := testing.AllocsPerRun(100, func() { c.Add(rec(s, 1, 0, 1, 0, "a")) }); allocs > 3 {
		t.Errorf("Add of a known key: %v allocations (the record itself takes 3)", allocs)
	}
}

func TestCounterIntKeys(t *testing.T) {
	s := schema(t, testFormat)
	k, _ := NewKeyer([]string{"pid", "cpu", "value"})
	c := NewCounter(k)
	c.Add(rec(s, 1, 3, 42, -7, ""))
	c.Add(rec(s, 1, 3, 42, -7, ""))
	r := c.Rows(0)
	if len(r) != 1 || r[0].Count != 2 || r[0].Key[0].Int != 42 || r[0].Key[1].Int != 3 || r[0].Key[2].Int != -7 {
		t.Fatalf("rows %+v", r)
	}
}

func itoa(v uint64) string {
	var b [20]byte
	return string(appendUint(b[:0], v))
}

func appendUint(b []byte, v uint64) []byte {
	if v >= 10 {
		b = appendUint(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

func TestLog2Buckets(t *testing.T) {
	h := NewLog2()
	for _, v := range []int64{-5, 0, 1, 2, 3, 4, 7, 8, 1023, 1024, 2047, 1 << 20} {
		h.Add(v)
	}
	var labels []string
	for _, b := range h.Buckets() {
		labels = append(labels, b.Label+":"+itoa(b.Count))
	}
	want := "(..., 0):1 [0]:1 [1]:1 [2, 4):2 [4, 8):2 [8, 16):1 [16, 32):0 [32, 64):0 [64, 128):0 [128, 256):0 [256, 512):0 [512, 1K):1 [1K, 2K):2 [2K, 4K):0 " +
		"[4K, 8K):0 [8K, 16K):0 [16K, 32K):0 [32K, 64K):0 [64K, 128K):0 [128K, 256K):0 [256K, 512K):0 [512K, 1M):0 [1M, 2M):1"
	if got := strings.Join(labels, " "); got != want {
		t.Fatalf("buckets\n%s\nwant\n%s", got, want)
	}
	if h.Count != 12 || h.MinSeen != -5 || h.MaxSeen != 1<<20 {
		t.Fatalf("count %d min %d max %d", h.Count, h.MinSeen, h.MaxSeen)
	}
}

func TestLinearBucketsAndBars(t *testing.T) {
	h, err := ParseLinear("0,100,25")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{-1, 0, 24, 25, 25, 25, 25, 99, 100, 500} {
		h.Add(v)
	}
	var buf bytes.Buffer
	h.Write(&buf)
	want := "" +
		"(..., 0)                    1 |@@@@@@@@@@@@@                                       |\n" +
		"[0, 25)                     2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n" +
		"[25, 50)                    4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n" +
		"[50, 75)                    0 |                                                    |\n" +
		"[75, 100)                   1 |@@@@@@@@@@@@@                                       |\n" +
		"[100, ...)                  2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	if buf.String() != want {
		t.Fatalf("drawn\n%s\nwant\n%s", buf.String(), want)
	}
	for _, bad := range []string{"0,100", "0,100,0", "100,0,1", "0,x,1", "0,1000000,1"} {
		if _, err := ParseLinear(bad); err == nil {
			t.Errorf("ParseLinear(%q) accepted", bad)
		}
	}
}

func TestKeyedHistByField(t *testing.T) {
	s, o := schema(t, testFormat), schema(t, otherFormat)
	k, _ := NewKeyer([]string{"name"})
	kh := NewKeyedHist(NewLog2(), k, "value")
	kh.AddRecord(rec(s, 1, 0, 1, 3, "x"))
	kh.AddRecord(rec(s, 1, 0, 1, 3, "x"))
	kh.AddRecord(rec(s, 1, 0, 1, 100, "y"))
	kh.AddRecord(rec(o, 1, 0, 1, 5, ""))
	rows := kh.Rows(0)
	if len(rows) != 3 || rows[0].Key[0].Str != "x" || rows[0].Hist.Count != 2 {
		t.Fatalf("rows %+v", rows)
	}
	nokey := NewKeyedHist(NewLog2(), nil, "name2")
	nokey.AddRecord(rec(s, 1, 0, 1, 3, "x"))
	if nokey.Missing != 1 {
		t.Fatalf("missing field not counted")
	}
}

func TestPairerUnmatchedAndEvictions(t *testing.T) {
	s, o := schema(t, testFormat), schema(t, otherFormat)
	p := NewPairer("", 2)
	// END with no START: counted, no value.
	if _, ok := p.End(rec(o, 5, 0, 1, 0, "")); ok || p.UnmatchedEnd != 1 {
		t.Fatal("unmatched END paired")
	}
	p.Start(rec(s, 100, 0, 1, 0, ""))
	if d, ok := p.End(rec(o, 350, 1, 1, 0, "")); !ok || d != 250 {
		t.Fatalf("pair: %d %v", d, ok)
	}
	// A second START of the same thread replaces the first (its END was lost).
	p.Start(rec(s, 100, 0, 1, 0, ""))
	p.Start(rec(s, 200, 0, 1, 0, ""))
	if d, _ := p.End(rec(o, 250, 0, 1, 0, "")); d != 50 || p.Restarted() != 1 {
		t.Fatalf("restart: %d, restarted %d", d, p.Restarted())
	}
	// Three threads in flight with room for two: the oldest is evicted.
	p.Start(rec(s, 10, 0, 11, 0, ""))
	p.Start(rec(s, 20, 0, 12, 0, ""))
	p.Start(rec(s, 30, 0, 13, 0, ""))
	if p.Evicted() != 1 || p.Pending() != 2 {
		t.Fatalf("evicted %d pending %d", p.Evicted(), p.Pending())
	}
	if _, ok := p.End(rec(o, 40, 0, 11, 0, "")); ok {
		t.Fatal("evicted START paired")
	}
	if d, ok := p.End(rec(o, 40, 0, 13, 0, "")); !ok || d != 10 {
		t.Fatalf("pair after eviction: %d %v", d, ok)
	}
	// END stamped before its START (skew): dropped and counted.
	p.Start(rec(s, 100, 0, 20, 0, ""))
	if _, ok := p.End(rec(o, 90, 0, 20, 0, "")); ok || p.Negative != 1 {
		t.Fatal("negative latency accepted")
	}
	if p.Matched != 3 || p.UnmatchedEnd != 2 {
		t.Fatalf("matched %d unmatched %d", p.Matched, p.UnmatchedEnd)
	}
}

func TestPairerByField(t *testing.T) {
	s := schema(t, testFormat)
	p := NewPairer("name", 16)
	p.Start(rec(s, 10, 0, 1, 0, "req-a"))
	p.Start(rec(s, 20, 1, 2, 0, "req-b"))
	if d, ok := p.End(rec(s, 50, 2, 3, 0, "req-a")); !ok || d != 40 {
		t.Fatalf("pair by field: %d %v", d, ok)
	}
}

func TestBoundedStaysBounded(t *testing.T) {
	b := NewBounded[int32, int](100)
	for i := 0; i < 100000; i++ {
		b.Put(int32(i%1000), i)
		if i%3 == 0 {
			b.Take(int32(i % 1000))
		}
	}
	if b.Len() > 100 || len(b.order) > 2*100+64 {
		t.Fatalf("len %d, order queue %d", b.Len(), len(b.order))
	}
	if b.Evicted == 0 {
		t.Fatal("no evictions counted")
	}
	// The survivors are the newest keys.
	v, ok := b.Get(int32(99998 % 1000)) // 99999 was taken again
	if !ok || v != 99998 {
		t.Fatalf("newest entry: %d %v", v, ok)
	}
}

func TestNames(t *testing.T) {
	if ErrnoName(-2) != "ENOENT" || ErrnoName(3) != "" || ErrnoName(-4000) != "E4000" {
		t.Errorf("errno names: %q %q %q", ErrnoName(-2), ErrnoName(3), ErrnoName(-4000))
	}
	if got := OpenFlags(0x80000 | 0x41); got != "O_WRONLY|O_CREAT|O_CLOEXEC" {
		t.Errorf("OpenFlags = %q", got)
	}
}

// TestValueJSONEscapes: a key holds whatever bytes a process chose (its
// name, a path); the JSON of a table must stay valid and say the same as
// record --json would.
func TestValueJSONEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\x01b", "a\x01b"},
		{"a\xffb", "a\ufffdb"},
		{"q\"\\", "q\"\\"},
		{"\n\t\x1b[31m", "\n\t\x1b[31m"},
		{"é", "é"},
		{"", ""},
	} {
		row := map[string]Value{"comm": {IsStr: true, Str: tc.in}, "pid": {Int: -3}}
		b, err := json.Marshal(row)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", tc.in, b, err)
			continue
		}
		if back["comm"] != tc.want || back["pid"] != float64(-3) {
			t.Errorf("%q: decoded %q %v, want %q -3", tc.in, back["comm"], back["pid"], tc.want)
		}
	}
}

// TestLoss: the case, -b 4 under load: 44 page reports without a
// size and an overrun of 63,648 must say 63,648 events lost, not 0.
func TestLoss(t *testing.T) {
	l := SumLoss([]CPULoss{
		{UnknownInPages: 44, Overrun: 63648},
		{InPages: 300, Overrun: 250, Dropped: 7, CommitOverrun: 1}, // pages ahead of a counter read earlier
		{},
	})
	if l.Events != 63648+300+7+1 || l.Unknown != 44 {
		t.Fatalf("loss %+v", l)
	}
	if got := l.String(); got != "63956 events lost (44 loss reports without a size)" {
		t.Errorf("String = %q", got)
	}
	later := SumLoss([]CPULoss{{UnknownInPages: 50, Overrun: 70000}, {InPages: 300, Overrun: 400, Dropped: 7, CommitOverrun: 1}, {}})
	if d := later.Sub(l); d.Events != 70000-63648+100 || d.Unknown != 6 {
		t.Errorf("interval loss %+v", d)
	}
	if (Loss{}).Any() || (Loss{}).String() != "0 events lost" || !(Loss{Unknown: 1}).Any() {
		t.Error("empty loss")
	}
}

// TestMaxKeysFolds: past MaxKeys distinct keys, new keys fold into Other
// and the table stays its size; known keys keep counting; nothing is lost
// from the totals.
func TestMaxKeysFolds(t *testing.T) {
	s := schema(t, testFormat)
	k, _ := NewKeyer([]string{"value"})
	c := NewCounter(k)
	c.MaxKeys = 100
	kh := NewKeyedHist(NewLog2(), k, "value")
	kh.MaxKeys = 100
	r := rec(s, 1, 0, 1, 0, "")
	for i := 0; i < 100000; i++ {
		binary.LittleEndian.PutUint64(r.Data[8:], uint64(i))
		c.Add(r)
		kh.AddRecord(r)
	}
	binary.LittleEndian.PutUint64(r.Data[8:], 5) // a key in the table
	c.Add(r)
	kh.AddRecord(r)
	if c.Len() != 100 || c.Other != 99900 || c.Total != 100001 || len(c.Rows(0)) != 100 {
		t.Fatalf("counter: %d keys, other %d, total %d", c.Len(), c.Other, c.Total)
	}
	var sum uint64
	for _, row := range c.Rows(0) {
		sum += row.Count
	}
	if sum+c.Other != c.Total {
		t.Errorf("rows %d + other %d != total %d", sum, c.Other, c.Total)
	}
	if kh.Len() != 100 || kh.Other == nil || kh.Other.Count != 99900 || kh.Other.MinSeen != 100 || kh.Other.MaxSeen != 99999 {
		t.Fatalf("hist: %d keys, other %+v", kh.Len(), kh.Other)
	}
	c.AddKey([]Value{{Int: -1}}, 7) // the kernel path folds too
	kh.AddValueN([]Value{{Int: -1}}, 3, 2)
	if c.Len() != 100 || c.Other != 99907 || kh.Len() != 100 || kh.Other.Count != 99902 {
		t.Errorf("AddKey/AddValueN: %d keys other %d; %d hists other %d", c.Len(), c.Other, kh.Len(), kh.Other.Count)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		binary.LittleEndian.PutUint64(r.Data[8:], 1<<40)
		c.Add(r)
		kh.AddRecord(r)
	}); allocs != 0 {
		t.Errorf("folding a new key into other: %v allocations", allocs)
	}
	c.Reset()
	kh.Reset()
	if c.Other != 0 || kh.Other != nil || c.Len() != 0 {
		t.Error("Reset kept the folded counts")
	}
}
