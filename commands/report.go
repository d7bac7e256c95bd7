package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/parse/tracedat"
)

var reportCommand = &cli.Command{
	Name:  "report",
	Usage: "print a trace.dat (from tracer record -o or trace-cmd) as the kernel's text or JSON lines",
	Description: `Reads trace.dat versions 6 and 7 (zstd and zlib compressed too), from any
machine (32/64-bit, either byte order), with several CPUs and buffers.

   tracer report -i trace.dat
   tracer report --events 'sched:*' --filter 'prev_pid > 0' --cpu 1
   tracer report --from 2671.78 --to 2672 --json`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "trace.dat `FILE` to read", Value: "trace.dat"},
		&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print one JSON object per event"},
		&cli.IntSliceFlag{Name: "cpu", Usage: "only events of `CPU` (repeatable)"},
		&cli.StringSliceFlag{Name: "events", Aliases: []string{"e"}, Usage: "only events matching `PATTERN` (system:event or event, globs; repeatable)"},
		&cli.StringFlag{Name: "filter", Aliases: []string{"F"}, Usage: "only events matching `EXPR` (kernel filter syntax, on decoded fields)"},
		&cli.StringFlag{Name: "from", Usage: "only events at or after `T` (seconds, as printed)"},
		&cli.StringFlag{Name: "to", Usage: "only events at or before `T` (seconds, as printed)"},
		&cli.BoolFlag{Name: "header", Usage: "print the kernel's '# tracer: nop' header first (for systrace importers such as Perfetto)"},
	},
	Action: runReport,
}

// parseTime turns "123.456789" (seconds, as printed) into clock units; for
// counter clocks the value is taken as is.
func parseTime(s string, nsClock bool) (uint64, error) {
	if !nsClock {
		return strconv.ParseUint(s, 10, 64)
	}
	sec, frac, _ := strings.Cut(s, ".")
	v, err := strconv.ParseUint(sec, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad time %q: want seconds like 2671.785296", s)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	ns := uint64(0)
	if frac != "" {
		n, err := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad time %q: want seconds like 2671.785296", s)
		}
		ns = n
	}
	return v*1e9 + ns, nil
}

