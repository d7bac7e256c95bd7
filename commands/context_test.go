package commands

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// init: with TRACER_TEST_RENAME=A,NAME,B the test binary calls getppid A
// times, renames itself NAME (prctl, like a thread pool or a daemon
// does), calls getppid B times more and exits.
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		return
	}
	v := os.Getenv("TRACER_TEST_RENAME")
	if v == "" {
		return
	}
	f := strings.Split(v, ",")
	a, _ := strconv.Atoi(f[0])
	b, _ := strconv.Atoi(f[2])
	for i := 0; i < a; i++ {
		unix.Getppid()
	}
	name, _ := unix.BytePtrFromString(f[1])
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	for i := 0; i < b; i++ {
		unix.Getppid()
	}
	os.Exit(0)
}

// TestCountByCommAtTheMoment: a process that renames itself has its events
// counted under the name it had at each event, not under its last one
// (which is all the kernel's saved_cmdlines would tell).
func TestCountByCommAtTheMoment(t *testing.T) {
	needTracefs(t)
	self := selfExe(t)
	out, errs, code := run("count", "--json", "--by", "comm", "syscalls:sys_enter_getppid", "--",
		"env", "TRACER_TEST_RENAME=7,tracer-renamed,5", self)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Counts []struct {
			Key   map[string]string
			Count uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	got := map[string]uint64{}
	for _, c := range res.Counts {
		got[c.Key["comm"]] += c.Count
	}
	before := self[strings.LastIndexByte(self, '/')+1:]
	if len(before) > 15 {
		before = before[:15]
	}
	if got[before] != 7 || got["tracer-renamed"] != 5 {
		t.Errorf("counts by comm %v, want %s:7 tracer-renamed:5 (out %s)", got, before, out)
	}
}

// TestHostileCommEscaped: a comm with a newline and an ESC sequence (set
// by the process itself) is escaped in the text context, in string
// fields and in count's table: no line is split and no ESC reaches the
// terminal (issue 11 item 13).
func TestHostileCommEscaped(t *testing.T) {
	needTracefs(t)
	// Background jobs fork in every sh (busybox's runs /bin/true and even
	// a subshell of a builtin without a fork).
	sh := `printf 'a\nb\033[31mX' > /proc/$$/comm; sleep 0 & wait; sleep 0 & wait`
	want := `a\nb\x1b[31mX`
	out, errs, code := run("record", "sched:sched_process_fork", "--", "sh", "-c", sh)
	if code != 0 {
		t.Fatalf("record: exit %d: %s", code, errs)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.ContainsRune(l, 0x1b) || !strings.Contains(l, "sched_process_fork:") {
			t.Errorf("raw or split line: %q", l)
		}
		if strings.Contains(l, want+"-") && strings.Contains(l, "comm="+want+" ") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d escaped fork lines, want 2:\n%s", n, out)
	}
	out, errs, code = run("count", "--by", "comm", "sched:sched_process_fork", "--", "sh", "-c", sh)
	if code != 0 || strings.ContainsRune(out, 0x1b) || !strings.Contains(out, "\n"+want+" ") {
		t.Errorf("count --by comm: exit %d: %q %s", code, out, errs)
	}
}
