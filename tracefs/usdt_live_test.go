package tracefs

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// usdtLibC is a shared library with a semaphore-guarded probe: it fires
// only while a tracer has set the semaphore, and returns the semaphore so
// the program can print what it saw.
const usdtLibC = `#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short tracerlib_guarded_semaphore __attribute__((unused)) __attribute__((section(".probes")));

unsigned lib_guarded(int i) {
	unsigned short sem = tracerlib_guarded_semaphore;
	if (__builtin_expect(sem, 0))
		STAP_PROBE2(tracerlib, guarded, i, sem);
	return sem;
}
`

// usdtMainC is a PIE program whose probes take registers of every width
// (tracer:regs), immediates (imm), rip-relative globals (globals), memory
// through a pointer (mem) and an index register (indexed, which fetch
// args cannot express), signed and unsigned, 8 to 64 bits.
const usdtMainC = `#include <sys/sdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

unsigned lib_guarded(int i);

int64_t g_s64 = -9000000000000000000LL;
uint32_t g_u32 = 4000000000U;
int16_t g_s16 = -30000;
int arr[4] = {1, 2, 3, 4};

struct pair { int64_t a; int32_t b; };

__attribute__((noinline)) void mem(struct pair *p) {
	STAP_PROBE2(tracer, mem, p->a, p->b);
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1;
	for (int i = 0; i < n; i++) {
		int8_t s8 = -5 - i; uint8_t u8 = 250 + i; int16_t s16 = -30000 - i; uint16_t u16 = 65000 + i;
		int32_t s32 = -2000000000 - i; uint32_t u32 = 4000000000U + i;
		int64_t s64 = -9000000000000000000LL - i; uint64_t u64 = 18000000000000000000ULL + i;
		STAP_PROBE8(tracer, regs, s8, u8, s16, u16, s32, u32, s64, u64);
		STAP_PROBE3(tracer, imm, 42, -7, 1234567890123LL);
		STAP_PROBE3(tracer, globals, g_s64, g_u32, g_s16);
		struct pair p = { -77 - i, 1000 + i };
		mem(&p);
		STAP_PROBE1(tracer, indexed, arr[(i * 7) & 3]);
		printf("semaphore=%u\n", lib_guarded(i));
	}
	return 0;
}
`

// buildUSDTFixture builds the library and the program with gcc and
// <sys/sdt.h>, skipping (and saying which is missing) where it cannot.
func buildUSDTFixture(t *testing.T) (bin, lib string) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build the USDT fixture")
	}
	dir := t.TempDir()
	for name, src := range map[string]string{"lib.c": usdtLibC, "main.c": usdtMainC} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib = filepath.Join(dir, "libguarded.so")
	bin = filepath.Join(dir, "usdtprog")
	if out, err := exec.Command(cc, "-O2", "-shared", "-fPIC", "-o", lib, filepath.Join(dir, "lib.c")).CombinedOutput(); err != nil {
		if strings.Contains(string(out), "sys/sdt.h") {
			t.Skipf("no <sys/sdt.h> (apt-get install systemtap-sdt-dev): %s", out)
		}
		t.Skipf("cannot build the USDT fixture library: %v\n%s", err, out)
	}
	if out, err := exec.Command(cc, "-O2", "-fPIE", "-pie", "-o", bin, filepath.Join(dir, "main.c"), "-L"+dir, "-lguarded", "-Wl,-rpath,"+dir).CombinedOutput(); err != nil {
		t.Skipf("cannot build the USDT fixture program: %v\n%s", err, out)
	}
	return bin, lib
}

// TestUSDTFixtureNotes: the notes of the built program, read from the ELF
// file, have the operand forms the live test means to cover.
func TestUSDTFixtureNotes(t *testing.T) {
	bin, lib := buildUSDTFixture(t)
	probes, err := ReadUSDT(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Skipf("the operand checks below are for x86-64 notes, this is %s", f.Machine)
	}
	forms := map[string]*regexp.Regexp{
		"register":      regexp.MustCompile(`@%[a-z0-9]+$`),
		"memory":        regexp.MustCompile(`@-?[0-9]*\(%[a-z0-9]+\)$`),
		"immediate":     regexp.MustCompile(`@\$-?[0-9]+$`),
		"rip-relative":  regexp.MustCompile(`@[A-Za-z_][A-Za-z0-9_]*\(%rip\)$`),
		"index":         regexp.MustCompile(`,%[a-z0-9]+,[0-9]\)$`),
		"8-bit signed":  regexp.MustCompile(`^-1@`),
		"64-bit signed": regexp.MustCompile(`^-8@`),
		"32-bit":        regexp.MustCompile(`^4@`),
	}
	seen := map[string]bool{}
	for _, p := range probes {
		if p.Semaphore != 0 {
			t.Errorf("%s: semaphore in the program (only the library has one)", p.FullName())
		}
		args, err := ParseUSDTArgs(p.Args)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range args {
			for form, re := range forms {
				if re.MatchString(a.String()) {
					seen[form] = true
				}
			}
		}
	}
	for form := range forms {
		if !seen[form] {
			t.Errorf("the fixture's notes have no %s operand (gcc chose others): %+v", form, probes)
		}
	}
	lp, err := ReadUSDT(lib)
	if err != nil || len(lp) != 1 || lp[0].Semaphore == 0 || lp[0].SemaphoreOffset == 0 {
		t.Errorf("library notes: %+v, %v", lp, err)
	}
}

