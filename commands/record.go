package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/parse/tracedat"
	"github.com/tracer-dev/tracer/tracefs"
)

var recordCommand = &cli.Command{
	Name:      "record",
	Usage:     "stream events live, as the kernel's text or JSON lines",
	ArgsUsage: "EVENT... [-- COMMAND ARGS...]",
	Description: `EVENT is system:event, with globs (sched:*, syscalls:sys_enter_open*, *:*exec*).
Lines look exactly like the kernel's trace_pipe. Lost events show where they
happened (CPU:1 [LOST 308 EVENTS]) and are summed up on stderr at the end.

   tracer record sched:sched_process_exec
   tracer record --filter 'prev_pid > 0' sched:sched_switch
   tracer record --filter 'sched:sched_switch=prev_pid > 0' 'sched:*'
   tracer record --json syscalls:sys_enter_openat -- ls /tmp`,
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"F"}, Usage: "kernel filter `EXPR` for all events, or 'system:event=EXPR' for one"},
		&cli.IntSliceFlag{Name: "pid", Aliases: []string{"p"}, Usage: "trace only `PID` (repeatable)"},
		&cli.BoolFlag{Name: "follow", Usage: "with -p, also trace children the pids fork"},
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (e.g. 10s)"},
		bufferSizeFlag,
		&cli.StringFlag{Name: "clock", Usage: "trace clock (local, global, mono, boot, ...)"},
		&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print one JSON object per event"},
		&cli.BoolFlag{Name: "stats", Usage: "print per-CPU counts (read, lost, kernel overrun) on stderr at the end, even when nothing was lost"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the raw pages to trace.dat `FILE` (read it with tracer report or trace-cmd report) instead of printing"},
		&cli.BoolFlag{Name: "force", Usage: "with -o, replace an existing file (never through a symlink)"},
	},
	Action: runRecord,
}

// eventFilterRE recognises "system:event=EXPR", a filter for one event.
var eventFilterRE = regexp.MustCompile(`^([A-Za-z0-9_*?.-]+:[A-Za-z0-9_*?.-]+)=(.*)$`)

// splitArgs separates events from the command after "--" (see reorderArgs,
// which guarantees the "--" is still there).
func splitArgs(c *cli.Context) (events, command []string) {
	args := c.Args().Slice()
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	return args, nil
}

func runRecord(c *cli.Context) error {
	events, command := splitArgs(c)
	if len(events) == 0 {
		return &exitError{code: 2, err: errors.New("record needs at least one event, e.g. tracer record sched:sched_process_exec (see tracer list)")}
	}
	if len(command) > 0 && len(c.IntSlice("pid")) > 0 {
		return &exitError{code: 2, err: errors.New("use either -p PID or -- COMMAND, not both")}
	}
	kb, err := bufferSizeKB(c)
	if err != nil {
		return err
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	opts := tracefs.SessionOptions{BufferSizeKB: kb, Clock: c.String("clock"), PIDs: c.IntSlice("pid"), Follow: c.Bool("follow")}

	var child *childProc
	if len(command) > 0 {
		child, err = startHeld(command, c.App.ErrWriter)
		if err != nil {
			return err
		}
		defer child.kill()
		opts.PIDs, opts.Follow = []int{child.pid()}, true
	}

	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	var werr error
	opts.BeforeWait = func() {
		if werr == nil {
			werr = out.Flush()
		}
	}
	s := newSession(fs, opts)
	if err := addEvents(s, events, c.StringSlice("filter")); err != nil {
		return err
	}

	// Signals stop the session; cleanup runs on the way out of this
	// function. SIGPIPE is caught so a closed stdout is an error we see
	// (EPIPE) rather than a death that would leave the instance behind.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sigs)

	if c.String("output") != "" {
		if c.Bool("json") {
			return &exitError{code: 2, err: errors.New("-o writes a trace.dat; --json is for tracer report")}
		}
		return recordToFile(c, s, child, sigs)
	}
	if err := s.Open(); err != nil {
		if child != nil {
			child.kill()
		}
		return err
	}
	defer s.Close()
	childDone, cancel, err := stopOn(c, sigs, child, func(string) { s.Stop() })
	defer cancel()
	if err != nil {
		return err
	}

	dec := s.Decoder()
	jsonOut := c.Bool("json")
	var rec parse.Record
	line := make([]byte, 0, 4096)
	for {
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
		if jsonOut {
			line = dec.AppendJSON(line[:0], &rec)
		} else {
			line = dec.AppendText(line[:0], &rec)
		}
		if _, werr = out.Write(line); werr != nil {
			break
		}
	}
	if werr == nil {
		werr = out.Flush()
	}
	s.Stop()
	if werr != nil && (errors.Is(werr, syscall.EPIPE) || errors.Is(werr, os.ErrClosed)) {
		s.Close()
		return nil // the reader went away (| head): a normal, quiet end
	}
	reportLost(c.App.ErrWriter, s, c.Bool("stats"))
	if err := s.Close(); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "tracer: cleanup: %v (run tracer reset)\n", err)
	}
	if werr != nil {
		return fmt.Errorf("writing output: %w", werr)
	}
	if child != nil {
		<-childDone
		if code := child.exitCode(); code != 0 {
			return &exitError{code: code}
		}
	}
	return nil
}

