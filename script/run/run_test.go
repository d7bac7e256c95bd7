package run

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/script"
	"github.com/tracer-dev/tracer/script/plan"
)

// oneEvent is a planner environment with raw_syscalls:sys_enter only.
type oneEvent struct{ sc *parse.Schema }

func (e oneEvent) Events(p string) ([]string, error) {
	if p != "raw_syscalls:sys_enter" {
		return nil, errors.New("no such event")
	}
	return []string{p}, nil
}
func (e oneEvent) Fields(string) ([]parse.Field, error) { return e.sc.Fields, nil }
func (e oneEvent) Eprobes() bool                        { return false }

// setup compiles src against raw_syscalls:sys_enter and returns the
// runtime, its output and a record maker.
func setup(t testing.TB, src string, json bool) (*Runtime, *bytes.Buffer, func(tid int32, id int64) *parse.Record) {
	t.Helper()
	format, err := os.ReadFile("testdata/raw_syscalls_sys_enter.format")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := parse.ParseFormat("raw_syscalls", format, 8)
	if err != nil {
		t.Fatal(err)
	}
	prog, info, err := script.Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(prog, info, oneEvent{sc})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	comms := map[int]string{1: "init", 2: "bash", 3: "bash"}
	rt, err := New(p, Options{Out: &out, JSON: json, Now: func() uint64 { return 0 },
		Comm: func(tid int) (string, bool) { s, ok := comms[tid]; return s, ok },
		PID:  func(tid int) (int, bool) { return tid, true },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range rt.Events() {
		rt.Bind(ev, sc)
	}
	mk := func(tid int32, id int64) *parse.Record {
		data := make([]byte, 64)
		binary.LittleEndian.PutUint16(data, uint16(sc.ID))
		binary.LittleEndian.PutUint32(data[4:], uint32(tid))
		binary.LittleEndian.PutUint64(data[8:], uint64(id))
		return &parse.Record{Kind: parse.ItemEvent, Schema: sc, Type: sc.ID, Data: data, TS: 1000}
	}
	return rt, &out, mk
}

// TestCountAllocs: counting by comm allocates nothing per event once
// the keys exist.
func TestCountAllocs(t *testing.T) {
	rt, _, mk := setup(t, `tracepoint:raw_syscalls:sys_enter { @[comm] = count(); @n[tid, args->id] = count(); @s = sum(args->id); @h = hist(args->id); }`, false)
	recs := []*parse.Record{mk(1, 0), mk(2, 1), mk(3, 5000)}
	for _, r := range recs {
		rt.Record(r)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, r := range recs {
			if err := rt.Record(r); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per 3 events, want 0", allocs)
	}
}

func TestOutputFormats(t *testing.T) {
	src := `BEGIN { printf("%-6s|%4d|%x\n", "ab", 7, 255); }
tracepoint:raw_syscalls:sys_enter /args->id < 100/ { @[comm] = count(); @st = stats(args->id); @a[tid] = avg(args->id); @l = lhist(args->id, 0, 10, 5); $x = args->id > 3 ? 1 : 0; @big[$x] = count(); }
END { printf("end\n"); }`
	rt, out, mk := setup(t, src, false)
	if err := rt.Start(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*parse.Record{mk(1, 0), mk(2, 1), mk(3, 5), mk(3, 7)} { // args->id < 100 is the kernel's filter
		rt.Record(r)
	}
	if err := rt.Finish(); err != nil {
		t.Fatal(err)
	}
	want := `Attaching 3 probes...
ab    |   7|ff
end


@[init]: 1
@[bash]: 3
@a[1]: 0
@a[2]: 1
@a[3]: 6

@big[0]: 2
@big[1]: 2
@l: 
[0, 5)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[5, 10)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@st: count 4, average 3, total 13

`
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	rt, out, mk = setup(t, `tracepoint:raw_syscalls:sys_enter { @c[comm, tid] = count(); @h = hist(args->id); if (args->id == 3) { exit(); } }`, true)
	rt.Start()
	for _, r := range []*parse.Record{mk(1, 0), mk(2, 1), mk(2, 3), mk(3, 9)} {
		if err := rt.Record(r); errors.Is(err, ErrExit) {
			break
		}
	}
	rt.Finish()
	wantJSON := `{"type": "attached_probes", "data": {"probes": 1}}


{"type": "map", "data": {"@c": {"init,1": 1, "bash,2": 2}}}
{"type": "hist", "data": {"@h": [{"min": 0, "max": 0, "count": 1}, {"min": 1, "max": 1, "count": 1}, {"min": 2, "max": 3, "count": 1}]}}
`
	if got := out.String(); got != wantJSON {
		t.Errorf("json got:\n%s\nwant:\n%s", got, wantJSON)
	}
}

func TestWhileAndUnroll(t *testing.T) {
	rt, out, _ := setup(t, `BEGIN { $i = 0; while ($i < 5) { $i++; if ($i == 4) { break; } } unroll(3) { @u++; } printf("%d %d\n", $i, @u); exit(); }`, false)
	if err := rt.Start(); !errors.Is(err, ErrExit) {
		t.Fatalf("Start: %v, want ErrExit", err)
	}
	rt.Finish()
	if !strings.Contains(out.String(), "4 3\n") {
		t.Errorf("got %q", out.String())
	}
}

// BenchmarkCount is the runtime's cost per event of @[comm] = count().
func BenchmarkCount(b *testing.B) {
	rt, _, mk := setup(b, `tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }`, false)
	r := mk(2, 0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rt.Record(r)
	}
}

// TestTable: table() prints BCC's columns, largest first, the top N,
// with a second map's value under the same key.
func TestTable(t *testing.T) {
	rt, out, mk := setup(t, `tracepoint:raw_syscalls:sys_enter { @c[syscall_name(args->id)] = count(); @s[syscall_name(args->id)] = sum(args->id); }
END { table("%-8s %3d %4d\n", 2, @c, @s); clear(@c); clear(@s); }`, false)
	for _, r := range []*parse.Record{mk(1, 0), mk(1, 39), mk(1, 39), mk(1, 110), mk(1, 110), mk(1, 110), mk(1, 99999)} {
		if err := rt.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	rt.opts.Tool = true
	if err := rt.Finish(); err != nil {
		t.Fatal(err)
	}
	want := "getppid    3  330\ngetpid     2   78\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestNtopAndNames(t *testing.T) {
	if got := ntopBytes([]byte{127, 0, 0, 1}, 2); got != "127.0.0.1" {
		t.Errorf("ntop v4: %s", got)
	}
	v6 := make([]byte, 16)
	v6[15] = 1
	if got := ntopBytes(v6, afInet6); got != "::1" {
		t.Errorf("ntop v6: %s", got)
	}
	if got := syscallName(-5); got != "-5" {
		t.Errorf("unknown syscall: %s", got)
	}
	if _, _, err := script.Compile(`BEGIN { printf("%d %s\n", ppid, syscall_name(0)); table("%d\n", 1, @x); @x[1] = 1; }`); err != nil {
		t.Errorf("extensions refused: %v", err)
	}
}
