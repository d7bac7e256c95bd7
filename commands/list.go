package commands

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var listCommand = &cli.Command{
	Name:      "list",
	Usage:     "list tracepoints, or show an event's fields",
	ArgsUsage: "[PATTERN]",
	Description: `PATTERN is a glob over "system:event" (sched:*, *exec*); without it every
event is listed. Listing reads only available_events, so it is quick.

   tracer list 'sched:*'
   tracer list -f sched:sched_switch
   tracer list --json '*:*open*'
   tracer list -k 'do_sys_*'            (kernel functions, for kprobe:FUNC)
   tracer list -u /bin/bash 'read*'     (symbols of a binary, for uprobe:PATH:SYM)
   tracer list -u /usr/bin/python3.11 'gc__*'   (and its USDT probes, for usdt:PATH:PROVIDER:NAME)`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "fields", Aliases: []string{"f"}, Usage: "show the fields of `EVENT`"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
		&cli.BoolFlag{Name: "kernel", Aliases: []string{"k"}, Usage: "list kernel functions for kprobes (available_filter_functions) matching PATTERN"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "list function symbols and USDT probes of `BINARY` for uprobes matching PATTERN"},
	},
	Action: runList,
}

func runList(c *cli.Context) error {
	if c.NArg() > 1 {
		return &exitError{code: 2, err: fmt.Errorf("list takes at most one pattern, got %d", c.NArg())}
	}
	if c.String("user") != "" || c.Bool("kernel") {
		return listFunctions(c) // probe.go
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	if ev := c.String("fields"); ev != "" {
		return listFields(c, fs, ev)
	}
	all, err := fs.ListEvents()
	if err != nil {
		return err
	}
	pat := c.Args().First()
	var ep parse.EventPattern
	if pat != "" {
		if ep, err = parse.ParseEventPattern(pat); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	var rows []tracefs.EventID
	for _, e := range all {
		if pat == "" || ep.Match(e.System, e.Name) {
			rows = append(rows, e)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].System != rows[j].System {
			return rows[i].System < rows[j].System
		}
		return rows[i].Name < rows[j].Name
	})
	w := c.App.Writer
	if c.Bool("json") {
		type ev struct {
			System string `json:"system"`
			Event  string `json:"event"`
		}
		out := make([]ev, len(rows))
		for i, r := range rows {
			out[i] = ev{r.System, r.Name}
		}
		return writeJSON(w, out)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no event matches %q (try a glob such as '*%s*')", pat, strings.Trim(pat, "*"))
	}
	t := newTable(w, []string{"SYSTEM", "EVENT"})
	for _, r := range rows {
		t.Append([]string{r.System, r.Name})
	}
	t.Render()
	return nil
}

func listFields(c *cli.Context, fs *tracefs.FS, name string) error {
	ids, err := fs.ResolveEvents([]string{name})
	if err != nil {
		return err
	}
	w := c.App.Writer
	type field struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Offset int    `json:"offset"`
		Size   int    `json:"size"`
		Signed bool   `json:"signed"`
		Kind   string `json:"kind"`
		Common bool   `json:"common,omitempty"`
	}
	type event struct {
		System   string  `json:"system"`
		Event    string  `json:"event"`
		ID       int     `json:"id"`
		Fields   []field `json:"fields"`
		PrintFmt string  `json:"print_fmt"`
		// PrintError says why the event prints in fields mode: its
		// print fmt does not compile.
		PrintError string `json:"print_fmt_error,omitempty"`
	}
	var out []event
	for _, id := range ids {
		b, err := fs.Format(id.System, id.Name)
		if err != nil {
			return err
		}
		s, err := parse.ParseFormat(id.System, b, 8)
		if err != nil {
			return err
		}
		ev := event{System: id.System, Event: id.Name, ID: s.ID, PrintFmt: s.PrintFmt}
		if err := s.PrintError(); err != nil {
			ev.PrintError = err.Error()
		}
		for _, f := range s.Fields {
			ev.Fields = append(ev.Fields, field{f.Name, f.Type, f.Offset, f.Size, f.Signed, f.Kind.String(), f.IsCommon})
		}
		out = append(out, ev)
	}
	if c.Bool("json") {
		return writeJSON(w, out)
	}
	for i, ev := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:%s (id %d)\n", ev.System, ev.Event, ev.ID)
		t := newTable(w, []string{"FIELD", "TYPE", "OFFSET", "SIZE", "SIGNED"})
		for _, f := range ev.Fields {
			if f.Common {
				continue
			}
			typ := f.Type
			if f.Kind == "array" {
				typ += "[" + strconv.Itoa(f.Size) + "]"
			}
			t.Append([]string{f.Name, typ, strconv.Itoa(f.Offset), strconv.Itoa(f.Size), strconv.FormatBool(f.Signed)})
		}
		t.Render()
		fmt.Fprintf(w, "print fmt: %s\n", ev.PrintFmt)
		if ev.PrintError != "" {
			fmt.Fprintf(w, "prints in fields mode: %s\n", ev.PrintError)
		}
	}
	return nil
}

func newTable(w interface{ Write([]byte) (int, error) }, header []string) *tablewriter.Table {
	t := tablewriter.NewWriter(w)
	t.SetHeader(header)
	t.SetAutoFormatHeaders(false)
	t.SetBorder(false)
	t.SetColumnSeparator("")
	t.SetHeaderLine(false)
	t.SetAutoWrapText(false)
	t.SetAlignment(tablewriter.ALIGN_LEFT)
	t.SetHeaderAlignment(tablewriter.ALIGN_LEFT)
	t.SetTablePadding("  ")
	t.SetNoWhiteSpace(true)
	return t
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
