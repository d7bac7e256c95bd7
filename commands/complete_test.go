package commands

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	app := NewApp(io.Discard, io.Discard)
	evs := func() []string {
		return []string{"sched:sched_process_exec", "sched:sched_process_exit", "sched:sched_switch", "syscalls:sys_enter_openat"}
	}
	for _, tc := range []struct {
		line string
		want string
	}{
		{"tracer rec", "record"},
		{"tracer co", "count completion"},
		{"tracer record sched:sched_pro", "sched:sched_process_exec sched:sched_process_exit"},
		{"tracer record s", "sched: syscalls:"},
		{"tracer count k", "kprobe: kretprobe:"},
		{"tracer count --by comm u", "uprobe: uretprobe: usdt:"},
		{"tracer hist --fie", "--field"},
		{"tracer record --filter ", ""},                              // a flag's value: the shell's files
		{"tracer record --json sched:sched_s", "sched:sched_switch"}, // a bool flag takes none
		{"tracer record -- sched", ""},                               // the traced command's words
		{"tracer completion ", "bash fish zsh"},
		{"tracer report ", ""},
	} {
		got := strings.Join(complete(app, tc.line, evs), " ")
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.line, got, tc.want)
		}
	}
	if got := complete(app, "tracer ", evs); contains(got, "__complete") || !contains(got, "man") {
		t.Errorf("commands: %v (hidden shown or man missing)", got)
	}
}

// tracerOnPath puts this test binary on PATH as "tracer" (see TestMain),
// for shells that run it.
func tracerOnPath(t *testing.T) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "tracer")); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "TRACER_TEST_AS_MAIN=1")
}

// TestBashCompletion runs bash with the script and completes an event
// name from the live system, as Tab would (bash splits the word at ':').
func TestBashCompletion(t *testing.T) {
	needTracefs(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash")
	}
	if _, err := os.Stat(filepath.Join(tracefsRoot, "events/sched/sched_process_exec")); err != nil {
		t.Skip("this kernel has no sched:sched_process_exec")
	}
	script, _, code := run("completion", "bash")
	if code != 0 {
		t.Fatal("tracer completion bash failed")
	}
	f := filepath.Join(t.TempDir(), "tracer.bash")
	os.WriteFile(f, []byte(script), 0o644)
	prog := `source "$1"
COMP_LINE="tracer record sched:sched_pro"; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(tracer record sched : sched_pro); COMP_CWORD=4
_tracer
for c in "${COMPREPLY[@]}"; do echo "sched:$c"; done`
	cmd := exec.Command(bash, "--norc", "-c", prog, "bash", f)
	cmd.Env = tracerOnPath(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	if !contains(strings.Fields(string(out)), "sched:sched_process_exec") {
		t.Errorf("completion of 'tracer record sched:sched_pro' offers no sched:sched_process_exec:\n%s", out)
	}
	for _, sh := range []string{"zsh", "fish"} {
		if p, err := exec.LookPath(sh); err == nil {
			script, _, _ := run("completion", sh)
			f := filepath.Join(t.TempDir(), "tracer."+sh)
			os.WriteFile(f, []byte(script), 0o644)
			if out, err := exec.Command(p, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		}
	}
}

// TestManPage checks the roff and, where man is installed, that it
// renders with every command in it.
func TestManPage(t *testing.T) {
	page, errOut, code := run("man")
	if code != 0 {
		t.Fatalf("tracer man: %s", errOut)
	}
	if !strings.Contains(page, ".TH tracer") && !strings.Contains(page, ".TH \"tracer\"") {
		t.Fatalf("no .TH header:\n%.300s", page)
	}
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("man is not installed: the roff is not rendered")
	}
	f := filepath.Join(t.TempDir(), "tracer.1")
	os.WriteFile(f, []byte(page), 0o644)
	cmd := exec.Command(man, "-l", f)
	cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"NAME", "tracer", "record", "latency", "--metrics"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered man page lacks %q", want)
		}
	}
	if strings.Contains(text, "__complete") {
		t.Error("the man page shows the hidden __complete")
	}
}
