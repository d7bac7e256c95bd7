package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
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
	Description: `Built from sched:sched_process_exec (the file name, guaranteed) and
syscalls:sys_enter/exit_execve (the return value). Without kprobes the
kernel does not copy argv into the event, so it is read from
/proc/PID/cmdline at the exec (or, for a failed exec, from the caller's
memory): best effort. A process that exits before tracer reads it shows
its file name and [argv unavailable]. ppid and uid come from /proc too.

   tracer execsnoop
   tracer execsnoop -x          # failed execs only
   tracer execsnoop --json -- make`,
	Flags: liveFlags(
		&cli.BoolFlag{Name: "fails", Aliases: []string{"x"}, Usage: "only failed execs"},
		&cli.BoolFlag{Name: "print-uid", Aliases: []string{"U"}, Usage: "add a UID column"},
		&cli.BoolFlag{Name: "timestamp", Aliases: []string{"t"}, Usage: "add a TIME(s) column, seconds since the first event"},
		&cli.IntFlag{Name: "max-pending", Usage: "at most `N` execs in flight", Value: 4096},
	),
	Action: runExecsnoop,
}

// execState is one exec in flight, from its enter to its exit.
type execState struct {
	ts        uint64
	fnamePtr  uint64
	argvPtr   uint64
	filename  string // from sched_process_exec: what the kernel executed
	argv      []string
	argvFrom  string // "proc", "memory" or "" (unavailable)
	ppid, uid int
	comm      string
}

type execJSON struct {
	TS       uint64   `json:"ts"`
	Time     float64  `json:"time_s"`
	PID      int      `json:"pid"`
	PPID     *int     `json:"ppid"`
	UID      *int     `json:"uid"`
	Comm     string   `json:"comm"`
	Ret      int64    `json:"ret"`
	Err      string   `json:"err,omitempty"`
	Filename string   `json:"filename,omitempty"`
	Argv     []string `json:"argv"`
	// ArgvFrom says where argv came from: "proc" (/proc/PID/cmdline after
	// the exec), "memory" (the caller's argv array, for a failed exec) or
	// null when it could not be read.
	ArgvFrom *string `json:"argv_from"`
}

