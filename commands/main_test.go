package commands

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestMain lets the test binary act as tracer's held child, since
// record -- CMD re-executes its own executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		os.Exit(ExecHeld(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// needTracefs skips a live test where it cannot run, saying why.
func needTracefs(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live test needs root")
	}
	if _, err := os.Stat("/sys/kernel/tracing/instances"); err != nil {
		if _, err := os.Stat("/sys/kernel/debug/tracing/instances"); err != nil {
			t.Skip("live test needs tracefs with instances")
		}
	}
	t.Cleanup(func() { checkNoLeftovers(t) })
}

// ourInstances lists instances created by this process.
func ourInstances() []string {
	ents, _ := os.ReadDir("/sys/kernel/tracing/instances")
	var out []string
	prefix := "tracer-" + itoa(os.Getpid()) + "-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func checkNoLeftovers(t *testing.T) {
	t.Helper()
	if left := ourInstances(); len(left) > 0 {
		t.Errorf("instances left behind: %v", left)
		for _, l := range left {
			os.Remove(filepath.Join("/sys/kernel/tracing/instances", l))
		}
	}
}

// run runs tracer in-process and returns its stdout, stderr and status.
func run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(append([]string{"tracer"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tracerBinary builds the tracer command once, for tests of signals and
// pipes that need a real process.
func tracerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tracer-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tracer")
		cmd := exec.Command("go", "build", "-o", binPath, "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building tracer: %v\n%s", buildErr, binPath)
	}
	return binPath
}
