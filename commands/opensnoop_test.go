package commands

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpensnoopFailed(t *testing.T) {
	needTracefs(t)
	missing := filepath.Join(t.TempDir(), "tracer-test-missing", "file")
	self := selfExe(t)
	out, errs, code := run("opensnoop", "--failed", "--", "env", "TRACER_TEST_OPENFAIL="+missing, self)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[3] == "ENOENT" && f[5] == missing {
			found = true
		}
		if len(f) > 3 && f[0] != "PID" && f[3] == "0" {
			t.Errorf("successful open shown with --failed: %q", line)
		}
	}
	if !found {
		t.Fatalf("no ENOENT row for %s in:\n%s\nstderr: %s", missing, out, errs)
	}
}

func TestOpensnoopJSON(t *testing.T) {
	needTracefs(t)
	missing := filepath.Join(t.TempDir(), "tracer-test-missing-json")
	out, errs, code := run("opensnoop", "--json", "--", "env", "TRACER_TEST_OPENFAIL="+missing, selfExe(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	found, ok := false, false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev openJSON
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		if ev.Path != nil && *ev.Path == missing && ev.Err == "ENOENT" && ev.Ret == -2 && ev.FD == nil {
			found = true
		}
		if ev.Ret >= 0 && ev.FD != nil {
			ok = true // the loader's successful opens are there too
		}
	}
	if !found || !ok {
		t.Fatalf("found failed=%v successful=%v in:\n%s", found, ok, out)
	}
}

func TestOpensnoopRejectsFilter(t *testing.T) {
	_, errs, code := run("opensnoop", "--filter", "ret < 0", "-d", "1s")
	if code != 2 || !strings.Contains(errs, "--filter") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
