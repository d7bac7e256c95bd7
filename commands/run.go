package commands

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/script"
	"github.com/tracer-dev/tracer/script/plan"
	btrun "github.com/tracer-dev/tracer/script/run"
	"github.com/tracer-dev/tracer/tracefs"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "run a bpftrace program on ftrace (tracepoints, kprobes, uprobes)",
	ArgsUsage: "[FILE.bt] [ARGS...] [-- COMMAND...]",
	Description: `Runs bpftrace programs unchanged, without BPF: tracer run -e 'PROGRAM',
tracer run FILE.bt, or a script starting #!/usr/bin/env -S tracer run.
Output is bpftrace 0.17's, text or -f json. --plan prints what would be set
up (events, kernel filters, fetches) without tracing.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "e", Usage: "the program `PROGRAM`"},
		&cli.StringFlag{Name: "l", Usage: "list probes matching `PATTERN`, like bpftrace -l"},
		&cli.StringFlag{Name: "f", Usage: "output `FORMAT`: text or json", Value: "text"},
		&cli.BoolFlag{Name: "plan", Usage: "print the plan and exit"},
		&cli.StringFlag{Name: "c", Usage: "run `CMD` and trace it (and its children) until it exits"},
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (e.g. 10s)"},
		&cli.IntSliceFlag{Name: "pid", Aliases: []string{"p"}, Usage: "trace only `PID` (repeatable)"},
		&cli.BoolFlag{Name: "follow", Usage: "with -p, also trace children the pids fork"},
		bufferSizeFlag,
	},
	Action: runRun,
}

func runRun(c *cli.Context) error {
	if pat := c.String("l"); pat != "" {
		return listProbes(c, pat)
	}
	args, command := splitArgs(c)
	if cmd := c.String("c"); cmd != "" {
		if len(command) > 0 {
			return &exitError{code: 2, err: errors.New("use either -c CMD or -- CMD, not both")}
		}
		command = strings.Fields(cmd)
	}
	src := c.String("e")
	name := "-e"
	if src == "" {
		if len(args) == 0 {
			return &exitError{code: 2, err: errors.New("run needs a program: tracer run -e 'PROGRAM' or tracer run FILE.bt")}
		}
		name = args[0]
		b, err := os.ReadFile(name)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("reading the program: %w", err)}
		}
		src, args = string(b), args[1:]
	}
	var jsonOut bool
	switch c.String("f") {
	case "text":
	case "json":
		jsonOut = true
	default:
		return &exitError{code: 2, err: fmt.Errorf("-f %q: want text or json", c.String("f"))}
	}
	return runProgram(c, programRun{name: name, src: src, params: args, command: command, json: jsonOut})
}

// programRun is one program to run: tracer run's, or an embedded tool's.
type programRun struct {
	name, src string   // the program and its name in errors
	params    []string // $1...
	command   []string // traced until it exits (none: until the duration or a signal)
	json      bool
	// tool: an embedded tool, which prints its own columns in END
	// rather than bpftrace's dump of every map.
	tool bool
}

// runProgram runs the program src (named name in errors) with the
// positional parameters params, tracing command when one is given: the
// body of tracer run and of every embedded tool.
func runProgram(c *cli.Context, pr programRun) error {
	name, src, args, command, jsonOut := pr.name, pr.src, pr.params, pr.command, pr.json
	prog, info, err := script.Compile(src)
	if err != nil {
		return &exitError{code: 2, err: programError(name, src, err)}
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	p, err := plan.Build(prog, info, fsEnv{fs})
	if err != nil {
		return &exitError{code: 2, err: programError(name, src, err)}
	}
	if c.Bool("plan") {
		_, err := fmt.Fprint(c.App.Writer, p.String())
		return err
	}
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	var sess *tracefs.Session
	rt, err := btrun.New(p, btrun.Options{
		Out: out, Err: c.App.ErrWriter, JSON: jsonOut, Params: args, Tool: pr.tool,
		Comm: func(tid int) (string, bool) {
			if t := sess.Tasks(); t != nil {
				return t.Comm(tid)
			}
			return sess.Decoder().Comms.Lookup(tid)
		},
		PID: func(tid int) (int, bool) {
			if t := sess.Tasks(); t != nil {
				return t.TGID(tid)
			}
			return 0, false
		},
		PPID: func(tid int) (int, bool) {
			if t := sess.Tasks(); t != nil {
				return t.PPID(tid)
			}
			return 0, false
		},
	})
	if err != nil {
		return &exitError{code: 2, err: programError(name, src, err)}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(c.App.ErrWriter, "tracer: %s\n", n)
	}
	events := rt.Events()
	needPath, needArgv := false, false
	for _, ev := range events {
		for _, f := range ev.Fetches {
			needPath = needPath || f.Kind == plan.FetchOpenPath
			needArgv = needArgv || f.Kind == plan.FetchExecArgv
		}
	}
	var pathFetch, argvFetch *tracefs.Fetch
	spec := &liveSpec{
		childArgs: command, clock: "mono", flush: 50 * time.Millisecond,
		fixed: map[string]string{},
		prepare: func(s *tracefs.Session) error {
			sess = s
			// One AddTracepoint per planned event, in plan order, so the
			// probes Open creates come back in that order (bindProbes).
			for i, ev := range events {
				if err := s.AddTracepoint(ev.Spec, eventFilter(p, i)); err != nil {
					return fmt.Errorf("probe %s: %w", ev.Probe, err)
				}
			}
			var err error
			if needPath {
				if pathFetch, err = s.AddFetch(tracefs.FetchOpenPath, tracefs.FetchConfig{}); err != nil {
					return err
				}
			}
			if needArgv {
				if argvFetch, err = s.AddFetch(tracefs.FetchExecArgv, tracefs.FetchConfig{}); err != nil {
					return err
				}
			}
			return nil
		},
		open: func(s *tracefs.Session) error {
			if err := bindEvents(s, rt, events); err != nil {
				return err
			}
			var ps btrun.PathSource
			var as btrun.ArgvSource
			if pathFetch != nil {
				ps = pathFetch
			}
			if argvFetch != nil {
				as = argvFetch
			}
			rt.SetFetches(ps, as)
			for _, f := range []*tracefs.Fetch{pathFetch, argvFetch} {
				if f != nil && f.Way == tracefs.FetchProc {
					fmt.Fprintf(c.App.ErrWriter, "tracer: this kernel offers no way to copy the %s at the call (see tracer doctor): read from process memory afterwards, best effort\n", f.Job)
				}
			}
			if err := rt.Start(); err != nil {
				if errors.Is(err, btrun.ErrExit) {
					s.Stop()
					return nil
				}
				return err
			}
			return nil
		},
		record: func(r *parse.Record) error {
			if err := rt.Record(r); err != nil {
				if errors.Is(err, btrun.ErrExit) {
					return errLiveDone
				}
				return err
			}
			return nil
		},
		interval: rt.NextTick(),
		tick: func(_ *bufio.Writer, final bool) error {
			if final {
				return rt.Finish()
			}
			if err := rt.Tick(time.Now()); err != nil {
				if errors.Is(err, btrun.ErrExit) {
					return errLiveDone
				}
				return err
			}
			return nil
		},
	}
	if spec.interval == 0 {
		// tick(true) is where END runs and the maps are printed; runLive
		// calls tick only with an interval, so give it a slow one.
		spec.interval = time.Hour
	}
	return runLive(c, spec, out)
}

// eventFilter is the kernel filter of the i-th event of the runtime's list.
func eventFilter(p *plan.Plan, i int) string {
	n := 0
	for _, pp := range p.Probes {
		if pp.Kind == script.KindBegin || pp.Kind == script.KindEnd || pp.Kind == script.KindInterval {
			continue
		}
		if i < n+len(pp.Events) {
			return pp.Filter
		}
		n += len(pp.Events)
	}
	return ""
}

// bindEvents gives the runtime the schema of each planned event: by name
// for tracepoints, and for probes in the order they were added, which is
// the order the session created them in.
func bindEvents(s *tracefs.Session, rt *btrun.Runtime, events []*plan.Event) error {
	dec := s.Decoder()
	created := s.Probes()
	next := 0
	for _, ev := range events {
		if !tracefs.IsProbeSpec(ev.Spec) {
			sc := dec.SchemaByName(ev.Name)
			if sc == nil {
				return fmt.Errorf("event %s: no format after open", ev.Name)
			}
			rt.Bind(ev, sc)
			continue
		}
		if next >= len(created) {
			return fmt.Errorf("probe %s: not created", ev.Probe)
		}
		sc := dec.SchemaByName(created[next].String())
		next++
		if sc == nil {
			return fmt.Errorf("probe %s: no format after open", ev.Probe)
		}
		rt.Bind(ev, sc)
	}
	return nil
}

// programError renders a program's errors with the line and a caret.
func programError(name, src string, err error) error {
	var list script.ErrorList
	if errors.As(err, &list) {
		var b strings.Builder
		for i, e := range list {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%s:%s: %s\n%s", name, e.Pos, e.Msg, caretOnly(e, src))
		}
		return errors.New(b.String())
	}
	var se *script.Error
	if errors.As(err, &se) {
		return fmt.Errorf("%s:%s: %s\n%s", name, se.Pos, se.Msg, caretOnly(se, src))
	}
	return fmt.Errorf("%s: %w", name, err)
}

// caretOnly is the source line and the caret of an error, without its
// message (which programError has put first).
func caretOnly(e *script.Error, src string) string {
	lines := strings.SplitN(e.Caret(src), "\n", 3)
	if len(lines) < 2 {
		return ""
	}
	return lines[0] + "\n" + lines[1]
}

// fsEnv is the planner's view of this machine's tracefs.
type fsEnv struct{ fs *tracefs.FS }

func (e fsEnv) Events(pattern string) ([]string, error) {
	ids, err := e.fs.ResolveEvents([]string{pattern})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, id.String())
	}
	sort.Strings(out)
	return out, nil
}

func (e fsEnv) Fields(event string) ([]parse.Field, error) {
	sys, name, _ := strings.Cut(event, ":")
	b, err := e.fs.Format(sys, name)
	if err != nil {
		return nil, err
	}
	sc, err := parse.ParseFormat(sys, b, strconv.IntSize/8)
	if err != nil {
		return nil, err
	}
	return sc.Fields, nil
}

func (e fsEnv) Eprobes() bool { return e.fs.Features().Eprobes }

// listProbes prints the probes a pattern matches, as bpftrace -l does:
// tracepoints as tracepoint:SYSTEM:EVENT, kernel functions as kprobe:FUNC.
func listProbes(c *cli.Context, pat string) error {
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	prov, rest, ok := strings.Cut(pat, ":")
	if !ok {
		prov, rest = "", pat
	}
	var out []string
	switch prov {
	case "tracepoint", "t", "":
		tp := rest
		if !strings.Contains(tp, ":") {
			tp = "*:" + tp
		}
		ids, err := fs.ResolveEvents([]string{tp})
		if err != nil && prov != "" {
			return err
		}
		for _, id := range ids {
			out = append(out, "tracepoint:"+id.String())
		}
	case "kprobe", "k", "kretprobe", "kr":
		fns, err := fs.MatchKernelFunctions(rest)
		if err != nil {
			return err
		}
		full := map[string]string{"k": "kprobe", "kr": "kretprobe"}[prov]
		if full == "" {
			full = prov
		}
		for _, f := range fns {
			out = append(out, full+":"+f)
		}
	default:
		return &exitError{code: 2, err: fmt.Errorf("-l %q: tracer run lists tracepoint: and kprobe: probes (uprobe symbols: tracer list -u BINARY GLOB)", pat)}
	}
	sort.Strings(out)
	w := bufio.NewWriter(c.App.Writer)
	for _, l := range out {
		fmt.Fprintln(w, l)
	}
	return w.Flush()
}
