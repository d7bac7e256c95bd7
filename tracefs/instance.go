package tracefs

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// instancePrefix marks instances created by tracer. The full name is
// tracer-<pid>-<4 hex digits>, so Reset can tell ours from other tools' and
// a dead owner from a live one.
const instancePrefix = "tracer-"

// Instance is a private ftrace buffer with its own events, filters and
// options. tracer works only in instances it created, because the top-level
// buffer and every other instance belong to other tools on the machine.
type Instance struct {
	fs   *FS
	name string
	rel  string

	mu      sync.Mutex
	removed bool
}

// NewInstance creates instances/tracer-<pid>-<random>. The caller must call
// Remove (also on error paths); Reset cleans up after callers that were killed.
func (fs *FS) NewInstance() (*Instance, error) {
	if !fs.exists("instances") {
		return nil, fmt.Errorf("creating instance: %w", errNoInstances(fs.path("instances")))
	}
	var lastErr error
	for range 8 {
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("creating instance: %w", err)
		}
		name := fmt.Sprintf("%s%d-%04x", instancePrefix, os.Getpid(), binary.LittleEndian.Uint16(b[:]))
		rel := path.Join("instances", name)
		err := unix.Mkdir(fs.path(rel), 0o750)
		if err == nil {
			return &Instance{fs: fs, name: name, rel: rel}, nil
		}
		if err == unix.EEXIST {
			lastErr = err
			continue
		}
		return nil, fileErr("creating instance", fs.path(rel), err)
	}
	return nil, fmt.Errorf("creating instance: %w", lastErr)
}

// Name is the instance directory name, for messages and for
// `trace-cmd -B`-style interoperability.
func (in *Instance) Name() string { return in.name }

// Path is the instance directory, for messages and external tools.
func (in *Instance) Path() string { return in.fs.path(in.rel) }

// FS returns the mount the instance lives in.
func (in *Instance) FS() *FS { return in.fs }

func (in *Instance) file(rel string) string { return path.Join(in.rel, rel) }

func (in *Instance) read(rel string) ([]byte, error) { return in.fs.readFile(in.file(rel)) }

func (in *Instance) readInt(rel string) (int, error) {
	b, err := in.read(rel)
	if err != nil {
		return 0, err
	}
	// buffer_size_kb may read "7 (expanded: 1408)" before first use.
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("reading %s: empty", in.fs.path(in.file(rel)))
	}
	v, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", in.fs.path(in.file(rel)), err)
	}
	return v, nil
}

func (in *Instance) write(rel, s string) error {
	return in.fs.writeFile(in.file(rel), []byte(s), unix.O_TRUNC)
}

// writeLogged writes and, if the kernel refuses, returns a *KernelError
// with this instance's error_log (ours to clear) explaining why.
func (in *Instance) writeLogged(op, rel, s string) error {
	logRel := in.file("error_log")
	own := true
	if !in.fs.exists(logRel) { // kernels before per-instance logs
		logRel, own = "error_log", false
	}
	var log *errorLog
	if in.fs.exists(logRel) {
		log = startErrorLog(in.fs.path(logRel), own)
	}
	err := in.write(rel, s)
	if err == nil || log == nil || !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.E2BIG) && !errors.Is(err, unix.ESRCH) {
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	}
	werr := log.wrap(op, err, s)
	var ke *KernelError
	if errors.Is(err, unix.ESRCH) && errors.As(werr, &ke) {
		// The filter parser's answer to an unclosed quote: "no such
		// process" would mislead; the error_log says what is wrong.
		ke.Err = &renamedErrno{"refused by the kernel (ESRCH)", ke.Err}
	}
	return werr
}

// renamedErrno is an errno said in words that fit where it came from.
type renamedErrno struct {
	msg   string
	errno error
}

func (e *renamedErrno) Error() string { return e.msg }
func (e *renamedErrno) Unwrap() error { return e.errno }

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// MaxBufferSizeKB is the largest per-CPU buffer tracer asks for (4 GB).
// Far beyond it the kernel's KB-to-bytes shift overflows and silently
// leaves a buffer of a few KB.
const MaxBufferSizeKB = 4 << 20

// CheckBufferSizeKB refuses a per-CPU buffer size outside 1 to
// MaxBufferSizeKB KB, saying the range.
func CheckBufferSizeKB(kb int) error {
	if kb < 1 || kb > MaxBufferSizeKB {
		return fmt.Errorf("buffer size %d KB per CPU is out of range (1 to %d KB)", kb, MaxBufferSizeKB)
	}
	return nil
}

