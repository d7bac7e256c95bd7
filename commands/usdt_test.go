package commands

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pythonBin = "/usr/bin/python3.11"

func needPythonUSDT(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(pythonBin); err != nil {
		t.Skipf("no %s (Debian's has USDT notes): %v", pythonBin, err)
	}
}

// TestListUSDT: list -u shows a binary's USDT probes beside its symbols,
// with their argument strings, as text and JSON.
func TestListUSDT(t *testing.T) {
	needPythonUSDT(t)
	out, errs, code := run("list", "-u", pythonBin, "gc__*")
	if code != 0 {
		t.Fatalf("list -u: %s", errs)
	}
	if !strings.Contains(out, "USDT") || !strings.Contains(out, "python:gc__start") || !strings.Contains(out, "-4@112(%rsp)") {
		t.Errorf("list -u text:\n%s", out)
	}
	out, errs, code = run("list", "--json", "-u", pythonBin, "python:gc__start")
	if code != 0 {
		t.Fatalf("list -u --json: %s", errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 1 || rows[0]["kind"] != "usdt" || rows[0]["args"] != "-4@112(%rsp)" || rows[0]["semaphore_offset"] == nil {
		t.Errorf("list -u --json: %v", rows)
	}
}

// TestRecordUSDT: record takes a usdt spec, and its JSON lines carry
// arg0 typed from the note; a killed run's probes are removed by reset.
func TestRecordUSDT(t *testing.T) {
	needTracefs(t)
	needPythonUSDT(t)
	script := filepath.Join(t.TempDir(), "gc.py")
	if err := os.WriteFile(script, []byte("import gc, os\ngc.disable()\nfor _ in range(4): gc.collect(2)\nos._exit(0)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run("record", "--json", "usdt:"+pythonBin+":python:gc__start", "--", pythonBin, "-I", "-S", script)
	if code != 0 {
		t.Fatalf("record: %s", errs)
	}
	gen2 := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev struct {
			Event  string         `json:"event"`
			Fields map[string]any `json:"fields"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		if !strings.HasSuffix(ev.Event, ":python_gc__start") {
			t.Errorf("event %s", ev.Event)
		}
		if g, ok := ev.Fields["arg0"].(float64); !ok {
			t.Errorf("no arg0: %s", sc.Text())
		} else if g == 2 {
			gen2++
		}
	}
	// Start-up collects only generation 0; the script, 2 four times.
	if gen2 != 4 {
		t.Errorf("%d generation-2 collections, want 4:\n%s", gen2, out)
	}
	checkNoLeftovers(t)

	// SIGKILL leaves the probe (with its semaphore) behind; reset removes it.
	cmd := tracerCmd(t, "record", "usdt:"+pythonBin+":python:gc__start")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer removeLeftovers(t, pid)
	waitProbes(t, pid, 1)
	cmd.Process.Kill()
	cmd.Wait()
	if len(probesOf(pid)) == 0 {
		t.Fatal("probe vanished after SIGKILL: the test proves nothing")
	}
	if _, errs, code := run("reset"); code != 0 {
		t.Fatalf("reset: %s", errs)
	}
	if left := probesOf(pid); len(left) > 0 {
		t.Errorf("probes left after reset: %q", left)
	}
	checkNoLeftovers(t)
}
