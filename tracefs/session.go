package tracefs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/taskctx"
)

// SessionOptions configure a Session. The zero value traces every process
// with the kernel's default buffer size and clock.
type SessionOptions struct {
	// BufferSizeKB is the per-CPU ring buffer size; 0 keeps the default.
	BufferSizeKB int
	// Clock is the trace clock ("local", "global", "mono", ...); "" keeps the default.
	Clock string
	// PIDs restricts events to these processes (set_event_pid).
	PIDs []int
	// Follow adds the children of PIDs as they fork (options/event-fork).
	Follow bool
	// FlushInterval bounds how long a partly filled page waits before it is
	// read; 0 means DefaultFlushInterval. Lower it for interactive use.
	FlushInterval time.Duration
	// PagesPerCPU bounds the pages buffered in user space per CPU, so memory
	// stays flat when the consumer is slower than the kernel: the kernel's
	// own buffer absorbs bursts and reports what it loses. 0 means 64.
	PagesPerCPU int
	// BeforeWait, if set, runs in Next just before it blocks for more
	// pages: the moment to flush buffered output so a person (or a pipe
	// into grep) sees events live without a write per event.
	BeforeWait func()
	// KernelComms names tasks as the kernel's own text does: by the last
	// comm saved_cmdlines holds for a pid. By default a session instead
	// keeps exact process context (package taskctx): it enables the
	// scheduler's fork, rename, exec and exit events in its instance,
	// hidden from Next unless added, and names each event's task as it
	// was at that moment.
	KernelComms bool
	// SkipCleanup is a test hook: Close leaves the instance and probes in
	// place, so that scripts/chaos can prove it detects a broken cleanup
	// (commands set it from TRACER_CHAOS_SKIP_CLEANUP). Never set it
	// otherwise.
	SkipCleanup bool
}

// Session is the embeddable live-tracing API: add tracepoints, Open, then
// read events until Close. It owns one instance of its own, which Close
// removes, so several sessions and other tools can trace at once.
//
//	s := tracefs.NewSession(fs, tracefs.SessionOptions{})
//	s.AddTracepoint("sched:sched_process_exec", "")
//	s.Open()
//	defer s.Close()
//	for { ev, err := s.ReadEvent(); ... ev.GetString("filename") }
type Session struct {
	fs   *FS
	opts SessionOptions

	events  []EventID
	filters map[EventID]string

	inst    *Instance
	dec     *parse.Decoder
	readers []*CPUReader
	offline []int

	pages chan page
	wg    sync.WaitGroup

	cpus    []*cpuState // per reader index
	handed  int         // cpu whose head Next handed out last, -1 if none
	done    int         // readers that reported io.EOF
	readErr error

	perCPU     map[int]*CPUCount
	lastComms  time.Time
	stopOnce   sync.Once
	closeOnce  sync.Once
	closeErr   error
	ev         Event
	nameIdx    map[nameKey]int
	ownThreads int          // threads listed in set_event_notrace_pid
	ownListed  map[int]bool // their tids (the list only grows: see excludeSelf)
	lastSelf   time.Time
	probes     sessionProbes // kprobes and uprobes of this session (probes.go)

	tasks    *taskctx.Model         // process context (tasks.go); nil with KernelComms
	internal map[EventID]bool       // events the session enabled for itself (tasks, fetches)
	hidden   map[*parse.Schema]bool // their schemas: Next does not return them
	fetches  []*Fetch               // fetch.go
	withCtx  bool                   // Open (not OpenRaw) keeps process context
	lastTidy time.Time
}

// CPUCount is what one CPU delivered during a session.
type CPUCount struct {
	CPU    int
	Events uint64 // records read
	Lost   uint64 // events the kernel reported lost between pages (known counts)
	// LostUnknown counts places where the kernel reported a loss without a count.
	LostUnknown uint64
}

// page is a message from a reader goroutine: a page, an "empty" report,
// or the end of that CPU's stream.
type page struct {
	idx   int // reader index
	buf   []byte
	at    int64 // MonoNow when the read returned: every record in buf was written before
	empty bool  // nothing to read (the reader's EmptyAt says since when)
	err   error
	eof   bool
}

