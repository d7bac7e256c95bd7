package tracedat

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// streamFixture streams the v6 fixture's pages through a StreamWriter, one
// page at a time, CPUs interleaved, with chunks of 1, 2, 4... pages so
// that each CPU has several. It returns the file (not finished) and the
// writer.
func streamFixture(t *testing.T) (*os.File, *StreamWriter, string) {
	t.Helper()
	old := firstChunkPages
	firstChunkPages = 1
	t.Cleanup(func() { firstChunkPages = old })
	src := readHex(t, filepath.Join("testdata", "v6.hex"))
	f, _ := Open(bytes.NewReader(src), int64(len(src)))
	m, cpus := metaOf(t, f)
	m.CPUStats = nil
	// Each CPU's pages three times over, so that every CPU needs chunks.
	var in []CPUInput
	for i, c := range cpus {
		b, _ := io.ReadAll(c.R)
		b = bytes.Repeat(b, 3)
		cpus[i].R = bytes.NewReader(b)
		in = append(in, CPUInput{CPU: c.CPU, Size: int64(len(b)), R: bytes.NewReader(b)})
	}
	var v6 bytes.Buffer
	if err := Write(&v6, m, in, WriteOptions{Version: 6}); err != nil {
		t.Fatal(err)
	}
	want := report(t, v6.Bytes(), false)
	out, err := os.OpenFile(filepath.Join(t.TempDir(), "s.dat"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	sw, err := NewStreamWriter(out, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	pages := map[int][][]byte{}
	for _, c := range cpus {
		b, _ := io.ReadAll(c.R)
		for i := 0; i < len(b); i += m.PageSize {
			pages[c.CPU] = append(pages[c.CPU], b[i:i+m.PageSize])
		}
	}
	for i := 0; ; i++ {
		any := false
		for _, c := range cpus {
			if i >= len(pages[c.CPU]) {
				continue
			}
			any = true
			off, room, err := sw.Space(c.CPU)
			if err != nil || room < int64(m.PageSize) {
				t.Fatal(err, room)
			}
			if _, err := out.WriteAt(pages[c.CPU][i], off); err != nil {
				t.Fatal(err)
			}
			sw.Advance(c.CPU, int64(m.PageSize))
		}
		if !any {
			break
		}
	}
	return out, sw, want
}

func fileBytes(t *testing.T, f *os.File) []byte {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStreamUnfinished: a streamed file whose end was never written (a
// killed recording) reports all its pages, with a note; cut anywhere, it
// reports the complete pages before the cut.
func TestStreamUnfinished(t *testing.T) {
	out, sw, want := streamFixture(t)
	b := fileBytes(t, out)
	got := report(t, b, false)
	if !strings.HasPrefix(got, "note: the file was not finished") {
		t.Fatalf("no note:\n%s", got)
	}
	if body := got[strings.IndexByte(got, '\n')+1:]; body != want {
		t.Errorf("unfinished file reports\n%s\nwant\n%s", body, want)
	}
	wantLines := len(Normalize(want))
	prev := -1
	for cut := int(sw.dataOff); cut <= len(b); cut += sw.m.PageSize / 2 {
		got := report(t, b[:cut], false)
		if strings.Contains(got, "error:") {
			t.Fatalf("cut at %d: %s", cut, got)
		}
		n := len(Normalize(got))
		if n < prev || n > wantLines {
			t.Errorf("cut at %d: %d events (before: %d, whole: %d)", cut, n, prev, wantLines)
		}
		prev = n
	}
	if prev != wantLines {
		t.Errorf("whole file: %d events, want %d", prev, wantLines)
	}
}

// TestStreamFinished: Finish makes a file tracer reads without a note, and
// Compact one with a single entry per CPU, which trace-cmd reads too.
func TestStreamFinished(t *testing.T) {
	out, sw, want := streamFixture(t)
	if !sw.Scattered() {
		t.Fatal("fixture should have several chunks per CPU")
	}
	if err := sw.Finish(nil, []string{"CPU: 0\nentries: 0\n"}); err != nil {
		t.Fatal(err)
	}
	if got := report(t, fileBytes(t, out), false); got != want {
		t.Errorf("finished file reports\n%s\nwant\n%s", got, want)
	}
	dst, err := os.Create(out.Name() + ".compact")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := sw.Compact(out, dst); err != nil {
		t.Fatal(err)
	}
	cb := fileBytes(t, dst)
	f, err := Open(bytes.NewReader(cb), int64(len(cb)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, c := range f.DataBuffer().CPUs {
		if seen[c.CPU] {
			t.Errorf("cpu%d listed twice after Compact", c.CPU)
		}
		seen[c.CPU] = true
	}
	if got := report(t, cb, false); got != want {
		t.Errorf("compacted file reports\n%s\nwant\n%s", got, want)
	}
	tc, err := exec.LookPath("trace-cmd")
	if err != nil {
		t.Skip("trace-cmd not installed: peer check skipped")
	}
	tb, err := exec.Command(tc, "report", "-i", dst.Name()).Output()
	if err != nil {
		t.Fatalf("trace-cmd report: %v", err)
	}
	if g, w := Normalize(string(tb)), Normalize(want); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("trace-cmd reports\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

// TestStreamFinishedCut: a finished streamed file cut anywhere in its
// final options (by one byte, or more) still reports every page, found by
// the scan unfinished files get, with a note saying what happened (issue
// 11 item 18: it reported 0 events, "metadata is damaged").
func TestStreamFinishedCut(t *testing.T) {
	out, sw, want := streamFixture(t)
	if err := sw.Finish(nil, []string{"CPU: 0\nentries: 0\n"}); err != nil {
		t.Fatal(err)
	}
	b := fileBytes(t, out)
	for _, cut := range []int{1, 2, 9, 40} {
		got := report(t, b[:len(b)-cut], false)
		if !strings.HasPrefix(got, "note: the file's final options are cut or damaged") {
			t.Fatalf("cut by %d: no note:\n%.300s", cut, got)
		}
		if body := got[strings.IndexByte(got, '\n')+1:]; body != want {
			t.Errorf("cut by %d: reports\n%s\nwant\n%s", cut, body, want)
		}
	}
}
