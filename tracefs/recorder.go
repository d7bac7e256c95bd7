package tracefs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// RawRecorder copies one CPU's trace_pipe_raw into a file without looking
// at the pages, the way trace-cmd records (ringbuffer-spec.md §6): full
// sub-buffers move with splice() through a pipe, in the kernel; readiness
// follows buffer_percent, so a quiet CPU costs no wake-ups; on Stop the
// last, partial pages are fetched with read() and padded to a whole
// sub-buffer, so the file is a sequence of whole pages.
type RawRecorder struct {
	cpu    int
	subbuf int
	fd     int     // trace_pipe_raw, non-blocking
	poll   *poller // Stop wakes it
	pr, pw int     // the pipe between the two splices
	dst    *os.File

	sink PageSink

	stopping atomic.Bool
	bytes    atomic.Int64
	splice   bool
	buf      []byte
}

// NewRawRecorder opens per_cpu/cpuN/trace_pipe_raw of this instance for a
// copy into dst (written at its current offset). ErrCPUOffline (wrapped)
// means the CPU is not online.
func (in *Instance) NewRawRecorder(cpu int, dst *os.File) (*RawRecorder, error) {
	subbuf, err := in.SubbufSize()
	if err != nil {
		return nil, fmt.Errorf("recording cpu%d: %w", cpu, err)
	}
	p := in.fs.path(in.file(path.Join(fmt.Sprintf("per_cpu/cpu%d", cpu), "trace_pipe_raw")))
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENODEV || err == unix.ENOENT {
			return nil, fmt.Errorf("opening %s: %w", p, ErrCPUOffline)
		}
		return nil, fileErr("opening", p, err)
	}
	r := &RawRecorder{cpu: cpu, subbuf: subbuf, fd: fd, pr: -1, pw: -1, dst: dst, splice: true}
	if r.poll, err = newPoller(fd); err != nil {
		r.Close()
		return nil, fmt.Errorf("recording cpu%d: %w", cpu, err)
	}
	var pfd [2]int
	if err := unix.Pipe2(pfd[:], unix.O_CLOEXEC); err != nil {
		r.splice = false // read() only
	} else {
		r.pr, r.pw = pfd[0], pfd[1]
		// A pipe of many pages lets one splice move a burst.
		want := max(subbuf*64, 1<<20)
		if n, err := unix.FcntlInt(uintptr(r.pw), unix.F_SETPIPE_SZ, want); err != nil || n < subbuf {
			unix.FcntlInt(uintptr(r.pw), unix.F_SETPIPE_SZ, subbuf*4)
		}
	}
	r.buf = make([]byte, subbuf)
	return r, nil
}

// PageSink hands out the places in a file where a CPU's pages go, for a
// file written as it is recorded (a streamed trace.dat). Space returns the
// offset of cpu's next page and how many bytes fit there (whole pages);
// Advance says n bytes were written there.
type PageSink interface {
	Space(cpu int) (off, n int64, err error)
	Advance(cpu int, n int64)
}

// SetSink makes the recorder write its pages where sink says (with
// positioned writes into dst) instead of at dst's current offset. Call it
// before Run.
func (r *RawRecorder) SetSink(sink PageSink) { r.sink = sink }

// CPU is the CPU this recorder copies.
func (r *RawRecorder) CPU() int { return r.cpu }

// Bytes is how much has been written to the file so far.
func (r *RawRecorder) Bytes() int64 { return r.bytes.Load() }

// SubbufSize is the size of each page written.
func (r *RawRecorder) SubbufSize() int { return r.subbuf }

// Stop makes Run drain what is left and return. Turn tracing off first.
// Safe to call from any goroutine, more than once, and after Close.
func (r *RawRecorder) Stop() {
	r.stopping.Store(true)
	if r.poll != nil {
		r.poll.wake()
	}
}

