package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var execsnoopCommand = &cli.Command{
	Name:      "execsnoop",
	Usage:     "every exec, with pid, ppid, return value and arguments (BCC's execsnoop, without BPF)",
	ArgsUsage: "[-- COMMAND ARGS...]",
	Description: `Built from sched:sched_process_exec (the file name) and
syscalls:sys_enter/exit_execve and execveat (the return value). argv is
copied by the kernel at the exec, the best way this kernel offers (see
tracer doctor): an eprobe on sys_enter_execve (5.15+), a kprobe on the
syscall's entry, or, where only uprobes exist, a uprobe at the dynamic
loader's entry point, which reads the new program's argv from its initial
stack (static binaries are not covered and fall back to /proc). PCOMM and
PPID are those of the moment of the exec, from the scheduler's own events.
Every row says where its argv came from (JSON: argv_from); the end summary
counts the rows that fell back to /proc.

   tracer execsnoop
   tracer execsnoop -x              # failed execs too
   tracer execsnoop -n bash -T
   tracer execsnoop --json -- make`,
	Flags: liveFlags(
		&cli.BoolFlag{Name: "fails", Aliases: []string{"x"}, Usage: "include failed execs"},
		&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "only commands whose name or arguments contain `NAME`"},
		&cli.StringFlag{Name: "line", Aliases: []string{"l"}, Usage: "only commands with an argument containing `TEXT`"},
		&cli.BoolFlag{Name: "print-uid", Aliases: []string{"U"}, Usage: "add a UID column"},
		&cli.BoolFlag{Name: "timestamp", Aliases: []string{"t"}, Usage: "add a TIME(s) column, seconds since the first event"},
		&cli.BoolFlag{Name: "time", Aliases: []string{"T"}, Usage: "add a TIME column (HH:MM:SS)"},
		&cli.BoolFlag{Name: "quote", Aliases: []string{"q"}, Usage: `put every argument in double quotes`},
		&cli.IntFlag{Name: "max-args", Usage: "at most `N` arguments per exec", Value: 20},
		&cli.StringFlag{Name: "fetch", Usage: "how argv is copied: `WAY` auto, eprobe, kprobe, uprobe or proc", Value: "auto"},
		&cli.IntFlag{Name: "max-pending", Usage: "at most `N` execs in flight", Value: 4096},
	),
	Action: runExecsnoop,
}

// execState is one exec in flight, from its enter to its row.
type execState struct {
	ts        uint64
	tid       int // the thread that called execve (argv is keyed by it)
	fnamePtr  uint64
	argvPtr   uint64
	filename  string // from sched_process_exec: what the kernel executed
	execd     bool   // sched_process_exec seen
	argv      []string
	truncated bool
	argvFrom  string // a tracefs.FetchWay name, or "" (unavailable)
	ppid, uid int
	comm      string
	ret       int64
	heldAt    uint64 // when the row started waiting for a late argv
}

type execJSON struct {
	TS       uint64   `json:"ts"`
	Time     float64  `json:"time_s"`
	PID      int      `json:"pid"`
	PPID     *int     `json:"ppid"`
	UID      *int     `json:"uid,omitempty"` // with -U: read from /proc, best effort
	Comm     string   `json:"comm"`
	Ret      int64    `json:"ret"`
	Err      string   `json:"err,omitempty"`
	Filename string   `json:"filename,omitempty"`
	Argv     []string `json:"argv"`
	// ArgvFrom says who copied argv: "kernel", "eprobe", "kprobe" or
	// "uprobe" (the kernel, at the exec), "proc" (/proc or the caller's
	// memory, after the fact: best effort), or null when nothing could be read.
	ArgvFrom  *string `json:"argv_from"`
	Truncated bool    `json:"truncated,omitempty"`
}

// execSnoop holds the command's state between records.
type execSnoop struct {
	c                            *cli.Context
	out                          *bufio.Writer
	fetch                        *tracefs.Fetch
	sess                         *tracefs.Session
	table                        *aggregate.Bounded[int32, *execState]
	held                         map[int]*execState // pid → row waiting for its argv (uprobe way)
	jsonOut, fails, showUID      bool
	showTS, showTime, quote      bool
	name, line                   string
	first                        uint64
	headerDone                   bool
	rows, fromProc, none, static int
	unmatched                    int
	werr                         error
}

