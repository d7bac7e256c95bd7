package parse

import (
	"encoding/binary"
	"errors"
	"testing"
)

const fmtKinds = `name: kinds
ID: 900
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;
	field:int common_padding;	offset:8;	size:4;	signed:1;

	field:int dfd;	offset:16;	size:8;	signed:0;
	field:char comm[16];	offset:24;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:40;	size:4;	signed:0;
	field:__rel_loc char[] rel;	offset:44;	size:4;	signed:0;
	field:__data_loc cpumask_t cpumask;	offset:48;	size:4;	signed:0;
	field:u64 ids[2];	offset:56;	size:16;	signed:0;
	field:s8 small;	offset:72;	size:1;	signed:1;
	field:__u8 saddr[sizeof(struct sockaddr_in6)];	offset:73;	size:28;	signed:0;
	field:char buf[];	offset:104;	size:0;	signed:0;

print fmt: "dfd=%d", REC->dfd
`

func TestParseFormatKinds(t *testing.T) {
	s, err := ParseFormat("test", []byte(fmtKinds), 8)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "kinds" || s.ID != 900 || s.PrintFmt != `"dfd=%d", REC->dfd` {
		t.Fatalf("schema %q %d %q", s.Name, s.ID, s.PrintFmt)
	}
	want := []struct {
		name     string
		kind     FieldKind
		off, sz  int
		signed   bool
		elem, n  int
		str, com bool
	}{
		{"common_type", KindScalar, 0, 2, false, 2, 0, false, true},
		{"common_flags", KindScalar, 2, 1, false, 1, 0, false, true},
		{"common_preempt_count", KindScalar, 3, 1, false, 1, 0, false, true},
		{"common_pid", KindScalar, 4, 4, true, 4, 0, false, true},
		{"common_padding", KindScalar, 8, 4, true, 4, 0, false, true},
		{"dfd", KindScalar, 16, 8, false, 8, 0, false, false},
		{"comm", KindArray, 24, 16, false, 1, 16, true, false},
		{"name", KindDataLoc, 40, 4, false, 1, 0, true, false},
		{"rel", KindRelLoc, 44, 4, false, 1, 0, true, false},
		{"cpumask", KindDataLoc, 48, 4, false, 8, 0, false, false},
		{"ids", KindArray, 56, 16, false, 8, 2, false, false},
		{"small", KindScalar, 72, 1, true, 1, 0, false, false},
		{"saddr", KindArray, 73, 28, false, 1, 28, false, false},
		{"buf", KindFlex, 104, 0, false, 1, 0, true, false},
	}
	if len(s.Fields) != len(want) {
		t.Fatalf("%d fields, want %d", len(s.Fields), len(want))
	}
	for i, w := range want {
		f := s.Fields[i]
		if f.Name != w.name || f.Kind != w.kind || f.Offset != w.off || f.Size != w.sz || f.Signed != w.signed ||
			f.ElemSize != w.elem || f.Count != w.n || f.IsString != w.str || f.IsCommon != w.com {
			t.Errorf("field %d = %+v, want %+v", i, f, w)
		}
	}
	if s.FieldIndex("cpumask") != 9 || s.FieldIndex("nope") != -1 {
		t.Error("FieldIndex")
	}
}

func TestParseFormatOld(t *testing.T) {
	// 2.6.3x style: no signed:, a 2-byte __data_loc.
	old := "name: old\nID: 3\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\n\tfield:int common_pid;\toffset:4;\tsize:4;\n\n\tfield:__data_loc char[] msg;\toffset:8;\tsize:2;\n\tfield:int v;\toffset:12;\tsize:4;\n\nprint fmt: \"%s\", __get_str(msg)\n"
	s, err := ParseFormat("x", []byte(old), 4)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fields[2].Kind != KindDynOld || !s.Fields[3].Signed || s.Fields[0].Signed {
		t.Fatalf("%+v", s.Fields)
	}
	d := NewDecoder(Layout{LongSize: 4, DataOffset: 12, DataSize: 4084, CommitOff: 8})
	d.Add(s)
	data := make([]byte, 24)
	binary.LittleEndian.PutUint16(data[8:], 16)
	copy(data[16:], "hi\x00")
	r := Record{Schema: s, Data: data, longSize: 4}
	if got := string(r.Str(2)); got != "hi" {
		t.Errorf("legacy data_loc = %q", got)
	}
}

