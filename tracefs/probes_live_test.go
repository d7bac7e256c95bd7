package tracefs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets this test binary be its own uprobe target where no C
// compiler is available (the VMs): TRACER_PROBE_CHILD=N calls
// uprobeGoTarget N times and exits.
func TestMain(m *testing.M) {
	if n := os.Getenv("TRACER_PROBE_CHILD"); n != "" {
		// The calls must come from the thread whose tid is the pid the
		// test filters on: init locked the main goroutine to it.
		k, _ := strconv.Atoi(n)
		s := 0
		for i := 0; i < k; i++ {
			s += uprobeGoTarget(40 + i)
		}
		os.Exit(s & 0)
	}
	os.Exit(m.Run())
}

// init runs on the main thread; a child keeps its main goroutine there
// (after init the runtime may move it to any thread, and the uprobe's
// events would then carry another tid than the child's pid).
func init() {
	if os.Getenv("TRACER_PROBE_CHILD") != "" {
		runtime.LockOSThread()
	}
}

//go:noinline
func uprobeGoTarget(x int) int { return 2*x + 1 }

// probeTarget is a binary with a function f(x) = 2x+1 to probe, how to
// fetch its first argument, and how to run it calling f n times.
type probeTarget struct {
	bin, sym, arg string
	run           func(n int) *exec.Cmd
}

