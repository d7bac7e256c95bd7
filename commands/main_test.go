package commands

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/tracefs"
)

// TestMain lets the test binary act as tracer's held child, since
// record -- CMD re-executes its own executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ExecHeldArg {
		os.Exit(ExecHeld(os.Args[2:]))
	}
	if os.Getenv("TRACER_TEST_AS_MAIN") == "1" {
		os.Exit(Main(append([]string{"tracer"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// needTracefs skips a live test where it cannot run, saying why.
func needTracefs(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live test needs root")
	}
	fs, err := tracefs.Open() // mounts tracefs if it is not
	if errors.Is(err, tracefs.ErrNotMounted) {
		t.Skipf("live test needs tracefs: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !fs.Features().Instances {
		t.Skip("live test needs tracefs instances (Linux 3.10+)")
	}
	tracefsRoot = fs.Root()
	t.Cleanup(func() { checkNoLeftovers(t) })
}

// tracefsRoot is where the live tests found tracefs.
var tracefsRoot = "/sys/kernel/tracing"

func instancesDir() string { return filepath.Join(tracefsRoot, "instances") }

// ourInstances lists instances created by this process.
func ourInstances() []string {
	ents, _ := os.ReadDir(instancesDir())
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
			os.Remove(filepath.Join(instancesDir(), l))
		}
	}
}

// run runs tracer in-process and returns its stdout, stderr and status.
func run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(append([]string{"tracer"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// tracerCmd runs this test binary as the tracer command (see TestMain),
// for tests of signals and pipes that need a real process. It needs no Go
// toolchain, so it works inside the test VMs too.
func tracerCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "TRACER_TEST_AS_MAIN=1")
	return cmd
}

func itoa(i int) string { return strconv.Itoa(i) }
