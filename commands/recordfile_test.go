package commands

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracer-dev/tracer/parse/tracedat"
)

// busyGetppid calls getppid(2) until stop is closed, from this process,
// which a tracer child records (it only leaves out its own threads).
func busyGetppid(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		for range 1000 {
			syscall.Getppid()
		}
	}
}

// removeInstancesOf removes what a killed tracer (pid) left in tracefs.
func removeInstancesOf(pid int) {
	ents, _ := os.ReadDir(instancesDir())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("tracer-%d-", pid)) {
			os.Remove(filepath.Join(instancesDir(), e.Name()))
		}
	}
}

// filledPages counts, by the recovery rule of parse/tracedat/stream.go,
// the complete pages with data (commit != 0) in a streamed file.
func filledPages(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 18 {
		return 0
	}
	ps := int(binary.LittleEndian.Uint32(b[14:])) // magic, "7\0", endian, long size
	if ps < 64 {
		return 0
	}
	n := 0
	for off := 0; off+ps <= len(b); off += ps {
		if !bytes.Equal(b[off:off+16], tracedat.ChunkMagic) {
			continue
		}
		pages := int(binary.LittleEndian.Uint32(b[off+20:]))
		for i := 1; i <= pages && off+(i+1)*ps <= len(b); i++ {
			if binary.LittleEndian.Uint64(b[off+i*ps+8:]) != 0 {
				n++
			}
		}
		off += pages * ps
	}
	return n
}

// TestRecordFileKilled: a record -o killed with SIGKILL mid-stream leaves
// a file that tracer report reads, with every complete page of it.
func TestRecordFileKilled(t *testing.T) {
	needTracefs(t)
	p := filepath.Join(t.TempDir(), "killed.dat")
	cmd := tracerCmd(t, "record", "-o", p, "syscalls:sys_enter_getppid")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer removeInstancesOf(cmd.Process.Pid)
	stop := make(chan struct{})
	go busyGetppid(stop)
	// Wait for pages to reach the file, then kill in the middle.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if _, err := os.Stat(p); err == nil && filledPages(t, p) >= 40 {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	close(stop)
	removeInstancesOf(cmd.Process.Pid)
	pages := filledPages(t, p)
	if pages < 40 {
		t.Fatalf("only %d pages reached the file before the kill; stderr: %s", pages, errb.String())
	}
	out, errs, code := run("report", "-i", p)
	if code != 0 || !strings.Contains(errs, "not finished") || strings.Contains(errs, "still going on, so") {
		t.Fatalf("report of the killed recording: exit %d: %s", code, errs)
	}
	events := strings.Count(out, "sys_getppid(")
	if events < pages {
		t.Errorf("%d events reported from %d filled pages", events, pages)
	}
	t.Logf("killed recording: %d filled pages, %d events reported", pages, events)
}

// TestRecordFileDiskFull: record -o on a full disk fails with a clear
// message, removes its instance, and the file keeps its complete pages.
func TestRecordFileDiskFull(t *testing.T) {
	needTracefs(t)
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("no mount command")
	}
	// The metadata (kallsyms, ~5 MB here) must fit: size the tmpfs as a
	// file without pages plus 256 KB.
	probe := filepath.Join(t.TempDir(), "probe.dat")
	if _, errs, code := run("record", "-o", probe, "-d", "10ms", "syscalls:sys_enter_getppid"); code != 0 {
		t.Fatalf("probe recording: %s", errs)
	}
	st, err := os.Stat(probe)
	if err != nil {
		t.Fatal(err)
	}
	size := (st.Size()+4095)/4096*4096 + 256<<10
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tracer-test-full", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", dir).Run()
	p := filepath.Join(dir, "full.dat")
	cmd := tracerCmd(t, "record", "-o", p, "syscalls:sys_enter_getppid")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer removeInstancesOf(cmd.Process.Pid)
	stop := make(chan struct{})
	go busyGetppid(stop)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Signal(syscall.SIGINT)
		err = <-done
		t.Errorf("record -o did not stop on the full disk")
	}
	close(stop)
	if err == nil || !strings.Contains(errb.String(), "disk full") || !strings.Contains(errb.String(), "no space left") {
		t.Errorf("want a failure saying the disk is full, got %v: %s", err, errb.String())
	}
	ents, _ := os.ReadDir(instancesDir())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("tracer-%d-", cmd.Process.Pid)) {
			t.Errorf("instance left behind: %s", e.Name())
		}
	}
	out, errs, code := run("report", "-i", p)
	events := strings.Count(out, "sys_getppid(")
	if code != 0 || events < 1000 {
		t.Fatalf("report of the disk-full recording: exit %d, %d events: %s", code, events, errs)
	}
	t.Logf("disk full: %s; report: %d events %s", strings.TrimSpace(errb.String()), events, errs)
}

