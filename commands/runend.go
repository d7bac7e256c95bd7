package commands

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/tracefs"
)

// stopSignals are the signals that end a live run cleanly: every
// catchable signal whose default action would end tracer (and leave its
// instance and probe group behind, with a goroutine dump for SIGQUIT and
// the like). SIGSEGV, SIGBUS and SIGFPE are caught when sent by kill; a
// real fault still crashes, and tracer reset cleans up after it.
var stopSignals = []os.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP,
	syscall.SIGABRT, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGUSR1, syscall.SIGSEGV,
	syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGTERM, syscall.SIGSTKFLT,
	syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGSYS,
}

// quietSignals end a run as a normal end, with status 0: the ways people
// stop a trace (Ctrl-C, kill, a closed terminal or pipe). Any other stop
// signal makes tracer exit, after cleaning up, with 128 + its number.
func quietSignal(sig os.Signal) bool {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE:
		return true
	}
	return false
}

// runEnd watches every way a live run ends: a stop signal, --duration,
// the -- command's exit, and the exit of every -p pid (with --follow, of
// their traced children too). It calls stop once per reason, and finish
// turns the way it ended into tracer's exit status.
type runEnd struct {
	c     *cli.Context
	child *childProc
	sigs  chan os.Signal
	done  chan struct{}

	mu     sync.Mutex
	sig    os.Signal // the signal that ended the run, if one did
	reason string    // why the run ended first
	timer  *time.Timer
}

// newRunEnd starts catching the stop signals; call it before anything is
// created, so that a signal during setup is held until the run is armed.
func newRunEnd(c *cli.Context, child *childProc) *runEnd {
	e := &runEnd{c: c, child: child, sigs: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(e.sigs, stopSignals...)
	return e
}

func (e *runEnd) ended(reason string) {
	e.mu.Lock()
	if e.reason == "" {
		e.reason = reason
	}
	e.mu.Unlock()
}

// arm starts the watchers once the session is open: stop is called for
// each reason the run ends. inst is the session's instance (for the pids
// the kernel follows), pids the -p pids.
func (e *runEnd) arm(stop func(reason string), inst *tracefs.Instance, pids []int, follow bool) error {
	go func() {
		select {
		case sig := <-e.sigs:
			e.mu.Lock()
			e.sig = sig
			e.mu.Unlock()
			e.ended(sig.String())
			stop(sig.String())
		case <-e.done:
		}
	}()
	if d := e.c.Duration("duration"); d > 0 {
		e.mu.Lock()
		e.timer = time.AfterFunc(d, func() { e.ended("duration"); stop("duration") })
		e.mu.Unlock()
	}
	if len(pids) > 0 && e.child == nil {
		go e.watchPIDs(stop, inst, pids, follow)
	}
	if e.child == nil {
		return nil
	}
	if err := e.child.release(); err != nil {
		return err
	}
	go func() {
		select {
		case <-e.child.exited:
		case <-e.done:
			return
		}
		time.Sleep(50 * time.Millisecond) // let the command's last events reach the buffer
		e.ended("command exited")
		stop("command exited")
	}()
	return nil
}

// pidPoll is how often the -p pids are checked for having exited.
const pidPoll = 200 * time.Millisecond

// watchPIDs stops the run once none of pids is alive and, with follow,
// the kernel's set_event_pid (to which it adds the children they fork and
// from which it drops those that exit) names no live process either.
func (e *runEnd) watchPIDs(stop func(string), inst *tracefs.Instance, pids []int, follow bool) {
	t := time.NewTicker(pidPoll)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
		}
		if anyAlive(pids) {
			continue
		}
		if follow {
			more, err := inst.EventPIDs()
			if err != nil || anyAlive(more) {
				continue
			}
		}
		time.Sleep(50 * time.Millisecond) // their last events
		reason := "traced processes exited"
		if len(pids) == 1 && !follow {
			reason = "pid " + strconv.Itoa(pids[0]) + " exited"
		}
		e.ended(reason)
		stop(reason)
		return
	}
}

// anyAlive reports whether one of pids is a live process (not a zombie).
func anyAlive(pids []int) bool {
	for _, p := range pids {
		if processAlive(p) == nil {
			return true
		}
	}
	return false
}

// errNoProcess is why a pid cannot be traced: it names no live process.
var errNoProcess = errors.New("no such process")

// processAlive returns nil if pid is a process that has not exited, and
// otherwise an error wrapping errNoProcess that says what it is.
func processAlive(pid int) error {
	if pid <= 0 || pid > 1<<22 { // PID_MAX_LIMIT
		return fmt.Errorf("pid %d: %w (pids are 1 to %d)", pid, errNoProcess, 1<<22)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, errNoProcess)
	}
	// "pid (comm) S ...": the state follows the last ')', since comm may
	// hold one.
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		switch b[i+2] {
		case 'Z', 'X':
			return fmt.Errorf("pid %d: %w (it has exited and is a zombie waiting for its parent)", pid, errNoProcess)
		}
	}
	return nil
}

// checkPIDs refuses -p pids that name no live process, before anything is
// created.
func checkPIDs(pids []int) error {
	for _, p := range pids {
		if err := processAlive(p); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("-p: %w", err)}
		}
	}
	return nil
}

// finish ends the watchers and, if the -- command still runs, deals with
// it (see childProc.finish). It returns err if set, else the status the
// run ends with: 128+N after a stop signal other than the quiet ones, the
// command's own status when it exited by itself, 0 otherwise.
func (e *runEnd) finish(err error) error {
	e.mu.Lock()
	if e.timer != nil {
		e.timer.Stop()
	}
	sig, reason := e.sig, e.reason
	e.mu.Unlock()
	select {
	case <-e.done:
	default:
		close(e.done)
	}
	if e.child != nil {
		if reason == "" {
			reason = "an error"
		}
		e.child.finish(reason, e.c.Duration("grace"), e.c.Bool("keep-command"))
	}
	signal.Stop(e.sigs)
	if err != nil {
		return err
	}
	if s, ok := sig.(syscall.Signal); ok && !quietSignal(sig) {
		return &exitError{code: 128 + int(s)}
	}
	if e.child != nil {
		if code := e.child.exitCode(); code != 0 {
			return &exitError{code: code}
		}
	}
	return nil
}
