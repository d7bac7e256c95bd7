package tracefs

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testPipe returns a non-blocking pipe, closed at the end of the test.
func testPipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func TestPollerTimeoutReadyWake(t *testing.T) {
	r, w := testPipe(t)
	p, err := newPoller(r)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	if err := p.wait(10*time.Millisecond, true); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("empty pipe: wait = %v, want deadline exceeded", err)
	}
	unix.Write(w, []byte("x"))
	if err := p.wait(time.Second, true); err != nil {
		t.Fatalf("readable pipe: wait = %v, want nil", err)
	}
	// Not watching the fd: only the timeout ends the wait.
	if err := p.wait(10*time.Millisecond, false); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("fd not watched: wait = %v, want deadline exceeded", err)
	}

	// A wake from another goroutine interrupts a wait for ever, and is
	// consumed: the next wait times out.
	go func() { time.Sleep(20 * time.Millisecond); p.wake() }()
	if err := p.wait(-1, false); err != errWoken {
		t.Fatalf("woken: wait = %v, want errWoken", err)
	}
	if err := p.wait(10*time.Millisecond, false); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the wake: wait = %v, want deadline exceeded", err)
	}
	// A wake before the wait makes it return at once.
	p.wake()
	if err := p.wait(-1, true); err != errWoken {
		t.Fatalf("woken before: wait = %v, want errWoken", err)
	}
}

func TestPollerWakeAfterClose(t *testing.T) {
	r, _ := testPipe(t)
	p, err := newPoller(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	p.wake() // must neither panic nor write to a reused fd
	if err := p.close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestRawRecorderStopAfterClose is the guard CPUReader always had: Stop
// may race with Close and must not write into a closed (maybe reused) fd.
func TestRawRecorderStopAfterClose(t *testing.T) {
	r, _ := testPipe(t)
	p, err := newPoller(r)
	if err != nil {
		t.Fatal(err)
	}
	rec := &RawRecorder{fd: -1, pr: -1, pw: -1, poll: p}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rec.Stop()
}