func uprobeTarget(t *testing.T) probeTarget {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err == nil {
		bin := buildCFixture(t, "target")
		return probeTarget{bin, "tracer_target", "$arg1:s32", func(n int) *exec.Cmd { return exec.Command(bin, strconv.Itoa(n)) }}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveUprobe(self, "github.com/tracer-dev/tracer/tracefs.uprobeGoTarget", 0); err != nil {
		t.Skipf("no gcc for a C fixture, and this binary cannot be its own target: %v", err)
	}
	// Go's internal ABI passes the first integer in RAX on amd64 (x0 on
	// arm64, like C), not in the C argument register.
	arg := "$arg1:s64"
	if runtime.GOARCH == "amd64" {
		arg = "%ax:s64"
	}
	return probeTarget{self, "github.com/tracer-dev/tracer/tracefs.uprobeGoTarget", arg, func(n int) *exec.Cmd {
		c := exec.Command(self)
		c.Env = append(os.Environ(), "TRACER_PROBE_CHILD="+strconv.Itoa(n))
		return c
	}}
}

func needProbes(t *testing.T, fs *FS, typ ProbeType) {
	t.Helper()
	if err := fs.checkProbeSupport(typ); err != nil {
		if typ.User() {
			t.Skip("no uprobe_events on this kernel (CONFIG_UPROBE_EVENTS off)")
		}
		t.Skip("no kprobe_events on this kernel (CONFIG_KPROBE_EVENTS off)")
	}
	if !fs.Features().Instances {
		t.Skip("no tracefs instances on this kernel")
	}
}

type probeEvent struct {
	event string
	pid   int
	// tgid is the process of the event's thread (from the session's
	// process context): a Go child's goroutine may call from any thread.
	tgid int
	ints map[string]int64
	strs map[string]string
}

// collect reads events of the session until done says enough or timeout
// passes, keeping the named fields.
func collect(t *testing.T, s *Session, ints, strs []string, timeout time.Duration, done func([]probeEvent) bool) []probeEvent {
	t.Helper()
	ch := make(chan probeEvent, 1024)
	errc := make(chan error, 1)
	go func() {
		defer close(ch)
		for {
			ev, err := s.ReadEvent()
			if err != nil {
				errc <- err
				return
			}
			pe := probeEvent{event: ev.Schema.Name, pid: ev.PID(), tgid: ev.PID(), ints: map[string]int64{}, strs: map[string]string{}}
			if tk := s.Tasks(); tk != nil {
				if g, ok := tk.TGID(ev.PID()); ok {
					pe.tgid = g
				}
			}
			for _, n := range ints {
				if v, ok := ev.GetInt(n); ok {
					pe.ints[n] = v
				}
			}
			for _, n := range strs {
				pe.strs[n] = ev.GetString(n)
			}
			ch <- pe
		}
	}()
	var out []probeEvent
	deadline := time.After(timeout)
	stopped := false
	for {
		select {
		case pe, ok := <-ch:
			if !ok {
				if err := <-errc; err != nil && !errors.Is(err, os.ErrClosed) && err.Error() != "EOF" {
					t.Logf("reading: %v", err)
				}
				return out
			}
			out = append(out, pe)
			if !stopped && done(out) {
				// Keep reading a moment: extra events would be a bug.
				time.AfterFunc(300*time.Millisecond, s.Stop)
				stopped = true
			}
		case <-deadline:
			if !stopped {
				s.Stop()
				stopped = true
			}
			deadline = nil
		}
	}
}

// ourProbeLines returns the lines of kprobe_events and uprobe_events, and
// the eprobe lines of dynamic_events, in groups of this process.
func ourProbeLines(fs *FS) []string {
	prefix := fmt.Sprintf("%s%d_", probeGroupPrefix, os.Getpid())
	var out []string
	for _, f := range []string{"kprobe_events", "uprobe_events", "dynamic_events"} {
		b, _ := fs.readFile(f)
		for _, l := range strings.Split(string(b), "\n") {
			if f == "dynamic_events" && !strings.HasPrefix(l, "e:") {
				continue // its p:/r: lines are those of the other two files
			}
			if strings.Contains(l, ":"+prefix) {
				out = append(out, l)
			}
		}
	}
	return out
}

func checkNoProbesLeft(t *testing.T, fs *FS) {
	t.Helper()
	if left := ourProbeLines(fs); len(left) > 0 {
		t.Errorf("probes left behind: %q", left)
		for _, p := range parseProbeListAll(fs) {
			if p.OwnerPID == os.Getpid() {
				fs.removeProbe(p)
			}
		}
	}
}

func parseProbeListAll(fs *FS) []ProbeInfo {
	l, _ := fs.ListProbes()
	return l
}

// TestProbeUprobeArgAndReturn: a uprobe by symbol on a binary the test
// builds fires once per call and fetches the integer argument; a uretprobe
// on it sees the return value.
func TestProbeUprobeArgAndReturn(t *testing.T) {
	fs := liveFS(t)
	needProbes(t, fs, Uprobe)
	tg := uprobeTarget(t)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })

	s := NewSession(fs, SessionOptions{BufferSizeKB: 256, FlushInterval: 50 * time.Millisecond})
	if err := s.AddTracepoint("uprobe:"+tg.bin+":"+tg.sym+" x="+tg.arg, ""); err != nil {
		t.Fatal(err)
	}
	// uretprobes replace return addresses on the stack, which the Go
	// runtime does not expect (it moves stacks and unwinds them): test
	// them on C only.
	withRet := tg.bin != mustExecutable(t)
	if withRet {
		if err := s.AddTracepoint("uretprobe:"+tg.bin+":"+tg.sym+" ret=$retval:s64", ""); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("no C compiler: probing this Go binary, without the uretprobe part")
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nprobes := 1
	if withRet {
		nprobes = 2
	}
	if got := len(ourProbeLines(fs)); got != nprobes {
		t.Fatalf("%d probes in our group after Open, want %d", got, nprobes)
	}
	const calls = 3
	cmd := tg.run(calls)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running %s: %v\n%s", tg.bin, err, out)
	}
	child := cmd.Process.Pid
	// Count only the child's events: a hit from any other process must
	// not end the collection early.
	evs := collect(t, s, []string{"x", "ret"}, nil, 20*time.Second, func(evs []probeEvent) bool {
		n := 0
		for _, e := range evs {
			if e.pid == child {
				n++
			}
		}
		return n >= nprobes*calls
	})
	var xs, rets []int64
	for _, e := range evs {
		if e.tgid != child {
			continue
		}
		if strings.HasSuffix(e.event, "__return") {
			rets = append(rets, e.ints["ret"])
		} else {
			xs = append(xs, e.ints["x"])
		}
	}
	if fmt.Sprint(xs) != "[40 41 42]" {
		t.Errorf("uprobe arguments %v, want [40 41 42] (one event per call)", xs)
	}
	if withRet && fmt.Sprint(rets) != "[81 83 85]" {
		t.Errorf("uretprobe return values %v, want [81 83 85]", rets)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left := ourProbeLines(fs); len(left) > 0 {
		t.Fatalf("probes left after Close: %q", left)
	}
}

