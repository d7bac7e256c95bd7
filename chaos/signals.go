package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// chaosSignals are the signals the signals category sends: every
// catchable one whose default would end tracer, and SIGKILL.
var chaosSignals = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP,
	syscall.SIGABRT, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGUSR1, syscall.SIGSEGV,
	syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGTERM, syscall.SIGSTKFLT,
	syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGSYS, syscall.SIGKILL,
}

// Signals sends each signal of chaosSignals to a record -- sleep 30 once
// it traces: tracer must clean up (all but SIGKILL), exit with 0 (INT,
// TERM, HUP, PIPE) or 128+N, print no goroutine dump, and take the --
// command with it in every case (parent-death signal for SIGKILL, whose
// instance Leftovers then counts unless it is removed as reset would).
func (s *Suite) Signals(r *Row) {
	for _, sig := range chaosSignals {
		r.Tried++
		cmd := s.command("record", "sched:sched_process_exit", "--", "sleep", "30")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			r.note("%s: %v", sig, err)
			continue
		}
		s.track(cmd.Process.Pid)
		inst, child := s.heldChild(cmd.Process.Pid)
		time.Sleep(100 * time.Millisecond)
		cmd.Process.Signal(sig)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			r.note("%s: tracer still running 20 s later", sig)
			continue
		}
		ok := true
		want := 128 + int(sig)
		switch sig {
		case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE:
			want = 0
		}
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		got := ws.ExitStatus()
		if ws.Signaled() {
			got = 128 + int(ws.Signal())
		}
		if sig != syscall.SIGKILL && got != want {
			ok = false
			r.note("%s: exit %d, want %d", sig, got, want)
		}
		if strings.Contains(errb.String(), "goroutine ") {
			ok = false
			r.note("%s: goroutine dump", sig)
		}
		if child > 0 && !gone(child, 3*time.Second) {
			ok = false
			syscall.Kill(child, syscall.SIGKILL)
			r.note("%s: the -- command (pid %d) outlived tracer", sig, child)
		}
		if sig == syscall.SIGKILL && inst != "" { // what tracer reset is for
			os.Remove(filepath.Join(s.root, "instances", inst))
		}
		if ok {
			r.Handled++
		}
	}
}

// heldChild waits for the instance of tracer pid and returns it with the
// pid of its -- command (from set_event_pid); "" and 0 if none shows.
func (s *Suite) heldChild(pid int) (string, int) {
	prefix := "tracer-" + strconv.Itoa(pid) + "-"
	for i := 0; i < 250; i++ {
		ents, _ := os.ReadDir(filepath.Join(s.root, "instances"))
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), prefix) {
				continue
			}
			b, _ := os.ReadFile(filepath.Join(s.root, "instances", e.Name(), "set_event_pid"))
			if f := strings.Fields(string(b)); len(f) > 0 {
				c, _ := strconv.Atoi(f[0])
				return e.Name(), c
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", 0
}

// gone waits up to d for pid to have exited (or be a zombie).
func gone(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return true
		}
	}
	return false
}