func runExecsnoop(c *cli.Context) error {
	_, command := splitArgs(c)
	way, err := tracefs.ParseFetchWay(c.String("fetch"))
	if err != nil || way == tracefs.FetchKernel {
		return &exitError{code: 2, err: fmt.Errorf("--fetch %s: want auto, eprobe, kprobe, uprobe or proc", c.String("fetch"))}
	}
	x := &execSnoop{
		c: c, out: bufio.NewWriterSize(c.App.Writer, 64<<10),
		table:   aggregate.NewBounded[int32, *execState](c.Int("max-pending")),
		held:    map[int]*execState{},
		jsonOut: c.Bool("json"), fails: c.Bool("fails"), showUID: c.Bool("print-uid"),
		showTS: c.Bool("timestamp"), showTime: c.Bool("time"), quote: c.Bool("quote"),
		name: c.String("name"), line: c.String("line"),
	}
	fixed := map[string]string{"sched:sched_process_exec": "", "sched:sched_process_exit": ""}
	exitFilter := "ret == 0"
	if x.fails {
		exitFilter = ""
	}
	for _, sc := range []string{"execve", "execveat"} {
		fixed["syscalls:sys_enter_"+sc] = ""
		fixed["syscalls:sys_exit_"+sc] = exitFilter
	}
	var enter, exitS map[*parse.Schema]bool
	var execS, exitP *parse.Schema
	var fnI, argvI, exFileI, exOldI, exitPidI int
	enterIdx := map[*parse.Schema][2]int{}
	retIdx := map[*parse.Schema]int{}
	spec := &liveSpec{
		fixed: fixed, childArgs: command,
		flush: 10 * time.Millisecond,
		prepare: func(s *tracefs.Session) error {
			f, err := s.AddFetch(tracefs.FetchExecArgv, tracefs.FetchConfig{Way: way, MaxArgs: c.Int("max-args")})
			if err != nil {
				return err
			}
			x.fetch, x.sess = f, s
			f.OnArgv = x.argvArrived
			return nil
		},
		open: func(s *tracefs.Session) error {
			dec := s.Decoder()
			enter, exitS = map[*parse.Schema]bool{}, map[*parse.Schema]bool{}
			for _, sc := range []string{"execve", "execveat"} {
				if e := dec.SchemaByName("syscalls:sys_enter_" + sc); e != nil {
					enter[e] = true
					fnI, argvI = e.FieldIndex("filename"), e.FieldIndex("argv")
					enterIdx[e] = [2]int{fnI, argvI}
				}
				if e := dec.SchemaByName("syscalls:sys_exit_" + sc); e != nil {
					exitS[e] = true
					retIdx[e] = e.FieldIndex("ret")
				}
			}
			execS = dec.SchemaByName("sched:sched_process_exec")
			exFileI, exOldI = execS.FieldIndex("filename"), execS.FieldIndex("old_pid")
			exitP = dec.SchemaByName("sched:sched_process_exit")
			exitPidI = exitP.FieldIndex("pid")
			if !x.jsonOut && x.fetch.Way == tracefs.FetchProc {
				fmt.Fprintln(c.App.ErrWriter, "tracer: this kernel offers no way to copy argv at the exec (see tracer doctor): argv is read from /proc afterwards, best effort")
			}
			return nil
		},
		record: func(r *parse.Record) error {
			pid := r.PID()
			switch {
			case enter[r.Schema]:
				ix := enterIdx[r.Schema]
				x.table.Put(int32(pid), &execState{ts: r.TS, tid: pid, fnamePtr: r.Uint(ix[0]), argvPtr: r.Uint(ix[1]), ppid: -1, uid: -1})
			case r.Schema == execS:
				old := int(r.Int(exOldI))
				st, ok := x.table.Take(int32(old))
				if !ok {
					st = &execState{ts: r.TS, tid: old, ppid: -1, uid: -1}
				}
				st.filename, st.execd = string(r.Str(exFileI)), true
				x.context(st, pid)
				x.table.Put(int32(pid), st)
			case exitS[r.Schema]:
				ret := r.Int(retIdx[r.Schema])
				st, ok := x.table.Take(int32(pid))
				if !ok {
					x.unmatched++
					st = &execState{ts: r.TS, tid: pid, ppid: -1, uid: -1}
				}
				st.ret = ret
				x.finish(st, pid)
			case r.Schema == exitP:
				// A program that exits before its loader ran (killed, or a
				// loader tracer did not probe) gets its row now.
				if st, ok := x.held[int(r.Int(exitPidI))]; ok {
					delete(x.held, int(r.Int(exitPidI)))
					x.emit(st, int(r.Int(exitPidI)))
				}
			}
			if len(x.held) > 0 {
				x.expire(r.TS)
			}
			return x.werr
		},
		tick: func(_ *bufio.Writer, final bool) error {
			if !final {
				return nil
			}
			for pid, st := range x.held {
				delete(x.held, pid)
				x.emit(st, pid)
			}
			if x.werr != nil {
				return x.werr
			}
			x.summary()
			return nil
		},
	}
	return runLive(c, spec, x.out)
}

