package commands

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/tracefs"
)

// TestOpensnoopExact makes short-lived processes fail to open paths with
// spaces and quotes, with every way this kernel offers (forced), and
// wants every failed open with its exact path, error and comm.
func TestOpensnoopExact(t *testing.T) {
	needTracefs(t)
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat(1)")
	}
	for _, way := range kernelWays(t, tracefs.FetchOpenPath, cat) {
		t.Run(way, func(t *testing.T) {
			const n = 40
			dir := fmt.Sprintf("/nonexistent-tracer-%s", way)
			script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do i=$((i+1)); %s "%s/p $i 'q'" 2>/dev/null; done; true`, n, cat, dir)
			out, errs, code := run("opensnoop", "-x", "--json", "--fetch", way, "--", "sh", "-c", script)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var ev openJSON
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("bad JSON line %q: %v", line, err)
				}
				if ev.Ret >= 0 {
					t.Errorf("successful open with -x: %q", line)
				}
				if ev.Path == nil || !strings.HasPrefix(*ev.Path, dir+"/") {
					continue
				}
				if ev.Comm != "cat" || ev.Ret != -2 || ev.Err != "ENOENT" || ev.PathFrom == nil || *ev.PathFrom != way {
					t.Errorf("inexact row: %q", line)
				}
				seen[*ev.Path] = true
			}
			for i := 1; i <= n; i++ {
				p := fmt.Sprintf("%s/p %d 'q'", dir, i)
				if !seen[p] {
					t.Errorf("no row with the exact path %q", p)
				}
			}
		})
	}
}

func TestOpensnoopText(t *testing.T) {
	needTracefs(t)
	out, errs, code := run("opensnoop", "-x", "-e", "--", "sh", "-c", `cat /nonexistent-tracer-text 2>/dev/null; true`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || strings.Join(strings.Fields(lines[0]), " ") != "PID COMM FD ERR FLAGS PATH" {
		t.Fatalf("header: %q", lines[0])
	}
	found := false
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 6 && f[1] == "cat" && f[2] == "-1" && f[3] == "2" && f[5] == "/nonexistent-tracer-text" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no row for the failed open in:\n%s\nstderr: %s", out, errs)
	}
}

func TestOpensnoopRejectsFilter(t *testing.T) {
	_, errs, code := run("opensnoop", "--filter", "ret < 0", "-d", "1s")
	if code != 2 || !strings.Contains(errs, "--filter") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