// TestUSDTLive probes every USDT probe of the fixture program (a PIE) and
// the semaphore-guarded one of its shared library, runs the program, and
// checks each argument's exact value, that the semaphore was set only
// while tracing, and that the probes are gone after Close.
func TestUSDTLive(t *testing.T) {
	fs := liveFS(t)
	needProbes(t, fs, Uprobe)
	if !fs.hasRefCtr() {
		t.Skip("kernel without uprobe ref_ctr_offset (before 4.20): no semaphores")
	}
	bin, lib := buildUSDTFixture(t)
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })

	// Named exactly, a probe fetch args cannot express is an error that
	// names it and its operand.
	s0 := NewSession(fs, SessionOptions{})
	err := s0.AddTracepoint("usdt:"+bin+":tracer:indexed", "")
	if err == nil || !strings.Contains(err.Error(), "usdt probe tracer:indexed in "+bin+", argument arg0") || !strings.Contains(err.Error(), "index register") {
		t.Errorf("indexed: %v", err)
	}
	s0.Close()

	const n = 3
	s := NewSession(fs, SessionOptions{BufferSizeKB: 256, FlushInterval: 50 * time.Millisecond})
	for _, spec := range []string{"usdt:" + bin + ":tracer:*", "usdt:" + lib + ":guarded"} {
		if err := s.AddTracepoint(spec, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Probes()) != 5 { // regs imm globals mem guarded; indexed skipped
		t.Errorf("probes: %v", s.Probes())
	}
	cmd := exec.Command(bin, strconv.Itoa(n))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	pid := cmd.ProcessState.Pid()
	if want := strings.Repeat("semaphore=1\n", n); string(out) != want {
		// Another tool on the same probe would count it up too.
		t.Errorf("program saw its semaphore as %q, want %q", out, want)
	}
	args := []string{"arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7"}
	evs := collect(t, s, args, nil, 5*time.Second, func(evs []probeEvent) bool { return len(evs) >= 5*n })
	var mine []probeEvent
	for _, e := range evs {
		if e.pid == pid {
			mine = append(mine, e)
		}
	}
	if len(mine) != 5*n {
		t.Fatalf("%d events from the program, want %d: %+v", len(mine), 5*n, mine)
	}
	u := func(v uint64) int64 { return int64(v) } // u64 fields come back as their bits
	for i := 0; i < n; i++ {
		k := int64(i)
		want := map[string][]int64{
			"tracer_regs":       {-5 - k, 250 + k, -30000 - k, 65000 + k, -2000000000 - k, 4000000000 + k, -9000000000000000000 - k, u(18000000000000000000 + uint64(i))},
			"tracer_imm":        {42, -7, 1234567890123},
			"tracer_globals":    {-9000000000000000000, 4000000000, -30000},
			"tracer_mem":        {-77 - k, 1000 + k},
			"tracerlib_guarded": {k, 1},
		}
		for j, e := range mine[5*i : 5*i+5] {
			name := e.event[strings.LastIndexByte(e.event, ':')+1:]
			w, ok := want[name]
			if !ok {
				t.Errorf("iteration %d event %d: unexpected %s", i, j, e.event)
				continue
			}
			delete(want, name)
			for a, v := range w {
				if got, ok := e.ints[args[a]]; !ok || got != v {
					t.Errorf("iteration %d %s %s = %d (present %v), want %d", i, name, args[a], got, ok, v)
				}
			}
			if len(w) < len(args) {
				if _, extra := e.ints[args[len(w)]]; extra {
					t.Errorf("%s has more than arg0..arg%d", name, len(w)-1)
				}
			}
		}
		if len(want) > 0 {
			t.Errorf("iteration %d: missing %v", i, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left := ourProbeLines(fs); len(left) > 0 {
		t.Errorf("after Close: %q", left)
	}
	// Without tracer the semaphore stays 0 and the guarded probe is skipped.
	if out, err := exec.Command(bin, "1").Output(); err != nil || string(out) != "semaphore=0\n" {
		t.Errorf("untraced run: %q, %v", out, err)
	}
}

const pythonBin = "/usr/bin/python3.11"

// TestUSDTPythonGC counts python:gc__start (semaphore-guarded, its
// generation a memory operand -4@112(%rsp)) by generation while a Python
// snippet collects generation 0 five times and 2 three times; the
// interpreter's own start-up collections are measured by an otherwise
// identical run without the loops. Where bpftrace runs, its
// @[arg0] = count() must give the same map.
func TestUSDTPythonGC(t *testing.T) {
	fs := liveFS(t)
	needProbes(t, fs, Uprobe)
	if _, err := os.Stat(pythonBin); err != nil {
		t.Skipf("no %s: %v", pythonBin, err)
	}
	probes, err := ReadUSDT(pythonBin)
	if err != nil {
		t.Fatal(err)
	}
	has := false
	for _, p := range probes {
		has = has || p.FullName() == "python:gc__start"
	}
	if !has {
		t.Skipf("%s has no python:gc__start note", pythonBin)
	}
	if !fs.hasRefCtr() {
		t.Skip("kernel without uprobe ref_ctr_offset: gc__start needs its semaphore")
	}
	t.Cleanup(func() { checkNoProbesLeft(t, fs) })
	dir := t.TempDir()
	const n0, n2 = 5, 3
	// gc.disable stops automatic collections; os._exit skips the ones
	// of interpreter shutdown.
	script := func(name string, loops bool) string {
		src := "import gc, os\ngc.disable()\n"
		if loops {
			src += "for _ in range(" + strconv.Itoa(n0) + "): gc.collect(0)\nfor _ in range(" + strconv.Itoa(n2) + "): gc.collect(2)\n"
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src+"os._exit(0)\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base, work := script("base.py", false), script("work.py", true)

	s := NewSession(fs, SessionOptions{BufferSizeKB: 256, FlushInterval: 50 * time.Millisecond})
	if err := s.AddTracepoint("usdt:"+pythonBin+":python:gc__start", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pids := map[string]int{}
	for _, sc := range []string{base, work} {
		c := exec.Command(pythonBin, "-I", "-S", sc)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", sc, err, out)
		}
		pids[sc] = c.ProcessState.Pid()
	}
	evs := collect(t, s, []string{"arg0"}, nil, 1500*time.Millisecond, func([]probeEvent) bool { return false })
	counts := map[int]map[int64]int{}
	for _, e := range evs {
		if counts[e.pid] == nil {
			counts[e.pid] = map[int64]int{}
		}
		counts[e.pid][e.ints["arg0"]]++
	}
	s.Close()
	got, baseline := counts[pids[work]], counts[pids[base]]
	want := map[int64]int{}
	for g, c := range baseline {
		want[g] = c
	}
	want[0] += n0
	want[2] += n2
	t.Logf("gc__start by generation: start-up %v, snippet %v", baseline, got)
	if !sameCounts(got, want) {
		t.Errorf("gc__start by generation: got %v, want start-up %v plus {0:%d 2:%d}", got, baseline, n0, n2)
	}

	bt, err := exec.LookPath("bpftrace")
	if err != nil {
		t.Log("no bpftrace here: not comparing with it")
		return
	}
	out, err := exec.Command(bt, "-e", "usdt:"+pythonBin+":python:gc__start /pid == cpid/ { @[arg0] = count(); }",
		"-c", pythonBin+" -I -S "+work).CombinedOutput()
	if err != nil {
		t.Skipf("bpftrace could not run here (%v), so no comparison:\n%s", err, out)
	}
	bpf := map[int64]int{}
	for _, m := range regexp.MustCompile(`(?m)^@\[(-?\d+)\]: (\d+)$`).FindAllStringSubmatch(string(out), -1) {
		g, _ := strconv.ParseInt(m[1], 10, 64)
		c, _ := strconv.Atoi(m[2])
		bpf[g] = c
	}
	t.Logf("bpftrace: %v", bpf)
	if !sameCounts(bpf, got) {
		t.Errorf("bpftrace counted %v, tracer %v\n%s", bpf, got, out)
	}
}

func sameCounts(a, b map[int64]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
