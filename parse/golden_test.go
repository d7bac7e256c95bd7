package parse

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/internal/kerneltext"
)

var update = flag.Bool("update", false, "rewrite golden files (known-diffs.txt) from the decoder's output")

// fixture is one capture from a real kernel (testdata/kernels/README.md).
type fixture struct {
	dir   string
	meta  map[string]string
	dec   *Decoder
	pages [][][]byte // per CPU
}

func loadFixture(t testing.TB, dir string) *fixture {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f := &fixture{dir: dir, meta: map[string]string{}}
	for _, line := range strings.Split(string(read("meta")), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			f.meta[k] = strings.TrimSpace(v)
		}
	}
	layout, err := ParseHeaderPage(read("header_page"), f.meta["byte_order"] == "big")
	if err != nil {
		t.Fatal(err)
	}
	if err := ParseHeaderEvent(read("header_event")); err != nil {
		t.Fatal(err)
	}
	f.dec = NewDecoder(layout)
	f.dec.SetClock(f.meta["clock"])
	f.dec.SetKernelRelease(f.meta["kernel"])
	for sys, b := range splitFormats(t, read("formats.txt")) {
		if _, err := f.dec.AddFormat(strings.Split(sys, "/")[0], b); err != nil {
			t.Fatalf("%s: %v", sys, err)
		}
	}
	f.dec.Symbols = ParseKallsyms(read("kallsyms"))
	f.dec.Printk = ParsePrintkFormats(read("printk_formats"))
	f.dec.Comms = ParseSavedCmdlines(read("saved_cmdlines"))
	ncpu, _ := strconv.Atoi(f.meta["cpus"])
	for cpu := 0; cpu < ncpu; cpu++ {
		f.pages = append(f.pages, readHexPages(t, filepath.Join(dir, fmt.Sprintf("cpu%d.hex", cpu)), layout.SubbufSize()))
	}
	return f
}

// splitFormats splits "--- system/event" separated format files.
func splitFormats(t testing.TB, b []byte) map[string][]byte {
	out := map[string][]byte{}
	var name string
	var cur bytes.Buffer
	flush := func() {
		if name != "" {
			out[name] = append([]byte(nil), cur.Bytes()...)
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("--- ")) {
			flush()
			name = strings.TrimSpace(string(line[4:]))
			continue
		}
		cur.Write(line)
	}
	flush()
	return out
}

// readHexPages reads a cpuN.hex file into pages of subbuf bytes.
func readHexPages(t testing.TB, path string, subbuf int) [][]byte {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var pages [][]byte
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# page") {
			pages = append(pages, make([]byte, 0, subbuf))
			continue
		}
		_, rest, ok := strings.Cut(line, ": ")
		if !ok || len(pages) == 0 {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(rest, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], b...)
	}
	return pages
}

// decodeAll merges every CPU's pages and renders the kernel text of each
// record (lost-event items are skipped: the `trace` file of these captures
// shows none).
func (f *fixture) decodeAll(t *testing.T) []string {
	t.Helper()
	var srcs []RecordSource
	for cpu, pages := range f.pages {
		pages := pages
		srcs = append(srcs, &PageStream{Dec: f.dec, CPU: cpu, NextPage: func() ([]byte, error) {
			if len(pages) == 0 {
				return nil, io.EOF
			}
			p := pages[0]
			pages = pages[1:]
			return p, nil
		}})
	}
	m := NewMerger(srcs...)
	var r Record
	var lines []string
	for {
		ok, err := m.Next(&r)
		if err != nil {
			t.Fatalf("%s: %v", f.dir, err)
		}
		if !ok {
			break
		}
		if r.Kind != ItemEvent {
			continue
		}
		lines = append(lines, string(f.dec.AppendText(nil, &r)))
	}
	return lines
}

// kernelRecords splits trace.txt into one string per record: an event
// line plus any " => " continuation lines of stack traces.
func kernelRecords(b []byte) []string {
	var out []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" || line == "\n" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, " => ") && len(out) > 0 {
			out[len(out)-1] += line
			continue
		}
		out = append(out, line)
	}
	return out
}

