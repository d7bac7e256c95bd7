package aggregate

import (
	"strings"
	"testing"
)

// histText is an events/<sys>/<ev>/hist file as Linux 6.1 prints it for
// keys=common_pid.execname,common_cpu,value (value signed: -7 comes back
// as 2^64-7) and a string key on another event.
const histText = `# event histogram
#
# trigger info: hist:keys=common_pid.execname,common_cpu,value:vals=hitcount:sort=hitcount:size=16384 [active]
#

{ common_pid: bash            [      1234], common_cpu:          0, value: 18446744073709551609 } hitcount:          2
{ common_pid: cat             [        42], common_cpu:          3, value:          5 } hitcount:          3
{ common_pid: a, b: c [x]     [        43], common_cpu:          1, value:          5 } hitcount:          1

Totals:
    Hits: 6
    Entries: 3
    Dropped: 4
`

func TestParseKernelHist(t *testing.T) {
	h, err := ParseKernelHist([]byte(histText))
	if err != nil {
		t.Fatal(err)
	}
	if h.Hits != 6 || h.NEntry != 3 || h.Dropped != 4 || len(h.Entries) != 3 {
		t.Fatalf("totals %+v", h)
	}
	e := h.Entries[0]
	if len(e.Keys) != 3 || e.Keys[1].Name != "common_cpu" || e.Keys[2].Name != "value" || e.Hitcount() != 2 {
		t.Fatalf("entry %+v", e)
	}
	comm, pid, err := e.Keys[0].ExecName()
	if err != nil || comm != "bash" || pid != 1234 {
		t.Fatalf("execname %q %d %v", comm, pid, err)
	}
	if v, err := e.Keys[2].Int(); err != nil || v != -7 {
		t.Fatalf("value %d %v", v, err)
	}
	if comm, pid, _ := h.Entries[2].Keys[0].ExecName(); comm != "a, b: c [x]" || pid != 43 {
		t.Fatalf("comm with separators: %q %d", comm, pid)
	}
	if _, err := ParseKernelHist([]byte("garbage\n")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestKernelPlanCounter(t *testing.T) {
	s := schema(t, testFormat)
	k, _ := NewKeyer([]string{"pid", "comm", "cpu", "value", "event"})
	p, err := k.KernelPlan(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Keys, ","); got != "common_pid.execname,common_cpu,value" {
		t.Fatalf("keys %s", got)
	}
	h, _ := ParseKernelHist([]byte(histText))
	c := NewCounter(k)
	for i := range h.Entries {
		key, err := p.Key(&h.Entries[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		c.AddKey(key, h.Entries[i].Hitcount())
	}
	// The same counts fed as records must give the same rows.
	k2, _ := NewKeyer([]string{"pid", "comm", "cpu", "value", "event"})
	k2.Comm = func(pid int) string { return map[int]string{1234: "bash", 42: "cat", 43: "a, b: c [x]"}[pid] }
	c2 := NewCounter(k2)
	for i := 0; i < 2; i++ {
		c2.Add(rec(s, 1, 0, 1234, -7, ""))
	}
	for i := 0; i < 3; i++ {
		c2.Add(rec(s, 1, 3, 42, 5, ""))
	}
	c2.Add(rec(s, 1, 1, 43, 5, ""))
	if a, b := rowsText(c.Rows(0)), rowsText(c2.Rows(0)); a != b || c.Total != c2.Total {
		t.Fatalf("kernel rows %s (total %d)\nrecord rows %s (total %d)", a, c.Total, b, c2.Total)
	}
	// A field the event lacks is "-", as in user space; a histogrammed
	// field that is also a key is one kernel key.
	k3, _ := NewKeyer([]string{"nosuch", "value"})
	p3, err := k3.KernelPlan(s, "value")
	if err != nil || strings.Join(p3.Keys, ",") != "value" {
		t.Fatalf("keys %v %v", p3, err)
	}
}

func TestKernelPlanHist(t *testing.T) {
	s := schema(t, testFormat)
	p, err := (*Keyer)(nil).KernelPlan(s, "value")
	if err != nil || strings.Join(p.Keys, ",") != "value" {
		t.Fatalf("plan %+v %v", p, err)
	}
	text := "{ value:          0 } hitcount: 3\n{ value:          1 } hitcount: 1\n{ value:          8 } hitcount: 2\n{ value: 18446744073709551615 } hitcount: 1\n"
	h, err := ParseKernelHist([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	kh := NewKeyedHist(NewLog2(), nil, "value")
	want := NewKeyedHist(NewLog2(), nil, "value")
	for i := range h.Entries {
		v, err := p.Value(&h.Entries[i])
		if err != nil {
			t.Fatal(err)
		}
		kh.AddValueN(nil, v, h.Entries[i].Hitcount())
		for n := uint64(0); n < h.Entries[i].Hitcount(); n++ {
			want.AddValue(nil, v)
		}
	}
	a, b := kh.Rows(0)[0].Hist, want.Rows(0)[0].Hist
	if a.Count != 7 || a.Count != b.Count || a.Sum != b.Sum || a.MinSeen != -1 || a.MaxSeen != 8 || len(a.Buckets()) != len(b.Buckets()) {
		t.Fatalf("AddValueN %+v, AddValue %+v", a, b)
	}
	for i, bk := range a.Buckets() {
		if bk.Count != b.Buckets()[i].Count {
			t.Fatalf("bucket %d: %d vs %d", i, bk.Count, b.Buckets()[i].Count)
		}
	}
}

func rowsText(rows []CountRow) string {
	var out []string
	for _, r := range rows {
		var p []string
		for _, v := range r.Key {
			p = append(p, v.String())
		}
		out = append(out, strings.Join(p, "/")+"="+itoa(r.Count))
	}
	return strings.Join(out, " ")
}

// captured61 is the hist file of keys=common_pid.execname,common_cpu on
// sched:sched_switch as the Debian 6.1 kernel printed it (scripts/vmtest).
const captured61 = `# event histogram
#
# trigger info: hist:keys=common_pid.execname,common_cpu:vals=hitcount:sort=hitcount:size=4096 if prev_pid >= 0 [active]
#

{ common_pid: ksoftirqd/0     [        14], common_cpu:          0 } hitcount:          1
{ common_pid: tracefs.test    [       184], common_cpu:          0 } hitcount:          1
{ common_pid: kworker/0:2     [        52], common_cpu:          0 } hitcount:          1
{ common_pid: tracefs.test    [       180], common_cpu:          1 } hitcount:          1
{ common_pid: rcu_preempt     [        15], common_cpu:          1 } hitcount:          3
{ common_pid: tracefs.test    [       181], common_cpu:          1 } hitcount:         44
{ common_pid: <idle>          [         0], common_cpu:          1 } hitcount:         44

Totals:
    Hits: 95
    Entries: 7
    Dropped: 0
`

func TestParseKernelHistCaptured(t *testing.T) {
	h, err := ParseKernelHist([]byte(captured61))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 7 || h.Hits != 95 || h.NEntry != 7 || h.Dropped != 0 {
		t.Fatalf("%+v", h)
	}
	var sum uint64
	for _, e := range h.Entries {
		sum += e.Hitcount()
	}
	comm, pid, err := h.Entries[6].Keys[0].ExecName()
	cpu, _ := h.Entries[6].Keys[1].Int()
	if sum != 95 || err != nil || comm != "<idle>" || pid != 0 || cpu != 1 {
		t.Fatalf("sum %d, last entry %q %d cpu %d %v", sum, comm, pid, cpu, err)
	}
	if comm, pid, _ := h.Entries[0].Keys[0].ExecName(); comm != "ksoftirqd/0" || pid != 14 {
		t.Fatalf("first entry %q %d", comm, pid)
	}
}