// SetBufferSizeKB sizes each CPU's buffer: the main defence against lost
// events at high rates. It reads the size back and fails if the kernel
// set less than asked (it rounds up to whole pages, never down).
func (in *Instance) SetBufferSizeKB(kb int) error {
	if err := CheckBufferSizeKB(kb); err != nil {
		return fmt.Errorf("setting buffer size: %w", err)
	}
	if err := in.write("buffer_size_kb", strconv.Itoa(kb)); err != nil {
		if errors.Is(err, unix.ENOMEM) {
			return fmt.Errorf("setting buffer size to %d KB per CPU: not enough free memory: %w", kb, err)
		}
		return fmt.Errorf("setting buffer size to %d KB per CPU: %w", kb, err)
	}
	got, err := in.BufferSizeKB()
	if err != nil {
		return fmt.Errorf("setting buffer size to %d KB per CPU: reading it back: %w", kb, err)
	}
	return checkBufferReadback(kb, got)
}

// checkBufferReadback compares the size asked for with the size the
// kernel reports.
func checkBufferReadback(want, got int) error {
	if got < want {
		return fmt.Errorf("setting buffer size: asked for %d KB per CPU, the kernel set %d KB", want, got)
	}
	return nil
}

// BufferSizeKB reports the per-CPU buffer size, to show users what they got.
func (in *Instance) BufferSizeKB() (int, error) { return in.readInt("buffer_size_kb") }

// SubbufSizeKB reports the sub-buffer (page) size; ErrNotSupported before
// Linux 6.8, where it is always the system page size.
func (in *Instance) SubbufSizeKB() (int, error) {
	if !in.fs.exists(in.file("buffer_subbuf_size_kb")) {
		return 0, fmt.Errorf("reading sub-buffer size: %w", errNoSubbufSize)
	}
	return in.readInt("buffer_subbuf_size_kb")
}

// SetSubbufSizeKB sets the sub-buffer size (rounded up by the kernel to a
// power-of-two number of pages). It discards buffered data, so call it
// before enabling events; readers must use SubbufSize afterwards.
func (in *Instance) SetSubbufSizeKB(kb int) error {
	if !in.fs.exists(in.file("buffer_subbuf_size_kb")) {
		return fmt.Errorf("setting sub-buffer size: %w", errNoSubbufSize)
	}
	return in.writeLogged("setting sub-buffer size", "buffer_subbuf_size_kb", strconv.Itoa(kb))
}

// SubbufSize is the byte size of one page as trace_pipe_raw returns it,
// derived from this instance's header_page (data offset + data size), so
// reads always ask for exactly one whole page.
func (in *Instance) SubbufSize() (int, error) {
	b, err := in.HeaderPage()
	if err != nil {
		return 0, err
	}
	return subbufSizeFromHeaderPage(b)
}

// subbufSizeFromHeaderPage finds the "data" field's offset and size. It is a
// deliberately tiny parser; package parse owns the full layout.
func subbufSizeFromHeaderPage(b []byte) (int, error) {
	for _, line := range strings.Split(string(b), "\n") {
		var name string
		off, size := -1, -1
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			switch {
			case strings.HasPrefix(part, "field:"):
				f := strings.Fields(strings.TrimPrefix(part, "field:"))
				if len(f) > 0 {
					name = f[len(f)-1]
				}
			case strings.HasPrefix(part, "offset:"):
				off, _ = strconv.Atoi(strings.TrimPrefix(part, "offset:"))
			case strings.HasPrefix(part, "size:"):
				size, _ = strconv.Atoi(strings.TrimPrefix(part, "size:"))
			}
		}
		if name == "data" && off > 0 && size > 0 {
			if off+size > 64<<20 {
				return 0, fmt.Errorf("header_page: implausible sub-buffer size %d", off+size)
			}
			return off + size, nil
		}
	}
	return 0, errors.New("header_page: no data field")
}

// Clocks lists the clocks the kernel offers and the current one, so a bad
// --clock can be refused with the list instead of a bare EINVAL.
func (in *Instance) Clocks() (all []string, current string, err error) {
	b, err := in.read("trace_clock")
	if err != nil {
		return nil, "", err
	}
	all, current = parseClocks(b)
	return all, current, nil
}

func parseClocks(b []byte) (all []string, current string) {
	for _, f := range strings.Fields(string(b)) {
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") {
			f = f[1 : len(f)-1]
			current = f
		}
		all = append(all, f)
	}
	return all, current
}

// Clock is the current trace clock; the decoder needs it to render
// timestamps (ns clocks vs raw counters).
func (in *Instance) Clock() (string, error) {
	_, cur, err := in.Clocks()
	return cur, err
}

// SetClock selects the timestamp clock after checking the kernel offers it.
func (in *Instance) SetClock(clock string) error {
	all, _, err := in.Clocks()
	if err != nil {
		return err
	}
	for _, c := range all {
		if c == clock {
			return in.write("trace_clock", clock)
		}
	}
	return fmt.Errorf("setting clock: %q is not offered by this kernel (choose one of: %s)", clock, strings.Join(all, ", "))
}

