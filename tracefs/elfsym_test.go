package tracefs

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// probeFixtureC is a tiny program with a function to probe: it calls
// tracer_target(40+i) for i < argv[1] and exits 0. Each call returns 2x+1.
const probeFixtureC = `
#include <stdlib.h>
__attribute__((noinline)) int tracer_target(int x) { __asm__ volatile(""); return 2 * x + 1; }
__attribute__((noinline)) int tracer_other(int x) { __asm__ volatile(""); return x - 1; }
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1, s = 0;
	for (int i = 0; i < n; i++) s += tracer_target(40 + i);
	return s < 0;
}
`

// buildCFixture compiles probeFixtureC with gcc and extra flags, skipping
// the test where there is no C compiler (as in the test VMs).
func buildCFixture(t *testing.T, name string, flags ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		if cc, err = exec.LookPath("cc"); err != nil {
			t.Skip("no C compiler (gcc) on this machine to build the probe fixture")
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "fixture.c")
	if err := os.WriteFile(src, []byte(probeFixtureC), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	args := append([]string{"-O1", "-o", bin, src}, flags...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Skipf("cannot build the C fixture with %s %v: %v\n%s", cc, args, err, out)
	}
	return bin
}

// expectedOffset computes a symbol's file offset from its section instead
// of the program headers, as an independent check.
func expectedOffset(t *testing.T, bin, sym string) uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, _ := f.Symbols()
	dsyms, _ := f.DynamicSymbols()
	for _, s := range append(syms, dsyms...) {
		if s.Name == sym && int(s.Section) < len(f.Sections) {
			sec := f.Sections[s.Section]
			return s.Value - sec.Addr + sec.Offset
		}
	}
	t.Fatalf("%s: no symbol %s", bin, sym)
	return 0
}

func TestResolveUprobe(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
	}{
		{"pie", []string{"-fPIE", "-pie"}},
		{"nopie", []string{"-fno-pie", "-no-pie"}},
		// Code in its own PT_LOAD, not the first one (the default of
		// recent binutils on x86_64, forced here).
		{"separate", []string{"-Wl,-z,separate-code"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bin := buildCFixture(t, c.name, c.flags...)
			for _, sym := range []string{"tracer_target", "tracer_other", "main"} {
				got, err := ResolveUprobe(bin, sym, 0)
				if err != nil {
					t.Fatal(err)
				}
				if want := expectedOffset(t, bin, sym); got != want {
					t.Errorf("%s: offset %#x, want %#x", sym, got, want)
				}
			}
			got, err := ResolveUprobe(bin, "tracer_target", 4)
			if want := expectedOffset(t, bin, "tracer_target") + 4; err != nil || got != want {
				t.Errorf("tracer_target+4 = %#x, %v; want %#x", got, err, want)
			}
			f, _ := elf.Open(bin)
			loads := 0
			for _, p := range f.Progs {
				if p.Type == elf.PT_LOAD {
					loads++
				}
			}
			f.Close()
			t.Logf("%d PT_LOAD segments", loads)
		})
	}
}

func TestResolveUprobeDynsymOnly(t *testing.T) {
	bin := buildCFixture(t, "stripped", "-rdynamic")
	want := expectedOffset(t, bin, "tracer_target")
	strip, err := exec.LookPath("strip")
	if err != nil {
		t.Skip("no strip")
	}
	if out, err := exec.Command(strip, "--strip-all", bin).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	f, _ := elf.Open(bin)
	if _, err := f.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
		t.Fatalf("strip left .symtab: %v", err)
	}
	f.Close()
	got, err := ResolveUprobe(bin, "tracer_target", 0)
	if err != nil || got != want {
		t.Fatalf("from .dynsym: %#x, %v; want %#x", got, err, want)
	}
}

func TestResolveUprobeMissing(t *testing.T) {
	bin := buildCFixture(t, "fixture")
	_, err := ResolveUprobe(bin, "tracer_targte", 0)
	if err == nil || !errors.Is(err, ErrNoEvent) || !strings.Contains(err.Error(), "did you mean tracer_target") {
		t.Fatalf("misspelt symbol: %v", err)
	}
	if _, err := ResolveUprobe(bin, "tracer_target", 1<<20); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Fatalf("offset past the end: %v", err)
	}
	if _, err := ResolveUprobe("/nonexistent/bin", "x", 0); err == nil {
		t.Fatal("missing file accepted")
	}
	syms, err := MatchSymbols(bin, "tracer_*")
	if err != nil || len(syms) != 2 || syms[0].Name != "tracer_other" || syms[1].Name != "tracer_target" {
		t.Fatalf("MatchSymbols = %+v, %v", syms, err)
	}
}

// TestResolveUprobeGo resolves a symbol of this Go test binary, which needs
// no C compiler (so it runs in the VMs too).
func TestResolveUprobeGo(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := elf.Open(self); err == nil {
		_, serr := f.Symbols()
		f.Close()
		if errors.Is(serr, elf.ErrNoSymbols) {
			t.Skip("this test binary was linked without a symbol table (go test strips it; go test -c keeps it)")
		}
	}
	off, err := ResolveUprobe(self, "runtime.main", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := expectedOffset(t, self, "runtime.main"); off != want {
		t.Fatalf("runtime.main at %#x, want %#x", off, want)
	}
}

func TestCloseNames(t *testing.T) {
	names := []string{"readline", "readline_internal", "rl_getc", "xmalloc", "read_builtin", "main"}
	got := closeNames(names, "redline", 3)
	if len(got) == 0 || got[0] != "readline" {
		t.Fatalf("closeNames = %v", got)
	}
	if got := closeNames(names, "zzzzzzzz", 3); len(got) != 0 {
		t.Fatalf("closeNames(far) = %v", got)
	}
}

// TestUprobeTargetChecks: a non-ELF target says so (it said EOF or "bad
// magic number '[35 33 47 98]'"), and a raw offset past the end of the
// file is refused before the kernel fails at enable with EINVAL (issue
// 11 item 16).
func TestUprobeTargetChecks(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script.sh")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	os.WriteFile(empty, nil, 0o755)
	for _, f := range []string{script, empty} {
		for _, sym := range []string{"main", ""} {
			_, err := ResolveUprobe(f, sym, 0)
			if !errors.Is(err, ErrNotELF) || !strings.Contains(err.Error(), "not an ELF file") {
				t.Errorf("ResolveUprobe(%s, %q) = %v", filepath.Base(f), sym, err)
			}
		}
		if _, err := ELFSymbols(f); !errors.Is(err, ErrNotELF) {
			t.Errorf("ELFSymbols(%s) = %v", filepath.Base(f), err)
		}
	}
	self, _ := os.Executable()
	st, _ := os.Stat(self)
	if _, err := ResolveUprobe(self, "", uint64(st.Size())); err == nil || !strings.Contains(err.Error(), "offset past the end of the file") {
		t.Errorf("offset at the end: %v", err)
	}
	if _, err := ResolveUprobe(self, "", 0x100); err != nil {
		t.Errorf("offset in the file: %v", err)
	}
}