// cpuState is the consumer's view of one CPU: pages received and not yet
// decoded, the page being decoded, and its next record (the head).
type cpuState struct {
	cpu     int
	r       *CPUReader
	free    chan []byte // this CPU's own buffers, so one busy CPU cannot starve another's reader
	queue   []page
	cur     page
	curOK   bool
	it      parse.PageIter
	head    parse.Record
	hasHead bool
	emptyAt int64
	kicked  bool
	eof     bool
}

type nameKey struct {
	s    *parse.Schema
	name string
}

// NewSession prepares a session; nothing changes in tracefs until Open.
func NewSession(fs *FS, opts SessionOptions) *Session {
	return &Session{fs: fs, opts: opts, filters: map[EventID]string{}, internal: map[EventID]bool{}}
}

// AddTracepoint adds the events a pattern names ("sched:sched_switch",
// "sched:*", "*:*exec*") with an optional filter in the kernel's syntax.
// Unknown names fail here, before anything is enabled, with suggestions.
//
// A probe spec ("kprobe:do_sys_openat2 path=+0($arg2):string",
// "uretprobe:/bin/bash:readline", "p:...", see ParseProbeSpec) is accepted
// too: the probe is created by Open in the session's own group and removed
// by Close.
func (s *Session) AddTracepoint(pattern, filter string) error {
	if IsProbeSpec(pattern) {
		return s.addProbe(pattern, filter)
	}
	ids, err := s.fs.ResolveEvents([]string{pattern})
	if err != nil {
		return err
	}
	if filter != "" {
		if err := checkFilter(filter); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if _, dup := s.filters[id]; !dup {
			s.events = append(s.events, id)
		}
		if filter != "" || s.filters[id] == "" {
			s.filters[id] = filter
		}
	}
	return nil
}

// Events returns the events the caller added (tracepoints and probes),
// not those the session enables for itself (process context, fetches).
func (s *Session) Events() []EventID {
	var out []EventID
	for _, id := range s.events {
		if !s.internal[id] {
			out = append(out, id)
		}
	}
	return out
}

// selfFloods reports whether tracer's own threads should be left out of
// the session's events. They are by default: its reads and writes would
// show in syscall and sched events, and feed themselves. But
// set_event_notrace_pid also drops what the kernel records in interrupt
// context while one of them is on the CPU (a block request's completion,
// a packet): a session whose events are all of such device systems keeps
// them whole instead, as bpftrace does.
func (s *Session) selfFloods() bool {
	if len(s.probes.pending) > 0 {
		return true
	}
	for _, id := range s.events {
		if s.internal[id] {
			continue
		}
		switch id.System {
		case "block", "irq", "napi", "net", "skb", "scsi", "nvme":
		default:
			return true
		}
	}
	return false
}

// Decoder returns the decoder for this session's records (after Open).
func (s *Session) Decoder() *parse.Decoder { return s.dec }

// Instance returns the session's own instance (after Open).
func (s *Session) Instance() *Instance { return s.inst }

func nativeBigEndian() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 0
}

// Open creates the instance, sets it up, enables the events with their
// filters and starts one reader per CPU. On any error everything created so
// far is removed again, so a failed Open leaves nothing enabled.
func (s *Session) Open() (err error) {
	if !s.opts.KernelComms && !s.withCtx {
		s.withCtx = true
		s.addTaskEvents()
	}
	if err := s.setup(); err != nil {
		return err
	}
	inst := s.inst
	defer func() {
		if err != nil {
			s.closeReaders()
			s.teardown()
		}
	}()
	flush := s.opts.FlushInterval
	if flush <= 0 {
		flush = DefaultFlushInterval // the merge relies on idle reports
	}
	readers, offline, err := inst.OpenReaders(&ReaderOptions{FlushInterval: flush, ReportIdle: true})
	if err != nil {
		return err
	}
	s.readers, s.offline = readers, offline
	s.start()
	if s.ownThreads > 0 {
		s.excludeSelf() // the reader goroutines may have started threads
	}
	if s.tasks != nil {
		// Last thing before tracing starts: a task created in between is
		// read from /proc when first named.
		seedTasks(s.tasks)
	}
	if err := inst.SetTracingOn(true); err != nil {
		return err
	}
	return nil
}

