package commands

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/tracefs"
)

var probeCommand = &cli.Command{
	Name:  "probe",
	Usage: "add, list and remove named kprobes, uprobes and eprobes that outlive a run",
	Description: `Probes given to record (and every command that takes events) live only as
long as that run. Named probes are for scripts that use several commands:
they are created in the group ` + tracefs.NamedProbeGroup + ` and stay until removed,
and every command takes them as ` + tracefs.NamedProbeGroup + `:NAME.

   tracer probe add 'kprobe:do_sys_openat2 path=+0($arg2):string'
   tracer probe add --name rl 'uretprobe:/bin/bash:readline line=+0($retval):string'
   tracer probe add --name op 'eprobe:syscalls:sys_enter_openat path=+0($filename):ustring'
   tracer record tracer_named:rl
   tracer probe list
   tracer probe remove rl          (or --all)

Probe specs: kprobe:FUNC[+OFFS], kretprobe:FUNC, uprobe:PATH:SYMBOL[+OFFS],
uprobe:PATH:0xFILEOFFSET, uretprobe:..., or the kernel's p:/r: syntax, then
fetch args NAME=FETCHARG[:TYPE]: $argN $retval $stackN $comm %REG @ADDR
+OFFS(FETCHARG) with types u8..u64 s8..s64 x8..x64 string ustring symbol
b<width>@<offset>/<size> and arrays TYPE[N].

Eprobes (Linux 5.15+ with CONFIG_EPROBE_EVENTS): eprobe:SYSTEM:EVENT (or
e:SYSTEM:EVENT, or the kernel's e:[GROUP/]NAME SYSTEM.EVENT) attaches to a
tracepoint; its fetch args read that event's fields as $FIELD (and $comm,
@ADDR, +OFFS(...), \IMM; no registers, stack or $argN), e.g. the argv of an
exec: 'eprobe:syscalls:sys_enter_execve a1=+0(+8($argv)):ustring'. A final
"if FILTER" filters on the target's fields (Linux 6.1+). The kernel records
an eprobe into one instance at a time (the first run that enables it):
two runs recording the same named eprobe at once see it in the first only;
specs given to record get an eprobe of their own per run.`,
	// The subcommands' flags are declared here, on the parent: that is
	// where reorderArgs (app.go) moves flags to, and the subcommands read
	// them through the context lineage.
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "add: event `NAME` (default: from the function)"},
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list: also other tools' probes; remove: every named probe"},
		&cli.BoolFlag{Name: "json", Usage: "list: print JSON"},
	},
	Subcommands: []*cli.Command{
		{
			Name:      "add",
			Usage:     "create a named probe",
			ArgsUsage: "[--name NAME] SPEC",
			Action:    runProbeAdd,
		},
		{
			Name:   "list",
			Usage:  "list tracer's probes (with --all, every tool's)",
			Action: runProbeList,
		},
		{
			Name:      "remove",
			Aliases:   []string{"rm"},
			Usage:     "remove named probes",
			ArgsUsage: "NAME... | --all",
			Action:    runProbeRemove,
		},
	},
}

func runProbeAdd(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: 2, err: errors.New("probe add takes one SPEC (quote it), e.g. tracer probe add 'kprobe:do_sys_openat2 path=+0($arg2):string'")}
	}
	spec, err := tracefs.ParseProbeSpec(c.Args().First())
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	id, err := fs.AddProbe(tracefs.NamedProbeGroup, c.String("name"), spec)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, id.String())
	return nil
}

