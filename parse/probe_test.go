package parse

import (
	"encoding/binary"
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
