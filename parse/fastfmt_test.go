package parse

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFastFmt checks the hand-written digit helpers against strconv.
func TestFastFmt(t *testing.T) {
	vals := []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 4294967295, 4294967296, 1e19 - 1, 1e19, math.MaxUint64}
	for p := uint64(1); p < 1e19; p *= 10 {
		vals = append(vals, p-1, p, p+1, 2*p-1)
	}
	for i := 0; i < 64; i++ {
		vals = append(vals, 1<<i, 1<<i-1)
	}
	for _, v := range vals {
		if got, want := string(appendDec([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("appendDec(%d) = %q, want %q", v, got, want)
		}
		if got, want := decLen(v), len(strconv.FormatUint(v, 10)); got != want {
			t.Errorf("decLen(%d) = %d, want %d", v, got, want)
		}
		if got, want := string(appendHexU(nil, v)), strconv.FormatUint(v, 16); got != want {
			t.Errorf("appendHexU(%d) = %q, want %q", v, got, want)
		}
		if got, want := string(appendDecInt(nil, int64(v))), strconv.FormatInt(int64(v), 10); got != want {
			t.Errorf("appendDecInt(%d) = %q, want %q", int64(v), got, want)
		}
	}
}

// TestContextFast checks the in-place text prefix against the generic one.
func TestContextFast(t *testing.T) {
	s, err := ParseFormat("sched", []byte(schedSwitchFormat), 8)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Layout{LongSize: 8})
	d.Comms = ParseSavedCmdlines([]byte("1 a\n2 exactly16charsxx\n3 seventeen-chars-x\n4 \n5 comm"))
	tss := []uint64{0, 499, 500, 999999499, 999999500, 12345678901234, 99999999999500, 1e15, math.MaxUint64 - 1000, math.MaxUint64}
	pids := []int32{0, 1, 2, 3, 4, 5, 6, 9999999, 10000000, -1, math.MaxInt32, math.MinInt32}
	cpus := []int{0, 7, 99, 999, 1000, -1}
	for _, ts := range tss {
		for _, pid := range pids {
			for _, cpu := range cpus {
				for _, fl := range []uint8{0, 0x01, 0x0d, 0x93, 0xff} {
					for _, pc := range []uint8{0, 1, 0x10, 0xff} {
						data := make([]byte, 64)
						data[2], data[3] = fl, pc
						data[4], data[5], data[6], data[7] = byte(pid), byte(pid>>8), byte(pid>>16), byte(pid>>24)
						rec := &Record{Schema: s, CPU: cpu, TS: ts, Data: data, longSize: 8}
						p, f, c := commonFields(rec)
						comm, _ := d.commFor(p)
						want := string(d.appendContextSlow([]byte("x"), rec, p, f, c, comm))
						if got := string(d.appendContext([]byte("x"), rec)); got != want {
							t.Fatalf("ts %d pid %d cpu %d: got %q, want %q", ts, pid, cpu, got, want)
						}
						if got, want := [3]int{p, int(f), int(c)}, [3]int{rec.PID(), int(rec.Flags()), int(rec.PreemptCount())}; got != want {
							t.Fatalf("common fields %v, want %v", got, want)
						}
					}
				}
			}
		}
	}
}