// setup does what Open and OpenRaw share: it creates the instance and the
// probes, sets buffer size, clock, overwrite and the pid filters, loads the
// decoder, sets the filters and enables the events, with tracing still off.
// On error everything it created is removed again.
func (s *Session) setup() (err error) {
	if len(s.events) == 0 && len(s.probes.pending) == 0 {
		return errors.New("opening session: no events added")
	}
	inst, err := s.fs.NewInstance()
	if err != nil {
		return err
	}
	s.inst = inst
	defer func() {
		if err != nil {
			s.teardown()
		}
	}()
	if err := s.createProbes(); err != nil {
		return err
	}
	for _, f := range s.fetches {
		if f.setup != nil {
			if err := f.setup(inst); err != nil {
				return err
			}
		}
	}
	if s.opts.BufferSizeKB > 0 {
		if err := inst.SetBufferSizeKB(s.opts.BufferSizeKB); err != nil {
			return err
		}
	}
	if s.opts.Clock != "" {
		if err := inst.SetClock(s.opts.Clock); err != nil {
			return err
		}
	}
	// Lost events are reported in place only in overwrite mode (the page
	// header says how many were overwritten), so keep the kernel default.
	if err := inst.SetOverwrite(true); err != nil && !errors.Is(err, ErrNotSupported) {
		return err
	}
	if len(s.opts.PIDs) > 0 {
		if err := inst.SetEventPIDs(s.opts.PIDs, s.opts.Follow); err != nil {
			return err
		}
	} else if err := s.excludeSelf(); err != nil {
		return err
	}
	if err := s.loadDecoder(); err != nil { // also checks that every format parses
		return err
	}
	for _, id := range s.events {
		if f := s.filters[id]; f != "" {
			if err := inst.SetFilter(id.System, id.Name, f); err != nil {
				return err
			}
		}
	}
	if err := inst.SetTracingOn(false); err != nil {
		return err
	}
	for _, id := range s.events {
		if err := inst.EnableEvent(id.System, id.Name); err != nil {
			return err
		}
	}
	return nil
}

// teardown removes what setup created after a failed open: the instance
// first, since the kernel refuses to remove an enabled probe.
func (s *Session) teardown() {
	if s.inst != nil {
		s.inst.Remove()
	}
	s.removeProbes()
	s.inst = nil
}

// selfRefresh is how often a reading session looks for new threads of
// its own to exclude; tests shorten it.
var selfRefresh = time.Second

// excludeSelf keeps this process's own threads out of the trace: their
// reads of trace_pipe_raw would otherwise flood syscall events. event-fork
// is not used for this, because it would also hide the children the
// program starts, which a user may well want to trace; instead threads are
// added to the list as Go starts them (it does so on demand).
//
// The list is only ever appended to, never rewritten: opening
// set_event_notrace_pid with O_TRUNC while tracing loses other tasks'
// events. The kernel (__ftrace_clear_event_pids, 5.10 to 6.18) first
// unregisters the sched_switch and wakeup hooks that keep each CPU's
// ignore_pid flag current, and only then stops filtering, so for the
// milliseconds those unregistrations take, a CPU whose flag was last set
// for one of our threads drops the events of whatever task runs there
// next: a child's exec, its first fork, a run of system calls (issue 11
// item 19). An append (no O_TRUNC) swaps in a superset of the list and
// touches neither the hooks nor the flags. The cost: a thread that exits
// stays listed, which matters only if the session outlives it and its tid
// is reused (Go ends threads only for goroutines that exit locked).
func (s *Session) excludeSelf() error {
	if !s.inst.fs.exists(s.inst.file("set_event_notrace_pid")) {
		return nil // before 5.8: nothing to do but accept our own events
	}
	if !s.selfFloods() {
		return nil
	}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil
	}
	var ids []string
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil && !s.ownListed[tid] {
			ids = append(ids, e.Name())
			tids = append(tids, tid)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Append: see above. The instance is new, so the first write needs
	// no truncation either.
	if err := s.inst.fs.writeFile(s.inst.file("set_event_notrace_pid"), []byte(strings.Join(ids, " ")), 0); err != nil {
		return err
	}
	if s.ownListed == nil {
		s.ownListed = map[int]bool{}
	}
	for _, tid := range tids {
		s.ownListed[tid] = true
	}
	s.ownThreads = len(s.ownListed)
	return nil
}

