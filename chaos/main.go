// Command chaos is tracer's fault and bad-input suite (issue 7), run by
// scripts/chaos as root on a live kernel:
//
//	chaos -tracer ./tracer -loadgen ./loadgen [-repo .] [-go go] [-fuzztime 3s] [-only kill9,closedpipe]
//
// It injects faults into real tracer processes (kill -9 at random points,
// a full disk, a closed pipe, concurrent sessions, an overloaded ring
// buffer, CPU hotplug in the test VMs) and feeds bad input (control-file
// injection, fuzzing, unsafe output paths, missing privileges, missing
// kernel pieces). After each trial it checks that nothing of ours is left
// in tracefs (instances and probe groups named after the pids of the
// tracers it started), that the top level's control files are unchanged
// and that another tool's instance, created beforehand, is untouched.
//
// It prints one table, a row per category with tried, handled and
// leftovers, and exits 1 if anything was not handled or left behind.
// Whatever happens, it removes what it made on the way out.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tracer-dev/tracer/tracefs"
)

// Row is one line of the summary table.
type Row struct {
	Name      string
	Tried     int
	Handled   int
	Leftovers int
	Skip      string   // why the category did not run here
	Notes     []string // what was not handled, and why
}

func (r *Row) note(format string, a ...any) {
	if len(r.Notes) < 8 {
		r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
	} else if len(r.Notes) == 8 {
		r.Notes = append(r.Notes, "...")
	}
}

// Suite holds what every category needs.
type Suite struct {
	Tracer   string   // tracer binary
	Env      []string // extra environment for tracer (TRACER_TEST_AS_MAIN=1 in tests)
	Loadgen  string   // scripts/loadgen binary ("" skips overload and full disk)
	Repo     string   // module root, for the fuzzers
	GoBin    string   // go command ("" skips fuzzing)
	FuzzTime string
	Log      io.Writer

	root  string // tracefs mount
	tmp   string // scratch directory, world-readable for the non-root runs
	other string // the other tool's instance
	// otherProbe is the other tool's uprobe (group/event), "" if none.
	otherProbe string
	base       map[string]string

	watch *writeWatch // writers of the top level's files (nil: compare contents)

	mu   sync.Mutex
	pids map[int]bool // every tracer process started
	Rows []*Row
}

// topFiles are the top level's control files that tracer must never
// write; they are judged by writer (fanotify), since other tools may write
// them while the suite runs.
var topFiles = []string{"set_event", "set_event_pid", "current_tracer", "set_ftrace_filter",
	"trace_clock", "buffer_size_kb", "tracing_on", "trace_options", "set_ftrace_pid", "trace_marker"}

// probeFiles are the dynamic event definitions, which exist only at the
// top level: tracer writes them for its own groups, and every other line
// must stay as it was.
var probeFiles = []string{"kprobe_events", "uprobe_events", "dynamic_events"}

// otherEvent is enabled in the other tool's instance.
const otherEvent = "events/sched/sched_process_fork"

func main() {
	s := &Suite{Log: os.Stderr}
	flag.StringVar(&s.Tracer, "tracer", "./tracer", "tracer binary")
	flag.StringVar(&s.Loadgen, "loadgen", "", "scripts/loadgen binary")
	flag.StringVar(&s.Repo, "repo", ".", "module root (for the fuzzers)")
	flag.StringVar(&s.GoBin, "go", "", "go command for the fuzzers (empty: skip)")
	flag.StringVar(&s.FuzzTime, "fuzztime", "3s", "time per fuzzer")
	only := flag.String("only", "", "comma-separated categories to run (default all)")
	flag.Parse()
	os.Exit(s.Main(*only))
}

// Main runs the categories, prints the table and returns the exit status.
func (s *Suite) Main(only string) int {
	if err := s.Setup(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		s.Teardown()
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() { <-sigs; s.Teardown(); os.Exit(130) }()
	defer s.Teardown()
	cats := []struct {
		name string
		fn   func(*Row)
	}{
		{"kill9", s.Kill9}, {"fulldisk", s.FullDisk}, {"closedpipe", s.ClosedPipe},
		{"concurrency", s.Concurrency}, {"overload", s.Overload}, {"hotplug", s.Hotplug},
		{"injection", s.Injection}, {"fuzz", s.Fuzz}, {"outpath", s.OutPath},
		{"privileges", s.Privileges}, {"missing", s.Missing},
		{"signals", s.Signals},
	}
	sel := map[string]bool{}
	for _, c := range strings.Split(only, ",") {
		if c != "" {
			sel[c] = true
		}
	}
	for _, c := range cats {
		if len(sel) > 0 && !sel[c.name] {
			continue
		}
		r := &Row{Name: c.name}
		s.Rows = append(s.Rows, r)
		start := time.Now()
		fmt.Fprintf(s.Log, "chaos: %s...\n", c.name)
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.note("suite panic: %v", p)
				}
			}()
			c.fn(r)
		}()
		// Whatever a category left is counted, then removed, so the next
		// category starts clean.
		if left := s.Leftovers(); len(left) > 0 {
			r.Leftovers += len(left)
			r.note("left after the category: %s", strings.Join(left, ", "))
		}
		s.Clean()
		fmt.Fprintf(s.Log, "chaos: %s: %d/%d handled, %d leftovers (%s)\n", c.name, r.Handled, r.Tried, r.Leftovers, time.Since(start).Round(time.Millisecond))
	}
	s.PrintTable(os.Stdout)
	return s.Status()
}

// Status is 0 when every trial was handled and nothing was left behind.
func (s *Suite) Status() int {
	for _, r := range s.Rows {
		if r.Leftovers > 0 || r.Handled < r.Tried {
			return 1
		}
	}
	return 0
}

// PrintTable prints the summary table, then the notes.
func (s *Suite) PrintTable(w io.Writer) {
	fmt.Fprintf(w, "\n%-12s %6s %8s %10s  %s\n", "category", "tried", "handled", "leftovers", "")
	var t Row
	for _, r := range s.Rows {
		st := "ok"
		switch {
		case r.Skip != "" && r.Tried == 0:
			st = "SKIP: " + r.Skip
		case r.Leftovers > 0 || r.Handled < r.Tried:
			st = "FAIL"
		case r.Skip != "":
			st = "ok (part skipped: " + r.Skip + ")"
		}
		fmt.Fprintf(w, "%-12s %6d %8d %10d  %s\n", r.Name, r.Tried, r.Handled, r.Leftovers, st)
		t.Tried += r.Tried
		t.Handled += r.Handled
		t.Leftovers += r.Leftovers
	}
	fmt.Fprintf(w, "%-12s %6d %8d %10d\n", "total", t.Tried, t.Handled, t.Leftovers)
	for _, r := range s.Rows {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, n)
		}
	}
}

