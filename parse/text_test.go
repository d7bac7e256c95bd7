package parse

import (
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// capRec is one captured record: its CPU, timestamp and payload (hex), and
// the text the kernel printed for it (fields: with options/fields set).
type capRec struct {
	cpu    int
	ts     uint64
	data   string
	text   string
	fields string
}

// pageRec is one data record for buildPage.
type pageRec struct {
	ts      uint64
	payload []byte
}

// buildPage encodes records into one ring-buffer page of layout l as the
// kernel writes them (spec §3): the page timestamp is the first record's,
// each record header carries the delta from the previous one (a time
// extend first when it does not fit in 27 bits), payloads over 112 bytes
// or not a multiple of 4 use type_len 0 with a length word.
func buildPage(l Layout, recs ...pageRec) []byte {
	var ord binary.ByteOrder = binary.LittleEndian
	if l.BigEndian {
		ord = binary.BigEndian
	}
	word := func(b []byte, typeLen, delta uint32) []byte {
		w := typeLen | delta<<5
		if l.BigEndian {
			w = typeLen<<27 | delta&(1<<27-1)
		}
		return ord.(binary.AppendByteOrder).AppendUint32(b, w)
	}
	u32 := func(b []byte, v uint32) []byte { return ord.(binary.AppendByteOrder).AppendUint32(b, v) }
	var data []byte
	var pageTS, prev uint64
	if len(recs) > 0 {
		pageTS, prev = recs[0].ts, recs[0].ts
	}
	for _, r := range recs {
		delta := r.ts - prev
		prev = r.ts
		if delta >= 1<<27 {
			data = word(data, typeTimeExtend, uint32(delta&(1<<27-1)))
			data = u32(data, uint32(delta>>27))
			delta = 0
		}
		pl := r.payload
		if n := len(pl); n <= 112 && n%4 == 0 && n > 0 {
			data = word(data, uint32(n/4), uint32(delta))
		} else {
			data = word(data, 0, uint32(delta))
			data = u32(data, uint32((n+3)&^3+4))
		}
		data = append(data, pl...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	if len(data) > l.DataSize {
		panic("buildPage: records overflow the page")
	}
	page := make([]byte, l.SubbufSize())
	ord.PutUint64(page[l.TSOffset:], pageTS)
	if l.LongSize == 8 {
		ord.PutUint64(page[l.CommitOff:], uint64(len(data)))
	} else {
		ord.PutUint32(page[l.CommitOff:], uint32(len(data)))
	}
	copy(page[l.DataOffset:], data)
	return page
}

// decodePage returns the items of a page. They alias the page.
func decodePage(t testing.TB, d *Decoder, cpu int, page []byte) []Record {
	t.Helper()
	var it PageIter
	if err := it.Reset(d, cpu, page); err != nil {
		t.Fatal(err)
	}
	var out []Record
	for {
		var r Record
		ok, err := it.Next(&r)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, r)
	}
}

// capDecoder builds a decoder for the captured machine: its header_page,
// the formats, a slice of its kallsyms and saved_cmdlines.
func capDecoder(t testing.TB) *Decoder {
	t.Helper()
	l, err := ParseHeaderPage([]byte(testHeaderPage), false)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(l)
	for _, part := range strings.Split(testFormats, "--- ")[1:] {
		head, body, _ := strings.Cut(part, "\n")
		sys, _, _ := strings.Cut(head, "/")
		if _, err := d.AddFormat(sys, []byte(body)); err != nil {
			t.Fatalf("%s: %v", head, err)
		}
	}
	d.Symbols = ParseKallsyms([]byte(capKallsyms))
	d.Comms = ParseSavedCmdlines([]byte(testCmdlines))
	d.Printk = ParsePrintkFormats([]byte(testPrintk))
	return d
}

const testPrintk = `0xffffffff82a00000 : "hello bputs\n"
0xffffffff82a00100 : "%s=%d %u %ld 0x%llx %c %5s|%-4d|%pS\n"
0xffffffff82a00200 : "no newline %d"
`

// replay encodes captured records into pages (one per CPU, in capture
// order) and decodes them again, pairing each decoded record with its
// capture.
func replay(t testing.TB, d *Decoder, caps []capRec) ([]Record, []capRec) {
	t.Helper()
	byCPU := map[int][]pageRec{}
	capsByCPU := map[int][]capRec{}
	for _, c := range caps {
		b, err := hex.DecodeString(c.data)
		if err != nil {
			t.Fatal(err)
		}
		byCPU[c.cpu] = append(byCPU[c.cpu], pageRec{c.ts, b})
		capsByCPU[c.cpu] = append(capsByCPU[c.cpu], c)
	}
	var recs []Record
	var out []capRec
	for cpu := 0; cpu < 2; cpu++ {
		if len(byCPU[cpu]) == 0 {
			continue
		}
		got := decodePage(t, d, cpu, buildPage(d.Layout, byCPU[cpu]...))
		if len(got) != len(capsByCPU[cpu]) {
			t.Fatalf("cpu%d: decoded %d records, built %d", cpu, len(got), len(capsByCPU[cpu]))
		}
		recs = append(recs, got...)
		out = append(out, capsByCPU[cpu]...)
	}
	return recs, out
}

// TestTextDedicatedMatchesKernel checks the events the kernel prints with
// dedicated code (syscalls, trace_marker, trace_marker_raw, kernel and user
// stack traces) against what the kernel printed for the same bytes.
func TestTextDedicatedMatchesKernel(t *testing.T) {
	d := capDecoder(t)
	n := 0
	for _, set := range [][]capRec{capSyscalls, capUserStack} {
		recs, caps := replay(t, d, set)
		for i := range recs {
			if recs[i].Schema == nil || !recs[i].Schema.special.dedicated() {
				continue
			}
			n++
			if got := string(d.AppendText(nil, &recs[i])); got != caps[i].text {
				t.Errorf("record %d (%s):\n got %q\nwant %q", i, recs[i].Name(), got, caps[i].text)
			}
		}
	}
	if n < 19 {
		t.Fatalf("only %d dedicated records checked", n)
	}
}

// TestTextPrintFmtMatchesKernel checks events printed through their print
// fmt against the kernel's text.
func TestTextPrintFmtMatchesKernel(t *testing.T) {
	d := capDecoder(t)
	for _, set := range [][]capRec{capSyscalls, capSched} {
		recs, caps := replay(t, d, set)
		for i := range recs {
			s := recs[i].Schema
			if s == nil || s.special.dedicated() {
				continue
			}
			if d.Fallback(s) {
				t.Errorf("%s: print fmt did not compile", s.FullName())
				continue
			}
			got, want := string(d.AppendText(nil, &recs[i])), caps[i].text
			// The kernel hashes %p (options/hash-ptr); the decoder prints the
			// raw value, as a reader without the boot's hash key must.
			got, want = hashedPtr.ReplaceAllString(got, "<ptr>"), hashedPtr.ReplaceAllString(want, "<ptr>")
			if got == want {
				continue
			}
			if why, ok := knownPrintDiffs[s.FullName()]; ok {
				t.Logf("known difference (%s):\n got %q\nwant %q", why, got, want)
				continue
			}
			t.Errorf("record %d (%s):\n got %q\nwant %q", i, s.FullName(), got, want)
		}
	}
}

var hashedPtr = regexp.MustCompile(`\b[0-9a-f]{16}\b`)

// knownPrintDiffs lists events whose print fmt cannot be rendered exactly
// from the format file alone.
var knownPrintDiffs = map[string]string{
	"timer:hrtimer_start": "__print_symbolic with enum names (HRTIMER_MODE_*) the format file does not resolve",
}

// TestTextFieldsMatchesKernel forces the fields fallback and compares it
// with the kernel's output for the same records with options/fields set.
func TestTextFieldsMatchesKernel(t *testing.T) {
	d := capDecoder(t)
	for _, s := range d.Schemas() {
		s.printer = failedPrinter
	}
	recs, caps := replay(t, d, capSched)
	n := 0
	for i := range recs {
		if caps[i].fields == "" {
			continue
		}
		n++
		if got := string(d.AppendText(nil, &recs[i])); got != caps[i].fields {
			t.Errorf("record %d (%s):\n got %q\nwant %q", i, recs[i].Name(), got, caps[i].fields)
		}
	}
	if n < 9 {
		t.Fatalf("only %d records checked", n)
	}
}

func TestLatFmt(t *testing.T) {
	for _, c := range []struct {
		flags, pc uint8
		want      string
	}{
		{0, 0, "....."},
		{0x01, 0, "d...."},
		{0x81, 0, "D...."},
		{0x80, 0, "b...."},
		{0x04, 0, ".n..."},
		{0x24, 0, ".N..."},
		{0x20, 0, ".p..."},
		{0x02, 0, ".l..."},
		{0x06, 0, ".b..."},
		{0x22, 0, ".L..."},
		{0x26, 0, ".B..."},
		{0x08, 0, "..h.."},
		{0x18, 0, "..H.."},
		{0x10, 0, "..s.."},
		{0x40, 0, "..z.."},
		{0x48, 0, "..Z.."},
		{0x58, 0, "..Z.."},
		{0, 0x01, "...1."},
		{0, 0x0f, "...f."},
		{0, 0x10, "....1"},
		{0, 0x2f, "...f2"},
		{0x35, 0x03, "dNs3."}, // irqs off, need-resched + preempt-resched, softirq
		{0x09, 0x02, "d.h2."},
	} {
		if got := string(appendLatFmt(nil, c.flags, c.pc, latCurrent)); got != c.want {
			t.Errorf("flags %#x pc %#x: got %q, want %q", c.flags, c.pc, got, c.want)
		}
	}
}

// rawRecord makes a record of schema s with the common fields filled and
// the payload bytes after them.
func rawRecord(d *Decoder, s *Schema, pid int32, flags, pc uint8, rest []byte) Record {
	b := make([]byte, 8, 8+len(rest))
	binary.LittleEndian.PutUint16(b, uint16(s.ID))
	b[2], b[3] = flags, pc
	binary.LittleEndian.PutUint32(b[4:], uint32(pid))
	b = append(b, rest...)
	return Record{Kind: ItemEvent, Schema: s, Type: s.ID, Data: b, bigEndian: d.Layout.BigEndian, longSize: d.Layout.LongSize}
}

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func TestTextPrefix(t *testing.T) {
	d := capDecoder(t)
	s := d.SchemaByName("syscalls:sys_exit_write")
	rest := append(le64(1), le64(2)...) // __syscall_nr (+pad), ret
	for _, c := range []struct {
		pid   int32
		cpu   int
		ts    uint64
		clock string
		want  string
	}{
		{19327, 0, 575011210562, "", "            true-19327   [000] .....   575.011211: "},
		{0, 1, 499, "", "          <idle>-0       [001] .....     0.000000: "},
		{0, 1, 500, "", "          <idle>-0       [001] .....     0.000001: "},
		{4242, 12, 123456789999999, "", "           <...>-4242    [012] ..... 123456.790000: "},
		{-3, 0, 1, "", "           <XXX>--3      [000] .....     0.000000: "},
		{12345678, 0, 1, "", "           <...>-12345678 [000] .....     0.000000: "},
		{15, 3, 123456, "counter", "     rcu_preempt-15      [003] .....       123456: "},
		{15, 3, 123456, "x86-tsc", "     rcu_preempt-15      [003] .....       123456: "},
	} {
		d.SetClock(c.clock)
		r := rawRecord(d, s, c.pid, 0, 0, rest)
		r.CPU, r.TS = c.cpu, c.ts
		got := string(d.AppendText(nil, &r))
		if want := c.want + "sys_write -> 0x2\n"; got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
}

func TestTextLostAndUnknown(t *testing.T) {
	d := capDecoder(t)
	for _, c := range []struct {
		rec  Record
		want string
	}{
		{Record{Kind: ItemLost, CPU: 1, Lost: 308, LostKnown: true}, "CPU:1 [LOST 308 EVENTS]\n"},
		{Record{Kind: ItemLost, CPU: 0}, "CPU:0 [LOST EVENTS]\n"},
		{Record{Kind: ItemEvent, CPU: 1, TS: 2000000, Type: 9999,
			Data: []byte{0x0f, 0x27, 0x01, 0x00, 0x0f, 0x00, 0x00, 0x00}, longSize: 8},
			"     rcu_preempt-15      [001] d....     0.002000: Unknown type 9999\n"},
	} {
		if got := string(d.AppendText(nil, &c.rec)); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

const (
	symTracingMarkWrite = 0xffffffff8149aa90 // tracing_mark_write, 0x170 long
	symDoSyscall64      = 0xffffffff821ef620 // do_syscall_64
)

func TestTextSynthetic(t *testing.T) {
	d := capDecoder(t)
	bprintBuf := []byte("abc\x00")
	bprintBuf = binary.LittleEndian.AppendUint32(bprintBuf, uint32(0xfffffffb)) // %d -5
	bprintBuf = binary.LittleEndian.AppendUint32(bprintBuf, 7)                  // %u
	bprintBuf = binary.LittleEndian.AppendUint64(bprintBuf, 1<<40)              // %ld, aligned to 4
	bprintBuf = binary.LittleEndian.AppendUint64(bprintBuf, 0xdeadbeefcafe)     // %llx
	bprintBuf = append(bprintBuf, 'Z')                                          // %c: one byte
	bprintBuf = append(bprintBuf, "xy\x00"...)                                  // %5s inline
	bprintBuf = binary.LittleEndian.AppendUint32(bprintBuf, 3)                  // %-4d at 32
	bprintBuf = binary.LittleEndian.AppendUint64(bprintBuf, symTracingMarkWrite+0x10)
	stack := le64(symDoSyscall64+0x4e, 0, symTracingMarkWrite)
	for i := 0; i < 8; i++ {
		stack = append(stack, le64(symDoSyscall64)...)
	}
	stack = append(stack, le64(^uint64(0), symTracingMarkWrite)...)
	ctx := "            true-19327   [000] .....     0.000000: "
	for _, c := range []struct {
		event string
		rest  []byte
		want  string
	}{
		{"ftrace:function", le64(symTracingMarkWrite+4, symDoSyscall64+0x4e), "tracing_mark_write <-do_syscall_64\n"},
		{"ftrace:function", le64(symTracingMarkWrite, 0), "tracing_mark_write\n"},
		{"ftrace:function", le64(0x1234, 0xffffffff00000000), "0x00001234 <-0xffffffff00000000\n"},
		{"ftrace:print", append(le64(symTracingMarkWrite), "hi\n\x00pad"...), "tracing_mark_write: hi\n"},
		{"ftrace:print", append(le64(0), "no newline\x00"...), "0: no newline\n"},
		{"ftrace:bputs", le64(symTracingMarkWrite, 0xffffffff82a00000), "tracing_mark_write: hello bputs\n"},
		{"ftrace:bputs", le64(symTracingMarkWrite, 0xffffffff82a0ffff), "tracing_mark_write: 0xffffffff82a0ffff\n"},
		{"ftrace:bprint", append(le64(symTracingMarkWrite, 0xffffffff82a00100), bprintBuf...),
			"tracing_mark_write: abc=-5 7 1099511627776 0xdeadbeefcafe Z    xy|3   |tracing_mark_write+0x10/0x170\n"},
		{"ftrace:bprint", append(le64(symTracingMarkWrite, 0xffffffff82a00200), 42, 0, 0, 0),
			"tracing_mark_write: no newline 42\n"},
		{"ftrace:bprint", le64(symTracingMarkWrite, 0x5), "tracing_mark_write: [UNKNOWN FORMAT 0x5]\n"},
		{"ftrace:raw_data", []byte{0x2a, 0, 0, 0, 'a', 'b', 'c', 0}, "# 2a buf: 61 62 63 00\n"},
		{"ftrace:kernel_stack", append([]byte{11, 0, 0, 0, 0, 0, 0, 0}, stack...),
			"<stack trace>\n => do_syscall_64\n => 0\n => tracing_mark_write\n" + strings.Repeat(" => do_syscall_64\n", 8)},
		{"ftrace:user_stack", append([]byte{1, 2, 0, 0, 0, 0, 0, 0}, le64(0x7fa20b499350, 0x401000, 0, 0x55)...),
			"<user stack trace>\n =>  <00007fa20b499350>\n =>  <0000000000401000>\n"},
		{"syscalls:sys_enter_write", append(le64(1), le64(9, 10, 0xffffffffffffffff)...),
			"sys_write(fd: 9, buf: 0xa, count: 0xffffffffffffffff)\n"},
		{"syscalls:sys_exit_write", le64(1, uint64(1<<64-14)), "sys_write -> 0xfffffffffffffff2\n"},
	} {
		s := d.SchemaByName(c.event)
		if s == nil {
			t.Fatalf("no schema %s", c.event)
		}
		r := rawRecord(d, s, 19327, 0, 0, c.rest)
		if got, want := string(d.AppendText(nil, &r)), ctx+c.want; got != want {
			t.Errorf("%s:\n got %q\nwant %q", c.event, got, want)
		}
	}
}

// TestTextFieldsSynthetic covers field shapes of the fields layout that the
// captured events lack.
func TestTextFieldsSynthetic(t *testing.T) {
	l, _ := ParseHeaderPage([]byte(testHeaderPage), false)
	d := NewDecoder(l)
	s, err := d.AddFormat("test", []byte(`name: shapes
ID: 900
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char c;	offset:8;	size:1;	signed:0;
	field:u8 nc;	offset:9;	size:1;	signed:0;
	field:short h;	offset:10;	size:2;	signed:1;
	field:__data_loc u8[] bytes;	offset:12;	size:4;	signed:0;
	field:unsigned long arr[2];	offset:16;	size:16;	signed:0;
	field:const char * name;	offset:32;	size:8;	signed:0;
	field:__data_loc char[] str;	offset:40;	size:4;	signed:0;
	field:int past;	offset:60;	size:4;	signed:1;

print fmt: "%d", ({ int x = 1; x; })
`))
	if err != nil {
		t.Fatal(err)
	}
	s.printer = failedPrinter
	rest := []byte{'A', 7, 0xfe, 0xff, 0x2c, 0x00, 0x03, 0x00} // c, nc, h=-2, bytes: off 44 len 3
	rest = append(rest, le64(1, 2, 0xffffffff82a00000)...)
	rest = append(rest, 0x2f, 0x00, 0x03, 0x00) // str: off 47 len 3
	rest = append(rest, 0xde, 0xad, 0x01, 'o', 'k', 0)
	r := rawRecord(d, s, 1, 0, 0, rest)
	d.Printk = ParsePrintkFormats([]byte(testPrintk))
	want := "               1-1       [000] .....     0.000000: shapes: c='A'(65) nc=(7) h=0xfffe (65534) bytes=de,ad,01" +
		" arr=<INVALID-SIZE> name=(0xffffffff82a00000:hello bputs\n) str=ok past=<OVERFLOW>\n"
	d.Comms = ParseSavedCmdlines([]byte("1 1\n"))
	if got := string(d.AppendText(nil, &r)); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !d.Fallback(s) {
		t.Error("Fallback(s) = false")
	}
}

func TestCompile(t *testing.T) {
	d := capDecoder(t)
	compiled, fallback := d.Compile()
	if compiled+fallback != len(d.Schemas()) {
		t.Fatalf("Compile() = %d, %d for %d schemas", compiled, fallback, len(d.Schemas()))
	}
	if fallback != 0 {
		for _, s := range d.Schemas() {
			if d.Fallback(s) {
				t.Errorf("%s falls back", s.FullName())
			}
		}
	}
	for _, s := range d.Schemas() {
		if !s.special.dedicated() && s.printer == nil {
			t.Errorf("%s not compiled", s.FullName())
		}
	}
}

func findCap(t testing.TB, d *Decoder, caps []capRec, event string) Record {
	t.Helper()
	recs, _ := replay(t, d, caps)
	for _, r := range recs {
		if r.Name() == event {
			return r
		}
	}
	t.Fatalf("no %s record", event)
	return Record{}
}

func TestTextAllocs(t *testing.T) {
	d := capDecoder(t)
	d.Compile()
	fb := d.SchemaByName("timer:timer_start")
	fb.printer = failedPrinter
	buf := make([]byte, 0, 4096)
	for _, c := range []struct {
		event string
		caps  []capRec
	}{
		{"sched:sched_switch", capSched},
		{"syscalls:sys_enter_openat", capSyscalls},
		{"syscalls:sys_exit_openat", capSyscalls},
		{"ftrace:print", capSyscalls},
		{"ftrace:kernel_stack", capSyscalls},
		{"timer:timer_start", capSched}, // fallback layout
	} {
		r := findCap(t, d, c.caps, c.event)
		if n := testing.AllocsPerRun(100, func() { buf = d.AppendText(buf[:0], &r) }); n != 0 {
			t.Errorf("%s: %v allocations per record", c.event, n)
		}
		if n := testing.AllocsPerRun(100, func() { buf = d.AppendJSON(buf[:0], &r) }); n != 0 {
			t.Errorf("%s JSON: %v allocations per record", c.event, n)
		}
	}
	lost := Record{Kind: ItemLost, CPU: 1, Lost: 3, LostKnown: true}
	if n := testing.AllocsPerRun(100, func() { buf = d.AppendText(buf[:0], &lost) }); n != 0 {
		t.Errorf("lost: %v allocations", n)
	}
}

func BenchmarkAppendText(b *testing.B) {
	d := capDecoder(b)
	d.Compile()
	r := findCap(b, d, capSched, "sched:sched_switch")
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = d.AppendText(buf[:0], &r)
	}
}

// Captured on Linux 6.18.44 x86_64 (2 CPUs) from a throw-away tracefs
// instance: the payloads as trace_pipe_raw held them and, for each, the text
// the kernel's trace file printed (and with options/fields set, where
// captured). Event IDs are those of that boot, matching testFormats.

const testHeaderPage = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n"

// testFormats holds the format files used, each after a "--- system/name" line.
const testFormats = `--- sched/sched_process_exec
name: sched_process_exec
ID: 365
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:pid_t old_pid;	offset:16;	size:4;	signed:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid
--- syscalls/sys_enter_write
name: sys_enter_write
ID: 840
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:unsigned int fd;	offset:16;	size:8;	signed:0;
	field:const char * buf;	offset:24;	size:8;	signed:0;
	field:size_t count;	offset:32;	size:8;	signed:0;

print fmt: "fd: 0x%08lx, buf: 0x%08lx, count: 0x%08lx", ((unsigned long)(REC->fd)), ((unsigned long)(REC->buf)), ((unsigned long)(REC->count))
--- syscalls/sys_exit_write
name: sys_exit_write
ID: 839
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:long ret;	offset:16;	size:8;	signed:1;

print fmt: "0x%lx", REC->ret
--- syscalls/sys_enter_openat
name: sys_enter_openat
ID: 782
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:int flags;	offset:32;	size:8;	signed:0;
	field:umode_t mode;	offset:40;	size:8;	signed:0;

print fmt: "dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), ((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))
--- syscalls/sys_exit_openat
name: sys_exit_openat
ID: 781
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:long ret;	offset:16;	size:8;	signed:1;

print fmt: "0x%lx", REC->ret
--- syscalls/sys_enter_execve
name: sys_enter_execve
ID: 862
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:const char * filename;	offset:16;	size:8;	signed:0;
	field:const char *const * argv;	offset:24;	size:8;	signed:0;
	field:const char *const * envp;	offset:32;	size:8;	signed:0;

print fmt: "filename: 0x%08lx, argv: 0x%08lx, envp: 0x%08lx", ((unsigned long)(REC->filename)), ((unsigned long)(REC->argv)), ((unsigned long)(REC->envp))
--- syscalls/sys_exit_execve
name: sys_exit_execve
ID: 861
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:long ret;	offset:16;	size:8;	signed:1;

print fmt: "0x%lx", REC->ret
--- sched/sched_switch
name: sched_switch
ID: 372
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:int prev_prio;	offset:28;	size:4;	signed:1;
	field:long prev_state;	offset:32;	size:8;	signed:1;
	field:char next_comm[16];	offset:40;	size:16;	signed:0;
	field:pid_t next_pid;	offset:56;	size:4;	signed:1;
	field:int next_prio;	offset:60;	size:4;	signed:1;

print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : "R", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio
--- sched/sched_waking
name: sched_waking
ID: 375
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
	field:int target_cpu;	offset:32;	size:4;	signed:1;

print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu
--- timer/timer_start
name: timer_start
ID: 466
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:void * timer;	offset:8;	size:8;	signed:0;
	field:void * function;	offset:16;	size:8;	signed:0;
	field:unsigned long expires;	offset:24;	size:8;	signed:0;
	field:unsigned long bucket_expiry;	offset:32;	size:8;	signed:0;
	field:unsigned long now;	offset:40;	size:8;	signed:0;
	field:unsigned int flags;	offset:48;	size:4;	signed:0;

print fmt: "timer=%p function=%ps expires=%lu [timeout=%ld] bucket_expiry=%lu cpu=%u idx=%u flags=%s", REC->timer, REC->function, REC->expires, (long)REC->expires - REC->now, REC->bucket_expiry, REC->flags & 0x0003FFFF, REC->flags >> 22, __print_flags(REC->flags & (0x00040000 | 0x00080000 | 0x00100000 | 0x00200000), "|", { 0x00040000, "M" }, { 0x00080000, "D" }, { 0x00100000, "P" }, { 0x00200000, "I" })
--- timer/hrtimer_start
name: hrtimer_start
ID: 460
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:void * hrtimer;	offset:8;	size:8;	signed:0;
	field:void * function;	offset:16;	size:8;	signed:0;
	field:s64 expires;	offset:24;	size:8;	signed:1;
	field:s64 softexpires;	offset:32;	size:8;	signed:1;
	field:enum hrtimer_mode mode;	offset:40;	size:4;	signed:0;
	field:bool was_armed;	offset:44;	size:1;	signed:0;

print fmt: "hrtimer=%p function=%ps expires=%llu softexpires=%llu mode=%s was_armed=%d", REC->hrtimer, REC->function, (unsigned long long) REC->expires, (unsigned long long) REC->softexpires, __print_symbolic(REC->mode, { HRTIMER_MODE_ABS, "ABS" }, { HRTIMER_MODE_REL, "REL" }, { HRTIMER_MODE_ABS_PINNED, "ABS|PINNED" }, { HRTIMER_MODE_REL_PINNED, "REL|PINNED" }, { HRTIMER_MODE_ABS_SOFT, "ABS|SOFT" }, { HRTIMER_MODE_REL_SOFT, "REL|SOFT" }, { HRTIMER_MODE_ABS_PINNED_SOFT, "ABS|PINNED|SOFT" }, { HRTIMER_MODE_REL_PINNED_SOFT, "REL|PINNED|SOFT" }, { HRTIMER_MODE_ABS_HARD, "ABS|HARD" }, { HRTIMER_MODE_REL_HARD, "REL|HARD" }, { HRTIMER_MODE_ABS_PINNED_HARD, "ABS|PINNED|HARD" }, { HRTIMER_MODE_REL_PINNED_HARD, "REL|PINNED|HARD" }), REC->was_armed
--- kmem/kmalloc
name: kmalloc
ID: 658
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long call_site;	offset:8;	size:8;	signed:0;
	field:const void * ptr;	offset:16;	size:8;	signed:0;
	field:size_t bytes_req;	offset:24;	size:8;	signed:0;
	field:size_t bytes_alloc;	offset:32;	size:8;	signed:0;
	field:unsigned long gfp_flags;	offset:40;	size:8;	signed:0;
	field:int node;	offset:48;	size:4;	signed:1;

print fmt: "call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d accounted=%s", (void *)REC->call_site, REC->ptr, REC->bytes_req, REC->bytes_alloc, (REC->gfp_flags) ? __print_flags(REC->gfp_flags, "|", {( unsigned long)(((((((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7))) | (( gfp_t)((((1UL))) << (20)))) | (( gfp_t)((((1UL))) << (1)))) | (( gfp_t)((((1UL))) << (3))) | (( gfp_t)0)) | (( gfp_t)((((1UL))) << (18))) | (( gfp_t)((((1UL))) << (19))) | (( gfp_t)((((1UL))) << (13)))) & ~(( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11))))) | (( gfp_t)((((1UL))) << (10)))), "GFP_TRANSHUGE"}, {( unsigned long)((((((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7))) | (( gfp_t)((((1UL))) << (20)))) | (( gfp_t)((((1UL))) << (1)))) | (( gfp_t)((((1UL))) << (3))) | (( gfp_t)0)) | (( gfp_t)((((1UL))) << (18))) | (( gfp_t)((((1UL))) << (19))) | (( gfp_t)((((1UL))) << (13)))) & ~(( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11))))), "GFP_TRANSHUGE_LIGHT"}, {( unsigned long)((((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7))) | (( gfp_t)((((1UL))) << (20)))) | (( gfp_t)((((1UL))) << (1)))) | (( gfp_t)((((1UL))) << (3))) | (( gfp_t)0)), "GFP_HIGHUSER_MOVABLE"}, {( unsigned long)(((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7))) | (( gfp_t)((((1UL))) << (20)))) | (( gfp_t)((((1UL))) << (1)))), "GFP_HIGHUSER"}, {( unsigned long)((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7))) | (( gfp_t)((((1UL))) << (20)))), "GFP_USER"}, {( unsigned long)(((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7)))) | (( gfp_t)((((1UL))) << (22)))), "GFP_KERNEL_ACCOUNT"}, {( unsigned long)((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7)))), "GFP_KERNEL"}, {( unsigned long)((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6)))), "GFP_NOFS"}, {( unsigned long)((( gfp_t)((((1UL))) << (5)))|(( gfp_t)((((1UL))) << (11)))), "GFP_ATOMIC"}, {( unsigned long)((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11))))), "GFP_NOIO"}, {( unsigned long)((( gfp_t)((((1UL))) << (11))) | (( gfp_t)((((1UL))) << (13)))), "GFP_NOWAIT"}, {( unsigned long)(( gfp_t)((((1UL))) << (0))), "GFP_DMA"}, {( unsigned long)(( gfp_t)((((1UL))) << (2))), "GFP_DMA32"}, {( unsigned long)(( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))), "__GFP_RECLAIM"}, {( unsigned long)(( gfp_t)((((1UL))) << (0))), "__GFP_DMA"}, {( unsigned long)(( gfp_t)((((1UL))) << (1))), "__GFP_HIGHMEM"}, {( unsigned long)(( gfp_t)((((1UL))) << (2))), "__GFP_DMA32"}, {( unsigned long)(( gfp_t)((((1UL))) << (3))), "__GFP_MOVABLE"}, {( unsigned long)(( gfp_t)((((1UL))) << (4))), "__GFP_RECLAIMABLE"}, {( unsigned long)(( gfp_t)((((1UL))) << (5))), "__GFP_HIGH"}, {( unsigned long)(( gfp_t)((((1UL))) << (6))), "__GFP_IO"}, {( unsigned long)(( gfp_t)((((1UL))) << (7))), "__GFP_FS"}, {( unsigned long)(( gfp_t)((((1UL))) << (8))), "__GFP_ZERO"}, {( unsigned long)(( gfp_t)((((1UL))) << (10))), "__GFP_DIRECT_RECLAIM"}, {( unsigned long)(( gfp_t)((((1UL))) << (11))), "__GFP_KSWAPD_RECLAIM"}, {( unsigned long)(( gfp_t)((((1UL))) << (12))), "__GFP_WRITE"}, {( unsigned long)(( gfp_t)((((1UL))) << (13))), "__GFP_NOWARN"}, {( unsigned long)(( gfp_t)((((1UL))) << (14))), "__GFP_RETRY_MAYFAIL"}, {( unsigned long)(( gfp_t)((((1UL))) << (15))), "__GFP_NOFAIL"}, {( unsigned long)(( gfp_t)((((1UL))) << (16))), "__GFP_NORETRY"}, {( unsigned long)(( gfp_t)((((1UL))) << (17))), "__GFP_MEMALLOC"}, {( unsigned long)(( gfp_t)((((1UL))) << (18))), "__GFP_COMP"}, {( unsigned long)(( gfp_t)((((1UL))) << (19))), "__GFP_NOMEMALLOC"}, {( unsigned long)(( gfp_t)((((1UL))) << (20))), "__GFP_HARDWALL"}, {( unsigned long)(( gfp_t)((((1UL))) << (21))), "__GFP_THISNODE"}, {( unsigned long)(( gfp_t)((((1UL))) << (22))), "__GFP_ACCOUNT"}, {( unsigned long)(( gfp_t)((((1UL))) << (23))), "__GFP_ZEROTAGS"}, {( unsigned long)(( gfp_t)((((1UL))) << (24))), "__GFP_NO_OBJ_EXT"}, { 0, ((void *)0) } ) : "none", REC->node, (1 && (REC->gfp_flags & ( unsigned long)(( gfp_t)((((1UL))) << (22))))) ? "true" : "false"
--- workqueue/workqueue_queue_work
name: workqueue_queue_work
ID: 337
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:void * work;	offset:8;	size:8;	signed:0;
	field:void * function;	offset:16;	size:8;	signed:0;
	field:__data_loc char[] workqueue;	offset:24;	size:4;	signed:0;
	field:int req_cpu;	offset:28;	size:4;	signed:1;
	field:int cpu;	offset:32;	size:4;	signed:1;

print fmt: "work struct=%p function=%ps workqueue=%s req_cpu=%d cpu=%d", REC->work, REC->function, __get_str(workqueue), REC->req_cpu, REC->cpu
--- ftrace/print
name: print
ID: 5
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long ip;	offset:8;	size:8;	signed:0;
	field:char buf[];	offset:16;	size:0;	signed:0;

print fmt: "%ps: %s", (void *)REC->ip, REC->buf
--- ftrace/raw_data
name: raw_data
ID: 19
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned int id;	offset:8;	size:4;	signed:0;
	field:char buf[];	offset:12;	size:0;	signed:0;

print fmt: "id:%04x %08x", REC->id, (int)REC->buf[0]
--- ftrace/kernel_stack
name: kernel_stack
ID: 4
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int size;	offset:8;	size:4;	signed:1;
	field:unsigned long caller[8];	offset:16;	size:64;	signed:0;

print fmt: "\t=> %ps\n\t=> %ps\n\t=> %ps\n" "\t=> %ps\n\t=> %ps\n\t=> %ps\n" "\t=> %ps\n\t=> %ps\n", (void *)REC->caller[0], (void *)REC->caller[1], (void *)REC->caller[2], (void *)REC->caller[3], (void *)REC->caller[4], (void *)REC->caller[5], (void *)REC->caller[6], (void *)REC->caller[7]
--- ftrace/user_stack
name: user_stack
ID: 13
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned int tgid;	offset:8;	size:4;	signed:0;
	field:unsigned long caller[8];	offset:16;	size:64;	signed:0;

print fmt: "\t=> %ps\n\t=> %ps\n\t=> %ps\n" "\t=> %ps\n\t=> %ps\n\t=> %ps\n" "\t=> %ps\n\t=> %ps\n", (void *)REC->caller[0], (void *)REC->caller[1], (void *)REC->caller[2], (void *)REC->caller[3], (void *)REC->caller[4], (void *)REC->caller[5], (void *)REC->caller[6], (void *)REC->caller[7]
--- ftrace/bprint
name: bprint
ID: 6
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long ip;	offset:8;	size:8;	signed:0;
	field:const char * fmt;	offset:16;	size:8;	signed:0;
	field:u32 buf[];	offset:24;	size:0;	signed:0;

print fmt: "%ps: %s", (void *)REC->ip, REC->fmt
--- ftrace/bputs
name: bputs
ID: 15
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long ip;	offset:8;	size:8;	signed:0;
	field:const char * str;	offset:16;	size:8;	signed:0;

print fmt: "%ps: %s", (void *)REC->ip, REC->str
--- ftrace/function
name: function
ID: 1
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long ip;	offset:8;	size:8;	signed:0;
	field:unsigned long parent_ip;	offset:16;	size:8;	signed:0;
	field:unsigned long args[];	offset:24;	size:0;	signed:0;

print fmt: " %ps <-- %ps", (void *)REC->ip, (void *)REC->parent_ip
`

const testCmdlines = "15 rcu_preempt\n19327 true\n19740 bash\n19743 sleep\n19753 run.sh\n6146 memfd:sealed-91\n"

var capSyscalls = []capRec{
	{0, 575011210562, "470300007f4b000001000000ffffffff0200000000000000",
		"            true-19327   [000] .....   575.011211: sys_write -> 0x2\n", ""},
	{0, 575011236982, "040000007f4b000004000000c00d4000d42c4b81ffffffff9c7e4181ffffffff4ef81e82ffffffff30010081ffffffff",
		"            true-19327   [000] .....   575.011237: <stack trace>\n => ftrace_syscall_exit\n => syscall_exit_work\n => do_syscall_64\n => entry_SYSCALL_64_after_hwframe\n", ""},
	{0, 575011251971, "0e0300007f4b000001010000412c00009cffffff00000000205a5118935500004102000000000000b601000000000000",
		"            true-19327   [000] .....   575.011252: sys_openat(dfd: 0xffffff9c, filename: 0x559318515a20, flags: 0x241, mode: 0x1b6)\n", ""},
	{0, 575011254891, "040000007f4b00000400000000000000b52e4b81ffffffff707d4181ffffffff1af81e82ffffffff30010081ffffffff",
		"            true-19327   [000] .....   575.011255: <stack trace>\n => ftrace_syscall_enter\n => syscall_trace_enter\n => do_syscall_64\n => entry_SYSCALL_64_after_hwframe\n", ""},
	{0, 575011267420, "0d0300007f4b0000010100008188ffff0300000000000000",
		"            true-19327   [000] .....   575.011267: sys_openat -> 0x3\n", ""},
	{0, 575011269329, "040000007f4b000004000000ffffffffd42c4b81ffffffff9c7e4181ffffffff4ef81e82ffffffff30010081ffffffff",
		"            true-19327   [000] .....   575.011269: <stack trace>\n => ftrace_syscall_exit\n => syscall_exit_work\n => do_syscall_64\n => entry_SYSCALL_64_after_hwframe\n", ""},
	{0, 575011275590, "480300007f4b000001000000c00c40000100000000000000005c5118935500000d00000000000000",
		"            true-19327   [000] .....   575.011276: sys_write(fd: 1, buf: 0x559318515c00, count: 0xd)\n", ""},
	{0, 575011279047, "050000017f4b00001aab4981ffffffff68656c6c6f2d6d61726b65720a000000",
		"            true-19327   [000] ...1.   575.011279: tracing_mark_write: hello-marker\n", ""},
	{0, 575011279639, "470300007f4b0000010000009e2b00000d00000000000000",
		"            true-19327   [000] .....   575.011280: sys_write -> 0xd\n", ""},
	{0, 575011301652, "0e0300007f4b000001010000530000009cffffff00000000205a5118935500004102000000000000b601000000000000",
		"            true-19327   [000] .....   575.011302: sys_openat(dfd: 0xffffff9c, filename: 0x559318515a20, flags: 0x241, mode: 0x1b6)\n", ""},
	{0, 575011307547, "0d0300007f4b000001010000000000000300000000000000",
		"            true-19327   [000] .....   575.011308: sys_openat -> 0x3\n", ""},
	{0, 575011316047, "480300007f4b000001000000ffffffff0100000000000000005c5118935500000400000000000000",
		"            true-19327   [000] .....   575.011316: sys_write(fd: 1, buf: 0x559318515c00, count: 4)\n", ""},
	{0, 575011318207, "050000017f4b00001aab4981ffffffff6e6f6e6c0a00a870",
		"            true-19327   [000] ...1.   575.011318: tracing_mark_write: nonl\n", ""},
	{0, 575011351723, "130000017f4b00002a00000061626300",
		"            true-19327   [000] ...1.   575.011352: # 2a buf: 61 62 63 00\n", ""},
	{0, 575011383249, "5e0300007f4b00003b00000000000000706c511893550000e059511893550000d082511893550000",
		"            true-19327   [000] .....   575.011383: sys_execve(filename: 0x559318516c70, argv: 0x5593185159e0, envp: 0x5593185182d0)\n", ""},
	{0, 575011719022, "6d0100007f4b000014000a007f4b00007f4b00002f62696e2f7472756500ffff",
		"            true-19327   [000] .....   575.011719: sched_process_exec: filename=/bin/true pid=19327 old_pid=19327\n", ""},
}

var capSched = []capRec{
	{1, 583877035078, "920200001c4d00000b70a881ffffffff203d87008188ffff0b000000000000001000000000000000c00d400000000000ffffffffc6b80200",
		"            bash-19740   [001] .....   583.877035: kmalloc: call_site=lsm_blob_alloc+0x3b/0x60 ptr=000000009997a390 bytes_req=11 bytes_alloc=16 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true\n",
		"            bash-19740   [001] .....   583.877035: kmalloc: call_site=lsm_blob_alloc+0x3b/0x60 (-2119667701) ptr=0xffff888100873d20 (-131387335688928) bytes_req=0xb (11) bytes_alloc=0x10 (16) gfp_flags=0x400dc0 (4197824) node=0xffffffff (-1)\n"},
	{1, 583877044688, "920200001c4d000085966e81ffffffff00f9c6008188ffff38000000000000004000000000000000c00c400000000000ffffffff53000000",
		"            bash-19740   [001] .....   583.877045: kmalloc: call_site=alloc_fdtable+0x55/0x140 ptr=000000001086fc10 bytes_req=56 bytes_alloc=64 gfp_flags=GFP_KERNEL_ACCOUNT node=-1 accounted=true\n",
		"            bash-19740   [001] .....   583.877045: kmalloc: call_site=alloc_fdtable+0x55/0x140 (-2123458939) ptr=0xffff888100c6f900 (-131387331512064) bytes_req=0x38 (56) bytes_alloc=0x40 (64) gfp_flags=0x400cc0 (4197568) node=0xffffffff (-1)\n"},
	{0, 583877260197, "7401010200000000737761707065722f300000000000000000000000780000000000000000000000626173680000000000000000000000001f4d000078000000",
		"          <idle>-0       [000] d..2.   583.877260: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=19743 next_prio=120\n",
		"          <idle>-0       [000] d..2.   583.877260: sched_switch: prev_comm=swapper/0 prev_pid=0x0 (0) prev_prio=0x78 (120) prev_state=0x0 (0) next_comm=bash next_pid=0x4d1f (19743) next_prio=0x78 (120)\n"},
	{1, 583877322571, "740101021c4d0000626173680000000000000000000000001c4d0000780000000100000000000000737761707065722f31000000000000000000000078000000",
		"            bash-19740   [001] d..2.   583.877323: sched_switch: prev_comm=bash prev_pid=19740 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120\n",
		"            bash-19740   [001] d..2.   583.877323: sched_switch: prev_comm=bash prev_pid=0x4d1c (19740) prev_prio=0x78 (120) prev_state=0x1 (1) next_comm=swapper/1 next_pid=0x0 (0) next_prio=0x78 (120)\n"},
	{0, 583878699365, "cc0101011f4d0000707b110400c9ffffb0044281ffffffffc141e8f187000000717ee7f1870000000100000000000000",
		"           sleep-19743   [000] d..1.   583.878699: hrtimer_start: hrtimer=00000000843edc43 function=hrtimer_wakeup expires=583879115201 softexpires=583879065201 mode=REL was_armed=0\n",
		"           sleep-19743   [000] d..1.   583.878699: hrtimer_start: hrtimer=0xffffc90004117b70 (-60473071273104) function=hrtimer_wakeup+0x0/0x30 (-2126379856) expires=0x87f1e841c1 (583879115201) softexpires=0x87f1e77e71 (583879065201) mode=0x1 (1) was_armed=(0)\n"},
	{0, 583879659630, "cc01090200000000f8c6c1278688ffffe0524381ffffffff009e01f187000000009e01f1870000000000000000000000",
		"          <idle>-0       [000] d.h2.   583.879660: hrtimer_start: hrtimer=000000005684e1fb function=tick_nohz_handler expires=583864000000 softexpires=583864000000 mode=ABS was_armed=0\n",
		"          <idle>-0       [000] d.h2.   583.879660: hrtimer_start: hrtimer=0xffff888627c1c6f8 (-131365202704648) function=tick_nohz_handler+0x0/0x140 (-2126294304) expires=0x87f1019e00 (583864000000) softexpires=0x87f1019e00 (583864000000) mode=0x0 (0) was_armed=(0)\n"},
	{0, 583883678747, "77011103000000007263755f707265656d707400000000000f0000007800000000000000",
		"          <idle>-0       [000] d.s3.   583.883679: sched_waking: comm=rcu_preempt pid=15 prio=120 target_cpu=000\n",
		"          <idle>-0       [000] d.s3.   583.883679: sched_waking: comm=rcu_preempt pid=0xf (15) prio=0x78 (120) target_cpu=0x0 (0)\n"},
	{0, 583883714393, "d20101010f000000f8fd070000c9ffffc0234281ffffffff1e150100010000001f150100010000001d150100010000000000c00700000000",
		"     rcu_preempt-15      [000] d..1.   583.883714: timer_start: timer=00000000fad3e057 function=process_timeout expires=4295038238 [timeout=1] bucket_expiry=4295038239 cpu=0 idx=31 flags=\n",
		"     rcu_preempt-15      [000] d..1.   583.883714: timer_start: timer=0xffffc9000007fdf8 (-60473139003912) function=process_timeout+0x0/0x10 (-2126371904) expires=0x10001151e (4295038238) bucket_expiry=0x10001151f (4295038239) now=0x10001151d (4295038237) flags=0x7c00000 (130023424)\n"},
	{1, 583889754523, "77010903000000006d656d66643a7365616c65642d393100021800007800000001000000",
		"          <idle>-0       [001] d.h3.   583.889755: sched_waking: comm=memfd:sealed-91 pid=6146 prio=120 target_cpu=001\n",
		"          <idle>-0       [001] d.h3.   583.889755: sched_waking: comm=memfd:sealed-91 pid=0x1802 (6146) prio=0x78 (120) target_cpu=0x1 (1)\n"},
}

var capUserStack = []capRec{
	{0, 583939079385, "47030000294d000001000000000000000200000000000000",
		"          run.sh-19753   [000] .....   583.939079: sys_write -> 0x2\n", ""},
	{0, 583939080978, "0d000000294d0000294d0000000000005093490ba27f00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"          run.sh-19753   [000] .....   583.939081: <user stack trace>\n =>  <00007fa20b499350>\n", ""},
	{0, 583939102262, "47030000294d000001000000000000000200000000000000",
		"          run.sh-19753   [000] .....   583.939102: sys_write -> 0x2\n", ""},
	{0, 583939102481, "0d000000294d0000294d0000000000005093490ba27f00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"          run.sh-19753   [000] .....   583.939102: <user stack trace>\n =>  <00007fa20b499350>\n", ""},
}

const capKallsyms = `ffffffff810000ba T entry_SYSCALL_64_after_hwframe
ffffffff81000138 t syscall_return_via_sysret
ffffffff8139be20 T __traceiter_sched_process_exec
ffffffff8139be80 T __pfx___probestub_sched_process_exec
ffffffff813a2d70 t trace_event_raw_event_sched_process_exec
ffffffff813a2e80 t __pfx_trace_event_raw_event_sched_kthread_stop
ffffffff813c7a00 t dl_task_timer
ffffffff813c8110 t __pfx_rq_online_dl
ffffffff81417bf0 T syscall_trace_enter
ffffffff81417dd0 T __pfx_syscall_exit_work
ffffffff81417de0 T syscall_exit_work
ffffffff81417fc0 t __pfx_task_set_syscall_user_dispatch
ffffffff814204b0 t hrtimer_wakeup
ffffffff814204e0 t __pfx_hrtimer_reprogram.constprop.0
ffffffff814223c0 t process_timeout
ffffffff814223d0 T __pfx_msleep
ffffffff814352e0 t tick_nohz_handler
ffffffff81435420 t __pfx_tick_nohz_lowres_handler
ffffffff8149aa90 t tracing_mark_write
ffffffff8149ac00 T __pfx_trace_vbprintk
ffffffff814b2c10 t ftrace_syscall_exit
ffffffff814b2d60 t __pfx_ftrace_syscall_enter
ffffffff814b2d70 t ftrace_syscall_enter
ffffffff814b2f70 t __pfx_perf_syscall_exit
ffffffff816c56e0 t bprm_execve
ffffffff816c5bf0 T __pfx_setup_arg_pages
ffffffff816c6370 t alloc_bprm
ffffffff816c6590 t __pfx_get_arg_page
ffffffff816c6e70 t do_execveat_common.isra.0
ffffffff816c7020 T __pfx_path_noexec
ffffffff816c8030 T __x64_sys_execve
ffffffff816c8080 T __pfx___ia32_sys_execve
ffffffff816e9630 t alloc_fdtable
ffffffff816e9770 t __pfx_sane_fdtable_size
ffffffff81753ee0 t load_elf_phdrs
ffffffff81753fa0 t __pfx_elf_core_dump
ffffffff81755520 t load_elf_binary
ffffffff81756dc0 t __pfx_notesize
ffffffff81756f20 t load_elf_phdrs
ffffffff81756fe0 t __pfx_elf_core_dump
ffffffff817585d0 t load_elf_binary
ffffffff81759fd0 T __pfx_backing_file_open
ffffffff81799bb0 t ext4_dir_open
ffffffff81799c00 t __pfx_call_filldir
ffffffff81a86fd0 t lsm_blob_alloc
ffffffff81a87030 T __pfx_security_tun_dev_alloc_security
ffffffff821ef620 T do_syscall_64
ffffffff821ef8a0 t __pfx___do_fast_syscall_32
`
