package tracefs

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tracer-dev/tracer/parse"
)

// needEprobes skips where the kernel cannot have eprobes, saying why.
func needEprobes(t *testing.T, fs *FS) {
	t.Helper()
	if !fs.hasEprobes() {
		t.Skip("no eprobes: needs Linux 5.15+ with CONFIG_EPROBE_EVENTS")
	}
}

// openatEprobe is the eprobe the live tests use: the path of every openat,
// copied by the kernel at the event.
const openatEprobe = "eprobe:syscalls:sys_enter_openat path=+0($filename):ustring dfd=$dfd:s32"

// failedOpens makes another process (the session leaves out its own
// threads) try to open each path; none exists.
func failedOpens(t *testing.T, paths []string) {
	t.Helper()
	var sh strings.Builder
	for _, p := range paths {
		sh.WriteString("cat " + p + " 2>/dev/null; ")
	}
	sh.WriteString("true")
	if out, err := exec.Command("/bin/sh", "-c", sh.String()).CombinedOutput(); err != nil {
		t.Fatalf("sh: %v %s", err, out)
	}
}

func nonexistPaths(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("/nonexist-%d-%x", os.Getpid(), rand.Uint64()))
	}
	return out
}

// TestEprobeOpenat: an eprobe on syscalls:sys_enter_openat, in the
// session's own instance and group, sees the exact paths another process
// failed to open, and is gone after Close.
func TestEprobeOpenat(t *testing.T) {
	fs := liveFS(t)
	needEprobes(t, fs)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	s := NewSession(fs, SessionOptions{BufferSizeKB: 512, FlushInterval: 50 * time.Millisecond})
	if err := s.AddTracepoint(openatEprobe, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines := ourProbeLines(fs)
	want := "e:" + sessionProbeGroup(s.Instance().Name()) + "/sys_enter_openat syscalls.sys_enter_openat path=+0($filename):ustring dfd=$dfd:s32"
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("eprobe lines of this session: %q, want %q", lines, want)
	}
	// The kernel attaches the eprobe's trigger to the target event of the
	// same trace_array and soft-enables it there: the instance, not the
	// top level.
	if b, err := s.Instance().read("events/syscalls/sys_enter_openat/enable"); err != nil || strings.TrimSpace(string(b)) != "0*" {
		t.Errorf("the instance's sys_enter_openat enable is %q (%v), want 0* (soft-enabled by the eprobe)", b, err)
	}
	paths := nonexistPaths(3)
	failedOpens(t, paths)
	wanted := map[string]bool{}
	for _, p := range paths {
		wanted[p] = true
	}
	count := func(evs []probeEvent) map[string]int {
		seen := map[string]int{}
		for _, e := range evs {
			if p := e.strs["path"]; wanted[p] && e.ints["dfd"] == -100 {
				seen[p]++
			}
		}
		return seen
	}
	evs := collect(t, s, []string{"dfd"}, []string{"path"}, 30*time.Second, func(evs []probeEvent) bool {
		return len(count(evs)) == len(paths)
	})
	seen := count(evs)
	for _, p := range paths {
		if seen[p] != 1 {
			t.Errorf("path %s seen %d times with dfd -100 (AT_FDCWD), want once", p, seen[p])
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left := ourProbeLines(fs); len(left) > 0 {
		t.Fatalf("eprobes left after Close: %q", left)
	}
}

// TestEprobeTextMatchesKernel: tracer's text for an eprobe's raw records
// equals the kernel's own trace file, "NAME: (SYSTEM.EVENT) ARGS", line
// for line; the JSON has the path as a string.
func TestEprobeTextMatchesKernel(t *testing.T) {
	fs := liveFS(t)
	needEprobes(t, fs)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	s := NewSession(fs, SessionOptions{BufferSizeKB: 256})
	if err := s.AddTracepoint(openatEprobe, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTracepoint("e:argv syscalls.sys_enter_execve a0=+0(+0($argv)):ustring a1=+0(+8($argv)):ustring", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenRaw(nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := s.Instance()
	paths := nonexistPaths(2)
	failedOpens(t, paths)
	if err := in.SetTracingOn(false); err != nil {
		t.Fatal(err)
	}
	kernelText, err := in.read("trace")
	if err != nil {
		t.Fatal(err)
	}
	d := s.Decoder()
	cmdlines, _ := fs.SavedCmdlines()
	d.Comms = parse.ParseSavedCmdlines(cmdlines)
	readers, _, err := in.OpenReaders(&ReaderOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var srcs []parse.RecordSource
	for _, r := range readers {
		defer r.Close()
		r.Stop() // tracing is off: drain what is there
		buf := make([]byte, r.SubbufSize())
		srcs = append(srcs, &parse.PageStream{Dec: d, CPU: r.CPU(), NextPage: func() ([]byte, error) {
			n, err := r.ReadPage(buf)
			if err != nil {
				return nil, err
			}
			return buf[:n], nil
		}})
	}
	m := parse.NewMerger(srcs...)
	var got []string
	var rec parse.Record
	jsonPaths := 0
	for {
		ok, err := m.Next(&rec)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if rec.Kind != parse.ItemEvent {
			continue
		}
		got = append(got, string(d.AppendText(nil, &rec)))
		j := string(d.AppendJSON(nil, &rec))
		for _, p := range paths {
			if strings.Contains(j, `"path":"`+p+`","dfd":-100}`) {
				jsonPaths++
			}
		}
	}
	var want []string
	for _, line := range strings.SplitAfter(string(kernelText), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			want = append(want, line)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d events, the kernel's trace has %d:\nours:\n%s\nkernel:\n%s", len(got), len(want), strings.Join(got, ""), kernelText)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\nkernel: %sours:   %s", i, want[i], got[i])
		}
	}
	text := strings.Join(got, "")
	for _, p := range paths {
		if !strings.Contains(text, `sys_enter_openat: (syscalls.sys_enter_openat) path="`+p+`" dfd=-100`) {
			t.Errorf("no line for the open of %s", p)
		}
		if !strings.Contains(text, `argv: (syscalls.sys_enter_execve) a0="cat" a1="`+p+`"`) {
			t.Errorf("no argv line for cat %s", p)
		}
	}
	if jsonPaths != len(paths) {
		t.Errorf("%d JSON lines with the paths as strings, want %d", jsonPaths, len(paths))
	}
	t.Logf("%d eprobe lines identical to the kernel's trace", len(want))
}

// TestEprobeRefused: mistakes in an eprobe are caught before anything is
// created, with tracer's message; what only the kernel refuses comes with
// its error_log line and caret; nothing is left either way.
func TestEprobeRefused(t *testing.T) {
	fs := liveFS(t)
	needEprobes(t, fs)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	early := []struct{ spec, want string }{
		{"eprobe:syscalls:sys_enter_openat p=+0($path):ustring", `no field "path"`},
		{"eprobe:syscalls:sys_enter_openat p=$common_pid", "common fields"},
		{"eprobe:syscalls:sys_enter_opnat p=$filename", "sys_enter_openat"}, // the suggestion
	}
	for _, tt := range early {
		s := NewSession(fs, SessionOptions{})
		err := s.AddTracepoint(tt.spec, "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error with %q", tt.spec, err, tt.want)
		}
	}
	before := ourInstanceNames(t, fs)
	spec := "eprobe:syscalls:sys_enter_openat p=+0($filename):ustring if nosuch_field == 1"
	if b, _ := fs.readFile("README"); !strings.Contains(string(b), "[if <filter>]") {
		spec = "eprobe:syscalls:sys_enter_openat p=@tracer_no_such_symbol"
	}
	s := NewSession(fs, SessionOptions{})
	if err := s.AddTracepoint(spec, ""); err != nil {
		t.Fatal(err)
	}
	err := s.Open()
	s.Close()
	var ke *KernelError
	if !errors.As(err, &ke) {
		t.Fatalf("%s: Open = %v; want a *KernelError", spec, err)
	}
	t.Logf("%s:\n%v", spec, err)
	if strings.Contains(spec, "nosuch_field") && fs.exists("error_log") && (!strings.Contains(err.Error(), "^") || !strings.Contains(err.Error(), "nosuch_field")) {
		t.Errorf("no caret line from the kernel: %v", err)
	}
	if left := ourProbeLines(fs); len(left) > 0 {
		t.Errorf("eprobes left after a failed Open: %q", left)
	}
	if after := ourInstanceNames(t, fs); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("instances before %v, after %v", before, after)
	}
}

// TestEprobeResetAndOthers: ListProbes shows eprobes with their targets;
// Reset removes a dead session's eprobe and leaves another tool's (a group
// not named tracer_*) and a named one alone.
func TestEprobeResetAndOthers(t *testing.T) {
	fs := liveFS(t)
	needEprobes(t, fs)
	other := fmt.Sprintf("othertool_%d", os.Getpid())
	dead := fmt.Sprintf("tracer_%d_%04x", deadPID(t), rand.IntN(0x10000))
	named := fmt.Sprintf("ep_test_%d", os.Getpid())
	for _, cmd := range []string{
		"e:" + other + "/op syscalls.sys_enter_openat path=+0($filename):ustring",
		"e:" + dead + "/op syscalls.sys_enter_openat",
	} {
		if err := fs.writeFile("dynamic_events", []byte(cmd), unix.O_APPEND); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	defer fs.writeFile("dynamic_events", []byte("-:"+other+"/op"), unix.O_APPEND)
	defer fs.writeFile("dynamic_events", []byte("-:"+dead+"/op"), unix.O_APPEND)
	spec, err := ParseProbeSpec("eprobe:syscalls:sys_enter_openat fl=$flags")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AddProbe(NamedProbeGroup, named, spec); err != nil {
		t.Fatal(err)
	}
	defer fs.RemoveProbe(NamedProbeGroup, named)
	list, err := fs.ListProbes()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]ProbeInfo{}
	for _, p := range list {
		found[p.ID().String()] = p
	}
	if p := found[other+":op"]; p.Type != Eprobe || p.Ours || p.Target != (EventID{"syscalls", "sys_enter_openat"}) {
		t.Errorf("other tool's eprobe listed as %+v", p)
	}
	if p := found[NamedProbeGroup+":"+named]; p.Type != Eprobe || !p.Ours || p.Definition != "syscalls.sys_enter_openat fl=$flags" {
		t.Errorf("named eprobe listed as %+v", p)
	}
	removed, err := Reset(fs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(removed, " "), dead+":op") {
		t.Errorf("Reset removed %q, not the dead session's eprobe %s:op", removed, dead)
	}
	b, _ := fs.readFile("dynamic_events")
	if strings.Contains(string(b), dead+"/") {
		t.Errorf("dead session's eprobe still there:\n%s", b)
	}
	if !strings.Contains(string(b), "e:"+other+"/op ") || !strings.Contains(string(b), "e:"+NamedProbeGroup+"/"+named+" ") {
		t.Errorf("Reset touched another tool's or the named eprobe:\n%s", b)
	}
	if err := fs.RemoveProbe(other, "op"); err == nil {
		t.Error("RemoveProbe of another tool's eprobe was allowed")
	}
}

// deadPID returns a pid that no process has now.
func deadPID(t *testing.T) int {
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