// loadDecoder builds the decoder from this instance's header_page and the
// formats of the enabled events, plus the symbol tables the text needs.
func (s *Session) loadDecoder() error {
	hp, err := s.inst.HeaderPage()
	if err != nil {
		return err
	}
	layout, err := parse.ParseHeaderPage(hp, nativeBigEndian())
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.inst.file("events/header_page"), err)
	}
	if he, err := s.inst.HeaderEvent(); err == nil {
		if err := parse.ParseHeaderEvent(he); err != nil {
			return err
		}
	}
	d := parse.NewDecoder(layout)
	if c, err := s.inst.Clock(); err == nil {
		d.SetClock(c)
	}
	needSyms := false
	for _, id := range s.events {
		f, err := s.fs.Format(id.System, id.Name)
		if err != nil {
			return err
		}
		sc, err := d.AddFormat(id.System, f)
		if err != nil {
			return err
		}
		if id.System == "ftrace" || strings.Contains(sc.PrintFmt, "%pS") || strings.Contains(sc.PrintFmt, "%ps") ||
			strings.Contains(sc.PrintFmt, "%pB") {
			needSyms = true
		}
	}
	s.markEprobes(d) // eprobes print their target event (probes.go)
	if needSyms {
		if b, err := s.fs.Kallsyms(); err == nil {
			d.Symbols = parse.ParseKallsyms(b)
		}
		if b, err := s.fs.PrintkFormats(); err == nil {
			d.Printk = parse.ParsePrintkFormats(b)
		}
	}
	if s.withCtx {
		s.startTasks(d)
	} else {
		s.refreshComms(d)
	}
	s.hidden = map[*parse.Schema]bool{}
	for id := range s.internal {
		if sc := d.SchemaByName(id.String()); sc != nil {
			s.hidden[sc] = true
		}
	}
	s.bindFetches(d)
	s.dec = d
	return nil
}

// refreshComms re-reads saved_cmdlines: the kernel records the comm of a
// task when it is traced, so new processes appear there as they run.
func (s *Session) refreshComms(d *parse.Decoder) {
	s.lastComms = time.Now()
	b, err := s.fs.SavedCmdlines()
	if err != nil {
		return
	}
	c := parse.ParseSavedCmdlines(b)
	// On a miss, re-read at most every 20 ms: the kernel saves a new task's
	// comm at its next context switch, a moment after its first event.
	c.Miss = func(pid int) (string, bool) {
		if time.Since(s.lastComms) < 20*time.Millisecond {
			return "", false
		}
		s.refreshComms(d)
		m := d.Comms
		m.Miss = nil
		name, ok := m.Lookup(pid)
		m.Miss = c.Miss
		return name, ok
	}
	d.Comms = c
}

func (s *Session) start() {
	per := s.opts.PagesPerCPU
	if per <= 0 {
		per = 64
	}
	n := len(s.readers)
	s.pages = make(chan page, n*(per+2))
	sub := s.dec.Layout.SubbufSize()
	s.cpus = make([]*cpuState, n)
	s.handed = -1
	s.perCPU = map[int]*CPUCount{}
	for i, r := range s.readers {
		c := &cpuState{cpu: r.CPU(), r: r, free: make(chan []byte, per)}
		for k := 0; k < per; k++ {
			c.free <- make([]byte, sub)
		}
		s.cpus[i] = c
		s.perCPU[r.CPU()] = &CPUCount{CPU: r.CPU()}
		s.wg.Add(1)
		go s.readLoop(i, r, c.free)
	}
}

// readLoop moves whole pages from one CPU to the consumer. When the
// consumer falls behind it blocks on this CPU's free list, the kernel
// buffer fills, and the kernel counts the loss: memory stays bounded.
func (s *Session) readLoop(idx int, r *CPUReader, free chan []byte) {
	defer s.wg.Done()
	for {
		buf := <-free
		n, err := r.ReadPage(buf)
		if n > 0 {
			s.pages <- page{idx: idx, buf: buf[:n], at: MonoNow()}
			continue
		}
		free <- buf
		if err == nil {
			s.pages <- page{idx: idx, empty: true}
			continue
		}
		if err == io.EOF || errors.Is(err, ErrClosed) {
			s.pages <- page{idx: idx, eof: true}
			return
		}
		s.pages <- page{idx: idx, err: err, eof: true}
		return
	}
}

