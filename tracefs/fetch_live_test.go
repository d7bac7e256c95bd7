package tracefs

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracer-dev/tracer/parse"
)

// fetchWays returns the ways this kernel offers for job, the proc
// fallback left out (it is not a kernel copy).
func fetchWays(t *testing.T, fs *FS, job FetchJob) []FetchWay {
	var ways []FetchWay
	for _, o := range fs.FetchOptions(job) {
		t.Logf("%s by %s: available=%v: %s", job, o.Way, o.Available, o.Why)
		if o.Available && o.Way != FetchProc {
			ways = append(ways, o.Way)
		}
	}
	return ways
}

// runFetchSession traces the test's own children with the fetch, runs
// work, stops, and hands every record to each.
func runFetchSession(t *testing.T, fs *FS, job FetchJob, way FetchWay, events []string, work func(), each func(s *Session, f *Fetch, r *parse.Record)) *Fetch {
	t.Helper()
	s := NewSession(fs, SessionOptions{FlushInterval: 20 * time.Millisecond})
	for _, e := range events {
		if err := s.AddTracepoint(e, ""); err != nil {
			t.Fatal(err)
		}
	}
	f, err := s.AddFetch(job, FetchConfig{Way: way, MaxArgs: 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		work()
		// No sleep: work has reaped its processes, so their events are
		// in the buffer, and Stop drains it before Next reports the end.
		s.Stop()
	}()
	var rec parse.Record
	for {
		ok, err := s.Next(&rec)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if rec.Kind == parse.ItemEvent {
			each(s, f, &rec)
		} else {
			t.Logf("lost events on cpu %d: %d (known %v)", rec.CPU, rec.Lost, rec.LostKnown)
		}
	}
	<-done
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Probes() {
		if _, err := os.Stat(fs.path("events/" + p.System + "/" + p.Name)); err == nil {
			t.Errorf("probe %s left behind", p)
		}
	}
	return f
}

func TestFetchExecArgvLive(t *testing.T) {
	fs := liveFS(t)
	ways := fetchWays(t, fs, FetchExecArgv)
	if len(ways) == 0 {
		t.Skip("no kernel-side way to fetch argv on this kernel (no eprobes, kprobes or uprobes)")
	}
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to exec")
	}
	for _, way := range ways {
		if way == FetchUprobe && !isDynamic(bin) {
			continue
		}
		t.Run(way.String(), func(t *testing.T) {
			const n = 25
			want := map[string]bool{}
			var argvs [][]string
			for i := 0; i < n; i++ {
				a := []string{bin, fmt.Sprintf("tok-%d", i), "two words", `q"uote`, ""}
				argvs = append(argvs, a)
				want[strings.Join(a, "\x00")] = true
			}
			var pids []int
			var execs [][2]int // pid, ppid
			var execS *parse.Schema
			var script strings.Builder
			for _, a := range argvs {
				script.WriteString(a[0])
				for _, w := range a[1:] {
					script.WriteString(" '" + strings.ReplaceAll(w, "'", `'\''`) + "'")
				}
				script.WriteString("\n")
			}
			sh := exec.Command("sh", "-c", script.String())
			var shPID atomic.Int64
			f := runFetchSession(t, fs, FetchExecArgv, way, []string{"sched:sched_process_exec"}, func() {
				// The test's own threads are not traced (a session leaves
				// its process out): a shell forks the children.
				if err := sh.Start(); err != nil {
					t.Error(err)
					return
				}
				shPID.Store(int64(sh.Process.Pid))
				if err := sh.Wait(); err != nil {
					t.Error(err)
				}
			}, func(s *Session, f *Fetch, r *parse.Record) {
				if execS == nil {
					execS = s.Decoder().SchemaByName("sched:sched_process_exec")
				}
				if r.Schema == execS {
					pp, _ := s.Tasks().PPID(r.PID())
					execs = append(execs, [2]int{r.PID(), pp})
				}
			})
			// Other tests on the machine exec true too: only the shell's children count.
			for _, e := range execs {
				if int64(e[1]) == shPID.Load() {
					pids = append(pids, e[0])
				}
			}
			if len(pids) != n {
				t.Fatalf("saw %d execs of %s by the shell (pid %d), want %d; all execs (pid, ppid): %v", len(pids), bin, shPID.Load(), n, execs)
			}
			// Nobody took the values: take them now, by pid.
			for _, pid := range pids {
				argv, trunc, ok := f.Argv(pid, 0)
				if !ok {
					argv, trunc, ok = f.LoaderArgv(pid, 0)
				}
				key := strings.Join(argv, "\x00")
				if !ok || trunc || !want[key] {
					t.Errorf("pid %d: argv %q (ok %v, truncated %v), not one of those passed", pid, argv, ok, trunc)
				}
				delete(want, key)
			}
		})
	}
}

func isDynamic(file string) bool { return hasInterp(file) }

func TestFetchOpenPathLive(t *testing.T) {
	fs := liveFS(t)
	ways := fetchWays(t, fs, FetchOpenPath)
	if len(ways) == 0 {
		t.Skip("no kernel-side way to fetch paths on this kernel (no string fields, eprobes, kprobes or uprobes)")
	}
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat(1) to run")
	}
	for _, way := range ways {
		if way == FetchUprobe && !hasInterp(cat) {
			continue
		}
		t.Run(way.String(), func(t *testing.T) {
			const n = 25
			tag := fmt.Sprintf("/nonexistent-tracer-%d/", os.Getpid())
			want := map[string]bool{}
			for i := 0; i < n; i++ {
				want[fmt.Sprintf("%sp %d \"q\"", tag, i)] = true
			}
			var enter, exit *parse.Schema
			var fnI, retI int
			ptrs := map[int]uint64{}
			got := map[string]bool{}
			runFetchSession(t, fs, FetchOpenPath, way, []string{"syscalls:sys_enter_openat", "syscalls:sys_exit_openat"}, func() {
				for p := range want {
					exec.Command(cat, p).Run() // fails: the point
				}
			}, func(s *Session, f *Fetch, r *parse.Record) {
				if enter == nil {
					d := s.Decoder()
					enter, exit = d.SchemaByName("syscalls:sys_enter_openat"), d.SchemaByName("syscalls:sys_exit_openat")
					fnI, retI = enter.FieldIndex("filename"), exit.FieldIndex("ret")
				}
				switch r.Schema {
				case enter:
					ptrs[r.PID()] = r.Uint(fnI)
				case exit:
					p, ok := f.Path(r.PID(), ptrs[r.PID()])
					if ok && strings.HasPrefix(p, tag) {
						if r.Int(retI) != -2 {
							t.Errorf("open of %q returned %d, want -2", p, r.Int(retI))
						}
						got[p] = true
					}
				}
			})
			for p := range want {
				if !got[p] {
					t.Errorf("no fetched path %q", p)
				}
			}
		})
	}
}