// TestGoldenKernels decodes the raw pages captured from real kernels and
// requires the kernel's own text, record for record. Known differences are
// listed, with the kernel's line and ours, in known-diffs.txt beside the
// fixture (go test -run Golden -update rewrites it); any other difference,
// or a listed one that no longer occurs, fails.
func TestGoldenKernels(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/kernels/*/meta")
	if len(dirs) == 0 {
		t.Fatal("no fixtures in testdata/kernels")
	}
	for _, m := range dirs {
		dir := filepath.Dir(m)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			f := loadFixture(t, dir)
			got := f.decodeAll(t)
			kb, err := os.ReadFile(filepath.Join(dir, "trace.txt"))
			if err != nil {
				t.Fatal(err)
			}
			want := kernelRecords(kb)
			if len(got) != len(want) {
				t.Fatalf("decoded %d records, the kernel printed %d", len(got), len(want))
			}
			var diffs bytes.Buffer
			n := 0
			for i := range want {
				if got[i] != want[i] {
					n++
					fmt.Fprintf(&diffs, "kernel: %sours:   %s\n", want[i], got[i])
					if !kerneltext.DroppedStrings(want[i], got[i]) {
						t.Errorf("record %d differs from the kernel's text:\nkernel: %sours:   %s", i, want[i], got[i])
					}
				}
			}
			t.Logf("%s: %d records, %d identical to the kernel's text, %d known differences", filepath.Base(dir), len(want), len(want)-n, n)
			golden := filepath.Join(dir, "known-diffs.txt")
			if *update {
				if err := os.WriteFile(golden, diffs.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			old, _ := os.ReadFile(golden)
			if !bytes.Equal(old, diffs.Bytes()) {
				t.Errorf("differences from the kernel's text changed; review and run go test ./parse -run Golden -update:\n%s", firstLines(diffs.String(), 40))
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

// fixtureRecords decodes every page of a fixture into records (which alias
// the fixture's pages).
func (f *fixture) records(t testing.TB) []Record {
	var out []Record
	for cpu, pages := range f.pages {
		for _, p := range pages {
			var it PageIter
			if err := it.Reset(f.dec, cpu, p); err != nil {
				t.Fatal(err)
			}
			for {
				var r Record
				ok, err := it.Next(&r)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if r.Kind == ItemEvent {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// TestTextAllocsFixture: rendering every record of a real capture (a mix
// of sched, syscalls, kmem, block, irq, net, timer, ftrace events)
// allocates nothing, as text and as JSON.
func TestTextAllocsFixture(t *testing.T) {
	f := loadFixture(t, "../testdata/kernels/6.18")
	f.dec.Compile()
	recs := f.records(t)
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(5, func() {
		for i := range recs {
			buf = f.dec.AppendText(buf[:0], &recs[i])
		}
	}); n != 0 {
		t.Errorf("text: %v allocations for %d records", n, len(recs))
	}
	if n := testing.AllocsPerRun(5, func() {
		for i := range recs {
			buf = f.dec.AppendJSON(buf[:0], &recs[i])
		}
	}); n != 0 {
		t.Errorf("json: %v allocations for %d records", n, len(recs))
	}
}

// BenchmarkText renders the kernel text of a real capture's records (the
// mix of TestTextAllocsFixture), timestamps and prefix included.
func BenchmarkText(b *testing.B) {
	benchRender(b, func(d *Decoder, dst []byte, r *Record) []byte { return d.AppendText(dst, r) })
}

// BenchmarkJSON is BenchmarkText for JSON lines.
func BenchmarkJSON(b *testing.B) {
	benchRender(b, func(d *Decoder, dst []byte, r *Record) []byte { return d.AppendJSON(dst, r) })
}

func benchRender(b *testing.B, render func(*Decoder, []byte, *Record) []byte) {
	f := loadFixture(b, "../testdata/kernels/6.18")
	f.dec.Compile()
	recs := f.records(b)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = render(f.dec, buf[:0], &recs[i%len(recs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

// getppidFormat is 6.18's syscalls:sys_enter_getppid, the event of
// scripts/bench (a live capture decodes a stream of nothing else).
const getppidFormat = `name: sys_enter_getppid
ID: 305
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;

print fmt: ""
`

// benchGetppid renders scripts/bench's event with the comm known, as the
// live text and JSON sinks do.
func benchGetppid(b *testing.B, render func(*Decoder, []byte, *Record) []byte) {
	d := capDecoder(b)
	s, err := d.AddFormat("syscalls", []byte(getppidFormat))
	if err != nil {
		b.Fatal(err)
	}
	d.SetKernelRelease("6.18.0")
	d.Comms.Set(23518, "loadgen")
	d.Compile()
	rec := rawRecord(d, s, 23518, 0, 0, []byte{110, 0, 0, 0})
	rec.CPU = 1
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.TS = 4128646626237 + uint64(i)*4278
		buf = render(d, buf[:0], &rec)
	}
}

func BenchmarkTextGetppid(b *testing.B) {
	benchGetppid(b, func(d *Decoder, dst []byte, r *Record) []byte { return d.AppendText(dst, r) })
}

func BenchmarkJSONGetppid(b *testing.B) {
	benchGetppid(b, func(d *Decoder, dst []byte, r *Record) []byte { return d.AppendJSON(dst, r) })
}