func runProbeList(c *cli.Context) error {
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	list, err := fs.ListProbes()
	if err != nil {
		return err
	}
	type row struct {
		Event      string `json:"event"`
		Type       string `json:"type"`
		Owner      string `json:"owner"`
		Definition string `json:"definition"`
	}
	var rows []row
	for _, p := range list {
		if !p.Ours && !c.Bool("all") {
			continue
		}
		owner := "other tool"
		switch {
		case p.Group == tracefs.NamedProbeGroup:
			owner = "named"
		case p.OwnerPID > 0:
			owner = "tracer pid " + strconv.Itoa(p.OwnerPID)
			if err := syscallKill0(p.OwnerPID); err != nil {
				owner += " (gone: tracer reset removes it)"
			}
		}
		rows = append(rows, row{p.ID().String(), p.Type.String(), owner, p.Definition})
	}
	if c.Bool("json") {
		if rows == nil {
			rows = []row{}
		}
		return writeJSON(c.App.Writer, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(c.App.ErrWriter, "tracer: no probes of tracer's (tracer probe list --all shows other tools' too)")
		return nil
	}
	t := newTable(c.App.Writer, []string{"EVENT", "TYPE", "OWNER", "DEFINITION"})
	for _, r := range rows {
		t.Append([]string{r.Event, r.Type, r.Owner, r.Definition})
	}
	t.Render()
	return nil
}

func runProbeRemove(c *cli.Context) error {
	if c.NArg() == 0 && !c.Bool("all") {
		return &exitError{code: 2, err: errors.New("probe remove needs NAME... or --all")}
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	list, err := fs.ListProbes()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, a := range c.Args().Slice() {
		want[a] = true
	}
	var errs []error
	for _, p := range list {
		if p.Group != tracefs.NamedProbeGroup {
			continue
		}
		if !c.Bool("all") && !want[p.Event] && !want[p.ID().String()] {
			continue
		}
		delete(want, p.Event)
		delete(want, p.ID().String())
		if err := fs.RemoveProbe(p.Group, p.Event); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, "removed", p.ID().String())
	}
	for name := range want {
		errs = append(errs, fmt.Errorf("no named probe %q (see tracer probe list)", name))
	}
	return errors.Join(errs...)
}

func syscallKill0(pid int) error {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return err
	}
	return nil
}

// listFunctions is `tracer list -k [PATTERN]` (kernel functions that
// kprobes can use) and `tracer list -u BINARY [PATTERN]` (its function
// symbols with their file offsets, for uprobes).
func listFunctions(c *cli.Context) error {
	pat := c.Args().First()
	w := c.App.Writer
	if bin := c.String("user"); bin != "" {
		syms, err := tracefs.MatchSymbols(bin, pat)
		if err != nil {
			return err
		}
		usdt, err := matchUSDT(bin, pat) // usdtlist.go
		if err != nil {
			return err
		}
		if c.Bool("json") {
			type sym struct {
				Kind   string `json:"kind"`
				Name   string `json:"name"`
				Offset uint64 `json:"offset"`
				Size   uint64 `json:"size"`
			}
			out := make([]any, 0, len(syms)+len(usdt))
			for _, s := range syms {
				out = append(out, sym{"function", s.Name, s.Offset, s.Size})
			}
			for _, u := range usdt {
				out = append(out, u)
			}
			return writeJSON(w, out)
		}
		if len(syms) == 0 && len(usdt) == 0 {
			return fmt.Errorf("no function or usdt probe of %s matches %q", bin, pat)
		}
		if len(syms) > 0 {
			t := newTable(w, []string{"SYMBOL", "OFFSET", "SIZE"})
			for _, s := range syms {
				t.Append([]string{s.Name, "0x" + strconv.FormatUint(s.Offset, 16), strconv.FormatUint(s.Size, 10)})
			}
			t.Render()
		}
		printUSDT(w, usdt, len(syms) > 0)
		return nil
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	fns, err := fs.MatchKernelFunctions(pat)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		if fns == nil {
			fns = []string{}
		}
		return writeJSON(w, fns)
	}
	if len(fns) == 0 {
		return fmt.Errorf("no kernel function matches %q", pat)
	}
	for _, f := range fns {
		fmt.Fprintln(w, f)
	}
	if !fs.Features().KprobeEvents {
		fmt.Fprintln(c.App.ErrWriter, "tracer: note: this kernel has no kprobe_events, so these functions cannot be probed here; use tracepoints or uprobes")
	}
	return nil
}
