package tracedat

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// lineRE picks the comparable parts of a text line from tracer or
// trace-cmd: task-pid, cpu, time, event and its fields (trace-cmd leaves
// out the latency column and pads after the event name).
var lineRE = regexp.MustCompile(`^\s*(?:\S+:\s+)?(.+)-(\d+)\s+\[(\d+)\]\s+(?:[.A-Za-z0-9]{4,5}\s+)?(\d+\.\d+):\s+(\S+):\s+(.*)$`)

// Normalize turns report text into comparable lines: "comm-pid cpu ts event: fields".
func Normalize(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		m := lineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		out = append(out, strings.TrimSpace(m[1])+"-"+m[2]+" "+m[3]+" "+m[4]+" "+m[5]+": "+strings.Join(strings.Fields(m[6]), " "))
	}
	return out
}

// TestTraceCmdReadsOurFiles: trace-cmd report shows the same events with
// the same field values as tracer report, for every form tracer writes
// that trace-cmd 3.1 reads (v6, v7 uncompressed, v7 zstd).
func TestTraceCmdReadsOurFiles(t *testing.T) {
	tc, err := exec.LookPath("trace-cmd")
	if err != nil {
		t.Skip("trace-cmd not installed (apt-get install -y trace-cmd)")
	}
	src := readHex(t, filepath.Join("testdata", "v6.hex"))
	want := Normalize(report(t, src, false))
	if len(want) == 0 {
		t.Fatal("fixture has no events")
	}
	for _, o := range []WriteOptions{{Version: 6}, {Version: 7}, {Version: 7, Compression: "zstd"}} {
		f, _ := Open(bytes.NewReader(src), int64(len(src)))
		m, cpus := metaOf(t, f)
		path := filepath.Join(t.TempDir(), "t.dat")
		var out bytes.Buffer
		if err := Write(&out, m, cpus, o); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, out.Bytes(), 0o600)
		cmd := exec.Command(tc, "report", "-i", path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			t.Errorf("v%d %s: trace-cmd report: %v\n%s", o.Version, o.Compression, err, stderr.String())
			continue
		}
		got := Normalize(string(b))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("v%d %s: trace-cmd reports\n%s\ntracer reports\n%s", o.Version, o.Compression, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
