package commands

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/parse"
)

// commandFlags are the flags about the command after "--", for record and
// every live command.
var commandFlags = []cli.Flag{
	&cli.DurationFlag{Name: "grace", Value: 5 * time.Second, Usage: "when tracing stops before the -- command has exited (--duration, a signal), tracer sends it SIGTERM and, after `D`, SIGKILL"},
	&cli.BoolFlag{Name: "keep-command", Usage: "let the -- command run on when tracer stops or dies (by default it gets SIGTERM when tracing stops, and SIGKILL if tracer dies)"},
}

// childProc is a command started held: it waits on a pipe before exec, so
// that its pid can be put in set_event_pid before it runs a single
// instruction of the traced program. Unless kept, it has the parent-death
// signal SIGKILL (PR_SET_PDEATHSIG, kept across its exec), so that it dies
// with tracer even when tracer is killed by a signal nobody can catch.
type childProc struct {
	cmd    *exec.Cmd
	gate   *os.File
	err    error
	exited chan struct{} // closed once the command has been waited for
	// started is set by release; terminated once tracer has signalled it.
	started, terminated bool
	// errw is where the command's stderr and tracer's words about it go,
	// one write at a time.
	errw io.Writer
}

// lockedWriter serialises writes to a writer shared by the command's
// stderr copier and tracer (an in-process bytes.Buffer in tests). It hides
// the writer's ReadFrom: bytes.Buffer's would drop what is written
// meanwhile.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// ExecHeldArg is the hidden first argument with which tracer re-executes
// itself as the held child (see startHeld and ExecHeld).
const ExecHeldArg = "__tracer_exec_held"

func startHeld(command []string, stderr io.Writer, keep bool) (*childProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("starting %s: finding tracer's own executable: %w", command[0], err)
	}
	path, err := exec.LookPath(command[0])
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", command[0], err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", command[0], err)
	}
	cmd := exec.Command(self, append([]string{ExecHeldArg, path}, command...)...)
	var errw io.Writer = stderr
	if _, ok := stderr.(*os.File); !ok {
		errw = &lockedWriter{w: stderr}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, errw
	cmd.ExtraFiles = []*os.File{r} // fd 3 in the child
	if !keep {
		// Set in the child between fork and exec (the runtime checks that
		// the parent did not die in between).
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	p := &childProc{cmd: cmd, gate: w, exited: make(chan struct{}), errw: errw}
	started := make(chan error)
	go func() {
		// The parent-death signal follows the *thread* that forked the
		// child, and a Go thread does exit when a goroutine locked to it
		// ends (namespace tricks do that): fork from a locked thread and
		// keep it until the child is gone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("starting %s: %w", command[0], err)
	}
	r.Close()
	return p, nil
}

func (p *childProc) pid() int { return p.cmd.Process.Pid }

func (p *childProc) name() string { return p.cmd.Args[2] }

// release lets the held child exec the command.
func (p *childProc) release() error {
	_, err := p.gate.Write([]byte{1})
	p.gate.Close()
	if err != nil {
		return fmt.Errorf("starting %s: %w", p.name(), err)
	}
	p.started = true
	return nil
}

// hasExited reports whether the command has exited and been waited for.
func (p *childProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// kill ends the command on an error path: a held child reads EOF and exits
// without exec; a running one gets SIGTERM.
func (p *childProc) kill() {
	p.gate.Close()
	if p.started && !p.hasExited() {
		p.terminated = true
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// finish deals with a command still running when tracing has stopped for
// reason: with keep it is left to run; otherwise it gets SIGTERM, and
// SIGKILL if it has not exited grace later. What it does is said on stderr
// whenever the command does not exit at once.
func (p *childProc) finish(reason string, grace time.Duration, keep bool) {
	errw := p.errw
	if !p.started {
		p.kill()
		<-p.exited
		return
	}
	if p.hasExited() {
		return
	}
	if keep {
		fmt.Fprintf(errw, "tracer: tracing stopped (%s); %s (pid %d) keeps running (--keep-command)\n", reason, parse.EscapeText(p.name()), p.pid())
		return
	}
	p.terminated = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	quiet := min(grace, 250*time.Millisecond)
	select {
	case <-p.exited:
		return
	case <-time.After(quiet):
	}
	fmt.Fprintf(errw, "tracer: tracing stopped (%s); sent SIGTERM to %s (pid %d), waiting up to %s for it to exit (--grace)\n", reason, parse.EscapeText(p.name()), p.pid(), grace)
	select {
	case <-p.exited:
		return
	case <-time.After(grace - quiet):
	}
	fmt.Fprintf(errw, "tracer: %s (pid %d) did not exit within %s of SIGTERM: sent SIGKILL\n", parse.EscapeText(p.name()), p.pid(), grace)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// exitCode is the status tracer passes on: the command's own, when it
// exited by itself (128+N for a signal), 0 when tracer ended it or it is
// still running.
func (p *childProc) exitCode() int {
	if p.terminated || !p.hasExited() || p.cmd.ProcessState == nil {
		return 0
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return p.cmd.ProcessState.ExitCode()
}

// init pins the held child's main goroutine to the main thread, the
// thread-group leader, before anything else runs. If another thread
// called execve, the kernel would hand it the leader's pid in de_thread,
// but its set_event_pid verdict, taken when it was scheduled under its own
// tid, would stand until its next context switch: the command's first
// events (its exec, and all of a short command) would go untraced.
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		runtime.LockOSThread()
	}
}

// ExecHeld is the held child's side: wait for the go-ahead byte on fd 3,
// then replace this process with the command. Called from main before the
// CLI is parsed. It does not return on success.
func ExecHeld(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "tracer: internal exec: missing command")
		return 127
	}
	gate := os.NewFile(3, "gate")
	var b [1]byte
	if n, _ := gate.Read(b[:]); n != 1 {
		return 127 // tracer gave up before starting the command
	}
	gate.Close()
	err := syscall.Exec(args[0], args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "tracer: exec %s: %v\n", args[1], err)
	return 127
}
