package tracefs

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestInstanceCreateRemove(t *testing.T) {
	fs := liveFS(t)
	before := ourInstanceNames(t, fs) // other test processes create their own meanwhile
	in := newTestInstance(t, fs)
	pid, ok := ownerPID(in.Name())
	if !ok || pid != os.Getpid() {
		t.Fatalf("instance name %q does not carry our pid %d", in.Name(), os.Getpid())
	}
	if _, err := os.Stat(in.Path()); err != nil {
		t.Fatal(err)
	}
	if err := in.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := in.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if after := ourInstanceNames(t, fs); !slices.Equal(before, after) {
		t.Fatalf("instances before %v, after %v", before, after)
	}
}

func TestInstanceSettings(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)

	if err := in.SetBufferSizeKB(256); err != nil {
		t.Fatal(err)
	}
	if kb, err := in.BufferSizeKB(); err != nil || kb < 256 || kb > 512 { // rounded up to whole pages
		t.Fatalf("BufferSizeKB = %d, %v; want about 256", kb, err)
	}
	if err := in.SetClock("mono"); err != nil {
		t.Fatal(err)
	}
	if c, err := in.Clock(); err != nil || c != "mono" {
		t.Fatalf("Clock = %q, %v", c, err)
	}
	if err := in.SetClock("sundial"); err == nil || !strings.Contains(err.Error(), "local") {
		t.Fatalf("SetClock(sundial) = %v; want a refusal listing the clocks", err)
	}
	if err := in.SetOverwrite(false); err != nil {
		t.Fatal(err)
	}
	if on, err := in.Option("overwrite"); err != nil || on {
		t.Fatalf("overwrite = %v, %v", on, err)
	}
	if err := in.SetOption("no-such-option", true); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("SetOption(no-such-option) = %v", err)
	}
	if err := in.SetBufferPercent(30); err != nil {
		t.Fatal(err)
	}
	if err := in.SetEventPIDs([]int{os.Getpid(), 1}, true); err != nil {
		t.Fatal(err)
	}
	b, err := in.read("set_event_pid")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(b)); !slices.Contains(got, strconv.Itoa(os.Getpid())) || !slices.Contains(got, "1") {
		t.Fatalf("set_event_pid = %q", b)
	}
	if on, _ := in.Option("event-fork"); !on {
		t.Fatal("event-fork not set")
	}
	if err := in.SetEventPIDs(nil, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := in.read("set_event_pid"); strings.TrimSpace(string(b)) != "" {
		t.Fatalf("set_event_pid not cleared: %q", b)
	}
	if fs.Features().SubbufSize {
		if kb, err := in.SubbufSizeKB(); err != nil || kb <= 0 {
			t.Fatalf("SubbufSizeKB = %d, %v", kb, err)
		}
	}
	n, err := in.SubbufSize()
	if err != nil || n < 4096 {
		t.Fatalf("SubbufSize = %d, %v", n, err)
	}
	cpus, err := fs.OnlineCPUs()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("OnlineCPUs = %v, %v", cpus, err)
	}
	st, err := in.Stats(cpus[0])
	if err != nil {
		t.Fatal(err)
	}
	if st.NowTS == "" {
		t.Fatalf("stats not parsed: %+v", st)
	}
	if err := in.EnableEvent("sched", "no_such_event"); !errors.Is(err, ErrNoEvent) {
		t.Fatalf("EnableEvent(no_such_event) = %v", err)
	}
}

