package tracefs

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

// FuzzStapsdtNotes feeds arbitrary section bytes to the note parser (both
// byte orders, both address sizes) and each probe's argument string to
// the operand translator: no panics, bounded strings, and every fetch arg
// made is one the probe syntax takes. Seeds: Debian python3.11's notes
// (testdata) and built notes of every layout.
func FuzzStapsdtNotes(f *testing.F) {
	if b, err := os.ReadFile("testdata/usdt/python3.11.note.stapsdt"); err == nil {
		f.Add(b, true, false)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	f.Add(stapsdtNote(le, 8, 3, "stapsdt", 0x1234, 0x2000, 0x4008, "p", "n", "-4@%edi 8@16(%rsp) 4@$-7 -8@g(%rip) -4@0(%r13,%rax,4)"), true, false)
	f.Add(stapsdtNote(be, 4, 3, "stapsdt", 0x10400, 0x10800, 0, "p", "n", "4@[sp, 12] -8@x4 8@[sp] 4@12"), false, true)
	f.Add(stapsdtNote(le, 4, 3, "stapsdt", 1, 2, 3, "p", "n"), false, false)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 0, 0, 0}, true, false)
	f.Fuzz(func(t *testing.T, data []byte, is64, big bool) {
		size := 4
		if is64 {
			size = 8
		}
		var order binary.ByteOrder = le
		if big {
			order = be
		}
		probes, err := parseStapsdtNotes(data, order, size, 0x1000, true)
		if err != nil {
			if !strings.Contains(err.Error(), "stapsdt note") {
				t.Fatalf("error without the note's place: %v", err)
			}
			return
		}
		for _, p := range probes {
			if len(p.Provider) > maxStapsdtString || len(p.Name) > maxStapsdtString || len(p.Args) > maxStapsdtString {
				t.Fatalf("unbounded strings: %d %d %d", len(p.Provider), len(p.Name), len(p.Args))
			}
			checkFuzzArgs(t, p.Args)
		}
	})
}

// FuzzUSDTArgs translates arbitrary argument strings for x86-64 and arm64.
func FuzzUSDTArgs(f *testing.F) {
	for _, s := range []string{"-4@%edi 8@16(%rsp)", "-1@%cl 1@%sil -2@%di 2@%r8w", "-4@$42 -8@$1234567890123", "-8@g_s64(%rip) 4@g_u32+4(%rip)",
		"-4@0(%r13,%rax,4)", "4@[sp, 12] -8@x4 8@[sp] 4@[x29, -8] 4@#3", "%rax", "8@-0x10(%rbp)", "4@[", "1@$-9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFuzzArgs(t, s) })
}

func checkFuzzArgs(t *testing.T, s string) {
	args, err := ParseUSDTArgs(s)
	if err != nil {
		return
	}
	addr := func(sym string, off int64) (string, error) { return "@+0x10", nil }
	for _, a := range args {
		if a.Size != 1 && a.Size != 2 && a.Size != 4 && a.Size != 8 {
			t.Fatalf("%q: size %d", s, a.Size)
		}
		if err := checkFetchType(a.Type()); err != nil {
			t.Fatalf("%q: type %s: %v", s, a.Type(), err)
		}
		for _, m := range []elf.Machine{elf.EM_X86_64, elf.EM_AARCH64} {
			fa, err := USDTFetch(m, a, addr)
			if err != nil {
				continue
			}
			if _, err := walkFetch(fa, 0, fetchProbe, nil); err != nil {
				t.Fatalf("%s operand %q gave %q, not a fetch arg: %v", m, a.Operand, fa, err)
			}
		}
	}
}
