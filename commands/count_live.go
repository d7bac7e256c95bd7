package commands

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

// liveFlags are the flags every aggregating and snooping command shares
// with record: what to trace, for how long, and how to print.
func liveFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"F"}, Usage: filterHelp},
		&cli.IntSliceFlag{Name: "pid", Aliases: []string{"p"}, Usage: "trace only `PID` (repeatable)"},
		&cli.BoolFlag{Name: "follow", Usage: "with -p, also trace children the pids fork"},
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (e.g. 10s)"},
		bufferSizeFlag,
		&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print JSON"},
	}, append(append([]cli.Flag{}, commandFlags...), extra...)...)
}

// bufferSizeFlag is --buffer-size, for record and every live command.
var bufferSizeFlag = &cli.IntFlag{Name: "buffer-size", Aliases: []string{"b"}, Usage: fmt.Sprintf("per-CPU ring buffer in `KB` (1 to %d)", tracefs.MaxBufferSizeKB), Value: 4096}

// bufferSizeKB returns --buffer-size, refused before anything is set up
// when it is out of range (0 or less would otherwise mean the kernel's
// default, and a huge one a tiny buffer).
func bufferSizeKB(c *cli.Context) (int, error) {
	kb := c.Int("buffer-size")
	if err := tracefs.CheckBufferSizeKB(kb); err != nil {
		return 0, &exitError{code: 2, err: fmt.Errorf("--buffer-size: %w", err)}
	}
	return kb, nil
}

// liveSpec says what a live command traces and what it does with records.
type liveSpec struct {
	events  []string          // tracepoints, with the user's --filter
	fixed   map[string]string // tracepoints with a filter of the command's own ("" for none)
	globals bool              // whether --filter applies (snoops set their own filters)
	// flush bounds how long a partial page waits: snoops that read /proc
	// at the event want it short, aggregations don't care.
	flush time.Duration
	// prepare runs before the session is opened, after its events are
	// added: the moment to add fetches (tracefs.Session.AddFetch).
	prepare func(s *tracefs.Session) error
	// open runs after the session is open, to resolve schemas and check
	// keys against them before any record arrives.
	open func(s *tracefs.Session) error
	// record handles one event record; lost handles a lost-events item.
	record func(r *parse.Record) error
	lost   func(r *parse.Record)
	// loss, if set, is given the session once it is open, for the
	// summaries' loss counts.
	loss *lossMeter
	// interval > 0 calls tick every interval; tick(true) runs at the end.
	interval time.Duration
	tick     func(out *bufio.Writer, final bool) error
	// childArgs, if set, is the command after "--" (started held).
	childArgs []string
	// cleanup, if set, runs once on every way out, before the session's
	// instance is removed (e.g. to take hist triggers off).
	cleanup func() error
	// clock is the trace clock ("" keeps the kernel's default).
	clock string
	// poll, if set, runs on the tracing goroutine whenever the session
	// waits and every 1024 records (--metrics refreshes loss counters).
	poll func()
}

// errLiveDone, returned by a spec's record or tick, ends the run as if
// the duration were over: tick(true) still runs (a program's exit()).
var errLiveDone = errors.New("live run done")

// lossMeter measures, for the summaries of count, hist and latency,
// every loss the kernel reports: the lost-events items in the pages and
// the per-CPU overrun, commit overrun and dropped counters of the
// session's instance. runLive gives it the session once it is open.
type lossMeter struct {
	s    *tracefs.Session
	prev aggregate.Loss
}

// take returns the loss since the previous call (the whole run for the
// first), for one summary.
func (m *lossMeter) take() aggregate.Loss {
	if m.s == nil {
		return aggregate.Loss{}
	}
	cur := sessionLoss(m.s)
	d := cur.Sub(m.prev)
	m.prev = cur
	return d
}

// sessionLoss is everything the session and its kernel counters report
// lost so far.
func sessionLoss(s *tracefs.Session) aggregate.Loss {
	stats := s.KernelStats()
	var cpus []aggregate.CPULoss
	for _, c := range s.Counts() {
		cpus = append(cpus, cpuLoss(c, stats[c.CPU]))
	}
	return aggregate.SumLoss(cpus)
}

// cpuLoss is one CPU's loss from the pages read and its kernel counters.
func cpuLoss(c tracefs.CPUCount, st tracefs.CPUStats) aggregate.CPULoss {
	return aggregate.CPULoss{InPages: c.Lost, UnknownInPages: c.LostUnknown, Overrun: st.Overrun, CommitOverrun: st.CommitOverrun, Dropped: st.DroppedEvents}
}

