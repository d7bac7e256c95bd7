package commands

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/tracefs"
)

var doctorCommand = &cli.Command{
	Name:  "doctor",
	Usage: "say what this kernel offers for tracing, and why something won't work",
	Action: func(c *cli.Context) error {
		w := c.App.Writer
		if os.Geteuid() != 0 {
			fmt.Fprintln(w, "user:            not root: tracing needs root, or CAP_SYS_ADMIN, or tracefs group access")
		}
		fs, err := tracefs.Open()
		if err != nil {
			fmt.Fprintf(w, "tracefs:         not usable: %v\n", err)
			return &exitError{code: 1}
		}
		if fs.Notice != "" {
			fmt.Fprintln(w, "note:           ", fs.Notice)
		}
		f := fs.Features()
		yes := func(b bool, why string) string {
			if b {
				return "yes"
			}
			return "no (" + why + ")"
		}
		fmt.Fprintf(w, "tracefs:         %s\n", fs.Root())
		fmt.Fprintf(w, "kernel:          %s\n", f.KernelRelease)
		fmt.Fprintf(w, "instances:       %s\n", yes(f.Instances, "needs Linux 3.10+"))
		fmt.Fprintf(w, "kprobes:         %s\n", yes(f.KprobeEvents, "no kprobe_events: CONFIG_KPROBE_EVENTS is off; use tracepoints or uprobes"))
		fmt.Fprintf(w, "uprobes:         %s\n", yes(f.UprobeEvents, "no uprobe_events: CONFIG_UPROBE_EVENTS is off"))
		fmt.Fprintf(w, "eprobes:         %s\n", yes(f.Eprobes, "needs Linux 5.15+ with CONFIG_EPROBE_EVENTS: no fetch args on tracepoint fields"))
		fmt.Fprintf(w, "function tracer: %s\n", yes(f.FunctionTracer, "not in available_tracers"))
		fmt.Fprintf(w, "hist triggers:   %s\n", yes(f.HistTriggers, "CONFIG_HIST_TRIGGERS is off; tracer aggregates in user space instead"))
		fmt.Fprintf(w, "error_log:       %s\n", yes(f.ErrorLog, "needs Linux 5.2+: refused filters come without the kernel's explanation"))
		fmt.Fprintf(w, "sub-buffer size: %s\n", yes(f.SubbufSize, "needs Linux 6.8+: pages are 4 KB"))
		if f.Lockdown != "" {
			fmt.Fprintf(w, "lockdown:        %s\n", f.Lockdown)
		}
		if b, err := os.ReadFile(fs.Root() + "/buffer_size_kb"); err == nil {
			fmt.Fprintf(w, "buffer size:     %s KB per CPU (top level)\n", strings.TrimSpace(string(b)))
		}
		if n, err := fs.NumCPUs(); err == nil {
			fmt.Fprintf(w, "cpus:            %d\n", n)
		}
		insts, err := fs.ListInstances()
		if err == nil {
			if len(insts) == 0 {
				fmt.Fprintln(w, "instances now:   none")
			}
			for _, in := range insts {
				who := "another tool's"
				if in.Ours {
					who = fmt.Sprintf("tracer's (pid %d, running)", in.OwnerPID)
					if !in.OwnerAlive {
						who = fmt.Sprintf("tracer's (pid %d, gone: tracer reset removes it)", in.OwnerPID)
					}
				}
				fmt.Fprintf(w, "instance:        %s  %s\n", in.Name, who)
			}
		}
		// Per job, the way this kernel copies user data at the event, and
		// why each better way is out.
		for _, job := range []tracefs.FetchJob{tracefs.FetchExecArgv, tracefs.FetchOpenPath} {
			var chosen *tracefs.FetchOption
			var better []tracefs.FetchOption
			for _, o := range fs.FetchOptions(job) {
				if o.Available {
					chosen = &o
					break
				}
				better = append(better, o)
			}
			fmt.Fprintf(w, "%-16s %s: %s\n", job.String()+":", chosen.Way, chosen.Why)
			for _, o := range better {
				fmt.Fprintf(w, "%-16s   (not %s: %s)\n", "", o.Way, o.Why)
			}
		}
		for _, n := range f.Notes {
			fmt.Fprintf(w, "note:            %s\n", n)
		}
		return nil
	},
}

var resetCommand = &cli.Command{
	Name:  "reset",
	Usage: "remove what killed tracer runs left behind (and nothing else)",
	Action: func(c *cli.Context) error {
		fs, err := openFS(c)
		if err != nil {
			return err
		}
		removed, err := tracefs.Reset(fs)
		for _, r := range removed {
			fmt.Fprintf(c.App.ErrWriter, "removed %s\n", r)
		}
		if err != nil {
			return err
		}
		if len(removed) == 0 {
			fmt.Fprintln(c.App.ErrWriter, "nothing to remove")
		}
		return nil
	},
}