func runReport(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("report takes no arguments (got %q); the file is -i FILE", c.Args().First())}
	}
	name := c.String("input")
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 && st.Mode().IsRegular() {
		// What a record -o killed before its header leaves: nothing was
		// recorded, so nothing is lost; say so rather than call it damaged.
		fmt.Fprintf(c.App.ErrWriter, "tracer: %s is empty: the recording stopped before it wrote anything; no events\n", name)
		return nil
	}
	file, err := tracedat.Open(fh, st.Size())
	if err != nil {
		// Pages are found through the metadata: say that none can be shown.
		return fmt.Errorf("reading %s: %w (its metadata is damaged, so no event page can be located)", name, err)
	}
	var filter *parse.Filter
	if e := c.String("filter"); e != "" {
		if filter, err = parse.CompileFilter(e); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--filter: %w", err)}
		}
	}
	cpus := map[int]bool{}
	for _, n := range c.IntSlice("cpu") {
		cpus[n] = true
	}
	var pats []string
	for _, p := range c.StringSlice("events") {
		pats = append(pats, strings.Split(p, ",")...)
	}
	eps, err := parse.ParseEventPatterns(pats)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--events: %w", err)}
	}
	clock := file.Clock()
	var from, to uint64 = 0, ^uint64(0)
	if s := c.String("from"); s != "" {
		if from, err = parseTime(s, parse.NanosecondClock(clock)); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--from: %w", err)}
		}
	}
	if s := c.String("to"); s != "" {
		if to, err = parseTime(s, parse.NanosecondClock(clock)); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--to: %w", err)}
		}
	}
	if from > to {
		return &exitError{code: 2, err: fmt.Errorf("--from %s is after --to %s: no event can match", c.String("from"), c.String("to"))}
	}

	var bufs []*tracedat.Buffer
	for _, b := range file.Buffers {
		for _, cd := range b.CPUs {
			if cd.Size > 0 && !b.Latency {
				bufs = append(bufs, b)
				break
			}
		}
	}
	match := eventMatcher(eps)
	if err := checkSelection(file, bufs, name, cpus, pats, match, filter); err != nil {
		return err
	}
	out := bufio.NewWriterSize(c.App.Writer, 256<<10)
	defer out.Flush()
	jsonOut := c.Bool("json")
	var firstErr error
	var printed uint64
	for _, b := range bufs {
		dec, err := file.Decoder(b)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if c.Bool("header") && !jsonOut {
			n, _ := countEvents(file, dec, b, cpus, match, filter, from, to)
			writeTraceHeader(out, n, len(b.CPUs))
		}
		if len(bufs) > 1 && !jsonOut {
			fmt.Fprintf(out, "# buffer: %s\n", displayName(b.Name))
		}
		m := mergeStreams(file, dec, b)
		var rec parse.Record
		line := make([]byte, 0, 4096)
		for {
			ok, err := m.Next(&rec)
			if err != nil {
				// A damaged page: say where, carry on with the next one.
				if firstErr == nil {
					firstErr = err
				}
				out.Flush()
				fmt.Fprintf(c.App.ErrWriter, "tracer: %s: %v\n", name, err)
				if errors.Is(err, parse.ErrCorrupt) || errors.Is(err, parse.ErrTruncated) {
					continue
				}
				break
			}
			if !ok {
				break
			}
			if !keep(&rec, cpus, match, filter, from, to) {
				continue
			}
			if jsonOut {
				line = dec.AppendJSON(line[:0], &rec)
			} else {
				line = dec.AppendText(line[:0], &rec)
			}
			if _, err := out.Write(line); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
			printed++
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	for _, n := range file.Notes {
		fmt.Fprintf(c.App.ErrWriter, "tracer: note: %s\n", n)
	}
	if file.Unfinished {
		if pid, comm := writerOf(st); pid > 0 {
			fmt.Fprintf(c.App.ErrWriter, "tracer: note: %s is open for writing by pid %d (%s): its recording is still going on, so this is what it holds so far\n", name, pid, parse.EscapeText(comm))
		}
	}
	if firstErr != nil {
		return fmt.Errorf("%s is damaged; the events before the damage were printed (%d)", name, printed)
	}
	return nil
}

// checkSelection refuses, as live record does, a selection that names
// what the file does not have: a CPU it did not record, an event pattern
// no event of it matches, a filter field no selected event has. (Events
// without a filter's field just do not match, as the README's
// "report --filter 'prev_pid == 1'" of a 'sched:*' recording wants.)
func checkSelection(file *tracedat.File, bufs []*tracedat.Buffer, name string, cpus map[int]bool, pats []string, match func(*parse.Schema) bool, filter *parse.Filter) error {
	have := map[int]bool{}
	maxCPU := file.CPUCount - 1
	var schemas []*parse.Schema
	for _, b := range bufs {
		for _, cd := range b.CPUs {
			have[cd.CPU] = true
			maxCPU = max(maxCPU, cd.CPU)
		}
		dec, err := file.Decoder(b)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		schemas = append(schemas, dec.Schemas()...)
	}
	for cpu := range cpus {
		if cpu < 0 || cpu > maxCPU {
			return &exitError{code: 2, err: fmt.Errorf("--cpu %d: %s has CPUs 0 to %d", cpu, name, maxCPU)}
		}
	}
	for _, p := range pats {
		ep, err := parse.ParseEventPatterns([]string{p})
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--events: %w", err)}
		}
		one := eventMatcher(ep)
		found := false
		for _, sc := range schemas {
			if one(sc) {
				found = true
				break
			}
		}
		if !found {
			return &exitError{code: 2, err: fmt.Errorf("--events %q: no event of %s matches (tracer report --json lists what it has)", p, name)}
		}
	}
	if filter == nil {
		return nil
	}
	for _, f := range filter.Fields() {
		found := false
		for _, sc := range schemas {
			if (match == nil || match(sc)) && parse.HasField(sc, f) {
				found = true
				break
			}
		}
		if !found {
			what := "no event of " + name
			if match != nil {
				what = "no event selected by --events"
			}
			return &exitError{code: 2, err: fmt.Errorf("--filter: %s has a field %q", what, f)}
		}
	}
	return nil
}