// stopOn calls stop for each reason a run ends: a signal, the --duration,
// or the held command's exit (it releases the command first). childDone
// closes once the command has exited (nil without one); cancel stops the
// duration timer and must be called on the way out.
func stopOn(c *cli.Context, sigs <-chan os.Signal, child *childProc, stop func(reason string)) (childDone chan struct{}, cancel func(), err error) {
	go func() {
		if sig, ok := <-sigs; ok {
			stop(sig.String())
		}
	}()
	cancel = func() {}
	if d := c.Duration("duration"); d > 0 {
		t := time.AfterFunc(d, func() { stop("duration") })
		cancel = func() { t.Stop() }
	}
	if child == nil {
		return nil, cancel, nil
	}
	if err := child.release(); err != nil {
		return nil, cancel, err
	}
	childDone = make(chan struct{})
	go func() {
		child.wait()
		time.Sleep(50 * time.Millisecond) // let the command's last events reach the buffer
		stop("command exited")
		close(childDone)
	}()
	return childDone, cancel, nil
}

// addEvents adds each event pattern with the filters that apply to it.
func addEvents(s *tracefs.Session, events, filters []string) error {
	global := ""
	per := map[string]string{}
	for _, f := range filters {
		if m := eventFilterRE.FindStringSubmatch(f); m != nil {
			per[m[1]] = m[2]
			continue
		}
		if global != "" {
			global = "(" + global + ") && (" + f + ")"
		} else {
			global = f
		}
	}
	for _, e := range events {
		if err := s.AddTracepoint(e, global); err != nil {
			return err
		}
	}
	for pat, f := range per {
		if err := s.AddTracepoint(pat, f); err != nil {
			return err
		}
	}
	return nil
}

// reportLost prints a per-CPU summary on stderr when anything was lost:
// events read, losses seen in the pages, and the kernel's own overrun and
// dropped counts. When nothing was lost it prints nothing.
func reportLost(w io.Writer, s *tracefs.Session, always bool) {
	stats := s.KernelStats()
	var b strings.Builder
	any := false
	for _, c := range s.Counts() {
		st := stats[c.CPU]
		if !always && c.Lost == 0 && c.LostUnknown == 0 && st.Overrun == 0 && st.CommitOverrun == 0 && st.DroppedEvents == 0 {
			continue
		}
		any = true
		fmt.Fprintf(&b, "  cpu%d: %d events read, %d lost in pages", c.CPU, c.Events, c.Lost)
		if c.LostUnknown > 0 {
			fmt.Fprintf(&b, " (+%d losses of unknown size)", c.LostUnknown)
		}
		fmt.Fprintf(&b, ", kernel overrun %d, dropped %d", st.Overrun, st.DroppedEvents)
		if st.CommitOverrun > 0 {
			fmt.Fprintf(&b, ", commit overrun %d", st.CommitOverrun)
		}
		b.WriteString("\n")
	}
	switch {
	case any && always:
		fmt.Fprintf(w, "tracer: per-CPU counts:\n%s", b.String())
	case any:
		fmt.Fprintf(w, "tracer: events were lost (a larger --buffer-size or a narrower --filter helps):\n%s", b.String())
	}
	if off := s.OfflineCPUs(); len(off) > 0 {
		fmt.Fprintf(w, "tracer: cpus offline, not traced: %v\n", off)
	}
}

