package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var opensnoopCommand = &cli.Command{
	Name:      "opensnoop",
	Usage:     "every open with pid, comm, fd or error and path (BCC's opensnoop, without BPF)",
	ArgsUsage: "[-- COMMAND ARGS...]",
	Description: `Joins syscalls:sys_enter_* with sys_exit_* of open, openat, openat2 and
creat by thread, in a bounded table. The path is copied by the kernel at
the call, the best way this kernel offers (see tracer doctor): the
syscall event's own string (6.19+; tracer asks for the longest the kernel
copies, 165 bytes), an eprobe (5.15+), a kprobe on the
syscall's entry, or, where only uprobes exist, uprobes on libc's open
functions (matched to the syscall by the path's address; static binaries,
the dynamic loader's own opens and raw syscalls are not covered). An open
no probe saw falls back to reading the process's memory afterwards, best
effort: every row says where its path came from (JSON: path_from) and the
end summary counts the fallbacks. pid, comm, fd, error and flags come
from the kernel's own events.

   tracer opensnoop -x              # failed opens only
   tracer opensnoop -n bash -e      # with flags
   tracer opensnoop --json -- make`,
	Flags: liveFlags(
		&cli.BoolFlag{Name: "failed", Aliases: []string{"x"}, Usage: "only failed opens"},
		&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "only processes whose comm contains `NAME`"},
		&cli.BoolFlag{Name: "timestamp", Aliases: []string{"T", "t"}, Usage: "add a TIME(s) column, seconds since the first event"},
		&cli.BoolFlag{Name: "print-uid", Aliases: []string{"U"}, Usage: "add a UID column"},
		&cli.BoolFlag{Name: "extended", Aliases: []string{"e"}, Usage: "add a FLAGS column"},
		&cli.StringFlag{Name: "fetch", Usage: "how paths are copied: `WAY` auto, kernel, eprobe, kprobe, uprobe or proc", Value: "auto"},
		&cli.IntFlag{Name: "max-pending", Usage: "at most `N` opens in flight", Value: 16384},
	),
	Action: runOpensnoop,
}

// openState is an open between its enter and exit.
type openState struct {
	ts      uint64
	pathPtr uint64
	flags   uint64
	hasFlag bool
}

type openJSON struct {
	TS    uint64  `json:"ts"`
	Time  float64 `json:"time_s"`
	PID   int     `json:"pid"`
	TID   int     `json:"tid"`
	UID   *int    `json:"uid,omitempty"` // with -U: read from /proc, best effort
	Comm  string  `json:"comm"`
	Ret   int64   `json:"ret"`
	FD    *int64  `json:"fd"`
	Err   string  `json:"err,omitempty"`
	Flags string  `json:"flags"`
	Call  string  `json:"syscall"`
	// Path is null when it could not be read.
	Path *string `json:"path"`
	// PathFrom says who copied the path: "kernel", "eprobe", "kprobe",
	// "uprobe" (at the call), or "proc" (the process's memory, after the
	// fact: best effort); null with Path.
	PathFrom *string `json:"path_from"`
}

// openCall is what a traced open syscall gives: its events' field indexes.
type openCall struct {
	name       string
	path, flag int // in sys_enter_*; flag -1 for creat and openat2
	ret        int // in sys_exit_*
}

