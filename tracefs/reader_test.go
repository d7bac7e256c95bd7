package tracefs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

func openReaders(t *testing.T, in *Instance, opts *ReaderOptions) []*CPUReader {
	t.Helper()
	rs, offline, err := in.OpenReaders(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(offline) > 0 {
		t.Logf("offline CPUs skipped: %v", offline)
	}
	// Registered after the instance's cleanup, so it runs before it:
	// open readers keep the instance busy.
	t.Cleanup(func() {
		for _, r := range rs {
			if err := r.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	return rs
}

func TestReaderFindsExec(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if err := in.EnableEvent("sched", "sched_process_exec"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetTracingOn(true); err != nil {
		t.Fatal(err)
	}
	rs := openReaders(t, in, &ReaderOptions{FlushInterval: 100 * time.Millisecond})

	found := make(chan int, len(rs))
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, r.SubbufSize())
			for {
				n, err := r.ReadPage(buf)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Errorf("cpu%d: %v", r.CPU(), err)
					}
					return
				}
				if n != r.SubbufSize() {
					t.Errorf("cpu%d: read %d bytes, want a whole %d-byte page", r.CPU(), n, r.SubbufSize())
				}
				if bytes.Contains(buf[:n], []byte("/bin/true")) {
					found <- r.CPU()
				}
			}
		}()
	}
	defer func() {
		for _, r := range rs {
			r.Stop()
		}
		wg.Wait()
	}()

	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	select {
	case cpu := <-found:
		t.Logf("found /bin/true in a page from cpu%d", cpu)
	case <-time.After(5 * time.Second):
		t.Fatal("no page with /bin/true within 5s")
	}
}

func TestStopWakesBlockedReader(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	rs := openReaders(t, in, &ReaderOptions{FlushInterval: -1}) // wait forever
	r := rs[0]
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, r.SubbufSize())
		_, err := r.ReadPage(buf)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("ReadPage returned before Stop: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	start := time.Now()
	r.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("ReadPage after Stop = %v, want io.EOF", err)
		}
		t.Logf("woke after %v", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("Stop did not wake the blocked reader within 1s")
	}
}

// TestReaderWaitsForBufferPercent checks the reader does not wake per
// event: one event stays in the kernel until Stop, then the drain returns it.
func TestReaderWaitsForBufferPercent(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if err := in.SetBufferPercent(50); err != nil {
		t.Fatal(err)
	}
	if err := in.EnableEvent("sched", "sched_process_exec"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetTracingOn(true); err != nil {
		t.Fatal(err)
	}
	rs := openReaders(t, in, &ReaderOptions{FlushInterval: -1})

	type page struct {
		cpu  int
		data []byte
		err  error
	}
	pages := make(chan page, 64)
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, r.SubbufSize())
			for {
				n, err := r.ReadPage(buf)
				pages <- page{r.CPU(), bytes.Clone(buf[:n]), err}
				if err != nil {
					return
				}
			}
		}()
	}
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pages:
		t.Fatalf("reader woke for a nearly empty buffer (cpu%d, err %v)", p.cpu, p.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := in.SetTracingOn(false); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		r.Stop()
	}
	wg.Wait()
	close(pages)
	found := false
	for p := range pages {
		if p.err != nil && !errors.Is(p.err, io.EOF) {
			t.Errorf("cpu%d: %v", p.cpu, p.err)
		}
		if bytes.Contains(p.data, []byte("/bin/true")) {
			found = true
		}
	}
	if !found {
		t.Fatal("drain after Stop did not return the /bin/true page")
	}
}

func TestReaderRejectsShortBuffer(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	rs := openReaders(t, in, nil)
	if _, err := rs[0].ReadPage(make([]byte, 100)); err == nil {
		t.Fatal("short buffer accepted")
	}
	rs[0].Close()
	if _, err := rs[0].ReadPage(make([]byte, rs[0].SubbufSize())); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadPage after Close = %v", err)
	}
}

// TestReaderWakesAtBufferPercent checks the other half: once the buffer is
// filled past buffer_percent, a reader with no flush timeout wakes by itself.
func TestReaderWakesAtBufferPercent(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if err := in.SetBufferSizeKB(16); err != nil {
		t.Fatal(err)
	}
	if err := in.SetBufferPercent(25); err != nil {
		t.Fatal(err)
	}
	if err := in.SetTracingOn(true); err != nil {
		t.Fatal(err)
	}
	rs := openReaders(t, in, &ReaderOptions{FlushInterval: -1})
	got := make(chan int, len(rs))
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, r.SubbufSize())
			n, err := r.ReadPage(buf)
			if err == nil && bytes.Contains(buf[:n], []byte("tracer-marker")) {
				got <- r.CPU()
			}
		}()
	}
	defer func() {
		for _, r := range rs {
			r.Stop()
		}
		wg.Wait()
	}()
	marker := bytes.Repeat([]byte("tracer-marker "), 8)
	for range 200 { // ~25 KB of markers on whatever CPU we run on
		if err := in.fs.writeFile(in.file("trace_marker"), marker, 0); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case cpu := <-got:
		t.Logf("cpu%d woke at buffer_percent", cpu)
	case <-time.After(2 * time.Second):
		t.Fatal("reader did not wake after the buffer passed buffer_percent")
	}
}

// TestNoFDLeak: every fd a reader or instance opens is closed.
func TestNoFDLeak(t *testing.T) {
	fs := liveFS(t)
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := count()
	for range 3 {
		in, err := fs.NewInstance()
		if err != nil {
			t.Fatal(err)
		}
		rs, _, err := in.OpenReaders(nil)
		if err != nil {
			in.Remove()
			t.Fatal(err)
		}
		for _, r := range rs {
			r.Stop()
			buf := make([]byte, r.SubbufSize())
			for {
				if _, err := r.ReadPage(buf); err != nil {
					break
				}
			}
			r.Close()
			r.Close()
		}
		if err := in.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if after := count(); after != before {
		t.Fatalf("fds: %d before, %d after", before, after)
	}
}

// TestReaderCapturesAll: every event written is read exactly once, through
// buffer_percent wake-ups, catch-up reads and the final drain.
func TestReaderCapturesAll(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if err := in.SetBufferSizeKB(64); err != nil {
		t.Fatal(err)
	}
	if err := in.SetTracingOn(true); err != nil {
		t.Fatal(err)
	}
	rs := openReaders(t, in, nil)
	counts := make([]int, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, r.SubbufSize())
			for {
				n, err := r.ReadPage(buf)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Errorf("cpu%d: %v", r.CPU(), err)
					}
					return
				}
				counts[i] += bytes.Count(buf[:n], []byte("tracer-count!"))
			}
		}()
	}
	const total = 20000
	for range total {
		if err := in.fs.writeFile(in.file("trace_marker"), []byte("tracer-count!"), 0); err != nil {
			t.Fatal(err)
		}
	}
	in.SetTracingOn(false)
	for _, r := range rs {
		r.Stop()
	}
	wg.Wait()
	sum, lost := 0, uint64(0)
	for i, r := range rs {
		sum += counts[i]
		st, _ := in.Stats(r.CPU())
		lost += st.Overrun + st.DroppedEvents
	}
	if sum+int(lost) != total {
		t.Fatalf("read %d + lost %d, wrote %d", sum, lost, total)
	}
	t.Logf("read %d of %d (lost %d) with a 64 KB buffer", sum, total, lost)
}