// Setup finds tracefs, snapshots the top level and creates the other
// tool's instance with one event enabled.
func (s *Suite) Setup() error {
	if os.Geteuid() != 0 {
		return errors.New("the chaos suite needs root (it creates instances and mounts)")
	}
	fs, err := tracefs.Open()
	if err != nil {
		return err
	}
	s.root = fs.Root()
	s.pids = map[int]bool{}
	s.tmp, err = os.MkdirTemp("", "tracer-chaos-")
	if err != nil {
		return err
	}
	os.Chmod(s.tmp, 0o755)
	// A copy every user can execute, for the runs as nobody.
	cp := filepath.Join(s.tmp, "tracer")
	if b, err := os.ReadFile(s.Tracer); err == nil && os.WriteFile(cp, b, 0o755) == nil {
		s.Tracer = cp
	}
	if w, err := newWriteWatch(s.root, topFiles); err == nil {
		s.watch = w
	} else {
		fmt.Fprintf(s.Log, "chaos: %v: judging the top level by its contents (other tools' changes will count)\n", err)
	}
	s.base = s.snapshot()
	s.other = fmt.Sprintf("othertool-chaos-%d", os.Getpid())
	dir := filepath.Join(s.root, "instances", s.other)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating the other tool's instance: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, otherEvent, "enable"), []byte("1"), 0); err != nil {
		return fmt.Errorf("enabling %s in %s: %w", otherEvent, s.other, err)
	}
	// Another tool's uprobe too, which no reset may touch: the snapshot
	// taken below holds its line, so Leftovers reports it gone.
	if off, err := tracefs.ResolveUprobe("/bin/bash", "readline", 0); err == nil && s.exists("uprobe_events") {
		s.otherProbe = fmt.Sprintf("othertool_chaos_%d/readline", os.Getpid())
		f, err := os.OpenFile(filepath.Join(s.root, "uprobe_events"), os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			_, err = fmt.Fprintf(f, "p:%s /bin/bash:0x%x", s.otherProbe, off)
			f.Close()
		}
		if err != nil {
			s.otherProbe = ""
			fmt.Fprintf(s.Log, "chaos: could not create another tool's uprobe: %v\n", err)
		}
	}
	s.base = s.snapshot()
	return nil
}

// Teardown removes everything the suite made. Safe to call twice.
func (s *Suite) Teardown() {
	if s.root == "" {
		return
	}
	s.Clean()
	if s.watch != nil {
		s.watch.close()
	}
	if s.otherProbe != "" {
		if f, err := os.OpenFile(filepath.Join(s.root, "uprobe_events"), os.O_WRONLY|os.O_APPEND, 0); err == nil {
			fmt.Fprintf(f, "-:%s", s.otherProbe)
			f.Close()
		}
	}
	if s.other != "" {
		dir := filepath.Join(s.root, "instances", s.other)
		os.WriteFile(filepath.Join(dir, otherEvent, "enable"), []byte("0"), 0)
		os.Remove(dir)
	}
	if s.tmp != "" {
		// Mounts made by a category that did not get to unmount.
		if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
			for _, l := range strings.Split(string(mi), "\n") {
				if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], s.tmp) {
					syscall.Unmount(f[4], syscall.MNT_DETACH)
				}
			}
		}
		os.RemoveAll(s.tmp)
	}
	s.root = ""
}

// Clean removes instances and probe groups of the tracers we started,
// without the test hook, through tracer reset (all of them are dead).
func (s *Suite) Clean() {
	env := slices.DeleteFunc(slices.Clone(s.Env), func(e string) bool { return strings.HasPrefix(e, "TRACER_CHAOS_SKIP_CLEANUP=") })
	cmd := exec.Command(s.Tracer, "reset")
	cmd.Env = append(cleanEnv(), env...)
	cmd.Run()
}

func cleanEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "TRACER_CHAOS_SKIP_CLEANUP=") })
}

func (s *Suite) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(s.root, rel))
	return err == nil
}