// childProc is a command started held: it waits on a pipe before exec, so
// that its pid can be put in set_event_pid before it runs a single
// instruction of the traced program.
type childProc struct {
	cmd  *exec.Cmd
	gate *os.File
	err  error
}

// ExecHeldArg is the hidden first argument with which tracer re-executes
// itself as the held child (see startHeld and ExecHeld).
const ExecHeldArg = "__tracer_exec_held"

func startHeld(command []string, stderr io.Writer) (*childProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("starting %s: finding tracer's own executable: %w", command[0], err)
	}
	path, err := exec.LookPath(command[0])
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", command[0], err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", command[0], err)
	}
	cmd := exec.Command(self, append([]string{ExecHeldArg, path}, command...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, stderr
	cmd.ExtraFiles = []*os.File{r} // fd 3 in the child
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("starting %s: %w", command[0], err)
	}
	r.Close()
	return &childProc{cmd: cmd, gate: w}, nil
}

func (p *childProc) pid() int { return p.cmd.Process.Pid }

// release lets the held child exec the command.
func (p *childProc) release() error {
	_, err := p.gate.Write([]byte{1})
	p.gate.Close()
	if err != nil {
		return fmt.Errorf("starting %s: %w", p.cmd.Args[2], err)
	}
	return nil
}

func (p *childProc) wait() { p.err = p.cmd.Wait() }

func (p *childProc) kill() {
	p.gate.Close() // a held child that reads EOF exits without exec
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
}

func (p *childProc) exitCode() int {
	if p.cmd.ProcessState == nil {
		return 0
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return p.cmd.ProcessState.ExitCode()
}

// init pins the held child's main goroutine to the main thread, the
// thread-group leader, before anything else runs. If another thread
// called execve, the kernel would hand it the leader's pid in de_thread,
// but its set_event_pid verdict, taken when it was scheduled under its own
// tid, would stand until its next context switch: the command's first
// events (its exec, and all of a short command) would go untraced.
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		runtime.LockOSThread()
	}
}

// ExecHeld is the held child's side: wait for the go-ahead byte on fd 3,
// then replace this process with the command. Called from main before the
// CLI is parsed. It does not return on success.
func ExecHeld(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "tracer: internal exec: missing command")
		return 127
	}
	gate := os.NewFile(3, "gate")
	var b [1]byte
	if n, _ := gate.Read(b[:]); n != 1 {
		return 127 // tracer gave up before starting the command
	}
	gate.Close()
	err := syscall.Exec(args[0], args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "tracer: exec %s: %v\n", args[1], err)
	return 127
}

