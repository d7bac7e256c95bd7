package commands

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/tracefs"
)

// kernelWays lists the ways this kernel copies data for job, the /proc
// fallback left out; uprobes only where prog is dynamically linked (the
// loader and libc probes see nothing of a static binary).
func kernelWays(t *testing.T, job tracefs.FetchJob, prog string) []string {
	t.Helper()
	fs, err := tracefs.Open()
	if err != nil {
		t.Fatal(err)
	}
	var ways []string
	for _, o := range fs.FetchOptions(job) {
		t.Logf("%s by %s: %v (%s)", job, o.Way, o.Available, o.Why)
		if !o.Available || o.Way == tracefs.FetchProc {
			continue
		}
		if o.Way == tracefs.FetchUprobe && !dynamicELF(prog) {
			t.Logf("%s is static: the uprobe way is not tested with it", prog)
			continue
		}
		ways = append(ways, o.Way.String())
	}
	if len(ways) == 0 {
		t.Skipf("this kernel copies no %s at the event (no string fields, eprobes, kprobes, or uprobes for %s)", job, prog)
	}
	return ways
}

func dynamicELF(p string) bool {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	out, err := exec.Command("sh", "-c", "head -c 4096 "+real).Output()
	return err == nil && strings.Contains(string(out), "ld-linux")
}

// TestExecsnoopExact runs execs with awkward arguments from a shell that
// ends by exec'ing another program, with every way this kernel offers
// (forced), and wants every row exact: argv, ppid, comm.
func TestExecsnoopExact(t *testing.T) {
	needTracefs(t)
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	echoPath, _ := exec.LookPath("echo")
	for _, way := range kernelWays(t, tracefs.FetchExecArgv, truePath) {
		t.Run(way, func(t *testing.T) {
			const n = 40
			script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do i=$((i+1)); %s tok-$i "two words" 'q"x' ''; done; exec %s done`, n, truePath, echoPath)
			out, errs, code := run("execsnoop", "--json", "--fetch", way, "--", "sh", "-c", script)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var shPID int
			got, exact := 0, 0
			var rows []execJSON
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var ev execJSON
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("bad JSON line %q: %v", line, err)
				}
				rows = append(rows, ev)
				if len(ev.Argv) > 1 && ev.Argv[0] == "sh" && ev.Argv[1] == "-c" {
					shPID = ev.PID
				}
			}
			if shPID == 0 {
				t.Fatalf("no row for the shell in:\n%s", out)
			}
			for _, ev := range rows {
				switch {
				case ev.Filename == truePath || strings.HasSuffix(ev.Filename, "/true"):
					got++
					want := []string{truePath, "", "two words", `q"x`, ""}
					if len(ev.Argv) == 5 {
						want[1] = ev.Argv[1]
					}
					ok := strings.HasPrefix(ev.Argv[min(1, len(ev.Argv)-1)], "tok-") && strings.Join(ev.Argv, "\x00") == strings.Join(want, "\x00")
					if ok && ev.ArgvFrom != nil && *ev.ArgvFrom == way && ev.PPID != nil && *ev.PPID == shPID && ev.Comm == "true" && ev.Ret == 0 {
						exact++
					} else {
						t.Errorf("inexact row (want argv %q from %s, ppid %d, comm true): %+v", want, way, shPID, ev)
					}
				case ev.PID == shPID && len(ev.Argv) > 0 && ev.Argv[len(ev.Argv)-1] == "done":
					// The shell exec'd echo: same pid, the new comm, the shell's parent.
					if ev.Comm != "echo" || ev.PPID == nil || *ev.PPID != os.Getpid() || ev.ArgvFrom == nil || *ev.ArgvFrom != way {
						t.Errorf("exec of echo by the shell: %+v (want comm echo, ppid %d)", ev, os.Getpid())
					}
				}
			}
			if got != n || exact != n {
				t.Errorf("%d rows of %d execs of true, %d exact", got, n, exact)
			}
		})
	}
}

func TestExecsnoopFailed(t *testing.T) {
	needTracefs(t)
	missing := filepath.Join(t.TempDir(), "tracer-no-such-program")
	script := missing + " a b; true"
	// Without -x: no failed rows (BCC shows successful execs by default).
	out, errs, code := run("execsnoop", "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if f := strings.Fields(l); len(f) > 3 && f[3] != "0" {
			t.Errorf("failed exec shown without -x: %q", l)
		}
	}
	out, errs, _ = run("execsnoop", "-x", "--", "sh", "-c", script)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "PCOMM") {
		t.Fatalf("no header and row in:\n%s\nstderr: %s", out, errs)
	}
	found := false
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) >= 7 && f[3] == "-2" && f[4] == missing && f[5] == "a" && f[6] == "b" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no ENOENT exec of %s a b in:\n%s", missing, out)
	}
}