func runExecsnoop(c *cli.Context) error {
	_, command := splitArgs(c)
	jsonOut, failsOnly, showUID, showTS := c.Bool("json"), c.Bool("fails"), c.Bool("print-uid"), c.Bool("timestamp")
	table := aggregate.NewBounded[int32, *execState](c.Int("max-pending"))
	var enterS, exitS, execS *parse.Schema
	var fnI, argvI, retI, exFileI, exOldI int
	var first uint64
	var unavailable, unmatched int
	var comm func(int) string
	headerDone := false
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	spec := &liveSpec{
		fixed: map[string]string{
			"sched:sched_process_exec":  "",
			"syscalls:sys_enter_execve": "",
			"syscalls:sys_exit_execve":  "",
		},
		childArgs: command,
		flush:     10 * time.Millisecond, // read /proc while the process is likely still there
		open: func(s *tracefs.Session) error {
			dec := s.Decoder()
			enterS = dec.SchemaByName("syscalls:sys_enter_execve")
			exitS = dec.SchemaByName("syscalls:sys_exit_execve")
			execS = dec.SchemaByName("sched:sched_process_exec")
			fnI, argvI = enterS.FieldIndex("filename"), enterS.FieldIndex("argv")
			retI = exitS.FieldIndex("ret")
			exFileI, exOldI = execS.FieldIndex("filename"), execS.FieldIndex("old_pid")
			comm = commLookup(s)
			if !jsonOut {
				fmt.Fprintln(c.App.ErrWriter, "tracer: argv is read from /proc after exec (no kprobes used); it may be missing for short-lived processes, marked [argv unavailable]")
			}
			return nil
		},
		record: func(r *parse.Record) error {
			pid := r.PID()
			switch r.Schema {
			case enterS:
				table.Put(int32(pid), &execState{ts: r.TS, fnamePtr: r.Uint(fnI), argvPtr: r.Uint(argvI)})
			case execS:
				st, ok := table.Take(int32(r.Int(exOldI)))
				if !ok {
					st = &execState{ts: r.TS}
				}
				st.filename = string(r.Str(exFileI))
				if argv, ok := readCmdline(pid); ok && sameExec(pid, st.filename, argv) {
					st.argv, st.argvFrom = argv, "proc"
				}
				st.ppid, st.uid = readPPIDUID(pid)
				if name, ok := readComm(pid); ok {
					st.comm = name
				} else {
					st.comm = path.Base(st.filename)
					if len(st.comm) > 15 {
						st.comm = st.comm[:15]
					}
				}
				table.Put(int32(pid), st)
			case exitS:
				ret := r.Int(retI)
				st, ok := table.Take(int32(pid))
				if !ok {
					unmatched++
					if ret < 0 || st == nil {
						st = &execState{ts: r.TS}
					}
				}
				if failsOnly && ret >= 0 {
					return nil
				}
				if ret < 0 {
					// Failed: the caller's memory still holds what it passed.
					if argv, ok := readUserArgv(pid, st.argvPtr); ok && len(argv) > 0 {
						st.argv, st.argvFrom = argv, "memory"
					}
					if st.filename == "" {
						st.filename, _ = readUserString(pid, st.fnamePtr, 4096)
					}
					st.ppid, st.uid = readPPIDUID(pid)
					st.comm = comm(pid)
				} else if st.comm == "" {
					st.comm = comm(pid)
					st.ppid, st.uid = readPPIDUID(pid)
					if argv, ok := readCmdline(pid); ok {
						st.argv, st.argvFrom = argv, "proc"
					}
				}
				if first == 0 {
					first = st.ts
				}
				if st.argvFrom == "" {
					unavailable++
				}
				return writeExec(out, st, pid, ret, first, jsonOut, showUID, showTS, &headerDone)
			}
			return nil
		},
		tick: func(_ *bufio.Writer, final bool) error {
			if final && (unavailable > 0 || table.Evicted > 0) && !jsonOut {
				fmt.Fprintf(c.App.ErrWriter, "tracer: %d execs without readable argv, %d in-flight execs evicted, %d exits without an enter\n", unavailable, table.Evicted, unmatched)
			}
			return nil
		},
	}
	return runLive(c, spec, out)
}

func writeExec(out *bufio.Writer, st *execState, pid int, ret int64, first uint64, jsonOut, showUID, showTS bool, headerDone *bool) error {
	if jsonOut {
		j := execJSON{TS: st.ts, Time: float64(st.ts-first) / 1e9, PID: pid, Comm: st.comm, Ret: ret, Err: aggregate.ErrnoName(ret), Filename: st.filename, Argv: st.argv}
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
	if !*headerDone {
		*headerDone = true
		if showTS {
			fmt.Fprintf(out, "%-8s ", "TIME(s)")
		}
		if showUID {
			fmt.Fprintf(out, "%-6s ", "UID")
		}
		fmt.Fprintf(out, "%-16s %-7s %-7s %3s %s\n", "PCOMM", "PID", "PPID", "RET", "ARGS")
	}
	if showTS {
		fmt.Fprintf(out, "%-8.3f ", float64(st.ts-first)/1e9)
	}
	if showUID {
		fmt.Fprintf(out, "%-6s ", optInt(st.uid))
	}
	args := quoteArgs(st.argv)
	if st.argvFrom == "" {
		args = st.filename + " [argv unavailable]"
	}
	_, err := fmt.Fprintf(out, "%-16s %-7d %-7s %3d %s\n", st.comm, pid, optInt(st.ppid), ret, args)
	return err
}

func optInt(v int) string {
	if v < 0 {
		return "?"
	}
	return strconv.Itoa(v)
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