// recordToFile is record -o: the file is written as the recording goes
// (tracedat.StreamWriter): the metadata first, then each CPU's pages from
// trace_pipe_raw spliced straight into chunks of the file (no decoding),
// and at the end the final options that make it a finished v7 trace.dat
// that trace-cmd reads. A recording cut short (kill -9, full disk) leaves a
// file whose complete pages tracer report still reads.
func recordToFile(c *cli.Context, s *tracefs.Session, child *childProc, sigs chan os.Signal) (err error) {
	name := c.String("output")
	errw := c.App.ErrWriter
	of, err := createOut(name, c.Bool("force"))
	if err != nil {
		return err
	}
	out := of.f
	// Closes the file; before publish, the user's name was never touched
	// and the unnamed file goes away. After it, pages may be in the file:
	// it stays whatever happens.
	defer of.discard()

	type cpuRec struct {
		r    *tracefs.RawRecorder
		done chan error
	}
	var recs []*cpuRec
	var sw *tracedat.StreamWriter
	closed := false
	closeAll := func() { // before the instance can be removed
		if closed {
			return
		}
		closed = true
		for _, r := range recs {
			r.r.Close()
		}
	}
	defer closeAll()
	var offline []int
	fa := &fileAlloc{f: out}
	subbuf := 1
	start := time.Now()
	openErr := s.OpenRaw(func(inst *tracefs.Instance) (err error) {
		defer func() {
			if err != nil { // close before OpenRaw removes the instance
				closeAll()
				recs = nil
			}
		}()
		meta, err := s.RawMeta()
		if err != nil {
			return err
		}
		subbuf = meta.SubbufSize
		sw, err = tracedat.NewStreamWriter(out, traceDatMeta(meta), fa.alloc)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cpus, err := inst.FS().OnlineCPUs()
		if err != nil {
			return err
		}
		for _, cpu := range cpus {
			r, err := inst.NewRawRecorder(cpu, out)
			if errors.Is(err, tracefs.ErrCPUOffline) {
				offline = append(offline, cpu)
				continue
			}
			if err != nil {
				return err
			}
			r.SetSink(sw)
			recs = append(recs, &cpuRec{r: r, done: make(chan error, 1)})
		}
		if err := of.publish(); err != nil {
			return err
		}
		for _, cr := range recs {
			go func(cr *cpuRec) { cr.done <- cr.r.Run() }(cr)
		}
		return nil
	})
	if openErr != nil {
		for _, r := range recs {
			r.r.Stop()
			<-r.done
		}
		if child != nil {
			child.kill()
		}
		return openErr
	}
	defer func() {
		closeAll()
		s.Close()
	}()

	stop := make(chan string, 4) // at most one send per reason in stopOn
	_, cancel, err := stopOn(c, sigs, child, func(reason string) { stop <- reason })
	defer cancel()
	if err != nil {
		return err
	}
	inst := s.Instance()
	lost := func() uint64 {
		var n uint64
		for _, r := range recs {
			if st, err := inst.Stats(r.r.CPU()); err == nil {
				n += aggregate.CPULoss{Overrun: st.Overrun, CommitOverrun: st.CommitOverrun, Dropped: st.DroppedEvents}.Events()
			}
		}
		return n
	}
	written := func() int64 { return sw.Bytes() }
	tty := isTerminal(errw)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var recErr error
	doneAny := make(chan error, len(recs))
	for _, r := range recs {
		go func(r *cpuRec) { e := <-r.done; r.done <- e; doneAny <- e }(r)
	}
wait:
	for {
		select {
		case <-stop:
			break wait
		case e := <-doneAny: // a recorder failed early (disk full...)
			if e != nil {
				recErr = e
				break wait
			}
		case <-tick.C:
			s.RefreshSelfExclusion()
			if tty {
				fmt.Fprintf(errw, "\rtracer: recording %s  %s  lost %d ", time.Since(start).Round(time.Second), humanBytes(written()), lost())
			}
		}
	}
	s.Stop() // tracing off: the drain below ends
	for _, r := range recs {
		r.r.Stop()
	}
	for _, r := range recs {
		if e := <-r.done; e != nil && recErr == nil {
			recErr = e
		}
	}
	if tty {
		fmt.Fprint(errw, "\r\033[K")
	}
	var stats []string
	for _, r := range recs {
		if txt, err := inst.StatsText(r.r.CPU()); err == nil {
			stats = append(stats, fmt.Sprintf("CPU: %d\n%s", r.r.CPU(), txt))
		}
	}
	var cmdlines []byte
	if m, err := s.RawMeta(); err == nil {
		cmdlines = m.Cmdlines
	}
	nLost := lost()
	closeAll()
	if err := s.Close(); err != nil {
		fmt.Fprintf(errw, "tracer: cleanup: %v (run tracer reset)\n", err)
	}
	for _, h := range sw.Holes() { // give unused chunk tails back
		fa.punch(h[0], h[1])
	}
	finErr := sw.Finish(cmdlines, stats)
	if finErr == nil && sw.Scattered() {
		if err := compactFile(sw, out, name); err != nil {
			fmt.Fprintf(errw, "tracer: %s is complete for tracer report, but could not be rewritten in the layout trace-cmd reads: %v\n", name, err)
		}
	}
	if finErr == nil {
		finErr = out.Close()
	}
	pages := written() / int64(subbuf)
	if finErr != nil {
		finErr = fmt.Errorf("finishing %s: %w", name, finErr)
		if recErr == nil {
			recErr = finErr
		} else {
			fmt.Fprintf(errw, "tracer: %v\n", finErr)
		}
	} else if recErr == nil {
		fmt.Fprintf(errw, "tracer: wrote %s: %d pages (%s) from %d CPUs in %s, %d events lost\n",
			name, pages, humanBytes(written()), len(recs), time.Since(start).Round(time.Millisecond), nLost)
	}
	if len(offline) > 0 {
		fmt.Fprintf(errw, "tracer: cpus offline, not traced: %v\n", offline)
	}
	if recErr != nil {
		what := "recording stopped early"
		if errors.Is(recErr, syscall.ENOSPC) {
			what = "disk full (no space left on the device of " + name + ")"
		}
		state := "finished"
		if finErr != nil {
			state = "not finished; tracer report still reads it"
		}
		return fmt.Errorf("%s: %w; the %d complete pages (%s) recorded before it are in %s (%s)", what, recErr, pages, humanBytes(written()), name, state)
	}
	if child != nil {
		if code := child.exitCode(); code != 0 {
			return &exitError{code: code}
		}
	}
	return nil
}