// runLive runs a session like record does (held child for -- CMD,
// signals, --duration, cleanup on every way out) and hands each record to
// spec. Output goes through out, flushed whenever the session waits.
func runLive(c *cli.Context, spec *liveSpec, out *bufio.Writer) error {
	if len(spec.childArgs) > 0 && len(c.IntSlice("pid")) > 0 {
		return &exitError{code: 2, err: errors.New("use either -p PID or -- COMMAND, not both")}
	}
	kb, err := bufferSizeKB(c)
	if err != nil {
		return err
	}
	if err := checkPIDs(c.IntSlice("pid")); err != nil {
		return err
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	opts := tracefs.SessionOptions{BufferSizeKB: kb, PIDs: c.IntSlice("pid"), Follow: c.Bool("follow"), FlushInterval: spec.flush, Clock: spec.clock}
	var child *childProc
	if len(spec.childArgs) > 0 {
		child, err = startHeld(spec.childArgs, c.App.ErrWriter, c.Bool("keep-command"))
		if err != nil {
			return err
		}
		opts.PIDs, opts.Follow = []int{child.pid()}, true
	}
	end := newRunEnd(c, child)
	return end.finish(live(c, spec, out, fs, opts, end))
}

// live is runLive between setting up its end (runEnd) and finishing it.
func live(c *cli.Context, spec *liveSpec, out *bufio.Writer, fs *tracefs.FS, opts tracefs.SessionOptions, end *runEnd) error {

	var werr error
	nextTick := time.Time{}
	if spec.interval > 0 {
		nextTick = time.Now().Add(spec.interval)
	}
	checkTick := func() {
		if spec.poll != nil {
			spec.poll()
		}
		if spec.interval <= 0 || werr != nil {
			return
		}
		if now := time.Now(); !now.Before(nextTick) {
			nextTick = now.Add(spec.interval)
			werr = spec.tick(out, false)
		}
	}
	opts.BeforeWait = func() {
		checkTick()
		if werr == nil {
			werr = out.Flush()
		}
	}
	s := newSession(fs, opts)
	filters := c.StringSlice("filter")
	if !spec.globals && len(filters) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("%s sets its own filters; --filter is not supported here", c.Command.Name)}
	}
	if len(spec.events) > 0 {
		if err := addEvents(s, fs, spec.events, filters); err != nil {
			return err
		}
	}
	for ev, f := range spec.fixed {
		if err := s.AddTracepoint(ev, f); err != nil {
			return err
		}
	}

	if spec.prepare != nil {
		if err := spec.prepare(s); err != nil {
			return err
		}
	}

	if err := s.Open(); err != nil {
		return err
	}
	defer s.Close()
	cleanup := func() {
		if spec.cleanup != nil {
			if err := spec.cleanup(); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "tracer: cleanup: %v\n", err)
			}
			spec.cleanup = nil
		}
	}
	defer cleanup() // runs before the deferred Close
	if spec.loss != nil {
		spec.loss.s = s
	}
	if spec.open != nil {
		if err := spec.open(s); err != nil {
			return err
		}
	}
	if err := end.arm(func(string) { s.Stop() }, s.Instance(), opts.PIDs, opts.Follow); err != nil {
		return err
	}

	var rec parse.Record
	n := 0
	for werr == nil {
		ok, err := s.Next(&rec)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "tracer: %v\n", err)
			if !errors.Is(err, parse.ErrCorrupt) && !errors.Is(err, parse.ErrTruncated) {
				break
			}
			continue
		}
		if !ok {
			break
		}
		if rec.Kind != parse.ItemEvent {
			if spec.lost != nil {
				spec.lost(&rec)
			}
			continue
		}
		if err := spec.record(&rec); err != nil {
			werr = err
			break
		}
		if n++; n&1023 == 0 {
			checkTick()
		}
	}
	s.Stop()
	if errors.Is(werr, errLiveDone) {
		werr = nil
	}
	if werr == nil && spec.tick != nil {
		werr = spec.tick(out, true)
	}
	if werr == nil {
		werr = out.Flush()
	}
	cleanup()
	if werr != nil && (errors.Is(werr, syscall.EPIPE) || errors.Is(werr, os.ErrClosed)) {
		s.Close()
		return nil
	}
	reportLost(c.App.ErrWriter, s, false)
	if err := s.Close(); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "tracer: cleanup: %v (run tracer reset)\n", err)
	}
	if werr != nil {
		return fmt.Errorf("writing output: %w", werr)
	}
	return nil
}

// commLookup returns a function giving a pid's command name as the
// session knows it (saved_cmdlines), for comm keys and columns.
func commLookup(s *tracefs.Session) func(pid int) string {
	dec := s.Decoder()
	return func(pid int) string {
		if name, ok := dec.Comms.Lookup(pid); ok {
			return name
		}
		return "<...>"
	}
}