func TestBadFilterKernelError(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	err := in.SetFilter("sched", "sched_switch", "prev_pid > abc")
	var ke *KernelError
	if !errors.As(err, &ke) {
		t.Fatalf("SetFilter = %v (%T); want *KernelError", err, err)
	}
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("error does not wrap EINVAL: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"filter", "Command: prev_pid > abc", "^"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	t.Logf("kernel said:\n%s", msg)
	// A good filter works and can be cleared.
	if err := in.SetFilter("sched", "sched_switch", "prev_pid > 1"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetFilter("sched", "sched_switch", ""); err != nil {
		t.Fatal(err)
	}
}

func TestResetRemovesOnlyDeadOwners(t *testing.T) {
	fs := liveFS(t)
	dead := unusedPID(t)
	deadName := instancePrefix + strconv.Itoa(dead) + "-beef"
	otherName := "othertool-test-" + strconv.Itoa(os.Getpid())
	for _, n := range []string{deadName, otherName} {
		p := filepath.Join(fs.path("instances"), n)
		if err := os.Mkdir(p, 0o750); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rmdirRetry(p) })
	}
	live := newTestInstance(t, fs)

	list, err := fs.ListInstances()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]InstanceInfo{}
	for _, i := range list {
		byName[i.Name] = i
	}
	if i := byName[deadName]; !i.Ours || i.OwnerAlive || i.OwnerPID != dead {
		t.Errorf("dead instance listed as %+v", i)
	}
	if i := byName[live.Name()]; !i.Ours || !i.OwnerAlive {
		t.Errorf("live instance listed as %+v", i)
	}
	if i := byName[otherName]; i.Ours {
		t.Errorf("other tool's instance listed as ours: %+v", i)
	}

	removed, err := Reset(fs)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(removed, deadName) {
		t.Errorf("Reset removed %v; want %s", removed, deadName)
	}
	now := instanceNames(t, fs)
	if slices.Contains(now, deadName) {
		t.Errorf("%s still there", deadName)
	}
	for _, keep := range []string{live.Name(), otherName} {
		if !slices.Contains(now, keep) {
			t.Errorf("Reset removed %s", keep)
		}
		if slices.Contains(removed, keep) {
			t.Errorf("Reset reports removing %s", keep)
		}
	}
}

// unusedPID finds a pid with no process, counting down from pid_max.
func unusedPID(t *testing.T) int {
	t.Helper()
	max := 32768
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			max = v
		}
	}
	for pid := max - 1; pid > max-1000 && pid > 1; pid-- {
		if unix.Kill(pid, 0) == unix.ESRCH {
			return pid
		}
	}
	t.Fatal("no unused pid found")
	return 0
}

func TestFeaturesLive(t *testing.T) {
	fs := liveFS(t)
	f := fs.Features()
	if !f.Instances || f.KernelRelease == "" {
		t.Fatalf("features: %+v", f)
	}
	t.Logf("%+v", f)
}

// TestInstanceBufferSizeRange: sizes the kernel would silently turn into
// its default or into a few KB (its KB-to-bytes shift overflows) are
// refused with the range, and leave the buffer as it was.
func TestInstanceBufferSizeRange(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if err := in.SetBufferSizeKB(64); err != nil {
		t.Fatal(err)
	}
	before, _ := in.BufferSizeKB()
	// math.MaxInt>>1 (2^62-1 on 64-bit) overflows the shift to bytes; a
	// literal 1<<62 would not build on 32-bit arm.
	for _, kb := range []int{0, -5, MaxBufferSizeKB + 1, math.MaxInt >> 1} {
		err := in.SetBufferSizeKB(kb)
		if err == nil || !strings.Contains(err.Error(), "out of range (1 to 4194304 KB)") {
			t.Errorf("SetBufferSizeKB(%d) = %v; want a refusal with the range", kb, err)
		}
		if now, _ := in.BufferSizeKB(); now != before {
			t.Errorf("SetBufferSizeKB(%d) changed the buffer from %d to %d KB", kb, before, now)
		}
	}
	if err := in.SetBufferSizeKB(1); err != nil {
		t.Errorf("SetBufferSizeKB(1): %v", err)
	}
}

func TestBufferReadback(t *testing.T) {
	for _, tc := range []struct {
		want, got int
		ok        bool
	}{{4096, 4099, true}, {1, 7, true}, {256, 256, true}, {4096, 7, false}, {4096, 4095, false}} {
		if err := checkBufferReadback(tc.want, tc.got); (err == nil) != tc.ok {
			t.Errorf("asked %d, got %d: %v", tc.want, tc.got, err)
		}
	}
}