// Stop ends tracing: no new events are recorded, the readers drain what
// the kernel still holds, and Next returns those before reporting the end.
func (s *Session) Stop() {
	s.stopOnce.Do(func() {
		if s.inst != nil {
			s.inst.SetTracingOn(false)
		}
		for _, r := range s.readers {
			r.Stop()
		}
	})
}

// Next fills rec with the next record or lost-events item, in timestamp
// order across CPUs. It blocks until there is one, and returns false once
// the session is stopped and drained. rec and the bytes it points to are
// valid until the next call.
//
// Order is kept by holding a record back until every other CPU has either
// a later record in hand, or has been seen empty after the record's page
// was read (then anything it writes later is newer). A quiet CPU is asked
// to look (Kick) rather than waited for, so holding back costs microseconds.
func (s *Session) Next(rec *parse.Record) (bool, error) {
	if s.dec == nil {
		return false, errors.New("reading session: not open")
	}
	if s.handed >= 0 {
		c := s.cpus[s.handed]
		s.handed = -1
		if err := s.advance(c); err != nil {
			return false, err
		}
	}
	for {
		best := -1
		for i, c := range s.cpus {
			if c.hasHead && (best < 0 || c.head.TS < s.cpus[best].head.TS) {
				best = i
			}
		}
		if best >= 0 && s.safe(best) {
			c := s.cpus[best]
			*rec = c.head
			for _, f := range s.fetches {
				f.observe(rec)
			}
			if s.tasks != nil {
				s.tasks.Apply(rec)
			}
			if s.hidden[rec.Schema] {
				// Learned from, and not the caller's: move on.
				s.perCPU[c.cpu].Events++
				if err := s.advance(c); err != nil {
					return false, err
				}
				continue
			}
			s.handed = best
			cnt := s.perCPU[c.cpu]
			switch {
			case rec.Kind == parse.ItemEvent:
				cnt.Events++
			case rec.LostKnown:
				cnt.Lost += rec.Lost
			default:
				cnt.LostUnknown++
			}
			return true, nil
		}
		if best < 0 && s.done == len(s.cpus) {
			err := s.readErr
			s.readErr = nil
			return false, err
		}
		if err := s.receive(); err != nil {
			return false, err
		}
	}
}

// safe reports whether the head of cpu best may be emitted now, kicking
// the quiet CPUs whose state is not known recently enough.
func (s *Session) safe(best int) bool {
	at := s.cpus[best].cur.at
	ok := true
	for i, c := range s.cpus {
		if i == best || c.hasHead || c.eof || c.emptyAt > at {
			continue
		}
		ok = false
		if !c.kicked {
			c.kicked = true
			c.r.Kick()
		}
	}
	return ok
}