func runOpensnoop(c *cli.Context) error {
	_, command := splitArgs(c)
	way, err := tracefs.ParseFetchWay(c.String("fetch"))
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--fetch %s: want auto, kernel, eprobe, kprobe, uprobe or proc", c.String("fetch"))}
	}
	jsonOut, failed, showTS, showUID, ext, name := c.Bool("json"), c.Bool("failed"), c.Bool("timestamp"), c.Bool("print-uid"), c.Bool("extended"), c.String("name")
	table := aggregate.NewBounded[int32, openState](c.Int("max-pending"))
	exitFilter := ""
	if failed {
		exitFilter = "ret < 0" // the kernel drops successful exits; their enters expire in the table
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	fixed := map[string]string{}
	var calls []string
	for _, sc := range []string{"open", "openat", "openat2", "creat"} {
		if ids, err := fs.ResolveEvents([]string{"syscalls:sys_enter_" + sc}); err == nil && len(ids) == 1 {
			fixed["syscalls:sys_enter_"+sc] = ""
			fixed["syscalls:sys_exit_"+sc] = exitFilter
			calls = append(calls, sc)
		}
	}
	enters := map[*parse.Schema]*openCall{}
	exits := map[*parse.Schema]*openCall{}
	var fetch *tracefs.Fetch
	var sess *tracefs.Session
	var first uint64
	var rows, fromProc, none, unmatched int
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	headerDone := false
	spec := &liveSpec{
		fixed: fixed, childArgs: command,
		flush: 10 * time.Millisecond,
		prepare: func(s *tracefs.Session) error {
			f, err := s.AddFetch(tracefs.FetchOpenPath, tracefs.FetchConfig{Way: way})
			fetch, sess = f, s
			return err
		},
		open: func(s *tracefs.Session) error {
			dec := s.Decoder()
			for _, sc := range calls {
				en, ex := dec.SchemaByName("syscalls:sys_enter_"+sc), dec.SchemaByName("syscalls:sys_exit_"+sc)
				if en == nil || ex == nil {
					continue
				}
				oc := &openCall{name: sc, path: en.FieldIndex("filename"), flag: en.FieldIndex("flags"), ret: ex.FieldIndex("ret")}
				if oc.path < 0 {
					oc.path = en.FieldIndex("pathname")
				}
				enters[en], exits[ex] = oc, oc
			}
			if !jsonOut && fetch.Way == tracefs.FetchProc {
				fmt.Fprintln(c.App.ErrWriter, "tracer: this kernel offers no way to copy paths at the call (see tracer doctor): they are read from process memory afterwards, best effort")
			}
			return nil
		},
		record: func(r *parse.Record) error {
			tid := r.PID()
			if oc := enters[r.Schema]; oc != nil {
				st := openState{ts: r.TS, pathPtr: r.Uint(oc.path)}
				switch {
				case oc.flag >= 0:
					st.flags, st.hasFlag = r.Uint(oc.flag), true
				case oc.name == "creat":
					st.flags, st.hasFlag = 0o1101, true // O_WRONLY|O_CREAT|O_TRUNC
				}
				table.Put(int32(tid), st)
				return nil
			}
			oc := exits[r.Schema]
			if oc == nil {
				return nil
			}
			st, ok := table.Take(int32(tid))
			if !ok {
				unmatched++
				fetch.Path(tid, 0) // drop what was fetched for it
				return nil
			}
			ret := r.Int(oc.ret)
			p, pok := fetch.Path(tid, st.pathPtr)
			from := fetch.Way.String()
			if !pok {
				// No probe saw this call: the task is still in it's
				// aftermath; read its memory now, best effort.
				p, pok = tracefs.ReadUserString(tid, st.pathPtr, 4096)
				from = "proc"
			}
			if failed && ret >= 0 {
				return nil
			}
			cm := "<...>"
			pid := tid
			if tasks := sess.Tasks(); tasks != nil {
				if n, ok := tasks.Comm(tid); ok {
					cm = n
				}
				if g, ok := tasks.TGID(tid); ok {
					pid = g
				}
			} else if n, ok := sess.Decoder().Comms.Lookup(tid); ok {
				cm = n
			}
			if name != "" && !strings.Contains(cm, name) {
				return nil
			}
			rows++
			switch {
			case !pok:
				none++
			case from == "proc":
				fromProc++
			}
			if first == 0 {
				first = st.ts
			}
			flags := "?"
			if st.hasFlag {
				flags = aggregate.OpenFlags(st.flags)
			}
			uid := -1
			if showUID {
				uid = tracefs.ReadUID(pid)
			}
			if jsonOut {
				j := openJSON{TS: st.ts, Time: float64(st.ts-first) / 1e9, PID: pid, TID: tid, Comm: cm, Ret: ret, Err: aggregate.ErrnoName(ret), Flags: flags, Call: oc.name}
				if uid >= 0 {
					j.UID = &uid
				}
				if ret >= 0 {
					j.FD = &ret
				}
				if pok {
					j.Path, j.PathFrom = &p, &from
				}
				b, err := json.Marshal(j)
				if err != nil {
					return err
				}
				out.Write(b)
				return out.WriteByte('\n')
			}
			if !headerDone {
				headerDone = true
				if showTS {
					fmt.Fprintf(out, "%-14s ", "TIME(s)")
				}
				if showUID {
					fmt.Fprintf(out, "%-6s ", "UID")
				}
				fmt.Fprintf(out, "%-7s %-16s %4s %3s ", "PID", "COMM", "FD", "ERR")
				if ext {
					fmt.Fprintf(out, "%-24s ", "FLAGS")
				}
				fmt.Fprintln(out, "PATH")
			}
			if showTS {
				fmt.Fprintf(out, "%-14.9f ", float64(st.ts-first)/1e9)
			}
			if showUID {
				fmt.Fprintf(out, "%-6s ", optInt(uid))
			}
			fd, errNo := "-1", strconv.FormatInt(-ret, 10)
			if ret >= 0 {
				fd, errNo = strconv.FormatInt(ret, 10), "0"
			}
			fmt.Fprintf(out, "%-7d %-16s %4s %3s ", pid, parse.EscapeText(cm), fd, errNo)
			if ext {
				fmt.Fprintf(out, "%-24s ", flags)
			}
			if !pok {
				p = "[path unavailable]"
			} else {
				p = parse.EscapeText(p)
			}
			_, err := fmt.Fprintln(out, p)
			return err
		},
		tick: func(_ *bufio.Writer, final bool) error {
			if final && (fromProc > 0 || none > 0 || table.Evicted > 0) {
				fmt.Fprintf(c.App.ErrWriter, "tracer: %d open rows: path copied by the kernel (%s) for %d, read from memory afterwards for %d, unavailable for %d; %d in-flight opens evicted, %d exits without an enter\n",
					rows, fetch.Way, rows-fromProc-none, fromProc, none, table.Evicted, unmatched)
			}
			return nil
		},
	}
	return runLive(c, spec, out)
}
