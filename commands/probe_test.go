package commands

import (
	"debug/elf"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracer-dev/tracer/tracefs"
)

// probeSpecs returns probes this kernel can take for the lifecycle tests:
// a kprobe where kprobe_events exists, a uprobe on a C fixture (or on
// this test binary's runtime.main where there is no C compiler), and an
// eprobe where the kernel has them.
func probeSpecs(t *testing.T) []string {
	t.Helper()
	var specs []string
	if haveEprobes() {
		specs = append(specs, eprobeSpec)
	} else {
		t.Log("no eprobes: needs Linux 5.15+ with CONFIG_EPROBE_EVENTS; the lifecycle runs without one")
	}
	if _, err := os.Stat(filepath.Join(tracefsRoot, "kprobe_events")); err == nil {
		specs = append(specs, "kprobe:vfs_read", "kretprobe:vfs_read ret=$retval")
	}
	if _, err := os.Stat(filepath.Join(tracefsRoot, "uprobe_events")); err == nil {
		if bin := cFixture(t); bin != "" {
			specs = append(specs, "uprobe:"+bin+":main", "uretprobe:"+bin+":main ret=$retval")
		} else if self, err := os.Executable(); err == nil && hasSymbols(self) {
			specs = append(specs, "uprobe:"+self+":runtime.main")
		}
	}
	if len(specs) == 0 {
		t.Skip("neither kprobe_events nor a uprobe target (uprobe_events with gcc or a symbol table) here")
	}
	return specs
}

// appendLine appends one line to a control file, as another tool would.
func appendLine(t *testing.T, file, line string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		t.Errorf("%s: %q: %v", file, line, err)
	}
}

func hasSymbols(bin string) bool {
	f, err := elf.Open(bin)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Symbols()
	return err == nil
}

func cFixture(t *testing.T) string {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return ""
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "f.c")
	os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
	bin := filepath.Join(dir, "f")
	if err := exec.Command(gcc, "-o", bin, src).Run(); err != nil {
		return ""
	}
	return bin
}

// eprobeSpec is the eprobe of the lifecycle tests: the path of each openat.
const eprobeSpec = "eprobe:syscalls:sys_enter_openat path=+0($filename):ustring"

func haveEprobes() bool {
	fs, err := tracefs.Open()
	return err == nil && fs.Features().Eprobes
}

// probesOf returns the probe lines of a tracer process's session group
// (eprobes from dynamic_events, whose other lines are those of the
// kprobe_events and uprobe_events).
func probesOf(pid int) []string {
	var out []string
	needle := ":tracer_" + strconv.Itoa(pid) + "_"
	for _, f := range []string{"kprobe_events", "uprobe_events", "dynamic_events"} {
		b, _ := os.ReadFile(filepath.Join(tracefsRoot, f))
		for _, l := range strings.Split(string(b), "\n") {
			if f == "dynamic_events" && !strings.HasPrefix(l, "e:") {
				continue
			}
			if strings.Contains(l, needle) {
				out = append(out, l)
			}
		}
	}
	return out
}

func waitProbes(t *testing.T, pid, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if len(probesOf(pid)) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("tracer pid %d created %d of %d probes", pid, len(probesOf(pid)), n)
}

// removeLeftovers removes a session group's probes by hand, after a
// failure, so one failed test does not leave probes on the machine.
func removeLeftovers(t *testing.T, pid int) {
	fs, err := tracefs.Open()
	if err != nil {
		return
	}
	list, _ := fs.ListProbes()
	for _, p := range list {
		if p.OwnerPID == pid {
			t.Errorf("probe %s left behind", p.ID())
			fs.RemoveProbe(p.Group, p.Event)
		}
	}
}

// TestProbeLifecycle: a record run's probes exist while it runs and are
// gone after a normal end, SIGINT, SIGTERM, and SIGKILL followed by reset.
func TestProbeLifecycle(t *testing.T) {
	needTracefs(t)
	specs := probeSpecs(t)
	t.Logf("probes: %q", specs)
	for _, how := range []string{"normal", "SIGINT", "SIGTERM", "SIGKILL+reset"} {
		t.Run(how, func(t *testing.T) {
			args := []string{"record"}
			if how == "normal" {
				args = append(args, "-d", "2s")
			}
			cmd := tracerCmd(t, append(args, specs...)...)
			var errb strings.Builder
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := cmd.Process.Pid
			defer removeLeftovers(t, pid)
			waitProbes(t, pid, len(specs))
			switch how {
			case "normal":
			case "SIGINT":
				cmd.Process.Signal(syscall.SIGINT)
			case "SIGTERM":
				cmd.Process.Signal(syscall.SIGTERM)
			default:
				cmd.Process.Kill()
			}
			err := cmd.Wait()
			if how != "SIGKILL+reset" && err != nil {
				t.Errorf("record: %v\n%s", err, errb.String())
			}
			if how == "SIGKILL+reset" {
				if len(probesOf(pid)) == 0 {
					t.Fatal("probes vanished after SIGKILL: the test proves nothing")
				}
				if haveEprobes() {
					// Another tool's eprobe, in a group not named tracer_*,
					// stays through reset.
					other := "othertool_" + strconv.Itoa(os.Getpid()) + "/op"
					de := filepath.Join(tracefsRoot, "dynamic_events")
					appendLine(t, de, "e:"+other+" syscalls.sys_enter_openat path=+0($filename):ustring")
					defer func() {
						if b, _ := os.ReadFile(de); !strings.Contains(string(b), "e:"+other+" ") {
							t.Errorf("reset removed another tool's eprobe %s", other)
						}
						appendLine(t, de, "-:"+other)
					}()
				}
				out, errs, code := run("reset")
				if code != 0 {
					t.Fatalf("reset: %s", errs)
				}
				if !strings.Contains(out+errs, "tracer_"+strconv.Itoa(pid)+"_") {
					t.Errorf("reset did not report the probes it removed: %q", out+errs)
				}
			}
			if left := probesOf(pid); len(left) > 0 {
				t.Errorf("probes left after %s: %q", how, left)
			}
			ents, _ := os.ReadDir(instancesDir())
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "tracer-"+strconv.Itoa(pid)+"-") {
					t.Errorf("instance %s left after %s", e.Name(), how)
					os.Remove(filepath.Join(instancesDir(), e.Name()))
				}
			}
		})
	}
}