func (s *Suite) read(rel string) string {
	b, err := os.ReadFile(filepath.Join(s.root, rel))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// tracerLine is a probe definition line of some tracer session, which we
// judge by pid in Leftovers, not by comparison (other tracer runs on the
// machine come and go).
var tracerLine = regexp.MustCompile(`^[prfe]\d*:tracer_`)

func (s *Suite) snapshot() map[string]string {
	m := map[string]string{}
	files := probeFiles
	if s.watch == nil { // else judged by writer, see Leftovers
		files = append(slices.Clone(topFiles), probeFiles...)
	}
	for _, f := range files {
		v := s.read(f)
		if strings.HasSuffix(f, "_events") {
			var keep []string
			for _, l := range strings.Split(v, "\n") {
				if !tracerLine.MatchString(l) {
					keep = append(keep, l)
				}
			}
			v = strings.Join(keep, "\n")
		}
		if f == "set_event" {
			// Events of probes of tracer sessions, enabled at the top level
			// by nobody, would show here; keep only others' lines.
			var keep []string
			for _, l := range strings.Split(v, "\n") {
				if !strings.HasPrefix(l, "tracer_") {
					keep = append(keep, l)
				}
			}
			v = strings.Join(keep, "\n")
		}
		m[f] = v
	}
	if s.other != "" {
		dir := filepath.Join("instances", s.other)
		m["other:enable"] = s.read(filepath.Join(dir, otherEvent, "enable"))
		m["other:set_event"] = s.read(filepath.Join(dir, "set_event"))
		m["other:tracing_on"] = s.read(filepath.Join(dir, "tracing_on"))
	}
	return m
}

// track records a tracer pid, whose instance and probes are ours to judge.
func (s *Suite) track(pid int) {
	s.mu.Lock()
	s.pids[pid] = true
	s.mu.Unlock()
}

var instRE = regexp.MustCompile(`^tracer-(\d+)-[0-9a-f]{4}$`)
var groupRE = regexp.MustCompile(`^[prfe]\d*:(tracer_(\d+)_[0-9a-f]{4})/(\S+)`)

// Leftovers lists what the tracers we started left: instances, probe
// groups, top-level control files changed, the other instance touched.
func (s *Suite) Leftovers() []string {
	s.mu.Lock()
	pids := maps(s.pids)
	s.mu.Unlock()
	var out []string
	ents, _ := os.ReadDir(filepath.Join(s.root, "instances"))
	for _, e := range ents {
		if m := instRE.FindStringSubmatch(e.Name()); m != nil {
			if pid, _ := strconv.Atoi(m[1]); pids[pid] && !alive(pid) {
				out = append(out, "instance "+e.Name())
			}
		}
	}
	for _, f := range []string{"kprobe_events", "uprobe_events", "dynamic_events"} {
		for _, l := range strings.Split(s.read(f), "\n") {
			if f == "dynamic_events" && !strings.HasPrefix(l, "e:") {
				continue // eprobes only: its p:/r: lines are the other files'
			}
			if m := groupRE.FindStringSubmatch(l); m != nil {
				if pid, _ := strconv.Atoi(m[2]); pids[pid] && !alive(pid) {
					out = append(out, "probe "+m[1]+"/"+m[3])
				}
			}
		}
	}
	if s.watch != nil {
		time.Sleep(20 * time.Millisecond) // let the watcher read pending events
		for pid := range pids {
			if files := s.watch.take(pid); len(files) > 0 {
				out = append(out, fmt.Sprintf("tracer pid %d wrote the top level's %s", pid, strings.Join(files, ", ")))
			}
		}
	}
	now := s.snapshot()
	for k, v := range s.base {
		if now[k] != v {
			out = append(out, fmt.Sprintf("%s changed: %q -> %q", k, short(v), short(now[k])))
		}
	}
	slices.Sort(out)
	return out
}

func maps(m map[int]bool) map[int]bool {
	c := make(map[int]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Result is one finished tracer run.
type Result struct {
	Code           int
	Stdout, Stderr string
	PID            int
	TimedOut       bool
}

// command prepares a tracer run. With wrap, argv is a wrapper (unshare,
// setpriv...) that ends in exec of the tracer; the tracer's pid is then
// learnt through TRACER_CHAOS_PIDFILE written by a sh in between.
func (s *Suite) command(args ...string) *exec.Cmd {
	cmd := exec.Command(s.Tracer, args...)
	cmd.Env = append(os.Environ(), s.Env...)
	return cmd
}

// run runs a prepared command to its end (or timeout) and collects it.
func (s *Suite) run(cmd *exec.Cmd, timeout time.Duration) Result {
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &errb
	}
	if err := cmd.Start(); err != nil {
		return Result{Code: -1, Stderr: err.Error()}
	}
	if filepath.Base(cmd.Path) == filepath.Base(s.Tracer) {
		s.track(cmd.Process.Pid)
	}
	done := make(chan struct{})
	t := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timedOut := !t.Stop()
	close(done)
	code := 0
	if err != nil {
		code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	return Result{Code: code, Stdout: out.String(), Stderr: errb.String(), PID: cmd.Process.Pid, TimedOut: timedOut}
}

func (s *Suite) tracer(timeout time.Duration, args ...string) Result {
	return s.run(s.command(args...), timeout)
}

// wrapped runs the tracer through a wrapper command line; pre is a shell
// snippet run before exec (as root, in the wrapper's namespaces), and
// asUser runs the tracer as nobody.
func (s *Suite) wrapped(wrapper []string, pre string, asUser bool, timeout time.Duration, args ...string) Result {
	pidfile := filepath.Join(s.tmp, fmt.Sprintf("pid-%d", rand.Int()))
	ex := `exec "$@"`
	if asUser {
		ex = `exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"`
	}
	script := pre + "\necho $$ >" + pidfile + "\n" + ex
	argv := append(slices.Clone(wrapper), "sh", "-c", script, "sh", s.Tracer)
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), s.Env...)
	r := s.run(cmd, timeout)
	if b, err := os.ReadFile(pidfile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			s.track(pid)
			r.PID = pid
		}
		os.Remove(pidfile)
	}
	return r
}

// oneError checks a refused run: non-zero exit, no panic, one line
// "tracer: ..." (plus the kernel's own error_log lines, if it quotes them).
func oneError(r Result) string {
	e := strings.TrimRight(r.Stderr, "\n")
	switch {
	case r.TimedOut:
		return "timed out"
	case r.Code == 0:
		return "succeeded"
	case strings.Contains(e, "panic") || strings.Contains(e, "goroutine "):
		return "panicked: " + short(e)
	case !strings.HasPrefix(e, "tracer: "):
		return fmt.Sprintf("stderr is not one 'tracer: ' line: %q", short(e))
	}
	lines := strings.Split(e, "\n")
	if len(lines) > 1 && !strings.Contains(e, "Command:") {
		return fmt.Sprintf("%d lines of error: %q", len(lines), short(e))
	}
	if len(lines[0]) > 600 {
		return fmt.Sprintf("error line of %d bytes (echoes the input?)", len(lines[0]))
	}
	return ""
}

// ---------------------------------------------------------------- faults