// receive waits for at least one message from the readers and applies it
// and every other message already queued.
func (s *Session) receive() error {
	var first page
	select {
	case first = <-s.pages:
	default:
		if s.opts.BeforeWait != nil {
			s.opts.BeforeWait()
		}
		first = <-s.pages
	}
	var firstErr error
	apply := func(p page) {
		c := s.cpus[p.idx]
		switch {
		case p.eof:
			c.eof = true
			s.done++
			if p.err != nil && s.readErr == nil {
				s.readErr = p.err
			}
		case p.empty:
			c.emptyAt = c.r.EmptyAt()
			c.kicked = false
		default:
			c.queue = append(c.queue, p)
			c.kicked = false
			if !c.hasHead {
				if err := s.advance(c); err != nil && firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	apply(first)
	for more := true; more; {
		select {
		case p := <-s.pages:
			apply(p)
		default:
			more = false
		}
	}
	if s.tasks == nil && time.Since(s.lastComms) > 500*time.Millisecond {
		s.refreshComms(s.dec)
	}
	if s.tasks != nil && time.Since(s.lastTidy) > time.Second {
		s.lastTidy = time.Now()
		s.tasks.Forget()
	}
	if s.ownThreads > 0 && time.Since(s.lastSelf) > selfRefresh {
		s.lastSelf = time.Now()
		s.excludeSelf()
	}
	return firstErr
}

// advance loads the next head of c, moving to its next queued page when
// the current one is done and returning that page's buffer.
func (s *Session) advance(c *cpuState) error {
	for {
		if c.curOK {
			ok, err := c.it.Next(&c.head)
			if ok {
				c.hasHead = true
				return nil
			}
			if err != nil {
				c.hasHead = false
				return err // the page's remaining bytes are skipped; the next call moves on
			}
			c.free <- c.cur.buf[:cap(c.cur.buf)]
			c.curOK = false
		}
		if len(c.queue) == 0 {
			c.hasHead = false
			return nil
		}
		c.cur = c.queue[0]
		c.queue = c.queue[1:]
		c.curOK = true
		if err := c.it.Reset(s.dec, c.cpu, c.cur.buf); err != nil {
			c.free <- c.cur.buf[:cap(c.cur.buf)]
			c.curOK = false
			c.hasHead = false
			return err
		}
	}
}

// Counts returns, per CPU, what the session has read and what the kernel
// reported lost in the pages.
func (s *Session) Counts() []CPUCount {
	var out []CPUCount
	for _, r := range s.readers {
		if c := s.perCPU[r.CPU()]; c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// OfflineCPUs lists CPUs that had no reader because they were offline.
func (s *Session) OfflineCPUs() []int { return s.offline }

// KernelStats returns the kernel's per_cpu/cpuN/stats for each CPU read,
// which count overruns and drops that the pages alone cannot show
// (dropped events in non-overwrite mode, for instance).
func (s *Session) KernelStats() map[int]CPUStats {
	out := map[int]CPUStats{}
	if s.inst == nil {
		return out
	}
	for _, r := range s.readers {
		if st, err := s.inst.Stats(r.CPU()); err == nil {
			out[r.CPU()] = st
		}
	}
	return out
}

func (s *Session) closeReaders() {
	for _, r := range s.readers {
		r.Close()
	}
}

// Close stops tracing and removes the session's instance. It is safe to
// call more than once and from a signal handler's goroutine; call it on
// every exit path (defer it right after Open).
// With SessionOptions.SkipCleanup (a test hook) it leaves them in place.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.Stop()
		if s.pages != nil {
			// Unblock readers waiting to hand over pages, then wait for them.
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case p := <-s.pages:
						if p.buf != nil {
							select {
							case s.cpus[p.idx].free <- p.buf[:cap(p.buf)]:
							default:
							}
						}
					case <-stop:
						return
					}
				}
			}()
			s.closeReaders()
			s.wg.Wait()
			close(stop)
		} else {
			s.closeReaders()
		}
		if s.opts.SkipCleanup {
			return // test hook for scripts/chaos: a broken cleanup it must catch
		}
		if s.inst != nil {
			s.closeErr = s.inst.Remove()
		}
		if err := s.removeProbes(); err != nil {
			s.closeErr = errors.Join(s.closeErr, err)
		}
	})
	return s.closeErr
}

// Event is a decoded record with access to fields by name, for programs
// that value convenience over the last nanosecond. It is reused by
// ReadEvent: copy what must outlive the next call.
type Event struct {
	parse.Record
	s *Session
}

// ReadEvent returns the next event, skipping lost-events items (Counts
// reports those). It returns io.EOF once the session is stopped and drained.
func (s *Session) ReadEvent() (*Event, error) {
	for {
		ok, err := s.Next(&s.ev.Record)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, io.EOF
		}
		if s.ev.Kind == parse.ItemEvent && s.ev.Schema != nil {
			s.ev.s = s
			return &s.ev, nil
		}
	}
}

func (e *Event) index(name string) int {
	if e.s.nameIdx == nil {
		e.s.nameIdx = map[nameKey]int{}
	}
	k := nameKey{e.Schema, name}
	i, ok := e.s.nameIdx[k]
	if !ok {
		i = e.Schema.FieldIndex(name)
		e.s.nameIdx[k] = i
	}
	return i
}

// GetInt returns the named integer field; ok is false if there is none.
func (e *Event) GetInt(name string) (v int64, ok bool) {
	i := e.index(name)
	if i < 0 {
		return 0, false
	}
	return e.IntOK(i)
}

// GetString returns the named string field ("" if there is none).
func (e *Event) GetString(name string) string {
	i := e.index(name)
	if i < 0 {
		return ""
	}
	return string(e.Str(i))
}

// Comm returns the command name of the event's task, from saved_cmdlines.
func (e *Event) Comm() string {
	if c, ok := e.s.dec.Comms.Lookup(e.PID()); ok {
		return c
	}
	return "<...>"
}
