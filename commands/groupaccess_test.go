package commands

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGroupTracefsWithoutRoot: with tracefs mounted for a group the user
// is in, tracer works without root as far as the kernel allows: listing
// events needs only read access. Remounting tracefs changes it for every
// process on the machine, so this runs only in the test VMs.
func TestGroupTracefsWithoutRoot(t *testing.T) {
	vm := os.Getenv("TRACER_IN_VM")
	if vm == "" {
		t.Skip("remounting tracefs with a group changes it for everyone: runs only in the test VMs (TRACER_IN_VM)")
	}
	needTracefs(t)
	const gid = 4242
	if err := unix.Mount("nodev", tracefsRoot, "tracefs", unix.MS_REMOUNT, "gid=4242,mode=0750"); err != nil {
		t.Skipf("this kernel cannot remount tracefs with gid= and mode= (%v)", err)
	}
	t.Cleanup(func() {
		unix.Mount("nodev", tracefsRoot, "tracefs", unix.MS_REMOUNT, "gid=0,mode=0700")
	})
	// A copy of this test binary that other users may execute.
	dir, err := os.MkdirTemp("", "tracer-group")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	self := dir + "/tracer"
	if err := os.WriteFile(self, b, 0o755); err != nil {
		t.Fatal(err)
	}
	as := func(uid, g uint32, args ...string) (string, string, error) {
		cmd := exec.Command(self, args...)
		cmd.Env = append(os.Environ(), "TRACER_TEST_AS_MAIN=1")
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: g}}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	// In the group: listing works without root.
	out, errs, err := as(gid, gid, "list", "sched:sched_switch")
	if err != nil || !strings.Contains(out, "sched_switch") {
		t.Fatalf("as uid/gid %d in the tracefs group: %v\nstdout: %s\nstderr: %s", gid, err, out, errs)
	}
	// Outside it: one clear line naming what is needed.
	_, errs, err = as(4343, 4343, "list", "sched:sched_switch")
	if err == nil || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "root") {
		t.Fatalf("outside the group: err %v, stderr %q", err, errs)
	}
}
