package tracefs

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/taskctx"
)

// Process context: a live session enables the scheduler events that
// taskctx learns from in its own instance (hidden from the caller unless
// asked for), seeds the model from /proc just before tracing starts and
// feeds it every record in time order, so that comm and ppid are those of
// the moment of each event rather than the last ones saved_cmdlines holds.

// procRoot is where /proc is; tests point it elsewhere.
var procRoot = "/proc"

// seedTasks records every thread that /proc lists now.
func seedTasks(m *taskctx.Model) {
	procs, err := os.ReadDir(procRoot)
	if err != nil {
		return
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		ppid, ok := procPPID(pid)
		if !ok {
			continue
		}
		threads, err := os.ReadDir(procRoot + "/" + p.Name() + "/task")
		if err != nil {
			continue
		}
		for _, t := range threads {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			comm, ok := readProcComm(procRoot + "/" + p.Name() + "/task/" + t.Name() + "/comm")
			if !ok {
				continue
			}
			m.Seed(tid, pid, ppid, comm)
		}
	}
}

// procTask reads what /proc says of a thread now: the answer for tasks the
// model did not see being created, or whose parent exited.
func procTask(tid int) (taskctx.Task, bool) {
	b, err := os.ReadFile(procRoot + "/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return taskctx.Task{}, false
	}
	t := taskctx.Task{PPID: -1}
	tgid, ok1 := statusField(b, "Tgid:")
	ppid, ok2 := statusField(b, "PPid:")
	if !ok1 || !ok2 {
		return taskctx.Task{}, false
	}
	t.TGID, t.PPID = int32(tgid), int32(ppid)
	comm, ok := readProcComm(procRoot + "/" + strconv.Itoa(tid) + "/comm")
	if !ok {
		return taskctx.Task{}, false
	}
	t.Comm = comm
	return t, true
}

func procPPID(pid int) (int, bool) {
	b, err := os.ReadFile(procRoot + "/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	return statusField(b, "PPid:")
}

// statusField returns the number after key in /proc/PID/status.
func statusField(b []byte, key string) (int, bool) {
	i := bytes.Index(b, []byte("\n"+key))
	if i < 0 {
		return 0, false
	}
	rest := b[i+1+len(key):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	f := bytes.Fields(rest) // "Uid:" has four numbers: the first is the real one
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(f[0]))
	return n, err == nil
}

// readProcComm reads a comm file: the name as the kernel holds it (up to
// 15 bytes, any bytes but NUL), without the newline it appends.
func readProcComm(file string) (string, bool) {
	b, err := os.ReadFile(file)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(bytes.TrimSuffix(b, []byte("\n"))), true
}

// startTasks sets up the session's model over its decoder: the comm table
// the text and JSON use follows the model, and tasks it never saw are read
// from /proc, then from saved_cmdlines.
func (s *Session) startTasks(d *parse.Decoder) {
	m := taskctx.New()
	m.Bind(d)
	comms := &parse.Comms{}
	var saved *parse.Comms
	var savedAt time.Time
	m.Miss = func(tid int) (taskctx.Task, bool) {
		if t, ok := procTask(tid); ok {
			return t, true
		}
		// Gone already: the kernel's saved_cmdlines may still name it
		// (re-read at most every 20 ms).
		if saved == nil || time.Since(savedAt) > 20*time.Millisecond {
			if b, err := s.fs.SavedCmdlines(); err == nil {
				saved, savedAt = parse.ParseSavedCmdlines(b), time.Now()
			}
		}
		if name, ok := saved.Lookup(tid); ok {
			return taskctx.Task{TGID: int32(tid), PPID: -1, Comm: name}, true
		}
		return taskctx.Task{}, false
	}
	m.OnComm = comms.Set
	comms.Miss = m.Comm
	d.Comms = comms
	s.tasks = m
}

// addTaskEvents adds the model's events the caller did not ask for, as
// hidden events, where this kernel has them.
func (s *Session) addTaskEvents() {
	for _, name := range taskctx.Events {
		ids, err := s.fs.ResolveEvents([]string{name})
		if err != nil || len(ids) != 1 {
			continue // an old kernel without task_rename, say: learn what we can
		}
		id := ids[0]
		if _, asked := s.filters[id]; asked {
			continue
		}
		s.events = append(s.events, id)
		s.filters[id] = ""
		s.internal[id] = true
	}
}

// Tasks returns the session's process context (after Open; nil when the
// session names tasks like the kernel's text, SessionOptions.KernelComms).
// It answers for the record Next returned last: ask it before the next call.
func (s *Session) Tasks() *taskctx.Model { return s.tasks }
