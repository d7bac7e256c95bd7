package tracefs

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// stapsdtNote builds one ELF note as a linker lays it out in
// .note.stapsdt: header, "stapsdt\0" padded to 4, the descriptor (pc,
// base, semaphore, provider, name, args) padded to 4.
func stapsdtNote(order binary.AppendByteOrder, addrSize int, typ uint32, owner string, pc, base, sem uint64, strs ...string) []byte {
	var desc []byte
	for _, a := range []uint64{pc, base, sem} {
		if addrSize == 4 {
			desc = order.AppendUint32(desc, uint32(a))
		} else {
			desc = order.AppendUint64(desc, a)
		}
	}
	for _, s := range strs {
		desc = append(append(desc, s...), 0)
	}
	name := append([]byte(owner), 0)
	var b []byte
	b = order.AppendUint32(b, uint32(len(name)))
	b = order.AppendUint32(b, uint32(len(desc)))
	b = order.AppendUint32(b, typ)
	b = append(b, name...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, desc...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestParseStapsdtNotes(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	tests := []struct {
		name  string
		data  []byte
		order interface {
			binary.ByteOrder
			binary.AppendByteOrder
		}
		size     int
		base     uint64
		hasBase  bool
		want     []USDTProbe
		wantErr  string
		wantNone bool
	}{
		{name: "64-bit little-endian", order: le, size: 8,
			data: stapsdtNote(le, 8, 3, "stapsdt", 0x1234, 0x2000, 0x4008, "prov", "probe", "-4@%edi 8@16(%rsp)"),
			base: 0x2000, hasBase: true,
			want: []USDTProbe{{Provider: "prov", Name: "probe", PC: 0x1234, Semaphore: 0x4008, Args: "-4@%edi 8@16(%rsp)"}}},
		{name: "32-bit big-endian", order: be, size: 4,
			data: stapsdtNote(be, 4, 3, "stapsdt", 0x10400, 0x10800, 0, "p", "n", "4@[sp, 12]"),
			want: []USDTProbe{{Provider: "p", Name: "n", PC: 0x10400, Args: "4@[sp, 12]"}}},
		{name: "prelinked: pc and semaphore move by .stapsdt.base - note base", order: le, size: 8,
			data: stapsdtNote(le, 8, 3, "stapsdt", 0x1000, 0x2000, 0x3000, "p", "n", ""),
			base: 0x402000, hasBase: true,
			want: []USDTProbe{{Provider: "p", Name: "n", PC: 0x401000, Semaphore: 0x403000}}},
		{name: "moved down (wrapping difference)", order: le, size: 4,
			data: stapsdtNote(le, 4, 3, "stapsdt", 0x9000, 0x8000, 0, "p", "n", ""),
			base: 0x1000, hasBase: true,
			want: []USDTProbe{{Provider: "p", Name: "n", PC: 0x2000}}},
		{name: "no .stapsdt.base: no adjustment", order: le, size: 8,
			data: stapsdtNote(le, 8, 3, "stapsdt", 0x1000, 0x2000, 0, "p", "n", "8@%rax"),
			want: []USDTProbe{{Provider: "p", Name: "n", PC: 0x1000, Args: "8@%rax"}}},
		{name: "other notes skipped; trailing zero padding", order: le, size: 8,
			data: cat(stapsdtNote(le, 8, 1, "GNU", 1, 2, 3, "x"), stapsdtNote(le, 8, 4, "stapsdt", 1, 2, 3, "x", "y", "z"),
				stapsdtNote(le, 8, 3, "stapsdt", 0x10, 0, 0, "a", "b", "1@$1"), make([]byte, 8)),
			want: []USDTProbe{{Provider: "a", Name: "b", PC: 0x10, Args: "1@$1"}}},
		{name: "old note without an argument string", order: le, size: 8,
			data: stapsdtNote(le, 8, 3, "stapsdt", 0x10, 0, 0, "a", "b"),
			want: []USDTProbe{{Provider: "a", Name: "b", PC: 0x10}}},
		{name: "empty section", order: le, size: 8, wantNone: true},
		{name: "truncated header", order: le, size: 8, data: []byte{1, 0, 0, 0, 5},
			wantErr: "stapsdt note 0 at byte 0: 5 bytes left, a note header needs 12"},
		{name: "descriptor past the end", order: le, size: 8,
			data:    stapsdtNote(le, 8, 3, "stapsdt", 1, 2, 3, "p", "n", "a")[:40],
			wantErr: "stapsdt note 0 at byte 0: name (8 bytes) and descriptor"},
		{name: "huge sizes do not overflow", order: le, size: 8,
			data:    []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0},
			wantErr: "run past the section's end"},
		{name: "descriptor shorter than three addresses", order: be, size: 8,
			data:    stapsdtNote(be, 4, 3, "stapsdt", 1, 2, 3),
			wantErr: "descriptor is 12 bytes, the three addresses need 24"},
		{name: "string without NUL", order: le, size: 8,
			data:    cat(stapsdtNote(le, 8, 1, "GNU", 1, 2, 3), fixDesc(stapsdtNote(le, 8, 3, "stapsdt", 1, 2, 3, "p", "n", "abc"))),
			wantErr: "stapsdt note 1 at byte 40: arguments string is not NUL-terminated"},
		{name: "empty provider", order: le, size: 8,
			data:    stapsdtNote(le, 8, 3, "stapsdt", 1, 2, 3, "", "n", ""),
			wantErr: "empty provider or probe name"},
		{name: "control character", order: le, size: 8,
			data:    stapsdtNote(le, 8, 3, "stapsdt", 1, 2, 3, "p", "n\x01", ""),
			wantErr: "control character"},
		{name: "bad address size", order: le, size: 2, wantErr: "address size 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStapsdtNotes(tt.data, tt.order, tt.size, tt.base, tt.hasBase)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNone && len(got) == 0 {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d probes %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("probe %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// fixDesc drops the last NUL of a note's strings (keeping the sizes), so
// the argument string runs into the padding: the descriptor shrinks by one.
func fixDesc(b []byte) []byte {
	le := binary.LittleEndian
	n := le.Uint32(b[4:])
	le.PutUint32(b[4:], n-1)
	return b
}

// TestParseStapsdtPython reads the notes of Debian's python3.11 (saved in
// testdata, so this runs anywhere): 8 probes (readelf -n agrees), prelink
// base as linked.
func TestParseStapsdtPython(t *testing.T) {
	data, err := os.ReadFile("testdata/usdt/python3.11.note.stapsdt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseStapsdtNotes(data, binary.LittleEndian, 8, 0x8cc5a0, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 {
		t.Fatalf("%d probes, want 8: %+v", len(got), got)
	}
	want := USDTProbe{Provider: "python", Name: "gc__start", PC: 0x4287f3, Semaphore: 0xa8426e, Args: "-4@112(%rsp)"}
	found := false
	for _, p := range got {
		if p.Name == want.Name {
			found = p == want
			if !found {
				t.Errorf("gc__start: got %+v, want %+v", p, want)
			}
		}
		if p.Provider != "python" || p.Semaphore == 0 {
			t.Errorf("probe %+v: want provider python with a semaphore", p)
		}
	}
	if !found {
		t.Error("no gc__start")
	}
}

func TestParseUSDTArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []USDTArg
		wantErr string
	}{
		{in: "", want: []USDTArg{}},
		{in: "-4@%edi 8@16(%rsp)", want: []USDTArg{{4, true, "%edi"}, {8, false, "16(%rsp)"}}},
		{in: "-1@%cl 1@%sil  2@$-7", want: []USDTArg{{1, true, "%cl"}, {1, false, "%sil"}, {2, false, "$-7"}}},
		{in: "4@[sp, 12] -8@x4 8@[sp]", want: []USDTArg{{4, false, "[sp, 12]"}, {8, true, "x4"}, {8, false, "[sp]"}}},
		{in: "%rax", want: []USDTArg{{8, false, "%rax"}}}, // old notes without a size
		{in: "3@%eax", wantErr: "usdt argument 0 \"3@%eax\": size 3"},
		{in: "4@", wantErr: "empty operand"},
		{in: "4@[sp, 12", wantErr: "unbalanced brackets"},
		{in: strings.Repeat("8@%rax ", 33), wantErr: "33 (max 32)"},
	}
	for _, tt := range tests {
		got, err := ParseUSDTArgs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q arg %d: got %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
	if a := (USDTArg{4, true, "%edi"}); a.Type() != "s32" || a.String() != "-4@%edi" {
		t.Errorf("Type %s String %s", a.Type(), a.String())
	}
	if a := (USDTArg{1, false, "%al"}); a.Type() != "u8" {
		t.Errorf("Type %s", a.Type())
	}
}

func TestUSDTFetch(t *testing.T) {
	addr := func(sym string, off int64) (string, error) {
		if sym != "counter" {
			return "", errors.New("no symbol " + sym)
		}
		return "@+0x" + strconv.FormatUint(uint64(0x4000+off), 16), nil
	}
	x86 := []struct{ op, want, err string }{
		{"%rdi", "%di", ""}, {"%edi", "%di", ""}, {"%di", "%di", ""}, {"%dil", "%di", ""},
		{"%rax", "%ax", ""}, {"%eax", "%ax", ""}, {"%ax", "%ax", ""}, {"%al", "%ax", ""},
		{"%rsp", "%sp", ""}, {"%spl", "%sp", ""}, {"%rip", "%ip", ""},
		{"%r8", "%r8", ""}, {"%r8d", "%r8", ""}, {"%r8w", "%r8", ""}, {"%r8b", "%r8", ""}, {"%r15d", "%r15", ""},
		{"16(%rsp)", "+16(%sp)", ""}, {"-8(%rbp)", "-8(%bp)", ""}, {"(%rdi)", "+0(%di)", ""}, {"0x10(%r12)", "+16(%r12)", ""},
		{"112(%rsp)", "+112(%sp)", ""},
		{"$42", `\42`, ""}, {"$-7", `\-7`, ""}, {"$0x10", `\16`, ""},
		{"counter(%rip)", "@+0x4000", ""}, {"counter+8(%rip)", "@+0x4008", ""}, {"counter-4(%rip)", "@+0x3ffc", ""},
		{"counter", "@+0x4000", ""}, {"4096", "@0x1000", ""},
		{"0(%r13,%rax,4)", "", "index register"}, {"(,%rax,8)", "", "index register"},
		{"%ah", "", "high-byte register %ah"},
		{"%xmm0", "", "unknown x86 register %xmm0"},
		{"%fs:8", "", "segment-relative"},
		{"16(%rip)", "", "rip-relative offset without a symbol"},
		{"missing(%rip)", "", "no symbol missing"},
		{"$sym", "", "not a number"},
		{"16(%rsp", "", "unclosed parenthesis"},
		{"x(%rsp)", "", "displacement \"x\" is not a number"},
	}
	for _, tt := range x86 {
		got, err := USDTFetch(elf.EM_X86_64, USDTArg{Size: 8, Operand: tt.op}, addr)
		checkFetch(t, "x86-64 "+tt.op, got, err, tt.want, tt.err)
	}
	arm := []struct{ op, want, err string }{
		{"x4", "%x4", ""}, {"w4", "%x4", ""}, {"x30", "%x30", ""}, {"sp", "%sp", ""},
		{"[sp]", "+0(%sp)", ""}, {"[sp, 12]", "+12(%sp)", ""}, {"[x29, -8]", "-8(%x29)", ""}, {"[x1, #16]", "+16(%x1)", ""},
		{"12", `\12`, ""}, {"#-3", `\-3`, ""},
		{"[x1, x2]", "", "index register"}, {"[x1, x2, lsl #3]", "", "scaled index"},
		{"x31", "", "unknown arm64 operand"}, {"[x31]", "", "unknown arm64 register x31"}, {"q0", "", "unknown arm64 operand"},
		{"[sp, 12", "", "unclosed bracket"},
	}
	for _, tt := range arm {
		got, err := USDTFetch(elf.EM_AARCH64, USDTArg{Size: 4, Operand: tt.op}, nil)
		checkFetch(t, "arm64 "+tt.op, got, err, tt.want, tt.err)
	}
	if _, err := USDTFetch(elf.EM_PPC64, USDTArg{Size: 8, Operand: "%r3"}, nil); err == nil || !strings.Contains(err.Error(), "not EM_PPC64") {
		t.Errorf("ppc64: %v", err)
	}
}

func checkFetch(t *testing.T, what, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %q, %v; want an error with %q", what, got, err, wantErr)
		}
		return
	}
	if err != nil || got != want {
		t.Errorf("%s: got %q, %v; want %q", what, got, err, want)
		return
	}
	// What we make must be what the probe syntax takes.
	if _, err := walkFetch(got, 0, fetchProbe, nil); err != nil {
		t.Errorf("%s: %q is not a fetch arg: %v", what, got, err)
	}
}

func TestParseUSDTSpec(t *testing.T) {
	tests := []struct {
		in, path, prov, name, err string
		extra                     int
	}{
		{in: "usdt:/usr/bin/python3.11:python:gc__start", path: "/usr/bin/python3.11", prov: "python", name: "gc__start"},
		{in: "usdt:/usr/bin/python3.11:gc__*", path: "/usr/bin/python3.11", name: "gc__*"},
		{in: " usdt:prog:p:n s=+0(%di):ustring ", path: "prog", prov: "p", name: "n", extra: 1},
		{in: "usdt:/bin/x", err: "want usdt:BINARY:PROVIDER:NAME"},
		{in: "usdt:", err: "want usdt:BINARY:PROVIDER:NAME"},
		{in: "usdt:/a:b:c:d", err: "want usdt:BINARY:PROVIDER:NAME"},
		{in: "usdt:/a::n", err: "empty binary, provider or name"},
		{in: "usdt:/a:p:[", err: "bad glob"},
		{in: "usdt:/a:p:n arg0=%ax", err: "argument name \"arg0\" is taken"},
		{in: "usdt:/a:p:n x=$bogus", err: "unknown variable"},
		{in: "usdt:/a:p:n\nx", err: "newline"},
	}
	for _, tt := range tests {
		u, err := ParseUSDTSpec(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if u.Path != tt.path || u.Provider != tt.prov || u.Name != tt.name || len(u.Extra) != tt.extra {
			t.Errorf("%q: got %+v", tt.in, u)
		}
	}
	if !IsProbeSpec("usdt:/bin/x:p:n") || IsProbeSpec("usdtx:a") {
		t.Error("IsProbeSpec and usdt:")
	}
	if _, err := ParseProbeSpec("usdt:/bin/x:p:n"); err == nil || !strings.Contains(err.Error(), "USDTProbeSpecs") {
		t.Errorf("ParseProbeSpec(usdt:): %v", err)
	}
}

// TestUSDTProbeSpecs: matching, ambiguity, semaphores, the index-register
// error, globs that skip what cannot be expressed, and the uprobe_events
// line with its ref_ctr_offset.
func TestUSDTProbeSpecs(t *testing.T) {
	probes := []USDTProbe{
		{Provider: "python", Name: "gc__start", PC: 0x4287f3, Offset: 0x287f3, Semaphore: 0xa8426e, SemaphoreOffset: 0x68426e, Args: "-4@112(%rsp)"},
		{Provider: "python", Name: "gc__done", PC: 0x42873b, Offset: 0x2873b, Args: "-8@%r12"},
		{Provider: "other", Name: "gc__done", PC: 0x500000, Offset: 0x100000, Args: "-4@0(%r13,%rax,4)"},
		{Provider: "app", Name: "global", PC: 0x1100, Offset: 0x1100, Args: "4@counter+4(%rip) -2@$3"},
	}
	syms := func(s string) (uint64, bool) { return 0x4010, s == "counter" }
	spec := func(s string, refCtr bool) ([]*ProbeSpec, error) {
		u, err := ParseUSDTSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		return usdtProbeSpecs(u, "/bin/prog", elf.EM_X86_64, probes, syms, refCtr, nil)
	}
	line := func(p *ProbeSpec) string {
		cmd, _, err := p.Command("tracer_1_abcd", p.DefaultEvent(), p.Offset, ArgMode{Arch: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	got, err := spec("usdt:/bin/prog:python:gc__start", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || line(got[0]) != "p:tracer_1_abcd/python_gc__start /bin/prog:0x287f3(0x68426e) arg0=+112(%sp):s32" {
		t.Fatalf("gc__start: %d specs, %q", len(got), line(got[0]))
	}
	got, err = spec("usdt:/bin/prog:app:global", true)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	// counter+4 is 0x4014; the probe's address and offset are equal here.
	if l := line(got[0]); l != `p:tracer_1_abcd/app_global /bin/prog:0x1100 arg0=@+0x4014:u32 arg1=\3:s16` {
		t.Errorf("global: %q", l)
	}
	if _, err := spec("usdt:/bin/prog:python:gc__start", false); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "ref_ctr_offset needs Linux 4.20+") {
		t.Errorf("no ref_ctr: %v", err)
	}
	if _, err := spec("usdt:/bin/prog:gc__done", true); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), "ambiguous: other:gc__done, python:gc__done") {
		t.Errorf("ambiguous: %v", err)
	}
	_, err = spec("usdt:/bin/prog:other:gc__done", true)
	if err == nil || !strings.Contains(err.Error(), `usdt probe other:gc__done in /bin/prog, argument arg0 (-4@0(%r13,%rax,4)): operand "0(%r13,%rax,4)": uprobe fetch args cannot express it: an index register`) {
		t.Errorf("index: %v", err)
	}
	// A glob skips it (with a notice) and keeps the rest.
	got, err = spec("usdt:/bin/prog:*:gc__done", true)
	if err != nil || len(got) != 1 || got[0].Event != "python_gc__done" {
		t.Errorf("glob: %v %v", got, err)
	}
	got, err = spec("usdt:/bin/prog:gc__*", true)
	if err != nil || len(got) != 2 {
		t.Errorf("two-part glob: %v %v", got, err)
	}
	if _, err := spec("usdt:/bin/prog:python:nope", true); !errors.Is(err, ErrNoEvent) || !strings.Contains(err.Error(), "app:global, other:gc__done, python:gc__done, python:gc__start") {
		t.Errorf("missing: %v", err)
	}
	u, _ := ParseUSDTSpec("usdt:/bin/prog:p:n")
	if _, err := usdtProbeSpecs(u, "/bin/prog", elf.EM_X86_64, nil, nil, true, nil); !errors.Is(err, ErrNoEvent) || !strings.Contains(err.Error(), "no usdt probes") {
		t.Errorf("no notes: %v", err)
	}
}