// outFile is the trace.dat of record -o until recording starts: an
// unnamed file in the target's directory (O_TMPFILE) or, where the
// filesystem has none, a hidden temporary there. publish gives it the
// user's name once the session is set up, so a setup that fails (a bad
// clock, filter, pid or buffer size) leaves whatever was at that name
// untouched, and a kill before then leaves nothing behind.
type outFile struct {
	f         *os.File
	name      string
	tmp       string // the hidden temporary's path; "" while unnamed
	force     bool
	published bool
}

// createOut checks the target and creates the file that will become it.
func createOut(name string, force bool) (*outFile, error) {
	if err := checkTarget(name, force); err != nil {
		return nil, err
	}
	dir := filepath.Dir(name)
	if fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600); err == nil {
		return &outFile{f: os.NewFile(uintptr(fd), name), name: name, force: force}, nil
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tracer-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	return &outFile{f: f, name: name, tmp: f.Name(), force: force}, nil
}

// checkTarget refuses a name that exists without --force, and with it
// anything but a regular file: never through a symlink, never in place of
// a FIFO, device or directory.
func checkTarget(name string, force bool) error {
	fi, err := os.Lstat(name)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("checking %s: %w", name, err)
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: refusing to write through it", name)
	case !force:
		return fmt.Errorf("%s exists: choose another name or add --force", name)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): refusing to replace it", name, fileKind(fi.Mode()))
	}
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// publish gives the file its name: atomically, and without --force never
// over a file that appeared meanwhile.
func (o *outFile) publish() error {
	if err := checkTarget(o.name, o.force); err != nil {
		return err
	}
	if o.tmp == "" && !o.force { // link the unnamed file, failing if name exists
		err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(o.f.Fd())), unix.AT_FDCWD, o.name, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.ENOENT) { // no /proc: root can link by descriptor
			err = unix.Linkat(int(o.f.Fd()), "", unix.AT_FDCWD, o.name, unix.AT_EMPTY_PATH)
		}
		return o.named(err)
	}
	if o.tmp == "" { // --force: a hidden name first, then rename over
		tmp := filepath.Join(filepath.Dir(o.name), fmt.Sprintf(".%s.tracer-%d-%x", filepath.Base(o.name), os.Getpid(), time.Now().UnixNano()))
		err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(o.f.Fd())), unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.ENOENT) {
			err = unix.Linkat(int(o.f.Fd()), "", unix.AT_FDCWD, tmp, unix.AT_EMPTY_PATH)
		}
		if err != nil {
			return fmt.Errorf("creating %s: %w", o.name, err)
		}
		o.tmp = tmp
	}
	var err error
	if o.force {
		err = os.Rename(o.tmp, o.name)
	} else {
		err = unix.Renameat2(unix.AT_FDCWD, o.tmp, unix.AT_FDCWD, o.name, unix.RENAME_NOREPLACE)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) { // no RENAME_NOREPLACE here
			if err = os.Link(o.tmp, o.name); err == nil {
				os.Remove(o.tmp)
			}
		}
	}
	if err == nil {
		o.tmp = ""
	}
	return o.named(err)
}