// TestProbeCommand: probe add, list and remove of a named probe.
func TestProbeCommand(t *testing.T) {
	needTracefs(t)
	var spec string
	if _, err := os.Stat(filepath.Join(tracefsRoot, "kprobe_events")); err == nil {
		spec = "kprobe:vfs_read"
	} else if bin := cFixture(t); bin != "" {
		spec = "uprobe:" + bin + ":main"
	} else {
		t.Skip("no kprobe_events and no C compiler for a uprobe target")
	}
	name := "tracer_cmdtest_" + strconv.Itoa(os.Getpid())
	out, errs, code := run("probe", "add", "--name", name, spec)
	if code != 0 {
		t.Fatalf("probe add: %s", errs)
	}
	defer run("probe", "remove", name)
	if strings.TrimSpace(out) != tracefs.NamedProbeGroup+":"+name {
		t.Errorf("probe add printed %q", out)
	}
	out, errs, code = run("probe", "list")
	if code != 0 || !strings.Contains(out, tracefs.NamedProbeGroup+":"+name) || !strings.Contains(out, "named") {
		t.Errorf("probe list: %q %q", out, errs)
	}
	// The named probe is an event like any other.
	if _, errs, code := run("record", "-d", "100ms", tracefs.NamedProbeGroup+":"+name); code != 0 {
		t.Errorf("record of the named probe: %s", errs)
	}
	if _, errs, code = run("probe", "remove", name); code != 0 {
		t.Fatalf("probe remove: %s", errs)
	}
	out, _, _ = run("probe", "list")
	if strings.Contains(out, name) {
		t.Errorf("still listed after remove: %q", out)
	}
	if _, errs, code = run("probe", "remove", name); code == 0 || !strings.Contains(errs, "no named probe") {
		t.Errorf("removing a missing probe: %d %q", code, errs)
	}
	if _, errs, code = run("probe", "add", "kprobe:f x=$bogus"); code != 2 || !strings.Contains(errs, "unknown variable") {
		t.Errorf("bad spec: %d %q", code, errs)
	}
}

// TestProbeCommandEprobe: a named eprobe through probe add, list (type
// eprobe, the kernel's definition), record and remove; and the plain
// refusal where the kernel has no eprobes.
func TestProbeCommandEprobe(t *testing.T) {
	needTracefs(t)
	name := "tracer_eptest_" + strconv.Itoa(os.Getpid())
	if !haveEprobes() {
		_, errs, code := run("probe", "add", "--name", name, eprobeSpec)
		if code == 0 || !strings.Contains(errs, "needs Linux 5.15+ with CONFIG_EPROBE_EVENTS") {
			t.Errorf("eprobe on a kernel without: %d %q", code, errs)
		}
		_, errs, code = run("record", "-d", "100ms", eprobeSpec)
		if code == 0 || !strings.Contains(errs, "needs Linux 5.15+ with CONFIG_EPROBE_EVENTS") || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("record of an eprobe on a kernel without: %d %q", code, errs)
		}
		t.Skip("no eprobes: needs Linux 5.15+ with CONFIG_EPROBE_EVENTS (the refusal was checked)")
	}
	out, errs, code := run("probe", "add", "--name", name, eprobeSpec)
	if code != 0 {
		t.Fatalf("probe add: %s", errs)
	}
	defer run("probe", "remove", name)
	if strings.TrimSpace(out) != tracefs.NamedProbeGroup+":"+name {
		t.Errorf("probe add printed %q", out)
	}
	out, errs, code = run("probe", "list", "--json")
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
		t.Fatalf("probe list --json: %v %q %q", err, out, errs)
	}
	want := map[string]string{"event": tracefs.NamedProbeGroup + ":" + name, "type": "eprobe", "owner": "named",
		"definition": "syscalls.sys_enter_openat path=+0($filename):ustring"}
	if !slices.ContainsFunc(rows, func(r map[string]string) bool { return maps.Equal(r, want) }) {
		t.Errorf("probe list --json: %v, want a row %v", rows, want)
	}
	// The named eprobe is an event like any other, printed as the kernel does.
	cmd := tracerCmd(t, "record", "-d", "3s", tracefs.NamedProbeGroup+":"+name, "--", "/bin/sh", "-c", "sleep 1; cat /nonexist-eprobe-cmd 2>/dev/null; true")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("record of the named eprobe: %v", err)
	}
	if line := name + `: (syscalls.sys_enter_openat) path="/nonexist-eprobe-cmd"`; !strings.Contains(string(b), line) {
		t.Errorf("record output lacks %q:\n%s", line, b)
	}
	if _, errs, code = run("probe", "remove", name); code != 0 {
		t.Fatalf("probe remove: %s", errs)
	}
	if out, _, _ = run("probe", "list"); strings.Contains(out, name) {
		t.Errorf("still listed after remove: %q", out)
	}
	if _, errs, code = run("probe", "add", "eprobe:syscalls:sys_enter_openat p=$path"); code != 2 && code != 1 || !strings.Contains(errs, `no field "path"`) {
		t.Errorf("eprobe on a missing field: %d %q", code, errs)
	}
}