// TestProbeKprobeOpen: a kprobe on the open path sees a file name the test
// opened, and a kretprobe sees the fd or -ENOENT.
func TestProbeKprobeOpen(t *testing.T) {
	fs := liveFS(t)
	needProbes(t, fs, Kprobe)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	fn := "do_sys_openat2" // 5.6+
	if b, err := fs.readFile("available_filter_functions"); err == nil && !strings.Contains(string(b), "\ndo_sys_openat2") {
		fn = "do_sys_open"
	}
	s := NewSession(fs, SessionOptions{BufferSizeKB: 512, FlushInterval: 50 * time.Millisecond})
	if err := s.AddTracepoint("kprobe:"+fn+" dfd=$arg1:s32 path=+0($arg2):string", ""); err != nil {
		t.Fatal(err)
	}
	// s32: the function returns an int (long before 7.x, which the
	// register's low half holds too).
	if err := s.AddTracepoint("kretprobe:"+fn+" ret=$retval:s32", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	missing := filepath.Join(dir, "missing")
	os.WriteFile(exists, []byte("x\n"), 0o644)
	// Another process opens them: the session leaves out its own threads.
	if out, err := exec.Command("/bin/sh", "-c", "cat "+exists+"; cat "+missing+" 2>/dev/null; true").CombinedOutput(); err != nil {
		t.Fatalf("sh: %v %s", err, out)
	}
	seen := map[string]int64{}
	evs := collect(t, s, []string{"ret", "dfd"}, []string{"path"}, 30*time.Second, func(evs []probeEvent) bool {
		return pairOpens(evs, exists, missing, map[string]int64{}) == 2
	})
	if n := pairOpens(evs, exists, missing, seen); n != 2 {
		t.Fatalf("saw %d of the 2 opens with their return values (%d events): %v", n, len(evs), seen)
	}
	if seen[exists] < 0 {
		t.Errorf("open of %s returned %d, want an fd", exists, seen[exists])
	}
	if seen[missing] != -2 {
		t.Errorf("open of %s returned %d, want -ENOENT (-2)", missing, seen[missing])
	}
}

// pairOpens matches each kprobe event with one of the paths to the next
// kretprobe event of the same task, filling ret, and counts the pairs.
func pairOpens(evs []probeEvent, a, b string, ret map[string]int64) int {
	pending := map[int]string{}
	n := 0
	for _, e := range evs {
		if strings.HasSuffix(e.event, "__return") {
			if p, ok := pending[e.pid]; ok {
				delete(pending, e.pid)
				if _, dup := ret[p]; !dup {
					ret[p] = e.ints["ret"]
					n++
				}
			}
			continue
		}
		if p := e.strs["path"]; p == a || p == b {
			pending[e.pid] = p
		} else {
			delete(pending, e.pid)
		}
	}
	return n
}

// TestProbeBadFetchArg: a fetch argument the kernel refuses fails Open
// with the kernel's error_log line and caret, and leaves nothing behind.
func TestProbeBadFetchArg(t *testing.T) {
	fs := liveFS(t)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	var specs []string
	if fs.checkProbeSupport(Kprobe) == nil {
		specs = append(specs, "kprobe:vfs_read x=%nosuchreg")
	}
	if fs.checkProbeSupport(Uprobe) == nil {
		self, _ := os.Executable()
		specs = append(specs, "uprobe:"+self+":0x1000 x=%nosuchreg")
	}
	if len(specs) == 0 {
		t.Skip("no kprobe_events and no uprobe_events on this kernel")
	}
	for _, spec := range specs {
		before := ourInstanceNames(t, fs)
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
		if fs.exists("error_log") {
			msg := err.Error()
			if !strings.Contains(msg, "^") || !strings.Contains(msg, "nosuchreg") {
				t.Errorf("%s: error without the kernel's caret line: %v", spec, err)
			}
		}
		if left := ourProbeLines(fs); len(left) > 0 {
			t.Errorf("%s: probes left after a failed Open: %q", spec, left)
		}
		if after := ourInstanceNames(t, fs); fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("%s: instances before %v, after %v", spec, before, after)
		}
	}
}

