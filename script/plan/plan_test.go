package plan

import (
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/script"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeEnv is a kernel with a few syscall events and no eprobes.
type fakeEnv struct{ eprobes bool }

var fakeEvents = map[string][]parse.Field{
	"syscalls:sys_enter_getppid": nil,
	"syscalls:sys_enter_getpid":  nil,
	"syscalls:sys_enter_openat": {
		{Name: "dfd", Size: 8, Signed: true}, {Name: "filename", Size: 8}, {Name: "flags", Size: 8}, {Name: "mode", Size: 8},
	},
	"syscalls:sys_exit_openat":  {{Name: "ret", Size: 8, Signed: true}},
	"syscalls:sys_enter_execve": {{Name: "filename", Size: 8}, {Name: "argv", Size: 8}, {Name: "envp", Size: 8}},
	"syscalls:sys_enter_unlink": {{Name: "pathname", Size: 8}},
	"syscalls:sys_enter_read":   {{Name: "fd", Size: 8}, {Name: "buf", Size: 8}, {Name: "count", Size: 8}},
	"sched:sched_process_exec":  {{Name: "filename", IsString: true}, {Name: "pid", Size: 4, Signed: true}},
	"raw_syscalls:sys_enter":    {{Name: "id", Size: 8, Signed: true}},
}

func (fakeEnv) Events(pattern string) ([]string, error) {
	var out []string
	for n := range fakeEvents {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no event matches " + pattern)
	}
	sortStrings(out)
	return out, nil
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func (fakeEnv) Fields(ev string) ([]parse.Field, error) { return fakeEvents[ev], nil }
func (e fakeEnv) Eprobes() bool                         { return e.eprobes }

// TestPlanGolden plans each testdata/*.bt and compares the printed plan
// with its .plan file (go test -update rewrites them).
func TestPlanGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			env := fakeEnv{eprobes: strings.Contains(f, "eprobe")}
			var got string
			prog, info, err := script.Compile(string(src))
			if err == nil {
				var p *Plan
				p, err = Build(prog, info, env)
				if err == nil {
					got = p.String()
				}
			}
			if err != nil {
				got = "error: " + err.Error() + "\n"
			}
			golden := strings.TrimSuffix(f, ".bt") + ".plan"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
				return
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Errorf("plan of %s:\n%s\nwant:\n%s", f, got, want)
			}
		})
	}
}