// TestFastPathsMatchGeneric renders every record of the kernel fixtures
// through the fast paths and through the generic ones (the print fmt
// evaluator, the JSON field loop) and requires the same bytes, in both
// byte orders and long sizes.
func TestFastPathsMatchGeneric(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/kernels/*/meta")
	if len(dirs) == 0 {
		t.Fatal("no fixtures")
	}
	for _, m := range dirs {
		f := loadFixture(t, filepath.Dir(m))
		f.dec.Compile()
		recs := f.records(t)
		for i := range recs {
			rec := recs[i]
			s := rec.Schema
			if s == nil {
				continue
			}
			// JSON: the precomputed field list against the generic loop.
			slow := *s
			slow.jsonEvent = ""
			r2 := rec
			r2.Schema = &slow
			if got, want := string(f.dec.AppendJSON(nil, &rec)), string(f.dec.AppendJSON(nil, &r2)); got != want {
				t.Errorf("json fast path:\n got %s\nwant %s", got, want)
			}
			p := s.printer
			if p == nil || p == failedPrinter {
				continue
			}
			gp := *p
			gp.fops = make([]fastOp, len(p.fops))
			for k := range p.fops {
				gp.fops[k] = fastOp{kind: fastGeneric, op: p.fops[k].op}
			}
			for _, variant := range []struct {
				be bool
				ls int
			}{{false, 8}, {true, 8}, {false, 4}, {true, 4}} {
				r := rec
				r.bigEndian, r.longSize = variant.be, variant.ls
				for _, cut := range []int{len(r.Data), len(r.Data) / 2, 9, 0} {
					r.Data = rec.Data[:cut]
					got := string(p.appendBody(nil, &r, f.dec))
					want := string(gp.appendBody(nil, &r, f.dec))
					if got != want {
						t.Errorf("%s (be %v, %d bytes): fast %q, generic %q", s.FullName(), variant.be, cut, got, want)
					}
				}
			}
		}
	}
}

// TestJSONHeadFast checks the JSON line's start (timestamps, pid and comm
// from the ready-made heads) against the generic formulation.
func TestJSONHeadFast(t *testing.T) {
	s, err := ParseFormat("sched", []byte(schedSwitchFormat), 8)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Layout{LongSize: 8})
	d.Comms = ParseSavedCmdlines([]byte("1 a\n2 exactly16charsxx\n3 seventeen-chars-x\n4 \n5 co\"mm\n6 \xffbad\n7 tab\tx\n2147483647 max"))
	d.Comms.Set(9999999, "set")
	tss := []uint64{0, 499, 500, 999999499, 999999500, 1e9, 1e9 + 999999500, 12345678901234, 99999999999500,
		1e17 - 1, 1e17, 1e15, math.MaxUint64 - 1000, math.MaxUint64}
	pids := []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9999999, 10000000, -1, math.MaxInt32, math.MinInt32}
	for _, clock := range []string{"local", "counter"} {
		d.SetClock(clock)
		for _, ts := range tss {
			for _, pid := range pids {
				for _, cpu := range []int{0, 7, 1000, -1} {
					data := make([]byte, 64)
					data[2], data[3] = 0x0d, 0x21
					data[4], data[5], data[6], data[7] = byte(pid), byte(pid>>8), byte(pid>>16), byte(pid>>24)
					rec := &Record{Schema: s, CPU: cpu, TS: ts, Data: data, longSize: 8}
					got := string(d.AppendJSON([]byte("x"), rec))
					want := "x" + `{"ts":` + strconv.FormatUint(ts, 10) + `,"time":"`
					if d.nsClock {
						us := (ts + 500) / 1000
						want += strconv.FormatUint(us/1e6, 10) + "." + fmt.Sprintf("%06d", us%1e6)
					} else {
						want += strconv.FormatUint(ts, 10)
					}
					want += `","cpu":` + strconv.Itoa(cpu) + `,"pid":` + strconv.Itoa(int(pid)) + `,"comm":`
					if c, ok := d.Comms.Lookup(int(pid)); ok && pid >= 0 {
						want += string(AppendJSONString(nil, c))
					} else {
						want += "null"
					}
					want += `,"flags":"` + string(appendLatFmt(nil, 0x0d, 0x21, d.latStyle)) + `","event":"sched:sched_switch",`
					if !strings.HasPrefix(got, want) {
						t.Fatalf("ts %d pid %d cpu %d:\n got %q\nwant %q...", ts, pid, cpu, got, want)
					}
				}
			}
		}
	}
}

// TestLazyTables: the lazily parsed kallsyms and printk_formats answer
// as the eager ones, and saved_cmdlines padded with empty lines (as 6.18
// reads) parses to its entries only.
func TestLazyTables(t *testing.T) {
	ks := []byte(capKallsyms)
	eager, lazy := ParseKallsyms(ks), LazyKallsyms(ks)
	if eager.Len() == 0 || lazy.Len() != eager.Len() {
		t.Fatalf("lazy kallsyms: %d symbols, eager %d", lazy.Len(), eager.Len())
	}
	for i, a := range eager.addrs {
		for _, addr := range []uint64{a, a + 1, a - 1} {
			n1, m1, o1, s1, ok1 := eager.Lookup(addr)
			n2, m2, o2, s2, ok2 := LazyKallsyms(ks).Lookup(addr)
			if n1 != n2 || m1 != m2 || o1 != o2 || s1 != s2 || ok1 != ok2 {
				t.Fatalf("symbol %d at %#x: lazy %s %s %d %d %v, eager %s %s %d %d %v", i, addr, n2, m2, o2, s2, ok2, n1, m1, o1, s1, ok1)
			}
		}
	}
	pk := []byte(testPrintk)
	ep, lp := ParsePrintkFormats(pk), LazyPrintkFormats(pk)
	for addr := range ep.m {
		a, _ := ep.Lookup(addr)
		if b, ok := lp.Lookup(addr); !ok || a != b {
			t.Errorf("printk %#x: lazy %q, eager %q", addr, b, a)
		}
	}
	if lp.Len() != ep.Len() || ep.Len() == 0 {
		t.Errorf("printk: lazy %d, eager %d", lp.Len(), ep.Len())
	}
	c := ParseSavedCmdlines([]byte("1 init\n\n\n\n12 a b\nbad\n 3 x\n12 again\n\n\n"))
	if c.Len() != 2 || len(c.tab) > 16 {
		t.Errorf("cmdlines: %d entries in a table of %d", c.Len(), len(c.tab))
	}
	for pid, want := range map[int]string{1: "init", 12: "again"} {
		if got, ok := c.Lookup(pid); !ok || got != want {
			t.Errorf("pid %d: %q, want %q", pid, got, want)
		}
	}
	for i := 100; i < 200; i++ {
		c.Set(i, "n"+strconv.Itoa(i))
	}
	if got, ok := c.Lookup(150); c.Len() != 102 || !ok || got != "n150" {
		t.Errorf("after Set: %d entries, pid 150 %q", c.Len(), got)
	}
	if got, _ := c.Lookup(1); got != "init" {
		t.Errorf("after growing: pid 1 %q", got)
	}
}
