package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var opensnoopCommand = &cli.Command{
	Name:      "opensnoop",
	Usage:     "every open with pid, comm, fd or error, flags and path (BCC's opensnoop, without BPF)",
	ArgsUsage: "[-- COMMAND ARGS...]",
	Description: `Joins syscalls:sys_enter_openat (flags, the path's address) with
sys_exit_openat (fd or error) by thread, in a bounded table. Before Linux
6.19 the tracepoint carries the path's address, not the path, and there are
no kprobes to fetch it: tracer reads it from the process's memory when it
decodes the event (process_vm_readv). That is best effort: a process that
exited or reused the buffer shows [path unavailable]. pid, comm, fd, error
and flags come from the kernel and are exact.

   tracer opensnoop --failed
   tracer opensnoop -n bash
   tracer opensnoop --json -- make`,
	Flags: liveFlags(
		&cli.BoolFlag{Name: "failed", Aliases: []string{"x"}, Usage: "only failed opens"},
		&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "only processes whose comm contains `NAME`"},
		&cli.BoolFlag{Name: "timestamp", Aliases: []string{"t"}, Usage: "add a TIME(s) column, seconds since the first event"},
		&cli.IntFlag{Name: "max-pending", Usage: "at most `N` opens in flight", Value: 16384},
	),
	Action: runOpensnoop,
}

// openState is an openat between its enter and exit.
type openState struct {
	ts      uint64
	pathPtr uint64
	flags   uint64
}

type openJSON struct {
	TS    uint64  `json:"ts"`
	Time  float64 `json:"time_s"`
	PID   int     `json:"pid"`
	Comm  string  `json:"comm"`
	Ret   int64   `json:"ret"`
	FD    *int64  `json:"fd"`
	Err   string  `json:"err,omitempty"`
	Flags string  `json:"flags"`
	// Path is null when it could not be read from the process's memory.
	Path *string `json:"path"`
}

func runOpensnoop(c *cli.Context) error {
	_, command := splitArgs(c)
	jsonOut, failed, showTS, name := c.Bool("json"), c.Bool("failed"), c.Bool("timestamp"), c.String("name")
	table := aggregate.NewBounded[int32, openState](c.Int("max-pending"))
	exitFilter := ""
	if failed {
		exitFilter = "ret < 0" // the kernel drops successful exits; their enters expire in the table
	}
	fixed := map[string]string{"syscalls:sys_enter_openat": "", "syscalls:sys_exit_openat": exitFilter}
	var enterS, exitS *parse.Schema
	var pathI, flagsI, retI int
	var first uint64
	var unavailable, unmatched int
	var comm func(int) string
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	headerDone := false
	spec := &liveSpec{
		fixed: fixed, childArgs: command,
		flush: 10 * time.Millisecond, // read paths while the process likely still runs
		open: func(s *tracefs.Session) error {
			dec := s.Decoder()
			enterS = dec.SchemaByName("syscalls:sys_enter_openat")
			exitS = dec.SchemaByName("syscalls:sys_exit_openat")
			pathI, flagsI, retI = enterS.FieldIndex("filename"), enterS.FieldIndex("flags"), exitS.FieldIndex("ret")
			comm = commLookup(s)
			return nil
		},
		record: func(r *parse.Record) error {
			tid := r.PID()
			if r.Schema == enterS {
				table.Put(int32(tid), openState{ts: r.TS, pathPtr: r.Uint(pathI), flags: r.Uint(flagsI)})
				return nil
			}
			if r.Schema != exitS {
				return nil
			}
			st, ok := table.Take(int32(tid))
			if !ok {
				unmatched++
				return nil
			}
			ret := r.Int(retI)
			if failed && ret >= 0 {
				return nil
			}
			cm := comm(tid)
			if cm == "<...>" {
				if n, ok := readComm(tid); ok {
					cm = n
				}
			}
			if name != "" && !strings.Contains(cm, name) {
				return nil
			}
			// The path is read from the task's memory now, a moment after
			// the call: best effort (see the command's description).
			p, pok := readUserString(tid, st.pathPtr, 4096)
			if !pok {
				unavailable++
			}
			if first == 0 {
				first = st.ts
			}
			if jsonOut {
				j := openJSON{TS: st.ts, Time: float64(st.ts-first) / 1e9, PID: tid, Comm: cm, Ret: ret, Err: aggregate.ErrnoName(ret), Flags: aggregate.OpenFlags(st.flags)}
				if ret >= 0 {
					j.FD = &ret
				}
				if pok {
					j.Path = &p
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
					fmt.Fprintf(out, "%-8s ", "TIME(s)")
				}
				fmt.Fprintf(out, "%-7s %-16s %4s %-7s %-24s %s\n", "PID", "COMM", "FD", "ERR", "FLAGS", "PATH")
			}
			if showTS {
				fmt.Fprintf(out, "%-8.3f ", float64(st.ts-first)/1e9)
			}
			fd, errName := "-1", aggregate.ErrnoName(ret)
			if ret >= 0 {
				fd, errName = fmt.Sprint(ret), "0"
			}
			if !pok {
				p = "[path unavailable]"
			}
			_, err := fmt.Fprintf(out, "%-7d %-16s %4s %-7s %-24s %s\n", tid, cm, fd, errName, aggregate.OpenFlags(st.flags), p)
			return err
		},
		tick: func(_ *bufio.Writer, final bool) error {
			if final && !jsonOut && (unavailable > 0 || table.Evicted > 0 || (unmatched > 0 && !failed)) {
				fmt.Fprintf(c.App.ErrWriter, "tracer: %d paths unavailable (process gone before tracer read them), %d in-flight opens evicted, %d exits without an enter\n", unavailable, table.Evicted, unmatched)
			}
			return nil
		},
	}
	return runLive(c, spec, out)
}