// Kill9 kills record and the snoops with SIGKILL at random points of
// their life, then checks that tracer reset leaves nothing of ours.
func (s *Suite) Kill9(r *Row) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("CHAOS_KILL_RUNS")); err == nil {
		n = v
	}
	// The snoop phases kill execsnoop and opensnoop, whose fetch ladder
	// sets up probes of its own (uprobes on the loader and libc here,
	// eprobes or kprobes elsewhere), while it does so and while it streams.
	phases := []string{"setup", "streaming", "file", "cleanup", "snoopsetup", "snoopstream"}
	probe := ""
	if _, err := os.Stat("/bin/bash"); err == nil && s.exists("uprobe_events") {
		probe = "uprobe:/bin/bash:readline"
	}
	// An eprobe in the setup and streaming runs, where the kernel has them.
	eprobe := ""
	if fs, err := tracefs.Open(); err == nil && fs.Features().Eprobes {
		eprobe = "eprobe:syscalls:sys_enter_openat path=+0($filename):ustring"
	} else {
		r.note("no eprobes: needs Linux 5.15+ with CONFIG_EPROBE_EVENTS; kill9 runs without one (the VM run of chaos' tests covers them)")
	}
	unreportable, empty, emptyOK, headerCut := 0, 0, 0, 0
	for i := 0; i < n; i++ {
		phase := phases[i%len(phases)]
		var args []string
		var delay time.Duration
		out := ""
		switch phase {
		case "setup": // kill while the instance, probe and events are set up
			args = []string{"record", "-d", "5s", "sched:sched_switch"}
			if probe != "" {
				args = append(args, probe)
			}
			if eprobe != "" {
				args = append(args, eprobe)
			}
			delay = time.Duration(rand.IntN(40)) * time.Millisecond
		case "streaming":
			args = []string{"record", "-d", "5s", "sched:sched_switch", "sched:sched_wakeup"}
			if eprobe != "" {
				args = append(args, eprobe)
			}
			delay = time.Duration(100+rand.IntN(300)) * time.Millisecond
		case "file": // while pages stream into the file, or it is written at the end
			out = filepath.Join(s.tmp, fmt.Sprintf("kill-%d.dat", i))
			args = []string{"record", "-o", out, "-d", "300ms", "sched:sched_switch", "sched:sched_wakeup"}
			delay = time.Duration(100+rand.IntN(300)) * time.Millisecond
		case "cleanup": // around the end of the duration: stop, drain, remove
			args = []string{"record", "-d", "200ms", "sched:sched_switch"}
			delay = time.Duration(190+rand.IntN(60)) * time.Millisecond
		case "snoopsetup", "snoopstream":
			args = []string{[]string{"execsnoop", "opensnoop"}[i/len(phases)%2], "-d", "5s"}
			delay = time.Duration(rand.IntN(400)) * time.Millisecond
			if phase == "snoopstream" {
				delay += 500 * time.Millisecond
			}
		}
		cmd := s.command(args...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			r.Tried++
			r.note("start: %v", err)
			continue
		}
		s.track(cmd.Process.Pid)
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		r.Tried++
		ok := true
		if res := s.tracer(30*time.Second, "reset"); res.Code != 0 {
			ok = false
			r.note("run %d (%s): reset failed: %s", i, phase, short(res.Stderr))
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			r.note("run %d (%s, killed at %v): after reset: %s", i, phase, delay, strings.Join(left, ", "))
			s.Clean()
		}
		if out != "" {
			if fi, err := os.Stat(out); err == nil {
				res := s.tracer(30*time.Second, "report", "-i", out)
				if res.Code == 0 && fi.Size() == 0 {
					emptyOK++
				}
				// Killed while writing the metadata, which record -o writes
				// before any page: there is no page to lose, and report
				// says why it shows none.
				if res.Code != 0 && strings.Contains(res.Stderr, "metadata is damaged, so no event page can be located") {
					headerCut++
					res.Code = 0
				}
				if res.Code != 0 {
					ok = false
					unreportable++
					if fi.Size() == 0 {
						empty++
					}
					if unreportable <= 2 {
						r.note("run %d (file, killed at %v): %d-byte file not reportable: %s", i, delay, fi.Size(), firstLine(res.Stderr))
					}
				}
				os.Remove(out)
			}
		}
		if ok {
			r.Handled++
		}
	}
	if emptyOK > 0 {
		r.note("%d killed -o runs died before the trace.dat header was written: empty file, no pages to lose; tracer report says so", emptyOK)
	}
	if headerCut > 0 {
		r.note("%d killed -o runs died while the trace.dat metadata was written (before any page): report says the file holds no event page", headerCut)
	}
	if unreportable > 0 {
		r.note("%d killed -o files not reportable by tracer report, %d of them empty", unreportable, empty)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return short(l)
}

// FullDisk records into a small tmpfs with a generator running. At 256 KB
// not even the trace.dat header (kallsyms, formats: megabytes) fits, so a
// second trial sizes the tmpfs to the header plus 512 KB, where pages are
// written before the disk fills and must be kept.
func (s *Suite) FullDisk(r *Row) {
	if s.Loadgen == "" {
		r.Skip = "no loadgen binary"
		return
	}
	// The header's size: a record that writes no pages.
	hdr := filepath.Join(s.tmp, "header.dat")
	s.tracer(30*time.Second, "record", "-o", hdr, "-d", "100ms", "-p", "1", "syscalls:sys_enter_getppid")
	fi, err := os.Stat(hdr)
	if err != nil {
		r.Skip = "could not measure the trace.dat header"
		return
	}
	os.Remove(hdr)
	for i, size := range []string{"256k", fmt.Sprintf("%dk", fi.Size()/1024+512)} {
		mnt := filepath.Join(s.tmp, fmt.Sprintf("full%d", i))
		os.Mkdir(mnt, 0o755)
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
			r.Skip = "cannot mount a tmpfs: " + err.Error()
			return
		}
		s.fullDisk(r, mnt, size, i == 1)
		syscall.Unmount(mnt, syscall.MNT_DETACH)
	}
}

func (s *Suite) fullDisk(r *Row, mnt, size string, wantPages bool) {
	out := filepath.Join(mnt, "full.dat")
	r.Tried++
	res := s.tracer(60*time.Second, "record", "-o", out, "-b", "1024", "syscalls:sys_enter_getppid",
		"--", s.Loadgen, "-wait=false", "-cpu", "-1", "-duration", "3s")
	ok := true
	if !strings.Contains(res.Stderr, "no space left") {
		ok = false
		r.note("tmpfs %s: no 'no space left' message (exit %d): %q", size, res.Code, short(res.Stderr))
	}
	if res.Code == 0 || res.Code == 143 {
		ok = false
		r.note("tmpfs %s: exit %d on a full disk", size, res.Code)
	}
	if strings.Contains(res.Stderr, "panic") {
		ok = false
		r.note("tmpfs %s: panic: %s", size, short(res.Stderr))
	}
	if left := s.Leftovers(); len(left) > 0 {
		ok = false
		r.Leftovers += len(left)
		r.note("tmpfs %s: left: %s", size, strings.Join(left, ", "))
		s.Clean()
	}
	if fi, err := os.Stat(out); err != nil {
		if wantPages {
			ok = false
			r.note("tmpfs %s: no file kept: the pages written before the disk filled are lost (stderr: %s)", size, firstLine(res.Stderr))
		}
	} else if rep := s.tracer(30*time.Second, "report", "-i", out); rep.Code != 0 {
		ok = false
		r.note("tmpfs %s: %d-byte file not reportable: %s", size, fi.Size(), firstLine(rep.Stderr))
	} else if wantPages && !strings.Contains(rep.Stdout, "getppid") {
		ok = false
		r.note("tmpfs %s: %d-byte file reports no events", size, fi.Size())
	} else {
		fmt.Fprintf(s.Log, "chaos: fulldisk %s: kept %d bytes, %d events reportable\n", size, fi.Size(), strings.Count(rep.Stdout, "\n"))
	}
	if ents, _ := os.ReadDir(mnt); len(ents) > 1 {
		ok = false
		r.note("tmpfs %s: files left in the output directory: %d entries", size, len(ents))
	}
	if ok {
		r.Handled++
	}
}

