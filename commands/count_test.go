package commands

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// init turns the test binary into the workloads the live tests trace,
// when they run it with these variables (never as the held child, which
// inherits them but must only exec its command).
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		return
	}
	if n := os.Getenv("TRACER_TEST_GETPPID"); n != "" {
		// init runs on the main thread, whose tid is the pid, so every
		// call below is counted under the pid the file records.
		calls, _ := strconv.Atoi(n)
		for i := 0; i < calls; i++ {
			unix.Getppid()
		}
		os.WriteFile(os.Getenv("TRACER_TEST_PIDFILE"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		os.Exit(0)
	}
	if p := os.Getenv("TRACER_TEST_OPENFAIL"); p != "" {
		_, err := os.Open(p)
		time.Sleep(500 * time.Millisecond) // stay alive: the path is read from this process's memory
		if err == nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if ms := os.Getenv("TRACER_TEST_SLEEP_MS"); ms != "" {
		d, _ := strconv.Atoi(ms)
		time.Sleep(time.Duration(d) * time.Millisecond) // stay alive: argv is read from /proc
		os.Exit(0)
	}
}

func selfExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}

func TestCountExactPerProcess(t *testing.T) {
	needTracefs(t)
	self, dir := selfExe(t), t.TempDir()
	want := map[string]uint64{"a": 100, "b": 250, "c": 7}
	var script []string
	for name, n := range want {
		script = append(script, fmt.Sprintf("TRACER_TEST_GETPPID=%d TRACER_TEST_PIDFILE=%s %s &", n, filepath.Join(dir, name), self))
	}
	script = append(script, "wait")
	out, errs, code := run("count", "--json", "--by", "pid", "syscalls:sys_enter_getppid", "--", "sh", "-c", strings.Join(script, " "))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Lost   uint64
		Counts []struct {
			Key   map[string]int64
			Count uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	got := map[int64]uint64{}
	for _, r := range res.Counts {
		got[r.Key["pid"]] = r.Count
	}
	for name, n := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.ParseInt(string(b), 10, 64)
		if got[pid] != n {
			t.Errorf("workload %s (pid %d): counted %d getppid calls, want %d\n%s", name, pid, got[pid], n, out)
		}
	}
	if res.Lost != 0 {
		t.Errorf("lost %d events", res.Lost)
	}
}

func TestCountTableAndTop(t *testing.T) {
	needTracefs(t)
	self, dir := selfExe(t), t.TempDir()
	// The workload is the command itself, not run through sh: comms come
	// from saved_cmdlines by pid, so a shell's own getppid (dash sets $PPID)
	// would be counted under the name its pid had before it exec'd.
	t.Setenv("TRACER_TEST_GETPPID", "50")
	t.Setenv("TRACER_TEST_PIDFILE", filepath.Join(dir, "x"))
	out, errs, code := run("count", "--by", "comm,event", "--top", "1", "syscalls:sys_enter_getppid", "--", self)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	comm := filepath.Base(self)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	if !strings.Contains(out, "COMM") || !strings.Contains(out, "COUNT") || !strings.Contains(out, "(top 1 shown)") && !strings.Contains(out, " 1 keys") {
		t.Fatalf("no table header in:\n%s", out)
	}
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == comm && f[1] == "syscalls:sys_enter_getppid" && f[2] == "50" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no row %s syscalls:sys_enter_getppid 50 in:\n%s", comm, out)
	}
}

