package tracedat

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/parse"
)

var update = flag.Bool("update", false, "rewrite the golden .txt files from the reader's output")

// fixtures are small trace.dat files kept as hex dumps (reviewable text),
// made by TestMakeFixtures from a tracer recording.
var fixtures = []string{"v6", "v7-zstd", "v7-zlib"}

// readHex parses "offset: hex bytes  |ascii|" lines.
func readHex(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		offs, rest, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		var off int
		if _, err := fmt.Sscanf(offs, "%x", &off); err != nil || off < len(out) || off > 1<<26 {
			t.Fatalf("%s: bad offset in %q", path, line)
		}
		out = append(out, make([]byte, off-len(out))...) // rows of zeros are left out
		if i := strings.Index(rest, "  |"); i >= 0 {
			rest = rest[:i]
		}
		b, err := hex.DecodeString(strings.ReplaceAll(rest, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, b...)
	}
	return out
}

func writeHex(path, comment string, b []byte) error {
	var w bytes.Buffer
	fmt.Fprintf(&w, "# %s\n", comment)
	for off := 0; off < len(b); off += 16 {
		row := b[off:min(off+16, len(b))]
		if off > 0 && off+16 < len(b) && allZero(row) {
			continue // rows of zeros (page padding) are left out; the offsets say where
		}
		fmt.Fprintf(&w, "%08x: ", off)
		for i := 0; i < 16; i++ {
			if i < len(row) {
				fmt.Fprintf(&w, "%02x", row[i])
			} else {
				w.WriteString("  ")
			}
			if i%2 == 1 {
				w.WriteByte(' ')
			}
		}
		w.WriteString(" |")
		for _, c := range row {
			if c >= 32 && c < 127 {
				w.WriteByte(c)
			} else {
				w.WriteByte('.')
			}
		}
		w.WriteString("|\n")
	}
	return os.WriteFile(path, w.Bytes(), 0o644)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// report renders every buffer of a file the way tracer report does, with
// errors inline, so golden files show where damage stops the output.
func report(t testing.TB, b []byte, json bool) string {
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var out []byte
	for _, n := range f.Notes {
		out = append(out, "note: "+n+"\n"...)
	}
	for _, buf := range f.Buffers {
		if buf.Latency {
			continue
		}
		d, err := f.Decoder(buf)
		if err != nil {
			return string(out) + "error: " + err.Error() + "\n"
		}
		var srcs []parse.RecordSource
		for _, s := range f.Streams(d, buf) {
			srcs = append(srcs, s)
		}
		m := parse.NewMerger(srcs...)
		var rec parse.Record
		for {
			ok, err := m.Next(&rec)
			if err != nil {
				out = append(out, "error: "+err.Error()+"\n"...)
				continue
			}
			if !ok {
				break
			}
			if json {
				out = d.AppendJSON(out, &rec)
			} else {
				out = d.AppendText(out, &rec)
			}
		}
	}
	return string(out)
}

func TestGolden(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			b := readHex(t, filepath.Join("testdata", name+".hex"))
			got := report(t, b, false) + "--- json\n" + report(t, b, true)
			golden := filepath.Join("testdata", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestFixturesAgree: the three encodings of the same recording report the
// same text.
func TestFixturesAgree(t *testing.T) {
	var first string
	for _, name := range fixtures {
		got := report(t, readHex(t, filepath.Join("testdata", name+".hex")), false)
		if strings.Contains(got, "error") || !strings.Contains(got, "sched_process_exec") {
			t.Fatalf("%s: unexpected report:\n%s", name, got)
		}
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s reports differently from %s:\n%s\nvs\n%s", name, fixtures[0], got, first)
		}
	}
}

// metaOf turns a file back into writer input: its metadata and pages.
func metaOf(t testing.TB, f *File) (*Meta, []CPUInput) {
	buf := f.DataBuffer()
	m := &Meta{
		BigEndian: f.BigEndian, LongSize: f.LongSize, PageSize: f.SubbufSize(buf),
		HeaderPage: f.HeaderPage, HeaderEvent: f.HeaderEvent, FtraceFormats: f.FtraceFormats, Systems: f.Systems,
		Kallsyms: f.Kallsyms, Printk: f.Printk, Cmdlines: f.Cmdlines,
		TraceClock: f.TraceClock, Uname: f.Uname, Version: "tracer test", CPUStats: f.CPUStats, CPUCount: f.CPUCount,
		BufferName: buf.Name,
	}
	var cpus []CPUInput
	for _, c := range buf.CPUs {
		if c.Size == 0 {
			continue
		}
		var data []byte
		next := f.plainPages([]CPUData{c}, f.SubbufSize(buf), buf.Name)
		if buf.compressed {
			next = f.chunkPages(c, f.SubbufSize(buf), buf.Name)
		}
		for {
			p, err := next()
			if err != nil {
				break
			}
			data = append(data, p...)
			if len(p) < m.PageSize {
				data = append(data, make([]byte, m.PageSize-len(p))...)
			}
		}
		cpus = append(cpus, CPUInput{CPU: c.CPU, Size: int64(len(data)), R: bytes.NewReader(data)})
		if c.CPU >= m.CPUCount {
			m.CPUCount = c.CPU + 1
		}
	}
	return m, cpus
}

// TestRoundTrip: what tracer writes, in every form, tracer reads back
// with the same records.
func TestRoundTrip(t *testing.T) {
	src := readHex(t, filepath.Join("testdata", "v6.hex"))
	want := report(t, src, false)
	for _, o := range []WriteOptions{{Version: 6}, {Version: 7}, {Version: 7, Compression: "zlib"}, {Version: 7, Compression: "zstd"}} {
		t.Run(fmt.Sprintf("v%d-%s", o.Version, o.Compression), func(t *testing.T) {
			f, err := Open(bytes.NewReader(src), int64(len(src)))
			if err != nil {
				t.Fatal(err)
			}
			m, cpus := metaOf(t, f)
			var out bytes.Buffer
			if err := Write(&out, m, cpus, o); err != nil {
				t.Fatal(err)
			}
			if got := report(t, out.Bytes(), false); got != want {
				t.Errorf("round trip differs:\n%s\nwant\n%s", got, want)
			}
			g, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if g.Clock() != f.Clock() || g.CPUCount != f.CPUCount || g.SubbufSize(g.DataBuffer()) != m.PageSize {
				t.Errorf("metadata: clock %q/%q cpus %d/%d", g.Clock(), f.Clock(), g.CPUCount, f.CPUCount)
			}
		})
	}
}

// TestBigEndian32: the header and metadata of a big-endian, 32-bit file
// read back in that byte order.
func TestBigEndian32(t *testing.T) {
	hp := "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n"
	m := &Meta{BigEndian: true, LongSize: 4, PageSize: 4096, HeaderPage: []byte(hp), TraceClock: "[global]", CPUCount: 1,
		Cmdlines: []byte("1 init\n")}
	// One page: ts 1000, commit 12 bytes, one 8-byte record of event 7.
	page := make([]byte, 4096)
	page[7] = 0xe8
	page[6] = 0x03
	page[11] = 8
	// type_len 1 (4-byte payload), delta 5: big-endian bitfield puts type_len on top.
	hdr := uint32(1)<<27 | 5
	page[12], page[13], page[14], page[15] = byte(hdr>>24), byte(hdr>>16), byte(hdr>>8), byte(hdr)
	page[17] = 7
	for _, v := range []int{6, 7} {
		var out bytes.Buffer
		if err := Write(&out, m, []CPUInput{{CPU: 0, Size: 4096, R: bytes.NewReader(page)}}, WriteOptions{Version: v}); err != nil {
			t.Fatal(err)
		}
		f, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if !f.BigEndian || f.LongSize != 4 || f.Clock() != "global" || string(f.Cmdlines) != "1 init\n" {
			t.Fatalf("v%d: read back %+v", v, f)
		}
		d, err := f.Decoder(nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Layout.LongSize != 4 || !d.Layout.BigEndian {
			t.Fatalf("layout %+v", d.Layout)
		}
		s := f.Streams(d, f.DataBuffer())
		var rec parse.Record
		ok, err := s[0].Next(&rec)
		if !ok || err != nil || rec.TS != 1005 || rec.Type != 7 {
			t.Fatalf("v%d: record %v %v ts=%d type=%d", v, ok, err, rec.TS, rec.Type)
		}
	}
}

// TestDamaged: a truncated file reports the pages before the cut and then
// says where the data stops; bad offsets and lying sizes give errors, not
// panics.
func TestDamaged(t *testing.T) {
	src := readHex(t, filepath.Join("testdata", "v6.hex"))
	full := report(t, src, false)
	f, _ := Open(bytes.NewReader(src), int64(len(src)))
	buf := f.DataBuffer()
	var last CPUData
	for _, c := range buf.CPUs {
		if c.Size > 0 && c.Offset > last.Offset {
			last = c
		}
	}
	// Cut in the middle of the last CPU's second page: its first page stays.
	cut := last.Offset + int64(f.SubbufSize(buf))/2
	if last.Size > int64(f.SubbufSize(buf)) {
		cut += int64(f.SubbufSize(buf))
	}
	got := report(t, src[:cut], false)
	if !strings.Contains(got, "truncated") {
		t.Errorf("no truncation error:\n%s", got)
	}
	lines := 0
	for _, l := range strings.Split(got, "\n") {
		if l != "" && !strings.HasPrefix(l, "error:") && strings.Contains(full, l) {
			lines++
		}
	}
	if lines == 0 {
		t.Errorf("no good events before the damage:\n%s", got)
	}
	// Every prefix: no panic, and an error that says where.
	for n := 0; n < len(src); n += 97 {
		_, err := Open(bytes.NewReader(src[:n]), int64(n))
		var fe *parse.FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("cut at %d: %T %v", n, err, err)
		}
	}
}

// TestUnknownOption: an option tracer does not know is skipped with a note.
func TestUnknownOption(t *testing.T) {
	src := readHex(t, filepath.Join("testdata", "v6.hex"))
	f, _ := Open(bytes.NewReader(src), int64(len(src)))
	m, cpus := metaOf(t, f)
	var out bytes.Buffer
	if err := Write(&out, m, cpus, WriteOptions{Version: 7}); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	// Turn the UNAME option into an unknown one (id 999).
	i := bytes.Index(b, []byte{OptUname, 0})
	for i >= 0 && !bytes.HasPrefix(b[i+6:], []byte(m.Uname)) {
		j := bytes.Index(b[i+1:], []byte{OptUname, 0})
		if j < 0 {
			i = -1
			break
		}
		i += 1 + j
	}
	if i < 0 {
		t.Skip("no UNAME option in fixture")
	}
	b[i], b[i+1] = 0xe7, 0x03
	g, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Notes) == 0 || !strings.Contains(strings.Join(g.Notes, "\n"), "unknown option 999") {
		t.Errorf("notes: %q", g.Notes)
	}
}

// TestMakeFixtures rewrites testdata/*.hex from a tracer recording:
//
//	TRACEDAT_FIXTURE_SRC=/tmp/r.dat go test ./parse/tracedat -run MakeFixtures
//
// kallsyms and printk_formats are dropped to keep them small.
func TestMakeFixtures(t *testing.T) {
	srcPath := os.Getenv("TRACEDAT_FIXTURE_SRC")
	if srcPath == "" {
		t.Skip("TRACEDAT_FIXTURE_SRC not set")
	}
	src, err := os.ReadFile(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	m, cpus := metaOf(t, f)
	m.Kallsyms, m.Printk = nil, nil
	m.Uname = "Linux vm 6.18.44 x86_64"
	m.CPUStats = nil
	// Keep only the cmdlines the recording uses.
	for name, o := range map[string]WriteOptions{"v6": {Version: 6}, "v7-zstd": {Version: 7, Compression: "zstd"}, "v7-zlib": {Version: 7, Compression: "zlib"}} {
		for i := range cpus {
			cpus[i].R.(*bytes.Reader).Seek(0, 0)
		}
		var out bytes.Buffer
		if err := Write(&out, m, cpus, o); err != nil {
			t.Fatal(err)
		}
		if err := writeHex(filepath.Join("testdata", name+".hex"), "trace.dat "+name+" written by tracer from a recording of sched_process_exec/exit (tracer record -o)", out.Bytes()); err != nil {
			t.Fatal(err)
		}
		if name == "v6" {
			os.MkdirAll(filepath.Join("testdata", "fuzz", "FuzzOpen"), 0o755)
			os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzOpen", "v6"), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", out.Bytes()), 0o644)
		}
		if name == "v7-zstd" {
			os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzOpen", "v7-zstd"), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", out.Bytes()), 0o644)
		}
	}
}

// FuzzOpen: no file may panic the reader, loop, or allocate without bound;
// every page stream ends.
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, buf := range file.Buffers {
			d, err := file.Decoder(buf)
			if err != nil {
				return
			}
			n := 0
			for _, s := range file.Streams(d, buf) {
				var rec parse.Record
				for n < 100000 {
					n++
					ok, err := s.Next(&rec)
					if !ok && err == nil {
						break
					}
					if ok {
						d.AppendText(nil, &rec)
					}
				}
			}
		}
	})
}

func TestCleanCmdlines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1 init\n22 bash\n", "1 init\n22 bash\n"},
		{"275 b\x1b[31m\nX\n300 ok\n", "275 b\x1b[31m\n300 ok\n"}, // a name with a newline splits its line
		{"1296 a\x01\"\\\xffb\n", "1296 a\x01\"\\\xffb\n"},        // odd bytes, one line: kept
		{"x 1\n 5\n7 \n12345678901 long\n9 last", "9 last\n"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(CleanCmdlines([]byte(tt.in))); got != tt.want {
			t.Errorf("CleanCmdlines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