// TestProbeNoKprobes: on a kernel without kprobe_events, a kprobe spec is
// refused plainly, pointing at tracepoints and uprobes.
func TestProbeNoKprobes(t *testing.T) {
	fs := NewFS(t.TempDir())
	s := NewSession(fs, SessionOptions{})
	err := s.AddTracepoint("kprobe:do_sys_openat2", "")
	if !errors.Is(err, ErrNoKprobes) || !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "tracepoints") || !strings.Contains(err.Error(), "uprobes") {
		t.Fatalf("kprobe without kprobe_events: %v", err)
	}
}

// TestProbeNamed: AddProbe/RemoveProbe in tracer_named, and no removal
// outside tracer's groups.
func TestProbeNamed(t *testing.T) {
	fs := liveFS(t)
	needProbes(t, fs, Uprobe)
	self, _ := os.Executable()
	spec, err := ParseProbeSpec("uprobe:" + self + ":0x1000")
	if err != nil {
		t.Fatal(err)
	}
	ev := fmt.Sprintf("tracer_test_%d", os.Getpid())
	id, err := fs.AddProbe(NamedProbeGroup, ev, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.RemoveProbe(NamedProbeGroup, ev)
	if _, err := fs.Format(id.System, id.Name); err != nil {
		t.Fatalf("no format for %s: %v", id, err)
	}
	if err := fs.RemoveProbe("uprobes", ev); err == nil {
		t.Fatal("RemoveProbe outside tracer's groups was allowed")
	}
	if _, err := fs.AddProbe("uprobes", ev, spec); err == nil {
		t.Fatal("AddProbe outside tracer's groups was allowed")
	}
	if err := fs.RemoveProbe(NamedProbeGroup, ev); err != nil {
		t.Fatal(err)
	}
	list, _ := fs.ListProbes()
	for _, p := range list {
		if p.Group == NamedProbeGroup && p.Event == ev {
			t.Fatalf("still there: %+v", p)
		}
	}
}

// ourInstanceNames lists this process's instances (other test processes
// may be creating their own meanwhile).
func ourInstanceNames(t *testing.T, fs *FS) []string {
	var out []string
	for _, n := range instanceNames(t, fs) {
		if strings.HasPrefix(n, instancePrefix+strconv.Itoa(os.Getpid())+"-") {
			out = append(out, n)
		}
	}
	return out
}

// TestProbeArgRegistersLive: with $argN mapped to registers, as on kernels
// before 4.20, a kprobe fetches the same file name, and the user is told
// once.
func TestProbeArgRegistersLive(t *testing.T) {
	fs := liveFS(t)
	needProbes(t, fs, Kprobe)
	if ArgRegisters(runtime.GOARCH) == nil {
		t.Skipf("no calling convention known for %s", runtime.GOARCH)
	}
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	argModeOverride = &ArgMode{Arch: runtime.GOARCH}
	defer func() { argModeOverride = nil }()
	var notices []string
	fs.NoticeFunc = func(m string) { notices = append(notices, m) }
	defer func() { fs.NoticeFunc = nil }()
	fs.noticed.Clear()

	fn := "do_sys_openat2"
	if b, err := fs.readFile("available_filter_functions"); err == nil && !strings.Contains(string(b), "\ndo_sys_openat2") {
		fn = "do_sys_open"
	}
	s := NewSession(fs, SessionOptions{BufferSizeKB: 512, FlushInterval: 50 * time.Millisecond})
	for _, spec := range []string{"kprobe:" + fn + " path=+0($arg2):string", "kprobe:" + fn + " dfd=$arg1:s32 p2=+0($arg2):string"} {
		if err := s.AddTracepoint(spec, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, l := range ourProbeLines(fs) {
		if strings.Contains(l, "$arg") {
			t.Errorf("$argN reached the kernel: %s", l)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "registers") {
		t.Errorf("notices %q; want one about registers", notices)
	}
	file := filepath.Join(t.TempDir(), "mapped-args")
	exec.Command("/bin/sh", "-c", "cat "+file+" 2>/dev/null; true").Run()
	evs := collect(t, s, nil, []string{"path", "p2"}, 30*time.Second, func(evs []probeEvent) bool {
		for _, e := range evs {
			if e.strs["path"] == file || e.strs["p2"] == file {
				return true
			}
		}
		return false
	})
	found := false
	for _, e := range evs {
		found = found || e.strs["path"] == file
	}
	if !found {
		t.Fatalf("no event with path %s among %d events", file, len(evs))
	}
}

func mustExecutable(t *testing.T) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}