// context fills in comm and ppid as they are at the exec, from the
// session's process context.
func (x *execSnoop) context(st *execState, pid int) {
	tasks := x.sess.Tasks()
	if tasks != nil {
		if cm, ok := tasks.Comm(pid); ok {
			st.comm = cm
		}
		if pp, ok := tasks.PPID(pid); ok {
			st.ppid = pp
		}
	}
	if st.comm == "" {
		st.comm = path.Base(st.filename)
		if len(st.comm) > 15 {
			st.comm = st.comm[:15]
		}
	}
}

// finish completes an exec at its sys_exit: the argv copied at the enter
// is taken now; a late one (uprobe way) is waited for.
func (x *execSnoop) finish(st *execState, pid int) {
	f := x.fetch
	if st.ret < 0 {
		if st.comm == "" {
			x.context(st, pid)
		}
		if argv, trunc, ok := f.ArgvAt(st.tid, st.ts, st.argvPtr); ok {
			st.argv, st.truncated, st.argvFrom = argv, trunc, f.Way.String()
		} else if argv, ok := tracefs.ReadUserArgv(pid, st.argvPtr); ok && len(argv) > 0 {
			// The caller is still there, and its argv with it.
			st.argv, st.argvFrom = argv, "proc"
		}
		if st.filename == "" {
			st.filename, _ = tracefs.ReadUserString(pid, st.fnamePtr, 4096)
		}
		if !x.fails {
			return
		}
		x.emit(st, pid)
		return
	}
	if !st.execd {
		x.context(st, pid)
	}
	if argv, trunc, ok := f.ArgvAt(st.tid, st.ts, st.argvPtr); ok {
		// Copied at the call (eprobe, kprobe, or the caller's libc).
		st.argv, st.truncated, st.argvFrom = argv, trunc, f.Way.String()
		x.emit(st, pid)
		return
	}
	if f.ArgvLater(st.filename) {
		st.heldAt = st.ts
		x.held[pid] = st
		return
	}
	if f.Way == tracefs.FetchUprobe {
		x.static++
	}
	x.emit(st, pid)
}

// argvArrived is the fetch telling that argv for pid came (uprobe way).
func (x *execSnoop) argvArrived(pid int) {
	st, ok := x.held[pid]
	if !ok {
		x.fetch.LoaderArgv(pid, 0) // a program whose exec had its argv already
		return
	}
	delete(x.held, pid)
	if argv, trunc, ok := x.fetch.LoaderArgv(pid, st.ts); ok {
		st.argv, st.truncated, st.argvFrom = argv, trunc, x.fetch.Way.String()
	}
	x.emit(st, pid)
}

// expire gives up waiting for late argv after a second of trace time.
func (x *execSnoop) expire(now uint64) {
	for pid, st := range x.held {
		if now > st.heldAt+uint64(time.Second) {
			delete(x.held, pid)
			x.emit(st, pid)
		}
	}
}

// emit prints a row, falling back to /proc for an argv the kernel did not copy.
func (x *execSnoop) emit(st *execState, pid int) {
	if x.werr != nil {
		return
	}
	if st.argvFrom == "" && st.ret >= 0 {
		if argv, ok := tracefs.ReadCmdline(pid); ok && sameExec(pid, st.filename, argv) {
			st.argv, st.argvFrom = argv, "proc"
		}
	}
	if x.showUID {
		st.uid = tracefs.ReadUID(pid)
	}
	if x.name != "" && !strings.Contains(st.comm, x.name) && !strings.Contains(strings.Join(st.argv, " "), x.name) {
		return
	}
	if x.line != "" && !strings.Contains(strings.Join(st.argv, " "), x.line) {
		return
	}
	x.rows++
	switch st.argvFrom {
	case "proc":
		x.fromProc++
	case "":
		x.none++
	}
	if x.first == 0 {
		x.first = st.ts
	}
	x.werr = x.write(st, pid)
}

