// Package taskctx keeps the process context of every task a trace shows:
// its command name, thread group and parent process as they were at the
// moment of each event.
//
// The kernel's saved_cmdlines holds only the last comm of a pid, so an
// event a shell made before it exec'd is named after the program it became.
// A Model is fed the scheduler's own events, in the trace's time order,
// from the same stream as the events it names: task_newtask (fork and
// clone, with the clone flags that tell a thread from a process),
// task_rename (every comm change: exec, prctl, writes to /proc/PID/comm),
// sched_process_exec (a thread that execs takes over its leader's pid) and
// sched_process_exit. Seeded from /proc at the start (by the caller), it
// then answers "what was this pid called, and who was its parent, at this
// event" exactly for everything it has seen.
//
// The package is pure: it reads records, never the live system. Lookups
// of tasks it never saw go to a Miss function the caller may set.
package taskctx

import (
	"github.com/tracer-dev/tracer/parse"
)

// Events are the tracepoints a Model learns from, as "system:event".
var Events = []string{
	"task:task_newtask",
	"task:task_rename",
	"sched:sched_process_exec",
	"sched:sched_process_exit",
}

// Clone flags of task_newtask that matter here (include/uapi/linux/sched.h).
const (
	cloneParent = 0x00008000 // CLONE_PARENT: the child gets the caller's parent
	cloneThread = 0x00010000 // CLONE_THREAD: same thread group
)

// Task is what the model knows of one thread.
type Task struct {
	TGID int32 // thread group (process) id
	// PPID is the parent process's tgid, as getppid(2) gives it; -1 when
	// unknown (the parent exited and the child was reparented to a
	// subreaper the trace cannot name; Miss is asked then).
	PPID int32
	Comm string
	// gen dates the entry, so a child can tell whether the process it
	// points to as parent is still that process (pids are reused).
	gen uint64
	// parentGen is the gen of the parent process's leader entry when the
	// parent was recorded.
	parentGen uint64
	dead      bool
	// unknown marks a tid that Miss could not name either, so that every
	// later event of it does not ask again.
	unknown bool
	swept   bool // dead at the last Forget
}

// MissFunc answers for a task the model has not seen (or whose parent
// left): typically a read of /proc. ok is false when nothing is known.
type MissFunc func(tid int) (t Task, ok bool)

// Model is the process context of a trace. It is not safe for concurrent
// use; feed it and ask it from the goroutine that reads the records.
type Model struct {
	tasks map[int32]*Task
	gen   uint64
	// Miss, if set, is asked about tids the model lacks and about parents
	// that exited (reparenting is not traced).
	Miss MissFunc
	// OnComm, if set, is told each time a task's comm changes (so a
	// decoder's comm table can follow).
	OnComm func(tid int, comm string)

	newtask, rename, exec, exit *parse.Schema
	ntPID, ntComm, ntFlags      int
	rnPID, rnNew                int
	exPID, exOld                int
	xtPID                       int
}

// New returns an empty model.
func New() *Model { return &Model{tasks: map[int32]*Task{}} }

// Len returns the number of tasks known (live or exited but not reused).
func (m *Model) Len() int { return len(m.tasks) }

// Bind resolves the model's events in d's schemas; events d lacks are
// simply not learned from. Call it once the decoder has its formats.
func (m *Model) Bind(d *parse.Decoder) {
	if s := d.SchemaByName("task:task_newtask"); s != nil && s.FieldIndex("pid") >= 0 {
		m.newtask, m.ntPID, m.ntComm, m.ntFlags = s, s.FieldIndex("pid"), s.FieldIndex("comm"), s.FieldIndex("clone_flags")
	}
	if s := d.SchemaByName("task:task_rename"); s != nil && s.FieldIndex("newcomm") >= 0 {
		m.rename, m.rnPID, m.rnNew = s, s.FieldIndex("pid"), s.FieldIndex("newcomm")
	}
	if s := d.SchemaByName("sched:sched_process_exec"); s != nil && s.FieldIndex("old_pid") >= 0 {
		m.exec, m.exPID, m.exOld = s, s.FieldIndex("pid"), s.FieldIndex("old_pid")
	}
	if s := d.SchemaByName("sched:sched_process_exit"); s != nil && s.FieldIndex("pid") >= 0 {
		m.exit, m.xtPID = s, s.FieldIndex("pid")
	}
}

// Learns reports whether s is one of the events the model learns from.
func (m *Model) Learns(s *parse.Schema) bool {
	return s != nil && (s == m.newtask || s == m.rename || s == m.exec || s == m.exit)
}

// Seed records a task as found at the start of the trace (from /proc).
// Seeding a tid the model already learned about from an event does
// nothing: the event is newer.
func (m *Model) Seed(tid, tgid, ppid int, comm string) {
	if t, ok := m.tasks[int32(tid)]; ok && !t.unknown {
		return
	}
	m.gen++
	t := &Task{TGID: int32(tgid), PPID: int32(ppid), Comm: comm, gen: m.gen}
	m.tasks[int32(tid)] = t
	if p, ok := m.tasks[int32(ppid)]; ok {
		t.parentGen = p.gen
	}
	if m.OnComm != nil {
		m.OnComm(tid, comm)
	}
}