func TestCountBadKey(t *testing.T) {
	needTracefs(t)
	_, errs, code := run("count", "--by", "nosuchfield", "syscalls:sys_enter_getppid", "-d", "1s")
	if code != 2 || !strings.Contains(errs, "no such field") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// TestAggregateJSONHostileKey: a process chooses the bytes of its path
// and name; control bytes and invalid UTF-8 in a key must not empty the
// JSON table of count or hist (with or without --interval).
func TestAggregateJSONHostileKey(t *testing.T) {
	needTracefs(t)
	bad := "a\x01\"\\\xffb"
	prog := filepath.Join(t.TempDir(), bad)
	// The test binary itself, which exits at once with TRACER_TEST_GETPPID
	// (a busybox true would take the odd name for an applet's).
	if err := os.Symlink(selfExe(t), prog); err != nil {
		t.Fatal(err)
	}
	want := filepath.Dir(prog) + "/a\x01\"\\\ufffdb"
	for _, args := range [][]string{
		{"count", "--json", "--by", "filename,comm"},
		{"count", "--json", "--interval", "10s", "--by", "filename,comm"},
		{"hist", "--json", "--field", "pid", "--by", "filename,comm"},
	} {
		out, errs, code := run(append(args, "sched:sched_process_exec", "--", "env", "TRACER_TEST_GETPPID=0", prog)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var res struct {
			Counts []struct{ Key map[string]any }
			Hists  []struct{ Key map[string]any }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: bad JSON %q: %v", args, out, err)
		}
		found := false
		for _, r := range append(res.Counts, res.Hists...) {
			found = found || r.Key["filename"] == want
		}
		if !found {
			t.Errorf("%v: no row for filename %q in %s", args, want, out)
		}
	}
}

// TestCountLossAccounted: with a tiny buffer under load, what count
// reports counted plus what it reports lost covers every call the
// workload made (the kernel's overrun counts what the pages cannot size),
// in JSON and in the text footer.
func TestCountLossAccounted(t *testing.T) {
	needTracefs(t)
	const calls = 300000
	self, dir := selfExe(t), t.TempDir()
	t.Setenv("TRACER_TEST_GETPPID", strconv.Itoa(calls))
	t.Setenv("TRACER_TEST_PIDFILE", filepath.Join(dir, "x"))
	out, errs, code := run("count", "--json", "-b", "4", "syscalls:sys_enter_getppid", "--", self)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Total       uint64
		Lost        uint64
		LostUnknown uint64 `json:"lost_unknown"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if res.Total+res.Lost < calls || res.Total+res.Lost > calls+calls/100 {
		t.Errorf("counted %d + lost %d for %d calls (%d loss reports without a size)\n%s", res.Total, res.Lost, calls, res.LostUnknown, errs)
	}
	t.Logf("counted %d, lost %d, %d loss reports without a size", res.Total, res.Lost, res.LostUnknown)
	out, _, code = run("count", "-b", "4", "syscalls:sys_enter_getppid", "--", self)
	var total, lost uint64
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, " events, "); i > 0 {
			fmt.Sscanf(line[strings.Index(line, ": ")+2:], "%d events", &total)
			if j := strings.Index(line, "; "); j > 0 {
				fmt.Sscanf(line[j+2:], "%d events lost", &lost)
			}
		}
	}
	if code != 0 || total+lost < calls || total+lost > calls+calls/100 {
		t.Errorf("text: exit %d, counted %d + lost %d for %d calls:\n%s", code, total, lost, calls, out)
	}
}

// TestMaxKeysOther: past --max-keys distinct keys, the rest of the events
// are summed in one [other] row, in JSON and in text, and nothing is lost
// from the total.
func TestMaxKeysOther(t *testing.T) {
	needTracefs(t)
	self, dir := selfExe(t), t.TempDir()
	var script []string
	for i := 0; i < 5; i++ {
		script = append(script, fmt.Sprintf("TRACER_TEST_GETPPID=20 TRACER_TEST_PIDFILE=%s %s &", filepath.Join(dir, strconv.Itoa(i)), self))
	}
	workload := []string{"--", "sh", "-c", strings.Join(append(script, "wait"), " ")}
	out, errs, code := run(append([]string{"count", "--json", "--max-keys", "2", "--by", "pid", "syscalls:sys_enter_getppid"}, workload...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Total   uint64
		MaxKeys int `json:"max_keys"`
		Counts  []struct{ Count uint64 }
		Other   *struct{ Count uint64 }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	var sum uint64
	for _, r := range res.Counts {
		sum += r.Count
	}
	if len(res.Counts) != 2 || res.MaxKeys != 2 || res.Other == nil || res.Other.Count < 60 || sum+res.Other.Count != res.Total {
		t.Errorf("want 2 rows and [other] with the rest: %s", out)
	}
	out, errs, code = run(append([]string{"count", "--max-keys", "2", "--by", "pid", "syscalls:sys_enter_getppid"}, workload...)...)
	if code != 0 || !strings.Contains(out, "[other]") || !strings.Contains(out, "(--max-keys) in [other]") {
		t.Errorf("text: exit %d, %s\n%s", code, errs, out)
	}
	out, errs, code = run(append([]string{"hist", "--json", "--max-keys", "1", "--field", "__syscall_nr", "--by", "pid", "syscalls:sys_enter_getppid"}, workload...)...)
	var h struct {
		Hists []struct{ Count uint64 }
		Other *struct{ Count uint64 }
	}
	if err := json.Unmarshal([]byte(out), &h); code != 0 || err != nil || len(h.Hists) != 1 || h.Other == nil || h.Other.Count < 80 {
		t.Errorf("hist: exit %d, %v, %s\n%s", code, err, errs, out)
	}
	if _, errs, code := run("count", "--max-keys", "0", "-d", "100ms", "sched:sched_switch"); code != 2 || !strings.Contains(errs, "--max-keys") {
		t.Errorf("--max-keys 0: exit %d, %s", code, errs)
	}
}

// TestHistRefusesNonNumericField: hist --field on a string or char array
// is refused (issue 11 item 10: prev_comm gave a histogram of its bytes).
func TestHistRefusesNonNumericField(t *testing.T) {
	needTracefs(t)
	for _, f := range []string{"prev_comm", "next_comm"} {
		_, errs, code := run("hist", "-d", "100ms", "--field", f, "sched:sched_switch")
		if code != 2 || !strings.Contains(errs, "not a number") {
			t.Errorf("hist --field %s: exit %d: %s", f, code, errs)
		}
	}
	if _, errs, code := run("hist", "-d", "100ms", "--field", "prev_prio", "sched:sched_switch"); code != 0 {
		t.Errorf("hist --field prev_prio: exit %d: %s", code, errs)
	}
}
