package parse

import (
	"encoding/binary"
	"strings"
	"testing"
)

// Probe formats as the 6.18 kernel generates them (traceprobe_set_print_fmt).
const fmtUprobe = `name: od
ID: 2400
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long __probe_ip;	offset:8;	size:8;	signed:0;
	field:u64 a;	offset:16;	size:8;	signed:0;
	field:__data_loc char[] s;	offset:24;	size:4;	signed:1;
	field:u8 g[];	offset:28;	size:3;	signed:0;

print fmt: "(%lx) a=0x%Lx s=\"%s\" g={%u,%u,%u}", REC->__probe_ip, REC->a, __get_str(s), REC->g[0], REC->g[1], REC->g[2]
`

const fmtRetprobe = `name: odr
ID: 2401
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long __probe_func;	offset:8;	size:8;	signed:0;
	field:unsigned long __probe_ret_ip;	offset:16;	size:8;	signed:0;
	field:u64 r;	offset:24;	size:8;	signed:0;

print fmt: "(%lx <- %lx) r=0x%Lx", REC->__probe_func, REC->__probe_ret_ip, REC->r
`

// TestProbeText checks the kernel's dedicated printers for probe events:
// uprobe lines as seen on 6.18 ("od: (0x7f619f07ae90) a=... s="/""), and
// the return form "(return address <- function)"; kprobes print symbols.
func TestProbeText(t *testing.T) {
	d := NewDecoder(mustLayout(t, hdrPage64, false))
	up, err := d.AddFormat("tracer_1_ab", []byte(fmtUprobe))
	if err != nil {
		t.Fatal(err)
	}
	ret, err := d.AddFormat("tracer_1_ab", []byte(fmtRetprobe))
	if err != nil {
		t.Fatal(err)
	}
	if up.special != specialProbe || ret.special != specialRetProbe {
		t.Fatalf("kinds %v %v", up.special, ret.special)
	}
	if g := up.Fields[up.FieldIndex("g")]; g.Kind != KindArray || g.Count != 3 {
		t.Fatalf("u8 g[] of size 3 parsed as %+v", g)
	}
	d.Symbols = ParseKallsyms([]byte("ffffffff81400000 T do_sys_openat2\nffffffff81400180 T do_sys_open\nffffffff81500000 T __x64_sys_openat\nffffffff81500100 T other\n"))
	d.Comms = ParseSavedCmdlines([]byte("30652 ls\n"))
	le := binary.LittleEndian
	mk := func(id uint16, n int) []byte {
		b := make([]byte, n)
		le.PutUint16(b, id)
		le.PutUint32(b[4:], 30652)
		return b
	}
	u := mk(2400, 40)
	le.PutUint64(u[8:], 0x7f619f07ae90)
	le.PutUint64(u[16:], 0x55a04ebc9250)
	le.PutUint32(u[24:], 2<<16|32)
	copy(u[28:], []byte{47, 0, 0})
	copy(u[32:], "/\x00")
	r := mk(2401, 32)
	le.PutUint64(r[8:], 0x7f619f07ae90)
	le.PutUint64(r[16:], 0x55a0225feee6)
	le.PutUint64(r[24:], 0x55a04ebc9270)
	k := mk(2400, 40)
	le.PutUint64(k[8:], 0xffffffff81400000)
	le.PutUint32(k[24:], 2<<16|32)
	copy(k[32:], "x\x00")
	kr := mk(2401, 32)
	le.PutUint64(kr[8:], 0xffffffff81400000)
	le.PutUint64(kr[16:], 0xffffffff81500010)
	for _, c := range []struct {
		data []byte
		want string
	}{
		{u, `              ls-30652   [000] .....  4129.469359: od: (0x7f619f07ae90) a=0x55a04ebc9250 s="/" g={47,0,0}` + "\n"},
		{r, `              ls-30652   [000] .....  4129.469359: odr: (0x55a0225feee6 <- 0x7f619f07ae90) r=0x55a04ebc9270` + "\n"},
		{k, `              ls-30652   [000] .....  4129.469359: od: (do_sys_openat2+0x0/0x180) a=0x0 s="x" g={0,0,0}` + "\n"},
		{kr, `              ls-30652   [000] .....  4129.469359: odr: (__x64_sys_openat+0x10/0x100 <- do_sys_openat2) r=0x0` + "\n"},
	} {
		rec := Record{Kind: ItemEvent, TS: 4129469359000, Data: c.data, longSize: 8}
		rec.Type = int(le.Uint16(c.data))
		rec.Schema = d.Schema(rec.Type)
		if got := string(d.AppendText(nil, &rec)); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// fmtEprobe is an eprobe's format as Linux 6.1 generates it for
// "e:tracer_x/op syscalls.sys_enter_openat path=+0($filename):ustring
// fl=$flags dfd=$dfd:s32": no field says "eprobe", and the print fmt
// starts with the space before the first argument.
const fmtEprobe = `name: op
ID: 1392
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] path;	offset:8;	size:4;	signed:1;
	field:u64 fl;	offset:12;	size:8;	signed:0;
	field:s32 dfd;	offset:20;	size:4;	signed:1;

print fmt: " path=\"%s\" fl=0x%Lx dfd=%d", __get_str(path), REC->fl, REC->dfd
`

// fmtEprobeNoArgs is an eprobe without fetch args ("e:tracer_x/sw sched.sched_switch").
const fmtEprobeNoArgs = `name: sw
ID: 1393
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

print fmt: ""
`

// TestEprobeText: an eprobe prints as print_eprobe_event does,
// "NAME: (SYSTEM.EVENT) ARGS" (the line below is from the 6.1 guest),
// once tracefs has said which event it is attached to; before, like any
// event, as trace-cmd prints it. JSON has the fetch args as typed fields.
func TestEprobeText(t *testing.T) {
	d := NewDecoder(mustLayout(t, hdrPage64, false))
	op, err := d.AddFormat("tracer_x", []byte(fmtEprobe))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := d.AddFormat("tracer_x", []byte(fmtEprobeNoArgs))
	if err != nil {
		t.Fatal(err)
	}
	d.Comms = ParseSavedCmdlines([]byte("104 cat\n"))
	le := binary.LittleEndian
	b := make([]byte, 40)
	le.PutUint16(b, 1392)
	b[3] = 2 // preempt count, as the eprobe's trigger runs
	le.PutUint32(b[4:], 104)
	le.PutUint32(b[8:], 14<<16|24)
	le.PutUint64(b[12:], 0)
	le.PutUint32(b[20:], uint32(0xffffff9c)) // -100, AT_FDCWD
	copy(b[24:], "/nonexist-abc\x00")
	rec := Record{Kind: ItemEvent, TS: 2895720000, CPU: 1, Data: b, longSize: 8, Type: 1392, Schema: op}
	const head = `             cat-104     [001] ...2.     2.895720: `
	if got, want := string(d.AppendText(nil, &rec)), head+`op:  path="/nonexist-abc" fl=0x0 dfd=-100`+"\n"; got != want {
		t.Errorf("unmarked eprobe:\n got %q\nwant %q", got, want)
	}
	op.SetEprobeTarget("syscalls", "sys_enter_openat")
	sw.SetEprobeTarget("sched", "sched_switch")
	if got, want := string(d.AppendText(nil, &rec)), head+`op: (syscalls.sys_enter_openat) path="/nonexist-abc" fl=0x0 dfd=-100`+"\n"; got != want {
		t.Errorf("eprobe:\n got %q\nwant %q", got, want)
	}
	if got, want := string(d.AppendJSON(nil, &rec)), `"fields":{"path":"/nonexist-abc","fl":0,"dfd":-100}`; !strings.Contains(got, want) {
		t.Errorf("eprobe JSON %s\nwant it to hold %s", got, want)
	}
	n := make([]byte, 8)
	le.PutUint16(n, 1393)
	le.PutUint32(n[4:], 104)
	rec = Record{Kind: ItemEvent, TS: 2895720000, CPU: 1, Data: n, longSize: 8, Type: 1393, Schema: sw}
	if got, want := string(d.AppendText(nil, &rec)), `             cat-104     [001] .....     2.895720: sw: (sched.sched_switch)`+"\n"; got != want {
		t.Errorf("eprobe without args:\n got %q\nwant %q", got, want)
	}
	// Bad targets are ignored, so the text never holds control characters.
	for _, bad := range [][2]string{{"", "x"}, {"a b", "c"}, {"a", strings.Repeat("x", 200)}, {"a", "b\n"}} {
		s := &Schema{}
		s.SetEprobeTarget(bad[0], bad[1])
		if s.EprobeTarget() != "" {
			t.Errorf("SetEprobeTarget(%q, %q) took it", bad[0], bad[1])
		}
	}
}
