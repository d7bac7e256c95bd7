// Package commands holds tracer's command-line interface: flags, messages,
// exit codes and the choice of output. It decodes nothing and knows no
// control files itself; that is the job of packages parse and tracefs.
package commands

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/tracefs"
)

// Version is the tracer version, set at build time with -ldflags.
var Version = "dev"

// NewApp builds the command-line app writing to stdout and stderr, so that
// tests can run commands in-process and read what they print.
func NewApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "tracer",
		Usage:                "trace Linux kernel events through ftrace, without eBPF",
		Version:              Version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		// Errors are printed once, by Main, with the kernel's explanation.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: append([]*cli.Command{
			listCommand,
			recordCommand,
			countCommand,
			histCommand,
			latencyCommand,
			execsnoopCommand,
			opensnoopCommand,
			reportCommand,
			doctorCommand,
			resetCommand,
			probeCommand,
			runCommand,
			toolsCommand,
			completionCommand,
			manCommand,
			completeCommand,
		}, toolCommands()...),
	}
	for _, cmd := range app.Commands {
		cmd.Before = checkFlagValues
	}
	return app
}

// exitError carries an exit status other than 1 (a traced command's own
// status, or 2 for usage errors) through the cli machinery.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// Main runs the app and turns errors into a message on stderr and an exit
// status. A closed stdout (tracer ... | head) is a normal end: quiet, 0.
func Main(args []string, stdout, stderr io.Writer) int {
	app := NewApp(stdout, stderr)
	err := app.Run(reorderArgs(app, args))
	if err == nil {
		return 0
	}
	err = explainFlagError(app, err)
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return ee.code
	}
	if errors.Is(err, syscall.EPIPE) {
		return 0
	}
	fmt.Fprintf(stderr, "tracer: %s\n", describe(err))
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// describe renders an error for a person: the kernel's error_log lines go
// on lines of their own, and a permission error says what is needed.
func describe(err error) string {
	msg := err.Error()
	if errors.Is(err, tracefs.ErrPermission) && os.Geteuid() != 0 && !strings.Contains(msg, "sudo") {
		msg += ": run it as root (sudo tracer ...)"
	}
	return msg
}

// openFS finds tracefs and tells the user on the error writer if it had
// to mount it; later notices (from probe setup, e.g. $argN mapped to
// registers on kernels before 4.20) go there too, once each.
func openFS(c *cli.Context) (*tracefs.FS, error) {
	fs, err := tracefs.Open()
	if err != nil {
		return nil, err
	}
	w := c.App.ErrWriter
	if fs.Notice != "" {
		fmt.Fprintln(w, "tracer:", fs.Notice)
	}
	fs.NoticeFunc = func(msg string) { fmt.Fprintln(w, "tracer:", msg) }
	return fs, nil
}

// newSession is tracefs.NewSession with the test hooks that scripts/chaos
// sets in the environment: the library reads no environment.
func newSession(fs *tracefs.FS, opts tracefs.SessionOptions) *tracefs.Session {
	// TRACER_CHAOS_SKIP_CLEANUP=1 makes Close leave the instance and
	// probes behind, so that the chaos suite proves it catches a broken
	// cleanup. Never set it otherwise.
	opts.SkipCleanup = os.Getenv("TRACER_CHAOS_SKIP_CLEANUP") == "1"
	return tracefs.NewSession(fs, opts)
}

// isTerminal reports whether w is a terminal (for progress and colour).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// isRegularOrNull reports whether w is a regular file or /dev/null, where
// nobody watches lines as they come and large buffered writes are best.
func isRegularOrNull(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	if fi.Mode().IsRegular() {
		return true
	}
	if fi.Mode()&os.ModeCharDevice != 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Rdev == 0x103 { // 1:3 = /dev/null
			return true
		}
	}
	return false
}

// reorderArgs moves a subcommand's flags in front of its positional
// arguments, so that "tracer record EVENT --filter X" works as people type
// it (urfave/cli, like Go's flag package, stops at the first positional).
// Everything after "--" is left alone: it belongs to the traced command. A
// "--" is put right after the flags so that the one separating events from
// the command survives flag parsing.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[1]) {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos, rest []string
	rest = nil
	in := args[2:]
	for i := 0; i < len(in); i++ {
		a := in[i]
		if a == "--" {
			rest = in[i:]
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(in) {
				i++
				flags = append(flags, in[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append([]string{}, args[:2]...)
	out = append(out, flags...)
	out = append(out, "--")
	out = append(out, pos...)
	return append(out, rest...)
}