func (x *execSnoop) write(st *execState, pid int) error {
	out := x.out
	if x.jsonOut {
		j := execJSON{TS: st.ts, Time: float64(st.ts-x.first) / 1e9, PID: pid, Comm: st.comm, Ret: st.ret, Err: aggregate.ErrnoName(st.ret), Filename: st.filename, Argv: st.argv, Truncated: st.truncated}
		if st.ppid >= 0 {
			j.PPID = &st.ppid
		}
		if st.uid >= 0 {
			j.UID = &st.uid
		}
		if st.argvFrom != "" {
			j.ArgvFrom = &st.argvFrom
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		out.Write(b)
		return out.WriteByte('\n')
	}
	if !x.headerDone {
		x.headerDone = true
		if x.showTime {
			fmt.Fprintf(out, "%-9s", "TIME")
		}
		if x.showTS {
			fmt.Fprintf(out, "%-8s ", "TIME(s)")
		}
		if x.showUID {
			fmt.Fprintf(out, "%-6s ", "UID")
		}
		fmt.Fprintf(out, "%-16s %-7s %-7s %3s %s\n", "PCOMM", "PID", "PPID", "RET", "ARGS")
	}
	if x.showTime {
		fmt.Fprintf(out, "%-9s", time.Now().Format("15:04:05"))
	}
	if x.showTS {
		fmt.Fprintf(out, "%-8.3f ", float64(st.ts-x.first)/1e9)
	}
	if x.showUID {
		fmt.Fprintf(out, "%-6s ", optInt(st.uid))
	}
	var args string
	switch {
	case st.argvFrom == "" && st.filename != "":
		args = parse.EscapeText(st.filename) + " [argv unavailable]"
	case st.argvFrom == "":
		args = "[argv unavailable]"
	case x.quote:
		args = quoteAll(st.argv)
	default:
		args = quoteArgs(st.argv)
	}
	if st.truncated {
		args += " ..."
	}
	_, err := fmt.Fprintf(out, "%-16s %-7d %-7s %3d %s\n", parse.EscapeText(st.comm), pid, optInt(st.ppid), st.ret, args)
	return err
}

// summary says on stderr how many rows did not get argv from the kernel.
func (x *execSnoop) summary() {
	w := x.c.App.ErrWriter
	if x.fromProc == 0 && x.none == 0 && x.table.Evicted == 0 {
		return
	}
	msg := fmt.Sprintf("tracer: %d exec rows: argv copied by the kernel (%s) for %d, read from /proc afterwards for %d, unavailable for %d",
		x.rows, x.fetch.Way, x.rows-x.fromProc-x.none, x.fromProc, x.none)
	if x.static > 0 {
		msg += fmt.Sprintf(" (%d static binaries, which the loader's uprobe cannot see)", x.static)
	}
	if x.table.Evicted > 0 {
		msg += fmt.Sprintf("; %d in-flight execs evicted", x.table.Evicted)
	}
	fmt.Fprintln(w, msg)
}

func optInt(v int) string {
	if v < 0 {
		return "?"
	}
	return strconv.Itoa(v)
}

// quoteArgs joins argv for a terminal, quoting arguments that a shell
// would split or that hold control characters, so the line is unambiguous.
func quoteArgs(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") || strings.IndexFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			b.WriteString(strconv.Quote(a))
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// quoteAll is BCC's -q: every argument in double quotes.
func quoteAll(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}

// sameExec reports whether what /proc shows of pid is still the program
// the exec event named: the process may have exec'd again before tracer
// read /proc, and its argv would then belong to the later program. The
// executable must be the file itself, or (for #! scripts) the file must be
// among the first arguments of the interpreter.
func sameExec(pid int, filename string, argv []string) bool {
	p := "/proc/" + strconv.Itoa(pid)
	exe, err1 := os.Stat(p + "/exe")
	name := filename
	if !filepath.IsAbs(name) {
		name = filepath.Join(p+"/cwd", name)
	}
	file, err2 := os.Stat(name)
	if err1 == nil && err2 == nil && os.SameFile(exe, file) {
		return true
	}
	for i := 1; i < len(argv) && i < 4; i++ {
		if argv[i] == filename {
			return true
		}
	}
	return false
}
