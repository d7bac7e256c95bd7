package commands

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/tools"
	"github.com/tracer-dev/tracer/tracefs"
)

var toolsCommand = &cli.Command{
	Name:      "tools",
	Usage:     "list the classic tools (BCC's) shipped as tracer run programs, or show one",
	ArgsUsage: " ",
	Description: `Each tool is a tracer run program embedded in the binary, run as
tracer TOOL [options]. The list says what each shows, which kernel events
it needs and whether this kernel has them. --show TOOL prints its program,
to copy and change: tracer run TOOL.bt ARGS... runs it with its options as
$1, $2... (the header's "option:" lines say which).`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "show", Usage: "print the program of `TOOL`"},
	},
	Action: runTools,
}

// replacedBy names the tools that are Go commands of their own, and why
// a program cannot do what they do yet.
var goTools = map[string]string{
	"execsnoop": "a Go command: the program version cannot replace it exactly yet, since tracer run has no argv fetch from the fetch ladder for every exec syscall, no RET column (exec's return paired with its argv) and no -x/-n/-l filters over argv",
	"opensnoop": "a Go command: the program version cannot replace it exactly yet, since it would need openat2 and the fetch ladder's path for each open syscall flavour, and -x/-n/-e filters and the FLAGS column over fetched paths",
}

func runTools(c *cli.Context) error {
	all, err := tools.All()
	if err != nil {
		return err
	}
	if name := c.String("show"); name != "" {
		t := tools.Get(name)
		if t == nil {
			return &exitError{code: 2, err: fmt.Errorf("tools --show %s: no such tool (tracer tools lists them)", name)}
		}
		_, err := fmt.Fprint(c.App.Writer, t.Source)
		return err
	}
	fs, fsErr := openFS(c)
	w := bufio.NewWriter(c.App.Writer)
	fmt.Fprintf(w, "%-11s %-5s %s\n", "TOOL", "HERE", "WHAT IT SHOWS / NEEDS")
	for _, t := range all {
		here, missing := "yes", ""
		if fsErr != nil {
			here, missing = "?", fsErr.Error()
		} else if m := missingNeeds(fs, t.Needs); len(m) > 0 {
			here, missing = "no", "missing here: "+strings.Join(m, ", ")
		}
		fmt.Fprintf(w, "%-11s %-5s %s\n", t.Name, here, t.About)
		fmt.Fprintf(w, "%-11s %-5s needs %s\n", "", "", strings.Join(t.Needs, " "))
		if missing != "" {
			fmt.Fprintf(w, "%-11s %-5s %s\n", "", "", missing)
		}
	}
	for _, name := range []string{"execsnoop", "opensnoop"} {
		fmt.Fprintf(w, "%-11s %-5s %s\n", name, "yes", goTools[name])
	}
	return w.Flush()
}

// missingNeeds lists what a tool needs that this kernel lacks: a
// tracepoint, kprobes, or the kernel function to probe.
func missingNeeds(fs *tracefs.FS, needs []string) []string {
	var out []string
	feat := fs.Features()
	for _, n := range needs {
		kind, rest, _ := strings.Cut(n, ":")
		switch kind {
		case "tracepoint":
			if ids, err := fs.ResolveEvents([]string{rest}); err != nil || len(ids) == 0 {
				out = append(out, n)
			}
		case "kprobe", "kretprobe":
			if !feat.KprobeEvents {
				out = append(out, n+" (no kprobes)")
				continue
			}
			if fns, err := fs.MatchKernelFunctions(rest); err != nil || len(fns) == 0 {
				out = append(out, n)
			}
		}
	}
	return out
}

// toolCommands are the commands tracer TOOL, one per embedded tool.
func toolCommands() []*cli.Command {
	all, err := tools.All()
	if err != nil {
		return nil // tools_test catches a bad header; the binary still runs
	}
	var out []*cli.Command
	for _, t := range all {
		out = append(out, toolCommand(t))
	}
	return out
}

func toolCommand(t *tools.Tool) *cli.Command {
	flags := []cli.Flag{
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after `D` (e.g. 10s)"},
		&cli.BoolFlag{Name: "json", Usage: "bpftrace's -f json output"},
		bufferSizeFlag,
	}
	for _, o := range t.Options {
		usage := fmt.Sprintf("%s ($%d)", o.Help, o.Param)
		if o.Arg == "" {
			flags = append(flags, &cli.BoolFlag{Name: o.Flag, Usage: usage})
		} else {
			flags = append(flags, &cli.StringFlag{Name: o.Flag, Usage: usage + ", `" + o.Arg + "`", Value: o.Default})
		}
	}
	return &cli.Command{
		Name:        t.Name,
		Usage:       t.About + " (a tracer run program: tracer tools --show " + t.Name + ")",
		ArgsUsage:   "[-- COMMAND...]",
		Description: "Needs " + strings.Join(t.Needs, " ") + ".",
		Flags:       flags,
		Action: func(c *cli.Context) error {
			args, command := splitArgs(c)
			if len(args) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("%s takes options, not %q (a command to trace goes after --)", t.Name, args[0])}
			}
			set := map[string]string{}
			for _, o := range t.Options {
				switch {
				case o.Arg == "" && c.Bool(o.Flag):
					set[o.Flag] = "1"
				case o.Arg != "" && c.IsSet(o.Flag):
					set[o.Flag] = c.String(o.Flag)
				}
			}
			if fs, err := openFS(c); err == nil {
				if m := missingNeeds(fs, t.Needs); len(m) > 0 {
					return errors.New(t.Name + ": this kernel lacks " + strings.Join(m, ", "))
				}
			}
			return runProgram(c, programRun{name: t.Name + ".bt", src: t.Source, params: t.Params(set), command: command, json: c.Bool("json"), tool: true})
		},
	}
}
