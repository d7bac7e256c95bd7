// Package tools holds the classic tools (BCC's, perf-tools') as tracer
// run programs, embedded in the binary. Each file is a program anyone can
// copy and change; its header says what it is, what it needs from the
// kernel and how the command's options become the program's parameters:
//
//	// NAME: what it shows
//	// needs: tracepoint:SYS:EVENT kprobe:FUNC ...
//	// option: -X $N[=DEFAULT] help          (a switch: $N is 1 when given, else 0)
//	// option: -X=ARG $N[=DEFAULT] help      (a value: $N is ARG)
//
// So `tracer syscount -P -p 42` runs syscount.bt with $1=1 $2=0 $3=42
// $4=10, exactly as `tracer run syscount.bt 1 0 42 10` does.
package tools

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.bt
var files embed.FS

// Tool is one embedded program and what its header says.
type Tool struct {
	Name    string
	About   string   // what it shows
	Needs   []string // tracepoint:SYS:EVENT, kprobe:FUNC
	Options []Option
	Source  string
}

// Option is one command-line option of a tool and the parameter it sets.
type Option struct {
	Flag    string // the flag's name without the dash: P, p
	Arg     string // the value's name (PID); "" for a switch
	Param   int    // $N
	Default string
	Help    string
}

// All returns every tool, by name.
func All() ([]*Tool, error) {
	ents, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var out []*Tool
	for _, e := range ents {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		t, err := parseHeader(strings.TrimSuffix(e.Name(), ".bt"), string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the tool named name, or nil.
func Get(name string) *Tool {
	all, err := All()
	if err != nil {
		return nil
	}
	for _, t := range all {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// parseHeader reads the comment lines a tool file starts with.
func parseHeader(name, src string) (*Tool, error) {
	t := &Tool{Name: name, Source: src}
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "#!") {
			continue
		}
		rest, ok := strings.CutPrefix(line, "// ")
		if !ok {
			break
		}
		switch {
		case strings.HasPrefix(rest, name+": "):
			t.About = strings.TrimPrefix(rest, name+": ")
		case strings.HasPrefix(rest, "needs: "):
			t.Needs = strings.Fields(strings.TrimPrefix(rest, "needs: "))
		case strings.HasPrefix(rest, "option: "):
			o, err := parseOption(strings.TrimPrefix(rest, "option: "))
			if err != nil {
				return nil, fmt.Errorf("tool %s: %w", name, err)
			}
			t.Options = append(t.Options, o)
		}
	}
	if t.About == "" {
		return nil, fmt.Errorf("tool %s: no \"// %s: WHAT IT SHOWS\" line", name, name)
	}
	for i, o := range t.Options {
		if o.Param != i+1 {
			return nil, fmt.Errorf("tool %s: option -%s sets $%d: options must set $1, $2... in order", name, o.Flag, o.Param)
		}
	}
	return t, nil
}

// parseOption parses "-X[=ARG] $N[=DEFAULT] help".
func parseOption(s string) (Option, error) {
	f := strings.SplitN(s, " ", 3)
	if len(f) < 3 || !strings.HasPrefix(f[0], "-") || !strings.HasPrefix(f[1], "$") {
		return Option{}, fmt.Errorf("option %q: want -X[=ARG] $N[=DEFAULT] HELP", s)
	}
	var o Option
	o.Flag, o.Arg, _ = strings.Cut(f[0][1:], "=")
	n, def, _ := strings.Cut(f[1][1:], "=")
	p, err := strconv.Atoi(n)
	if err != nil {
		return Option{}, fmt.Errorf("option %q: $%s is not a parameter number", s, n)
	}
	o.Param, o.Default, o.Help = p, def, f[2]
	if o.Default == "" {
		o.Default = "0"
	}
	return o, nil
}

// Params turns option values (by flag; a switch given is "1") into the
// program's positional parameters.
func (t *Tool) Params(set map[string]string) []string {
	out := make([]string, len(t.Options))
	for i, o := range t.Options {
		out[i] = o.Default
		if v, ok := set[o.Flag]; ok {
			out[i] = v
		}
	}
	return out
}