// writerOf returns a process that has the file of st open for writing
// (a record -o still going on), or 0. It looks at every process's open
// files, which only an unfinished file is worth.
func writerOf(st os.FileInfo) (int, string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := "/proc/" + p.Name()
		fds, _ := os.ReadDir(dir + "/fd")
		for _, fd := range fds {
			fi, err := os.Stat(dir + "/fd/" + fd.Name())
			if err != nil || !os.SameFile(fi, st) {
				continue
			}
			info, _ := os.ReadFile(dir + "/fdinfo/" + fd.Name())
			if flags, ok := fdFlags(info); ok && flags&syscall.O_ACCMODE != syscall.O_RDONLY {
				comm, _ := os.ReadFile(dir + "/comm")
				return pid, strings.TrimSuffix(string(comm), "\n")
			}
		}
	}
	return 0, ""
}

// fdFlags reads the octal "flags:" line of a /proc/PID/fdinfo file.
func fdFlags(info []byte) (int, bool) {
	for _, l := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(l, "flags:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			return int(n), err == nil
		}
	}
	return 0, false
}

func displayName(n string) string {
	if n == "" {
		return "(top)"
	}
	return n
}

func mergeStreams(file *tracedat.File, dec *parse.Decoder, b *tracedat.Buffer) *parse.Merger {
	streams := file.Streams(dec, b)
	srcs := make([]parse.RecordSource, len(streams))
	for i, s := range streams {
		srcs[i] = s
	}
	return parse.NewMerger(srcs...)
}

// eventMatcher matches event patterns (parse.EventPattern, the meaning
// record and list give them) against a schema, caching the answer per
// schema.
func eventMatcher(eps parse.EventPatterns) func(*parse.Schema) bool {
	if len(eps) == 0 {
		return nil
	}
	cache := map[*parse.Schema]bool{}
	return func(s *parse.Schema) bool {
		if s == nil {
			return false
		}
		if v, ok := cache[s]; ok {
			return v
		}
		v := eps.Match(s.System, s.Name)
		cache[s] = v
		return v
	}
}

func keep(rec *parse.Record, cpus map[int]bool, match func(*parse.Schema) bool, filter *parse.Filter, from, to uint64) bool {
	if rec.TS < from || rec.TS > to {
		return false
	}
	if len(cpus) > 0 && !cpus[rec.CPU] {
		return false
	}
	if rec.Kind != parse.ItemEvent {
		return true
	}
	if match != nil && !match(rec.Schema) {
		return false
	}
	return filter == nil || filter.Match(rec)
}

func countEvents(file *tracedat.File, dec *parse.Decoder, b *tracedat.Buffer, cpus map[int]bool, match func(*parse.Schema) bool, filter *parse.Filter, from, to uint64) (uint64, error) {
	m := mergeStreams(file, dec, b)
	var rec parse.Record
	var n uint64
	for {
		ok, err := m.Next(&rec)
		if err != nil {
			continue
		}
		if !ok {
			return n, nil
		}
		if rec.Kind == parse.ItemEvent && keep(&rec, cpus, match, filter, from, to) {
			n++
		}
	}
}

// writeTraceHeader prints the header of the kernel's trace file
// (print_trace_header / print_func_help_header_irq in trace.c).
func writeTraceHeader(w io.Writer, n uint64, ncpu int) {
	fmt.Fprintf(w, "# tracer: nop\n#\n# entries-in-buffer/entries-written: %d/%d   #P:%d\n#\n", n, n, ncpu)
	io.WriteString(w, `#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`)
}