// Apply learns from r if it is one of the model's events, and reports
// whether it was. Call it for every record, in time order, before anything
// asks about r's task: the answer for r itself is then the state right
// after r (an exec's own event is named after the new program, as the
// kernel's comm is by then).
func (m *Model) Apply(r *parse.Record) bool {
	if r.Kind != parse.ItemEvent || r.Schema == nil {
		return false
	}
	switch r.Schema {
	case m.newtask:
		m.fork(r.PID(), int32(r.Int(m.ntPID)), string(r.Str(m.ntComm)), r.Uint(m.ntFlags))
	case m.rename:
		m.setComm(int32(r.Int(m.rnPID)), r.Str(m.rnNew))
	case m.exec:
		m.execd(int32(r.Int(m.exPID)), int32(r.Int(m.exOld)))
	case m.exit:
		if t, ok := m.tasks[int32(r.Int(m.xtPID))]; ok {
			t.dead = true
		}
	default:
		return false
	}
	return true
}

// fork records child, created by the task creator with the given flags.
func (m *Model) fork(creator int, child int32, comm string, flags uint64) {
	m.gen++
	t := &Task{TGID: child, PPID: -1, Comm: comm, gen: m.gen}
	c, known := m.lookup(int32(creator))
	switch {
	case flags&cloneThread != 0:
		// A thread joins the creator's group and shares its parent.
		if known {
			t.TGID, t.PPID, t.parentGen = c.TGID, c.PPID, c.parentGen
		}
	case flags&cloneParent != 0:
		if known {
			t.PPID, t.parentGen = c.PPID, c.parentGen
		}
	default:
		if known {
			t.PPID = c.TGID
			if l, ok := m.tasks[c.TGID]; ok {
				t.parentGen = l.gen
			}
		} else {
			t.PPID = -1
		}
	}
	m.tasks[child] = t
	if m.OnComm != nil {
		m.OnComm(int(child), comm)
	}
}

func (m *Model) setComm(tid int32, comm []byte) {
	t, ok := m.lookup(tid)
	if !ok {
		t = m.tasks[tid]
		if t == nil {
			return
		}
		t.unknown = false // the rename names it from now on
	}
	if t.Comm == string(comm) {
		return
	}
	t.Comm = string(comm)
	if m.OnComm != nil {
		m.OnComm(int(tid), t.Comm)
	}
}

// execd handles a thread old that exec'd as pid: a non-leader thread that
// execs takes over its leader's pid, and the other threads are gone.
func (m *Model) execd(pid, old int32) {
	if pid == old {
		return
	}
	t, ok := m.tasks[old]
	if !ok {
		return
	}
	delete(m.tasks, old)
	if l, ok := m.tasks[pid]; ok {
		t.gen, t.parentGen = l.gen, l.parentGen
		t.PPID = l.PPID
	}
	t.TGID = pid
	t.dead = false
	m.tasks[pid] = t
	if m.OnComm != nil {
		m.OnComm(int(pid), t.Comm)
	}
}

// lookup returns the task of tid, asking Miss (once) for one not seen.
func (m *Model) lookup(tid int32) (*Task, bool) {
	if t, ok := m.tasks[tid]; ok {
		return t, !t.unknown
	}
	if m.Miss == nil || tid <= 0 {
		return nil, false
	}
	got, ok := m.Miss(int(tid))
	if !ok {
		m.tasks[tid] = &Task{TGID: tid, PPID: -1, unknown: true}
		return nil, false
	}
	m.gen++
	t := &Task{TGID: got.TGID, PPID: got.PPID, Comm: got.Comm, gen: m.gen}
	if p, ok := m.tasks[got.PPID]; ok {
		t.parentGen = p.gen
	}
	m.tasks[tid] = t
	if m.OnComm != nil {
		m.OnComm(int(tid), t.Comm)
	}
	return t, true
}

// Comm returns the command name of tid now (in the trace's time).
func (m *Model) Comm(tid int) (string, bool) {
	t, ok := m.lookup(int32(tid))
	if !ok {
		return "", false
	}
	return t.Comm, true
}

// TGID returns the process id of thread tid.
func (m *Model) TGID(tid int) (int, bool) {
	t, ok := m.lookup(int32(tid))
	if !ok {
		return 0, false
	}
	return int(t.TGID), true
}

// PPID returns the parent process of tid now. A parent that exited since
// (its entry is dead, or its pid now belongs to a newer process) means
// the kernel reparented tid to a subreaper or init, which no event
// reports: Miss is asked, and its answer kept.
func (m *Model) PPID(tid int) (int, bool) {
	t, ok := m.lookup(int32(tid))
	if !ok {
		return 0, false
	}
	if t.PPID > 0 {
		p, ok := m.tasks[t.PPID]
		if ok && !p.dead && (t.parentGen == 0 || p.gen == t.parentGen) {
			return int(t.PPID), true
		}
		if !ok && t.parentGen == 0 {
			return int(t.PPID), true // parent never seen: trust what we were told
		}
	}
	if m.Miss != nil {
		if got, ok := m.Miss(tid); ok && got.PPID >= 0 {
			t.PPID = got.PPID
			t.parentGen = 0
			if p, ok := m.tasks[got.PPID]; ok {
				t.parentGen = p.gen
			}
			return int(t.PPID), true
		}
	}
	if t.PPID >= 0 {
		return int(t.PPID), true
	}
	return 0, false
}

// Task returns a copy of what the model knows of tid.
func (m *Model) Task(tid int) (Task, bool) {
	t, ok := m.lookup(int32(tid))
	if !ok {
		return Task{}, false
	}
	return *t, true
}

// Forget drops tasks that had already exited at the previous call (and
// tids nobody could name), to bound memory over long traces: call it now
// and then, say every second. An exited task is kept for one period so
// that events following its exit, and rows finished just after it, still
// find its name and parent.
func (m *Model) Forget() {
	for tid, t := range m.tasks {
		switch {
		case t.unknown, t.dead && t.swept:
			delete(m.tasks, tid)
		case t.dead:
			t.swept = true
		}
	}
}