// ClosedPipe runs tracer record | head -1, 50 times.
func (s *Suite) ClosedPipe(r *Row) {
	n := 50
	if v, err := strconv.Atoi(os.Getenv("CHAOS_PIPE_RUNS")); err == nil {
		n = v
	}
	for i := 0; i < n; i++ {
		r.Tried++
		errf := filepath.Join(s.tmp, "pipe.err")
		pidf := filepath.Join(s.tmp, "pipe.pid")
		script := `sh -c 'echo $$ >"$1"; exec "$2" record sched:sched_switch 2>"$3"' sh "$1" "$2" "$3" | head -1 >/dev/null; exit ${PIPESTATUS[0]}`
		cmd := exec.Command("bash", "-c", script, "bash", pidf, s.Tracer, errf)
		cmd.Env = append(os.Environ(), s.Env...)
		res := s.run(cmd, 20*time.Second)
		if b, err := os.ReadFile(pidf); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				s.track(pid)
			}
		}
		stderr, _ := os.ReadFile(errf)
		ok := true
		if res.Code != 0 || res.TimedOut {
			ok = false
			r.note("run %d: exit %d (timed out %v)", i, res.Code, res.TimedOut)
		}
		if len(stderr) > 0 {
			ok = false
			r.note("run %d: not quiet: %q", i, short(string(stderr)))
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			r.note("run %d: left %s", i, strings.Join(left, ", "))
			s.Clean()
		}
		if ok {
			r.Handled++
		}
	}
}

// Concurrency runs 4 sessions at once, each with its own command and
// filter, next to the other tool's instance.
func (s *Suite) Concurrency(r *Row) {
	const n = 4
	dir := filepath.Join(s.tmp, "conc")
	os.MkdirAll(dir, 0o755)
	var wg sync.WaitGroup
	res := make([]Result, n)
	for i := 0; i < n; i++ {
		mark := filepath.Join(dir, fmt.Sprintf("chaos-mark-%d", i))
		os.WriteFile(mark, []byte("#!/bin/sh\nexit 0\n"), 0o755)
		runner := filepath.Join(dir, fmt.Sprintf("chaos-run-%d", i))
		os.WriteFile(runner, []byte(fmt.Sprintf("#!/bin/sh\nsleep 0.4\n%s\n%s\nsleep 0.4\n", mark, mark)), 0o755)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res[i] = s.tracer(30*time.Second, "record", "--filter", fmt.Sprintf(`filename ~ "*chaos-mark-%d"`, i),
				"sched:sched_process_exec", "--", runner)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		r.Tried++
		ok := true
		out := res[i].Stdout
		if res[i].Code != 0 {
			ok = false
			r.note("session %d: exit %d: %s", i, res[i].Code, firstLine(res[i].Stderr))
		}
		if c := strings.Count(out, fmt.Sprintf("chaos-mark-%d pid=", i)); c != 2 {
			ok = false
			r.note("session %d: %d of its own 2 execs", i, c)
		}
		for j := 0; j < n; j++ {
			if j != i && strings.Contains(out, fmt.Sprintf("chaos-mark-%d ", j)) {
				ok = false
				r.note("session %d saw session %d's exec", i, j)
			}
		}
		if strings.Contains(out, "chaos-run-") {
			ok = false
			r.note("session %d: its filter did not apply (runner exec seen)", i)
		}
		if ok {
			r.Handled++
		}
	}
	if left := s.Leftovers(); len(left) > 0 {
		r.Leftovers += len(left)
		s.Clean()
		r.note("left: %s", strings.Join(left, ", "))
	}
}

var statRE = regexp.MustCompile(`cpu(\d+): (\d+) events read, (\d+) lost in pages(?: \(\+(\d+) losses of unknown size\))?, kernel overrun (\d+), dropped (\d+)`)

// Overload runs loadgen at its maximum rate under a 64 KB buffer and
// checks the loss accounting and tracer's memory.
func (s *Suite) Overload(r *Row) {
	if s.Loadgen == "" {
		r.Skip = "no loadgen binary"
		return
	}
	for _, cpu := range []string{"0", "1"} {
		r.Tried++
		cmd := s.command("record", "--stats", "-b", "64", "syscalls:sys_enter_getppid",
			"--", s.Loadgen, "-wait=false", "-cpu", cpu, "-duration", "3s")
		stdout, _ := cmd.StdoutPipe()
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			r.note("start: %v", err)
			continue
		}
		s.track(cmd.Process.Pid)
		pid := cmd.Process.Pid
		var jsonLines []string
		var lines int64
		readDone := make(chan struct{})
		go func() {
			br := bufio.NewReaderSize(stdout, 1<<20)
			for {
				l, err := br.ReadSlice('\n')
				if len(l) > 0 {
					lines++
					// loadgen's lines share the pipe with tracer's 64 KB
					// writes, so they may start in the middle of a line.
					if bytes.Contains(l, []byte(`"calls":`)) {
						jsonLines = append(jsonLines, string(l))
					}
				}
				if err == bufio.ErrBufferFull {
					continue
				}
				if err != nil {
					break
				}
			}
			close(readDone)
		}()
		var rss []int
		tick := time.NewTicker(100 * time.Millisecond)
	sample:
		for {
			select {
			case <-readDone:
				break sample
			case <-tick.C:
				if v := vmRSS(pid); v > 0 {
					rss = append(rss, v)
				}
			}
		}
		tick.Stop()
		err := cmd.Wait()
		ok := true
		if err != nil || strings.Contains(errb.String(), "panic") {
			ok = false
			r.note("cpu%s: %v: %s", cpu, err, short(errb.String()))
		}
		var calls int64 = -1
		for _, l := range jsonLines {
			if m := regexp.MustCompile(`"calls":(\d+)`).FindStringSubmatch(l); m != nil {
				calls, _ = strconv.ParseInt(m[1], 10, 64)
			}
		}
		var read, pageLost, unknown, overrun, dropped int64
		ms := statRE.FindAllStringSubmatch(errb.String(), -1)
		for _, m := range ms {
			read += atoi(m[2])
			pageLost += atoi(m[3])
			unknown += atoi(m[4])
			overrun += atoi(m[5])
			dropped += atoi(m[6])
		}
		if len(ms) == 0 || calls < 0 {
			ok = false
			r.note("cpu%s: no per-CPU counts (%d) or no loadgen result (%d json lines): %q", cpu, len(ms), len(jsonLines), short(errb.String()))
		} else {
			// The kernel counts an overwritten page's events in overrun
			// when the writer passes the reader; the reader sees the same
			// loss as a page's missed-events count (or "unknown" when the
			// page had no room for it). Tolerance: 0.5% of the events
			// generated, or 2 sub-buffers per CPU (4096/16-byte minimum
			// records = 256 events each), whichever is larger, for the
			// events in flight when tracing stops and for the records
			// outside loadgen's count (its exit path's own getppid, none).
			tol := max(calls/200, int64(2*256*len(ms)))
			dOver := read + overrun + dropped - calls
			dPage := read + pageLost - calls
			fmt.Fprintf(s.Log, "chaos: overload cpu%s: generated %d, read %d, lost in pages %d (+%d unknown), overrun %d, dropped %d: read+overrun-generated=%d, read+pagelost-generated=%d (tolerance %d)\n",
				cpu, calls, read, pageLost, unknown, overrun, dropped, dOver, dPage, tol)
			if abs(dOver) > tol && !(unknown > 0 && dPage <= 0 && abs(dOver) <= tol) {
				ok = false
				r.note("cpu%s: read %d + overrun %d + dropped %d = %d vs generated %d (off by %d, tolerance %d)", cpu, read, overrun, dropped, read+overrun+dropped, calls, dOver, tol)
			}
			if overrun == 0 && pageLost == 0 {
				r.note("cpu%s: nothing was lost (generated %d): the load was not above what tracer reads", cpu, calls)
			}
		}
		if len(rss) >= 6 {
			early := slices.Max(rss[:len(rss)/3])
			late := slices.Max(rss[len(rss)/3:])
			fmt.Fprintf(s.Log, "chaos: overload cpu%s: VmRSS %d samples, early max %d kB, late max %d kB\n", cpu, len(rss), early, late)
			if late > early+max(8<<10, early/4) {
				ok = false
				r.note("cpu%s: VmRSS grew from %d kB to %d kB", cpu, early, late)
			}
		} else {
			r.note("cpu%s: only %d RSS samples", cpu, len(rss))
		}
		if ok {
			r.Handled++
		}
	}
}