// dirNames lists a directory, to see that nothing was left beside a file.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestRecordFileForceKeepsOld: record --force -o FILE leaves the old FILE
// as it was when setup fails, never replaces what is not a regular file,
// and leaves nothing beside it; once recording starts, FILE is the new
// recording.
func TestRecordFileForceKeepsOld(t *testing.T) {
	needTracefs(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "old.dat")
	for _, bad := range [][]string{
		{"--clock", "nosuchclock"},
		{"--filter", "nosuchfield > 0"},
		{"-p", "99999999999"},
		{"--buffer-size", "4611686018427387904"},
	} {
		if err := os.WriteFile(p, []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"record", "--force", "-o", p, "-d", "200ms"}, bad...)
		_, errs, code := run(append(args, "sched:sched_switch")...)
		if code == 0 {
			t.Errorf("%v: succeeded", bad)
		}
		if b, _ := os.ReadFile(p); string(b) != "precious\n" {
			t.Errorf("%v: the old file was replaced or removed (now %d bytes); stderr %s", bad, len(b), errs)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("%v: left %v", bad, names)
		}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run("record", "--force", "-o", fifo, "-d", "200ms", "sched:sched_switch")
	if fi, err := os.Lstat(fifo); code == 0 || !strings.Contains(errs, "not a regular file") || err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("--force -o FIFO: exit %d, %s; still a FIFO: %v", code, errs, err == nil && fi.Mode()&os.ModeNamedPipe != 0)
	}
	os.Remove(fifo)
	if _, errs, code := run("record", "-o", p, "-d", "200ms", "sched:sched_switch"); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("-o over an existing file without --force: exit %d, %s", code, errs)
	}
	if _, errs, code := run("record", "--force", "-o", p, "-d", "200ms", "sched:sched_switch"); code != 0 {
		t.Fatalf("--force over a file: exit %d: %s", code, errs)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("recorded file: %v %v, want mode 0600", fi, err)
	}
	if _, errs, code := run("report", "-i", p); code != 0 {
		t.Errorf("report of the --force recording: exit %d: %s", code, errs)
	}
	q := filepath.Join(dir, "new.dat")
	if _, errs, code := run("record", "-o", q, "-d", "200ms", "sched:sched_switch"); code != 0 {
		t.Fatalf("-o new file: exit %d: %s", code, errs)
	}
	if names := dirNames(t, dir); strings.Join(names, " ") != "new.dat old.dat" {
		t.Errorf("directory holds %v, want new.dat old.dat", names)
	}
}

// TestReportWhileRecording: a file a record -o is still writing is said
// to be one, not a killed recording (issue 11 item 18).
func TestReportWhileRecording(t *testing.T) {
	needTracefs(t)
	p := filepath.Join(t.TempDir(), "live.dat")
	cmd := tracerCmd(t, "record", "-o", p, "syscalls:sys_enter_getppid")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer removeInstancesOf(cmd.Process.Pid)
	defer cmd.Wait()
	defer cmd.Process.Signal(syscall.SIGINT)
	stop := make(chan struct{})
	defer close(stop)
	go busyGetppid(stop)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil && filledPages(t, p) >= 2 {
			break
		}
	}
	_, errs, code := run("report", "-i", p)
	want := fmt.Sprintf("is open for writing by pid %d", cmd.Process.Pid)
	if code != 0 || !strings.Contains(errs, want) || !strings.Contains(errs, "its recording is still going on") {
		t.Errorf("report of a file being recorded: exit %d, want %q: %s", code, want, errs)
	}
}