// SetOption sets options/<name>; ErrNotSupported if this kernel lacks it.
func (in *Instance) SetOption(name string, on bool) error {
	if err := checkName("option", name); err != nil {
		return err
	}
	rel := in.file(path.Join("options", name))
	if !in.fs.exists(rel) {
		return fmt.Errorf("setting option %s: %w", name, ErrNotSupported)
	}
	return in.fs.writeFile(rel, []byte(boolStr(on)), unix.O_TRUNC)
}

// Option reads options/<name>.
func (in *Instance) Option(name string) (bool, error) {
	if err := checkName("option", name); err != nil {
		return false, err
	}
	v, err := in.readInt(path.Join("options", name))
	return v != 0, err
}

// SetOverwrite chooses what a full buffer does: overwrite the oldest events
// (flight recorder) or drop new ones (the default for streaming).
func (in *Instance) SetOverwrite(on bool) error { return in.SetOption("overwrite", on) }

// SetTracingOn starts or stops recording into this instance's buffer.
func (in *Instance) SetTracingOn(on bool) error { return in.write("tracing_on", boolStr(on)) }

// TracingOn reports tracing_on; a 0 there is a classic cause of "no output".
func (in *Instance) TracingOn() (bool, error) {
	v, err := in.readInt("tracing_on")
	return v != 0, err
}

// SetBufferPercent sets how full a CPU buffer must be before poll() reports
// it readable. CPUReader relies on it to avoid waking per event; 0 wakes on
// every event and costs the traced task microseconds per event.
func (in *Instance) SetBufferPercent(p int) error {
	if p < 0 || p > 100 {
		return fmt.Errorf("setting buffer_percent: %d is not in 0..100", p)
	}
	if !in.fs.exists(in.file("buffer_percent")) {
		return fmt.Errorf("setting buffer_percent: %w", errNoBufferPercent)
	}
	return in.write("buffer_percent", strconv.Itoa(p))
}

// EnableEvent enables one event in this instance only.
func (in *Instance) EnableEvent(system, event string) error {
	return in.setEnable(system, event, true)
}

// DisableEvent disables one event in this instance.
func (in *Instance) DisableEvent(system, event string) error {
	return in.setEnable(system, event, false)
}

func (in *Instance) setEnable(system, event string, on bool) error {
	if err := checkEvent(system, event); err != nil {
		return err
	}
	rel := in.file(path.Join("events", system, event, "enable"))
	if !in.fs.exists(rel) {
		return fmt.Errorf("enabling %s:%s: %w (see `tracer list`)", system, event, ErrNoEvent)
	}
	return in.fs.writeFile(rel, []byte(boolStr(on)), unix.O_TRUNC)
}

// DisableAll disables every event in this instance, e.g. before stopping,
// so the drain after Stop ends.
func (in *Instance) DisableAll() error { return in.write(path.Join("events", "enable"), "0") }

// SetFilter sets an event filter. A refused expression returns a
// *KernelError carrying the kernel's error_log lines (message, command and
// caret) so the user sees which token is wrong. An empty expr clears it.
func (in *Instance) SetFilter(system, event, expr string) error {
	if err := checkEvent(system, event); err != nil {
		return err
	}
	if err := checkFilter(expr); err != nil {
		return err
	}
	rel := path.Join("events", system, event, "filter")
	if !in.fs.exists(in.file(rel)) {
		return fmt.Errorf("setting filter on %s:%s: %w", system, event, ErrNoEvent)
	}
	if expr == "" {
		expr = "0" // "0" clears a filter; an empty write would do nothing
	}
	return in.writeLogged(fmt.Sprintf("setting filter on %s:%s", system, event), rel, expr)
}

// SetEventPIDs restricts events to the given pids (nil clears the list);
// fork makes children of those pids traced too (options/event-fork), which
// is how a command and everything it spawns is followed.
func (in *Instance) SetEventPIDs(pids []int, fork bool) error {
	var b strings.Builder
	for i, p := range pids {
		if p <= 0 {
			return fmt.Errorf("setting event pids: invalid pid %d", p)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(p))
	}
	if err := in.write("set_event_pid", b.String()); err != nil {
		return err
	}
	if fork || len(pids) == 0 {
		if err := in.SetOption("event-fork", fork && len(pids) > 0); err != nil && (fork || !errors.Is(err, ErrNotSupported)) {
			return err
		}
	}
	return nil
}