func TestRecordAccessors(t *testing.T) {
	s, err := ParseFormat("test", []byte(fmtKinds), 8)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 140)
	le := binary.LittleEndian
	le.PutUint32(data[4:], 0xfffffffe)  // pid -2
	le.PutUint64(data[16:], 0xffffff9c) // dfd: AT_FDCWD as the kernel stores an int in 8 unsigned bytes
	copy(data[24:], "bash\x00junk")
	le.PutUint32(data[40:], 6<<16|108)      // name at 108, 6 bytes
	le.PutUint32(data[44:], 3<<16|(120-48)) // rel: offset from the end of the field (48)
	le.PutUint32(data[48:], 16<<16|124)     // cpumask: two longs at 124
	le.PutUint64(data[56:], 11)
	le.PutUint64(data[64:], 12)
	data[72] = 0xff
	copy(data[104:], "flex")
	copy(data[108:], "hello\x00")
	copy(data[120:], "ab\x00")
	le.PutUint64(data[124:], 0x5)
	r := Record{Schema: s, Data: data, longSize: 8}
	if r.PID() != -2 {
		t.Errorf("pid %d", r.PID())
	}
	if got := r.Int(s.FieldIndex("dfd")); got != 0xffffff9c {
		t.Errorf("dfd %d: size 8 unsigned wins over the declared int", got)
	}
	if got := r.Int(s.FieldIndex("small")); got != -1 {
		t.Errorf("small %d", got)
	}
	for name, want := range map[string]string{"comm": "bash", "name": "hello", "rel": "ab"} {
		if got := string(r.Str(s.FieldIndex(name))); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	ci := s.FieldIndex("cpumask")
	if r.Len(ci) != 2 || r.Elem(ci, 0) != 5 || r.Elem(ci, 1) != 0 || r.Elem(ci, 2) != 0 {
		t.Errorf("cpumask len %d elems %d %d", r.Len(ci), r.Elem(ci, 0), r.Elem(ci, 1))
	}
	ii := s.FieldIndex("ids")
	if r.Len(ii) != 2 || r.Elem(ii, 1) != 12 || r.Uint(ii) != 11 {
		t.Errorf("ids")
	}
	if b, ok := r.Bytes(s.FieldIndex("buf")); !ok || string(b[:4]) != "flex" {
		t.Errorf("flex %q", b)
	}
	// A data_loc pointing outside the payload is reported, not followed.
	le.PutUint32(data[40:], 60<<16|108)
	if _, ok := r.Bytes(s.FieldIndex("name")); ok {
		t.Error("out-of-bounds __data_loc accepted")
	}
	short := Record{Schema: s, Data: data[:20], longSize: 8}
	if _, ok := short.IntOK(s.FieldIndex("dfd")); ok {
		t.Error("field past a short payload accepted")
	}
}

func TestParseFormatErrors(t *testing.T) {
	for _, bad := range []string{
		"",
		"name: x\n",
		"name: x\nID: 99999999999\nformat:\n",
		"name: x\nID: 1\nfield:int a;\toffset:0;\tsize:4;\n",
		"name: x\nID: 1\nformat:\n\tfield:int a;\toffset:zz;\tsize:4;\n",
		"name: x\nID: 1\nformat:\n\tfield:__data_loc char[] a;\toffset:0;\tsize:8;\n",
		"name: x\nID: 1\nformat:\n\tbogus line\n",
	} {
		_, err := ParseFormat("s", []byte(bad), 8)
		var fe *FormatError
		if err == nil || !errors.As(err, &fe) {
			t.Errorf("ParseFormat(%q) = %v, want a FormatError", bad, err)
		}
	}
}
