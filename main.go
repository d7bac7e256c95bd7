// Command tracer traces Linux kernel events through ftrace/tracefs, with no
// eBPF: tracer list, tracer record, tracer doctor, tracer reset.
package main

import (
	"os"

	"github.com/tracer-dev/tracer/commands"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == commands.ExecHeldArg {
		os.Exit(commands.ExecHeld(os.Args[2:]))
	}
	os.Exit(commands.Main(os.Args, os.Stdout, os.Stderr))
}