func (o *outFile) named(err error) error {
	switch {
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%s exists: choose another name or add --force", o.name)
	case err != nil:
		return fmt.Errorf("creating %s: %w", o.name, err)
	}
	o.published = true
	return nil
}

// discard closes the file and, if it was never published, removes its
// temporary name (if it had one).
func (o *outFile) discard() {
	o.f.Close()
	if !o.published && o.tmp != "" {
		os.Remove(o.tmp)
	}
}

// traceDatMeta is the trace.dat metadata of a session's RawMeta.
func traceDatMeta(meta *tracefs.RawMeta) *tracedat.Meta {
	tm := &tracedat.Meta{
		BigEndian: meta.BigEndian, LongSize: strconv.IntSize / 8, PageSize: meta.SubbufSize,
		HeaderPage: meta.HeaderPage, HeaderEvent: meta.HeaderEvent,
		Kallsyms: meta.Kallsyms, Printk: meta.Printk, Cmdlines: meta.Cmdlines,
		TraceClock: meta.TraceClock, Uname: meta.Uname, Version: "tracer " + Version,
		CPUCount: meta.NumCPUs,
	}
	for _, sys := range meta.Systems {
		if sys == "ftrace" {
			tm.FtraceFormats = append(tm.FtraceFormats, meta.Formats[sys]...)
			continue
		}
		tm.Systems = append(tm.Systems, tracedat.System{Name: sys, Formats: meta.Formats[sys]})
	}
	return tm
}

// compactFile replaces name (out, finished) by a copy in which each CPU's
// pages are contiguous, as trace-cmd wants them. The copy is made next to
// it and renamed over it: until then, name stays a complete file.
func compactFile(sw *tracedat.StreamWriter, out *os.File, name string) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tracer-*")
	if err != nil {
		return err
	}
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err == nil {
		err = sw.Compact(out, tmp)
		if err == nil {
			err = tmp.Close()
		}
		if err == nil {
			err = os.Rename(tmp.Name(), name)
		}
		if err == nil {
			return nil
		}
	}
	os.Remove(tmp.Name())
	return err
}

// fileAlloc allocates file space ahead (fallocate), so that a full disk
// shows when a chunk is reserved, before any page of it is written.
type fileAlloc struct {
	f   *os.File
	off bool // fallocate not supported here
}

func (a *fileAlloc) alloc(off, n int64) error {
	if a.off {
		return nil
	}
	err := unix.Fallocate(int(a.f.Fd()), 0, off, n)
	if err == unix.EOPNOTSUPP || err == unix.ENOSYS {
		a.off = true
		return nil
	}
	return err
}

func (a *fileAlloc) punch(off, n int64) {
	if !a.off {
		unix.Fallocate(int(a.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
