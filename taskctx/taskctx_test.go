package taskctx

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/tracer-dev/tracer/parse"
)

// fixture builds records of the model's events from real 6.18 format files.
type fixture struct {
	t   *testing.T
	dec *parse.Decoder
	ts  uint64
}

func newFixture(t *testing.T) *fixture {
	d := parse.NewDecoder(parse.Layout{LongSize: 8})
	for sys, names := range map[string][]string{"task": {"task_newtask", "task_rename"}, "sched": {"sched_process_exec", "sched_process_exit"}} {
		for _, n := range names {
			b, err := os.ReadFile("testdata/" + n + ".format")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.AddFormat(sys, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &fixture{t: t, dec: d}
}

// rec lays out one event: ints by field name, strings (char arrays and
// __data_loc) by field name.
func (f *fixture) rec(event string, pid int, ints map[string]int64, strs map[string]string) *parse.Record {
	s := f.dec.SchemaByName(event)
	if s == nil {
		f.t.Fatalf("no schema %s", event)
	}
	size := 0
	for _, fl := range s.Fields {
		size = max(size, fl.Offset+fl.Size)
	}
	d := make([]byte, size, size+64)
	binary.LittleEndian.PutUint16(d[0:], uint16(s.ID))
	binary.LittleEndian.PutUint32(d[4:], uint32(pid))
	for _, fl := range s.Fields {
		if v, ok := ints[fl.Name]; ok {
			switch fl.Size {
			case 4:
				binary.LittleEndian.PutUint32(d[fl.Offset:], uint32(v))
			case 8:
				binary.LittleEndian.PutUint64(d[fl.Offset:], uint64(v))
			case 2:
				binary.LittleEndian.PutUint16(d[fl.Offset:], uint16(v))
			}
		}
		if v, ok := strs[fl.Name]; ok {
			if fl.Kind == parse.KindDataLoc {
				binary.LittleEndian.PutUint32(d[fl.Offset:], uint32(len(d))|uint32(len(v)+1)<<16)
				d = append(append(d, v...), 0)
			} else {
				copy(d[fl.Offset:fl.Offset+fl.Size], v)
			}
		}
	}
	f.ts += 1000
	return &parse.Record{Kind: parse.ItemEvent, Schema: s, Type: s.ID, TS: f.ts, Data: d}
}

func (f *fixture) fork(m *Model, parent, child int, comm string, flags int64) {
	m.Apply(f.rec("task:task_newtask", parent, map[string]int64{"pid": int64(child), "clone_flags": flags}, map[string]string{"comm": comm}))
}

func (f *fixture) rename(m *Model, pid int, comm string) {
	m.Apply(f.rec("task:task_rename", pid, map[string]int64{"pid": int64(pid)}, map[string]string{"newcomm": comm}))
}

func (f *fixture) exec(m *Model, tid, pid int, file string) {
	m.Apply(f.rec("sched:sched_process_exec", pid, map[string]int64{"pid": int64(pid), "old_pid": int64(tid)}, map[string]string{"filename": file}))
}

func (f *fixture) exit(m *Model, pid int) {
	m.Apply(f.rec("sched:sched_process_exit", pid, map[string]int64{"pid": int64(pid)}, map[string]string{"comm": "x"}))
}

func want(t *testing.T, m *Model, tid int, comm string, tgid, ppid int) {
	t.Helper()
	c, ok := m.Comm(tid)
	if !ok || c != comm {
		t.Errorf("comm(%d) = %q, %v; want %q", tid, c, ok, comm)
	}
	if g, _ := m.TGID(tid); g != tgid {
		t.Errorf("tgid(%d) = %d, want %d", tid, g, tgid)
	}
	p, ok := m.PPID(tid)
	if ppid < 0 {
		if ok {
			t.Errorf("ppid(%d) = %d, want unknown", tid, p)
		}
	} else if !ok || p != ppid {
		t.Errorf("ppid(%d) = %d, %v; want %d", tid, p, ok, ppid)
	}
}

func TestForkRenameExec(t *testing.T) {
	f := newFixture(t)
	m := New()
	m.Bind(f.dec)
	var renames []string
	m.OnComm = func(tid int, c string) { renames = append(renames, c) }
	m.Seed(100, 100, 1, "bash")
	want(t, m, 100, "bash", 100, 1)

	// bash forks a child: same comm, parent is bash.
	f.fork(m, 100, 200, "bash", 0x1200000)
	want(t, m, 200, "bash", 200, 100)
	// The child execs /usr/bin/cat: the kernel renames it, then reports the exec.
	f.rename(m, 200, "cat")
	f.exec(m, 200, 200, "/usr/bin/cat")
	want(t, m, 200, "cat", 200, 100)
	// cat starts a thread, which prctl-renames itself.
	f.fork(m, 200, 201, "cat", 0x3d0f00) // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|...
	want(t, m, 201, "cat", 200, 100)
	f.rename(m, 201, "worker")
	want(t, m, 201, "worker", 200, 100)
	want(t, m, 200, "cat", 200, 100)
	// The thread execs: it takes over the leader's pid, the leader is gone.
	f.rename(m, 201, "ls")
	f.exec(m, 201, 200, "/usr/bin/ls")
	want(t, m, 200, "ls", 200, 100)
	if _, ok := m.Comm(201); ok {
		t.Errorf("tid 201 still known after it exec'd as 200")
	}
	if len(renames) == 0 || renames[len(renames)-1] != "ls" {
		t.Errorf("OnComm calls %v, want the last to be ls", renames)
	}
}

func TestReparentAsksMiss(t *testing.T) {
	f := newFixture(t)
	m := New()
	m.Bind(f.dec)
	asked := 0
	m.Miss = func(tid int) (Task, bool) {
		asked++
		if tid == 300 {
			return Task{TGID: 300, PPID: 1, Comm: "sleep"}, true
		}
		return Task{}, false
	}
	m.Seed(100, 100, 1, "sh")
	f.fork(m, 100, 300, "sh", 0x1200000)
	f.rename(m, 300, "sleep")
	want(t, m, 300, "sleep", 300, 100)
	if asked != 0 {
		t.Fatalf("Miss asked %d times for a known parent", asked)
	}
	// The parent exits: the child is reparented (to init here), which
	// only /proc can tell.
	f.exit(m, 100)
	want(t, m, 300, "sleep", 300, 1)
	// A new process reuses pid 100; the child's parent is still init.
	f.fork(m, 1, 100, "systemd", 0x1200000)
	want(t, m, 300, "sleep", 300, 1)
	// An unknown tid is asked once, and remembered as unknown.
	asked = 0
	for i := 0; i < 3; i++ {
		if _, ok := m.Comm(999); ok {
			t.Fatal("tid 999 named")
		}
	}
	if asked != 1 {
		t.Errorf("Miss asked %d times for tid 999, want 1", asked)
	}
	// A rename of the unknown tid names it from then on.
	f.rename(m, 999, "late")
	if c, ok := m.Comm(999); !ok || c != "late" {
		t.Errorf("comm(999) = %q, %v after rename", c, ok)
	}
}

func TestCloneParentAndForget(t *testing.T) {
	f := newFixture(t)
	m := New()
	m.Bind(f.dec)
	m.Seed(10, 10, 1, "init-child")
	m.Seed(20, 20, 10, "svc")
	f.fork(m, 20, 30, "svc", 0x8000) // CLONE_PARENT: a sibling of svc
	want(t, m, 30, "svc", 30, 10)
	f.exit(m, 30)
	m.Forget()
	want(t, m, 30, "svc", 30, 10) // kept one period after its exit
	m.Forget()
	if _, ok := m.Comm(30); ok {
		t.Error("exited task kept after two Forget calls")
	}
	if m.Len() != 2 {
		t.Errorf("Len = %d, want 2", m.Len())
	}
}

func TestApplyIgnoresOtherEvents(t *testing.T) {
	f := newFixture(t)
	m := New()
	m.Bind(f.dec)
	other := &parse.Record{Kind: parse.ItemEvent}
	if m.Apply(other) {
		t.Error("Apply took a record without schema")
	}
	if !m.Learns(f.dec.SchemaByName("task:task_rename")) || m.Learns(nil) {
		t.Error("Learns is wrong")
	}
}

func TestApplyAllocs(t *testing.T) {
	f := newFixture(t)
	m := New()
	m.Bind(f.dec)
	m.Seed(100, 100, 1, "bash")
	r := f.rec("task:task_rename", 100, map[string]int64{"pid": 100}, map[string]string{"newcomm": "bash"})
	n := testing.AllocsPerRun(1000, func() {
		m.Apply(r)
		m.Comm(100)
		m.PPID(100)
	})
	if n != 0 {
		t.Errorf("%v allocations per unchanged rename and lookups, want 0", n)
	}
}