func atoi(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func vmRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return int(atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB")))
		}
	}
	return 0
}

// Hotplug offlines CPU 1 during a record, only inside the test VMs.
func (s *Suite) Hotplug(r *Row) {
	if os.Getenv("TRACER_IN_VM") == "" {
		r.Skip = "not in a test VM (TRACER_IN_VM unset): CPUs of a shared host are not offlined; runs in scripts/vmtest (chaos TestChaosHotplug)"
		return
	}
	online := "/sys/devices/system/cpu/cpu1/online"
	if _, err := os.Stat(online); err != nil {
		r.Skip = "cpu1 cannot be offlined here (no " + online + ")"
		return
	}
	// 1. Offline during the record: the trace goes on.
	r.Tried++
	cmd := s.command("record", "--stats", "-d", "3s", "sched:sched_switch")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		r.note("start: %v", err)
		return
	}
	s.track(cmd.Process.Pid)
	time.Sleep(1 * time.Second)
	werr := os.WriteFile(online, []byte("0"), 0)
	mid := time.Now()
	time.Sleep(500 * time.Millisecond)
	cmd.Wait()
	os.WriteFile(online, []byte("1"), 0)
	if werr != nil {
		r.Tried--
		r.Skip = "this kernel refuses to offline cpu1: " + werr.Error()
		return
	}
	code := cmd.ProcessState.ExitCode()
	after := 0
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 3 && strings.HasPrefix(f[1], "[000]") {
			after++
		}
	}
	if code != 0 || strings.Contains(errb.String(), "panic") || after == 0 {
		r.note("offline during record (at %s): exit %d, %d cpu0 events, stderr %q", mid.Format("15:04:05.000"), code, after, short(errb.String()))
	} else {
		r.Handled++
	}
	// 2. Offline at the start: reported.
	r.Tried++
	if err := os.WriteFile(online, []byte("0"), 0); err == nil {
		res := s.tracer(30*time.Second, "record", "-d", "500ms", "sched:sched_switch")
		os.WriteFile(online, []byte("1"), 0)
		if res.Code == 0 && strings.Contains(res.Stderr, "offline") && strings.Contains(res.Stderr, "1") {
			r.Handled++
		} else {
			r.note("cpu1 offline at start: exit %d, stderr %q", res.Code, short(res.Stderr))
		}
	} else {
		r.note("offline cpu1: %v", err)
	}
}

// ------------------------------------------------------------- bad input

// Injection feeds names, filters and probe specs meant to smuggle a second
// command into a control file or reach outside tracefs.
func (s *Suite) Injection(r *Row) {
	long := strings.Repeat("a", 64<<10)
	sneaky := []string{"\n", ";", "../", "\r"}
	var cases [][]string
	for _, x := range sneaky {
		cases = append(cases,
			[]string{"record", "-d", "200ms", "--filter", "prev_pid > 0" + x + "prev_pid < 0", "sched:sched_switch"},
			[]string{"record", "-d", "200ms", "--filter", "sched:sched_switch=prev_pid > 0" + x + "0", "sched:sched_switch"},
			[]string{"record", "-d", "200ms", "sched:sched_switch" + x + "sched:sched_wakeup"},
			[]string{"record", "-d", "200ms", "sched" + x + "evil:sched_switch"},
			[]string{"record", "-d", "200ms", "uprobe:/bin/bash:readline" + x + "-:x"},
			[]string{"record", "-d", "200ms", "p:tracer_named/a" + x + "b /bin/bash:0x10"},
			[]string{"probe", "add", "--name", "a" + x + "b", "uprobe:/bin/bash:readline"},
		)
	}
	cases = append(cases,
		[]string{"record", "-d", "200ms", "../../../../etc:passwd"},
		[]string{"record", "-d", "200ms", "p:../../x/y /bin/bash:0x10"},
		[]string{"record", "-d", "200ms", "p:tracer_x/../../../z /bin/bash:0x10"},
		[]string{"record", "-d", "200ms", "--filter", long, "sched:sched_switch"},
		[]string{"record", "-d", "200ms", "sched:" + long},
		[]string{"record", "-d", "200ms", "uprobe:/bin/bash:readline x=+0($stack0):string" + strings.Repeat(" y=$stack0", 6000)},
		[]string{"record", "-d", "200ms", "uprobe:/bin/bash:" + long},
		[]string{"probe", "add", "--name", long, "uprobe:/bin/bash:readline"},
		[]string{"probe", "add", "--name", "../../x", "uprobe:/bin/bash:readline"},
		[]string{"list", "-f", "sched:../../../etc"},
		[]string{"record", "-d", "200ms", "--clock", "local\nglobal", "sched:sched_switch"},
		[]string{"record", "-d", "200ms", "--clock", "../../x", "sched:sched_switch"},
	)
	instBefore := s.instances()
	for _, args := range cases {
		r.Tried++
		res := s.tracer(30*time.Second, args...)
		what := short(strings.Join(args, " "))
		ok := true
		if why := oneError(res); why != "" {
			ok = false
			r.note("%q: %s", what, why)
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			r.note("%q: left %s", what, strings.Join(left, ", "))
			s.Clean()
		}
		if now := s.instances(); !slices.Equal(now, instBefore) {
			// Other tools may come and go; only a name the input chose is
			// ours to blame.
			for _, n := range now {
				if !slices.Contains(instBefore, n) && !strings.HasPrefix(n, "tracer-") {
					ok = false
					r.note("%q: created instance %q", what, n)
				}
			}
		}
		if named := s.read("uprobe_events"); strings.Contains(named, "tracer_named/") && !strings.Contains(s.base["uprobe_events"], "tracer_named/") {
			ok = false
			r.note("%q: a named probe was created: %q", what, short(named))
			s.tracer(10*time.Second, "probe", "remove", "--all")
		}
		if ok {
			r.Handled++
		}
	}
	// NUL cannot be passed in argv: through the Go API instead.
	fs, err := tracefs.Open()
	if err != nil {
		r.note("tracefs.Open: %v", err)
		return
	}
	api := []struct{ pattern, filter string }{
		{"sched:sched_switch", "prev_pid > 0\x00prev_pid < 0"},
		{"sched:sched_switch\x00sched:sched_wakeup", ""},
		{"uprobe:/bin/bash:readline\x00-:x", ""},
		{"uprobe:/bin/bash\x00/x:readline", ""},
		{"p:tracer_x/a\x00b /bin/bash:0x10", ""},
	}
	for _, c := range api {
		r.Tried++
		sess := tracefs.NewSession(fs, tracefs.SessionOptions{BufferSizeKB: 64})
		err := sess.AddTracepoint(c.pattern, c.filter)
		if err == nil {
			err = sess.Open()
			sess.Close()
		}
		ok := err != nil
		if !ok {
			r.note("API %q filter %q: accepted", c.pattern, c.filter)
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			s.Clean()
			r.note("API %q: left %s", c.pattern, strings.Join(left, ", "))
		}
		if ok {
			r.Handled++
		}
	}
}