// EventPIDs returns the pids in set_event_pid: those set, plus, with
// event-fork, the children the kernel added as they forked (it drops each
// pid again when its process exits).
func (in *Instance) EventPIDs() ([]int, error) {
	b, err := in.read("set_event_pid")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// HeaderPage returns this instance's events/header_page; it follows the
// instance's sub-buffer size, which the top-level file may not.
func (in *Instance) HeaderPage() ([]byte, error) { return in.read("events/header_page") }

// HeaderEvent returns this instance's events/header_event.
func (in *Instance) HeaderEvent() ([]byte, error) { return in.read("events/header_event") }

// CPUStats are the kernel's counters for one CPU buffer; Overrun and
// DroppedEvents are how lost events are reported to users.
type CPUStats struct {
	Entries       uint64 // events in the buffer now
	Overrun       uint64 // events overwritten (overwrite mode)
	CommitOverrun uint64 // events lost to nesting within a page
	Bytes         uint64 // bytes in the buffer (unread)
	OldestEventTS string // as printed by the kernel (seconds or raw counter)
	NowTS         string
	DroppedEvents uint64 // events dropped because the buffer was full (no-overwrite mode)
	ReadEvents    uint64 // events consumed by readers
}

// Stats reads per_cpu/cpuN/stats.
func (in *Instance) Stats(cpu int) (CPUStats, error) {
	if cpu < 0 {
		return CPUStats{}, fmt.Errorf("reading stats: invalid cpu %d", cpu)
	}
	b, err := in.read(fmt.Sprintf("per_cpu/cpu%d/stats", cpu))
	if err != nil {
		return CPUStats{}, err
	}
	return parseStats(b), nil
}

func parseStats(b []byte) CPUStats {
	var s CPUStats
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		n, _ := strconv.ParseUint(v, 10, 64)
		switch strings.TrimSpace(k) {
		case "entries":
			s.Entries = n
		case "overrun":
			s.Overrun = n
		case "commit overrun":
			s.CommitOverrun = n
		case "bytes":
			s.Bytes = n
		case "oldest event ts":
			s.OldestEventTS = v
		case "now ts":
			s.NowTS = v
		case "dropped events":
			s.DroppedEvents = n
		case "read events":
			s.ReadEvents = n
		}
	}
	return s
}

// OnlineCPUs lists the CPUs to read: those online now, falling back to the
// per_cpu directories when sysfs is unavailable (fake roots, containers).
func (fs *FS) OnlineCPUs() ([]int, error) {
	if b, err := readAbs(path.Join(fs.sysRoot, "devices/system/cpu/online")); err == nil {
		return parseCPUList(strings.TrimSpace(string(b)))
	}
	ents, err := os.ReadDir(fs.path("per_cpu"))
	if err != nil {
		return nil, fileErr("listing", fs.path("per_cpu"), err)
	}
	var cpus []int
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "cpu"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				cpus = append(cpus, v)
			}
		}
	}
	return cpus, nil
}

// NumCPUs is the number of online CPUs, i.e. of readers to start.
func (fs *FS) NumCPUs() (int, error) {
	c, err := fs.OnlineCPUs()
	return len(c), err
}

// parseCPUList parses the kernel's cpulist format, e.g. "0-3,5,7-8".
func parseCPUList(s string) ([]int, error) {
	var out []int
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("parsing cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("parsing cpu list %q: %w", s, err)
			}
		}
		if a < 0 || b < a || b-a > 1<<16 {
			return nil, fmt.Errorf("parsing cpu list %q: bad range", s)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// Remove disables events, stops tracing, clears the pid filter and deletes
// the instance. It is idempotent so it can sit in both a defer and an
// error path. Readers must be closed first: open per-CPU files keep the
// instance busy, and Remove gives up after a short retry on EBUSY.
func (in *Instance) Remove() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.removed {
		return nil
	}
	dir := in.fs.path(in.rel)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		in.removed = true
		return nil
	}
	// Best effort: rmdir tears everything down anyway, but a failed rmdir
	// must not leave an instance that keeps recording.
	var errs []error
	if err := in.DisableAll(); err != nil {
		errs = append(errs, err)
	}
	if err := in.SetTracingOn(false); err != nil {
		errs = append(errs, err)
	}
	if err := in.write("set_event_pid", ""); err != nil {
		errs = append(errs, err)
	}
	if err := rmdirRetry(dir); err != nil {
		return errors.Join(append(errs, err)...)
	}
	in.removed = true
	return nil
}

// rmdirRetry removes an instance directory. The kernel answers EBUSY while
// a file in it is open (a reader, or `cat` by a user); retry briefly.
func rmdirRetry(dir string) error {
	deadline := time.Now().Add(time.Second)
	for {
		err := unix.Rmdir(dir)
		switch {
		case err == nil, err == unix.ENOENT:
			return nil
		case err == unix.EBUSY && time.Now().Before(deadline):
			time.Sleep(20 * time.Millisecond)
		case err == unix.EBUSY:
			return fmt.Errorf("removing instance %s: %w (a file in it is still open: close readers first)", dir, err)
		default:
			return fileErr("removing instance", dir, err)
		}
	}
}