// Run copies pages until Stop, then drains the buffer and returns. A
// write error (a full disk) ends it early: what was written is whole pages.
func (r *RawRecorder) Run() error {
	for {
		if r.stopping.Load() {
			return r.drain()
		}
		if err := r.moveFull(); err != nil {
			return err
		}
		switch err := r.poll.wait(time.Second, true); {
		case err == errWoken:
			continue // Stop: the loop's top drains
		case errors.Is(err, os.ErrDeadlineExceeded):
			// Nothing reached buffer_percent; full pages may still wait (a
			// slow CPU), moveFull at the loop's top takes them.
			continue
		case err != nil:
			return fmt.Errorf("recording cpu%d: %w", r.cpu, err)
		}
		if !r.stopping.Load() {
			// Readiness without a full page to move would spin: pause a bit.
			if moved, err := r.moveOnce(); err != nil {
				return err
			} else if !moved {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

// splice is unix.Splice with the count as int64 on every architecture
// (x/sys/unix returns int on 32-bit ones such as arm, int64 elsewhere).
func splice(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int64, error) {
	m, err := unix.Splice(rfd, roff, wfd, woff, n, flags)
	return int64(m), err
}

// moveFull moves whole pages until none is ready.
func (r *RawRecorder) moveFull() error {
	for {
		moved, err := r.moveOnce()
		if err != nil || !moved {
			return err
		}
	}
}

// moveOnce moves a batch of full pages; false when there were none.
func (r *RawRecorder) moveOnce() (bool, error) {
	if !r.splice {
		return false, nil // read() only: pages are fetched at the drain
	}
	n, err := splice(r.fd, nil, r.pw, nil, r.subbuf*16, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR || err == unix.EBUSY || (err == nil && n == 0):
		return false, nil
	case err == unix.EINVAL || err == unix.ENOSYS:
		r.splice = false // not splice-able here: fall back to read() of pages
		return false, nil
	case err != nil:
		return false, fmt.Errorf("recording cpu%d: splice: %w", r.cpu, err)
	}
	for left := n; left > 0; {
		var m int
		var err error
		if r.sink != nil {
			off, room, serr := r.sink.Space(r.cpu)
			if serr != nil {
				return false, fmt.Errorf("recording cpu%d: %w", r.cpu, serr)
			}
			var m64 int64
			m64, err = splice(r.pr, nil, int(r.dst.Fd()), &off, int(min(int64(left), room)), unix.SPLICE_F_MOVE)
			m = int(m64)
			if m > 0 {
				r.sink.Advance(r.cpu, int64(m))
			}
		} else {
			var m64 int64
			m64, err = splice(r.pr, nil, int(r.dst.Fd()), nil, int(left), unix.SPLICE_F_MOVE)
			m = int(m64)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("recording cpu%d: writing: %w", r.cpu, err)
		}
		if m == 0 {
			return false, fmt.Errorf("recording cpu%d: writing: short splice", r.cpu)
		}
		left -= int64(m)
		r.bytes.Add(int64(m))
	}
	return true, nil
}

// drain moves the remaining full pages, then reads the partial ones.
func (r *RawRecorder) drain() error {
	if err := r.moveFull(); err != nil {
		return err
	}
	zeros := 0
	for {
		n, err := unix.Read(r.fd, r.buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return nil
		case err == unix.EBUSY:
			time.Sleep(time.Millisecond)
			continue
		case err == unix.ENODEV:
			return nil
		case err != nil:
			return fmt.Errorf("recording cpu%d: read: %w", r.cpu, err)
		case n == 0:
			// 0 bytes can be transient while data remains; give up after a few.
			if zeros++; zeros > 3 {
				return nil
			}
			continue
		}
		clear(r.buf[n:])
		if r.sink != nil {
			off, _, err := r.sink.Space(r.cpu)
			if err != nil {
				return fmt.Errorf("recording cpu%d: %w", r.cpu, err)
			}
			if _, err := r.dst.WriteAt(r.buf, off); err != nil {
				return fmt.Errorf("recording cpu%d: writing: %w", r.cpu, err)
			}
			r.sink.Advance(r.cpu, int64(len(r.buf)))
		} else if _, err := r.dst.Write(r.buf); err != nil {
			return fmt.Errorf("recording cpu%d: writing: %w", r.cpu, err)
		}
		r.bytes.Add(int64(len(r.buf)))
	}
}

// Close releases the file descriptors (not dst).
func (r *RawRecorder) Close() error {
	var errs []error
	if r.poll != nil {
		errs = append(errs, r.poll.close())
	}
	for _, fd := range []*int{&r.fd, &r.pr, &r.pw} {
		if *fd >= 0 {
			errs = append(errs, unix.Close(*fd))
			*fd = -1
		}
	}
	return errors.Join(errs...)
}