func (s *Suite) instances() []string {
	ents, _ := os.ReadDir(filepath.Join(s.root, "instances"))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

var fuzzRE = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)

// Fuzz runs every fuzzer of parse/, parse/tracedat/ and tracefs/ for a
// fixed time.
func (s *Suite) Fuzz(r *Row) {
	if s.GoBin == "" {
		r.Skip = "no go command given (-go)"
		return
	}
	for _, pkg := range []string{"parse", "parse/tracedat", "tracefs"} {
		files, _ := filepath.Glob(filepath.Join(s.Repo, pkg, "*_test.go"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, m := range fuzzRE.FindAllStringSubmatch(string(b), -1) {
				r.Tried++
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				cmd := exec.CommandContext(ctx, s.GoBin, "test", "-run", "^$", "-fuzz", "^"+m[1]+"$", "-fuzztime", s.FuzzTime, "./"+pkg)
				cmd.Dir = s.Repo
				out, err := cmd.CombinedOutput()
				cancel()
				if err != nil {
					r.note("%s %s: %v: %s", pkg, m[1], err, short(lastLines(string(out), 6)))
				} else {
					r.Handled++
				}
			}
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// OutPath plants a symlink and another user's file where record -o writes.
func (s *Suite) OutPath(r *Row) {
	dir := os.TempDir() // sticky and world-writable on every distribution
	if fi, err := os.Stat(dir); err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm()&0o002 == 0 {
		r.Skip = dir + " is not a sticky world-writable directory"
		return
	}
	tag := fmt.Sprintf("tracer-chaos-%d", os.Getpid())
	target := filepath.Join(s.tmp, "victim")
	link := filepath.Join(dir, tag+"-link")
	dangling := filepath.Join(dir, tag+"-dangling")
	theirs := filepath.Join(dir, tag+"-theirs")
	defer os.Remove(link)
	defer os.Remove(dangling)
	defer os.Remove(theirs)
	os.WriteFile(target, []byte("precious\n"), 0o644)
	os.Symlink(target, link)
	os.Lchown(link, 65534, 65534) // planted by another user
	os.Symlink(filepath.Join(s.tmp, "created-through-link"), dangling)
	os.Lchown(dangling, 65534, 65534)
	os.WriteFile(theirs, []byte("theirs\n"), 0o644)
	os.Chown(theirs, 65534, 65534)
	for _, c := range []struct {
		path  string
		force bool
	}{{link, false}, {link, true}, {dangling, false}, {dangling, true}, {theirs, false}} {
		r.Tried++
		args := []string{"record", "-d", "200ms", "-o", c.path, "sched:sched_switch"}
		if c.force {
			args = append(args, "--force")
		}
		res := s.tracer(30*time.Second, args...)
		ok := true
		what := fmt.Sprintf("-o %s (force %v)", filepath.Base(c.path), c.force)
		if why := oneError(res); why != "" {
			ok = false
			r.note("%s: %s", what, why)
		}
		if b, _ := os.ReadFile(target); string(b) != "precious\n" {
			ok = false
			r.note("%s: wrote through the symlink into its target", what)
			os.WriteFile(target, []byte("precious\n"), 0o644)
		}
		if _, err := os.Lstat(filepath.Join(s.tmp, "created-through-link")); err == nil {
			ok = false
			r.note("%s: created the dangling symlink's target", what)
			os.Remove(filepath.Join(s.tmp, "created-through-link"))
		}
		if b, _ := os.ReadFile(theirs); string(b) != "theirs\n" {
			ok = false
			r.note("%s: overwrote another user's file", what)
		}
		if fi, err := os.Lstat(c.path); err != nil || (c.path != theirs && fi.Mode()&os.ModeSymlink == 0) {
			ok = false
			r.note("%s: the planted file was removed or replaced", what)
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			s.Clean()
			r.note("%s: left %s", what, strings.Join(left, ", "))
		}
		if ok {
			r.Handled++
		}
	}
	// --force never replaces what is not a regular file, and replaces a
	// file only once recording starts: a setup that fails keeps it.
	fifo := filepath.Join(s.tmp, "fifo")
	old := filepath.Join(s.tmp, "old.dat")
	defer os.Remove(fifo)
	defer os.Remove(old)
	syscall.Mkfifo(fifo, 0o644)
	for _, c := range []struct {
		path  string
		extra []string
	}{{fifo, nil}, {old, []string{"--clock", "nosuchclock"}}, {old, []string{"--filter", "nosuchfield > 0"}}, {old, []string{"-b", "0"}}, {old, []string{"-b", "4611686018427387904"}}} {
		r.Tried++
		os.WriteFile(old, []byte("precious\n"), 0o644)
		args := append([]string{"record", "-d", "200ms", "--force", "-o", c.path}, c.extra...)
		res := s.tracer(30*time.Second, append(args, "sched:sched_switch")...)
		what := fmt.Sprintf("--force -o %s %s", filepath.Base(c.path), strings.Join(c.extra, " "))
		ok := true
		if why := oneError(res); why != "" {
			ok = false
			r.note("%s: %s", what, why)
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			ok = false
			r.note("%s: the FIFO was replaced", what)
			os.Remove(fifo)
			syscall.Mkfifo(fifo, 0o644)
		}
		if b, _ := os.ReadFile(old); string(b) != "precious\n" {
			ok = false
			r.note("%s: a failed setup replaced the old file", what)
		}
		if ents, _ := os.ReadDir(s.tmp); len(ents) > 0 {
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tracer-") {
					ok = false
					r.note("%s: left %s", what, e.Name())
					os.Remove(filepath.Join(s.tmp, e.Name()))
				}
			}
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			s.Clean()
			r.note("%s: left %s", what, strings.Join(left, ", "))
		}
		if ok {
			r.Handled++
		}
	}
}

// Privileges runs tracer as nobody.
func (s *Suite) Privileges(r *Row) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		r.Skip = "no setpriv"
		return
	}
	for _, args := range [][]string{{"list", "sched:*"}, {"record", "-d", "200ms", "sched:sched_switch"}, {"doctor"}, {"reset"}} {
		r.Tried++
		res := s.wrapped(nil, "", true, 30*time.Second, args...)
		what := strings.Join(args, " ")
		ok := true
		if args[0] == "doctor" {
			// doctor is for finding out what is wrong: it may succeed and
			// say so, but must name what is needed.
			if strings.Contains(res.Stderr+res.Stdout, "panic") || !strings.Contains(res.Stderr+res.Stdout, "root") {
				ok = false
				r.note("as nobody, %s: exit %d, no mention of root: %q", what, res.Code, short(res.Stderr+res.Stdout))
			}
		} else if why := oneError(res); why != "" {
			ok = false
			r.note("as nobody, %s: %s", what, why)
		} else if !strings.Contains(res.Stderr, "root") {
			ok = false
			r.note("as nobody, %s: does not say what is needed: %q", what, short(res.Stderr))
		}
		if left := s.Leftovers(); len(left) > 0 {
			ok = false
			r.Leftovers += len(left)
			s.Clean()
			r.note("%s: left %s", what, strings.Join(left, ", "))
		}
		if ok {
			r.Handled++
		}
	}
	// A tracefs mount with a group: tracefs has one superblock, so a second
	// mount with gid=/mode= re-applies them to the mount everyone uses.
	if os.Getenv("TRACER_IN_VM") == "" {
		r.Skip = "group-mounted tracefs: tracefs has a single superblock, so mount -o gid=,mode= on a second mount point changes the permissions of the shared /sys/kernel/tracing; not done outside the test VMs"
		return
	}
	r.Skip = "group-mounted tracefs: not implemented in the VM run yet"
}

