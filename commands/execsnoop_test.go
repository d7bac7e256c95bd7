package commands

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestExecsnoopArgv(t *testing.T) {
	needTracefs(t)
	self := selfExe(t)
	argv := []string{self, "tracer-execsnoop-arg", "two words", "x"}
	out, errs, code := run(append([]string{"execsnoop", "--json", "--", "env", "TRACER_TEST_SLEEP_MS=300"}, argv...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev execJSON
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		if ev.Filename == "/usr/bin/env" && ev.ArgvFrom != nil {
			t.Errorf("env's exec got the argv of the program env ran: %q", line)
		}
		if ev.Filename == self && strings.Join(ev.Argv, "\x00") == strings.Join(argv, "\x00") {
			found = true
			if ev.Ret != 0 || ev.Filename != self || ev.PPID == nil || ev.UID == nil || ev.ArgvFrom == nil || *ev.ArgvFrom != "proc" {
				t.Errorf("incomplete row %q", line)
			}
		}
	}
	if !found {
		t.Fatalf("no exec of %q in:\n%s", argv, out)
	}
}

func TestExecsnoopFailedOnly(t *testing.T) {
	needTracefs(t)
	missing := filepath.Join(t.TempDir(), "tracer-no-such-program")
	out, errs, _ := run("execsnoop", "-x", "--", "sh", "-c", missing+" a b; sleep 0.2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "PCOMM") {
		t.Fatalf("no header and row in:\n%s\nstderr: %s", out, errs)
	}
	found := false
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 4 || f[3] == "0" {
			t.Errorf("non-failed row with -x: %q", l)
		}
		if f[3] == "-2" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no ENOENT exec in:\n%s", out)
	}
}
