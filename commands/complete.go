package commands

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/tracefs"
)

var completionCommand = &cli.Command{
	Name:      "completion",
	Usage:     "print the shell completion script for bash, zsh or fish",
	ArgsUsage: "bash|zsh|fish",
	Description: `Commands, flags, event names (from the live system, where available_events
is readable: run the shell as root) and probe kinds complete.

   source <(tracer completion bash)                  # in ~/.bashrc
   tracer completion zsh > "${fpath[1]}/_tracer"
   tracer completion fish > ~/.config/fish/completions/tracer.fish`,
	Action: func(c *cli.Context) error {
		script, ok := completionScripts[c.Args().First()]
		if !ok || c.NArg() != 1 {
			return &exitError{code: 2, err: errors.New("completion needs a shell: bash, zsh or fish")}
		}
		_, err := fmt.Fprint(c.App.Writer, script)
		return err
	},
}

// completeCommand is what the scripts call: tracer __complete LINE, with
// the command line up to the cursor; it prints one candidate a line for
// the last word of LINE. The scripts hand over the raw line because
// bash splits words at ':' (COMP_WORDBREAKS), which every event name has.
var completeCommand = &cli.Command{
	Name:   "__complete",
	Hidden: true,
	Action: func(c *cli.Context) error {
		for _, s := range complete(c.App, c.Args().First(), liveEvents) {
			fmt.Fprintln(c.App.Writer, s)
		}
		return nil
	},
}

var manCommand = &cli.Command{
	Name:  "man",
	Usage: "print tracer's man page (roff): tracer man | man -l -",
	Action: func(c *cli.Context) error {
		page, err := c.App.ToMan()
		if err != nil {
			return fmt.Errorf("building the man page: %w", err)
		}
		_, err = fmt.Fprint(c.App.Writer, page)
		return err
	},
}

// probeKinds are the probe spec prefixes an EVENT may start with.
var probeKinds = []string{"kprobe:", "kretprobe:", "uprobe:", "uretprobe:", "eprobe:", "usdt:"}

// eventCommands take EVENTs as arguments.
var eventCommands = map[string]bool{"record": true, "count": true, "hist": true, "latency": true, "list": true}

// liveEvents lists the system's events without mounting anything:
// completion runs at every Tab, and must not change the system (tracefs
// Open would mount tracefs for root). The two places are the kernel's
// documented mounts.
func liveEvents() []string {
	for _, root := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		evs, err := tracefs.NewFS(root).ListEvents()
		if err != nil {
			continue
		}
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.String()
		}
		return out
	}
	return nil
}

// complete returns the candidates for the last word of line (split at
// blanks; a trailing blank starts a new, empty word). events lists the
// event names (a func, so tests can give their own and only the event
// position reads tracefs).
func complete(app *cli.App, line string, events func() []string) []string {
	words := strings.Fields(line)
	if line == "" || strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
		words = append(words, "")
	}
	if len(words) < 2 {
		return nil
	}
	cur := words[len(words)-1]
	if len(words) == 2 {
		var out []string
		for _, cmd := range app.Commands {
			if !cmd.Hidden && strings.HasPrefix(cmd.Name, cur) {
				out = append(out, cmd.Name)
			}
		}
		return out
	}
	cmd := app.Command(words[1])
	if cmd == nil {
		return nil
	}
	for _, w := range words[2 : len(words)-1] {
		if w == "--" {
			return nil // the traced command's words: the shell's own completion
		}
	}
	if strings.HasPrefix(cur, "-") {
		var out []string
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				dash := "--"
				if len(n) == 1 {
					dash = "-"
				}
				if strings.HasPrefix(dash+n, cur) {
					out = append(out, dash+n)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	if prev := words[len(words)-2]; strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
		name := strings.TrimLeft(prev, "-")
		for _, f := range cmd.Flags {
			if _, isBool := f.(*cli.BoolFlag); !isBool && contains(f.Names(), name) {
				return nil // a flag's value: files, from the shell
			}
		}
	}
	switch {
	case cmd.Name == "completion":
		return withPrefix([]string{"bash", "fish", "zsh"}, cur)
	case !eventCommands[cmd.Name]:
		return nil
	}
	var out []string
	for _, k := range probeKinds {
		if strings.HasPrefix(k, cur) {
			out = append(out, k)
		}
	}
	evs := events()
	if !strings.Contains(cur, ":") {
		// Thousands of events: offer their systems first, then the
		// events of the system typed.
		seen := map[string]bool{}
		for _, e := range evs {
			sys, _, _ := strings.Cut(e, ":")
			if strings.HasPrefix(sys, cur) && !seen[sys] {
				seen[sys] = true
				out = append(out, sys+":")
			}
		}
		sort.Strings(out)
		return out
	}
	out = append(out, withPrefix(evs, cur)...)
	sort.Strings(out)
	return out
}

func withPrefix(all []string, prefix string) []string {
	var out []string
	for _, s := range all {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// completionScripts call tracer __complete with the line up to the
// cursor. A candidate ending in ':' (a system, a probe kind) takes no
// space after it, so the next Tab goes on into the events.
var completionScripts = map[string]string{
	"bash": `# tracer bash completion: source <(tracer completion bash)
_tracer() {
	local line=${COMP_LINE:0:COMP_POINT}
	local cur=${line##*[[:space:]]}
	local IFS=$'\n'
	local cands=($(tracer __complete "$line" 2>/dev/null))
	# bash splits words at ':', so it replaces only what follows the
	# last ':' of the word: drop what comes before from the candidates.
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local pre=${cur%"${cur##*:}"} i
		for i in "${!cands[@]}"; do cands[$i]=${cands[$i]#"$pre"}; done
	fi
	COMPREPLY=("${cands[@]}")
	if [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *: ]]; then
		compopt -o nospace 2>/dev/null
	fi
}
complete -o default -F _tracer tracer
`,
	"zsh": `#compdef tracer
# tracer zsh completion: tracer completion zsh > "${fpath[1]}/_tracer"
_tracer() {
	local -a cands systems
	cands=("${(@f)$(tracer __complete "${(j: :)words[1,CURRENT]}" 2>/dev/null)}")
	cands=(${cands:#})
	if (( ${#cands} == 0 )); then
		_files
		return
	fi
	systems=(${(M)cands:#*:})
	cands=(${cands:#*:})
	(( ${#systems} )) && compadd -S '' -- $systems
	(( ${#cands} )) && compadd -- $cands
}
compdef _tracer tracer 2>/dev/null
`,
	"fish": `# tracer fish completion: tracer completion fish > ~/.config/fish/completions/tracer.fish
function __tracer_complete
	tracer __complete (commandline -cp) 2>/dev/null
end
complete -c tracer -a '(__tracer_complete)'
`,
}