// Missing covers tracefs not mounted, no kprobes, read-only control files.
func (s *Suite) Missing(r *Row) {
	umount := "umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null; " +
		"! grep -q ' - tracefs ' /proc/self/mountinfo || { echo tracefs still mounted >&2; exit 99; }"
	if _, err := exec.LookPath("unshare"); err == nil {
		// As root: tracer mounts tracefs (in the private namespace) and says so.
		r.Tried++
		res := s.wrapped([]string{"unshare", "-m", "--propagation", "private"}, umount, false, 30*time.Second, "list", "sched:sched_switch")
		if res.Code == 0 && strings.Contains(res.Stdout, "sched_switch") && strings.Contains(res.Stderr, "mounted") &&
			len(strings.Split(strings.TrimSpace(res.Stderr), "\n")) == 1 && !strings.Contains(res.Stderr, "tracer: tracer:") {
			r.Handled++
		} else {
			r.note("tracefs not mounted, as root: exit %d, stdout %q, stderr %q", res.Code, short(res.Stdout), short(res.Stderr))
		}
		// As nobody: a precise message.
		r.Tried++
		res = s.wrapped([]string{"unshare", "-m", "--propagation", "private"}, umount, true, 30*time.Second, "list", "sched:sched_switch")
		if why := oneError(res); why != "" || !strings.Contains(res.Stderr, "not mounted") {
			r.note("tracefs not mounted, as nobody: %s %q", why, short(res.Stderr))
		} else {
			r.Handled++
		}
	} else {
		r.Skip = "no unshare: tracefs-not-mounted not tried"
	}
	// No kprobes: a precise message, and the rest works.
	if _, err := os.Stat(filepath.Join(s.root, "kprobe_events")); err != nil {
		r.Tried++
		res := s.tracer(30*time.Second, "record", "-d", "200ms", "kprobe:do_sys_openat2")
		ok := oneError(res) == "" && strings.Contains(res.Stderr, "kprobe")
		res2 := s.tracer(30*time.Second, "record", "-d", "200ms", "sched:sched_switch")
		if !ok || res2.Code != 0 {
			r.note("no kprobes: %q; then a tracepoint record: exit %d %q", short(res.Stderr), res2.Code, short(res2.Stderr))
		} else {
			r.Handled++
		}
	} else {
		r.note("this kernel has kprobes: the no-kprobes case is not tried")
	}
	// Read-only control files: tracer never writes the top level's
	// current_tracer or set_ftrace_filter, and doctor works.
	r.Tried++
	before := s.read("current_tracer") + s.read("set_ftrace_filter")
	res := s.tracer(30*time.Second, "doctor")
	res2 := s.tracer(30*time.Second, "record", "-d", "200ms", "sched:sched_switch")
	after := s.read("current_tracer") + s.read("set_ftrace_filter")
	if res.Code != 0 || res2.Code != 0 || before != after {
		r.note("read-only control files: doctor exit %d %q, record exit %d %q, top level changed %v", res.Code, short(res.Stderr), res2.Code, short(res2.Stderr), before != after)
	} else {
		r.Handled++
	}
	if left := s.Leftovers(); len(left) > 0 {
		r.Leftovers += len(left)
		s.Clean()
		r.note("left %s", strings.Join(left, ", "))
	}
}
