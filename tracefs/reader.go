package tracefs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultFlushInterval bounds how long a page may sit partly filled before
// the reader fetches it anyway, so a person watching a live trace sees
// events at low rates too. Five reads a second cost nothing, unlike a read
// per event.
const DefaultFlushInterval = 200 * time.Millisecond

// ReaderOptions tune a CPUReader. The zero value is sensible.
type ReaderOptions struct {
	// FlushInterval is how long to wait for the buffer to reach the
	// instance's buffer_percent before reading a partial page anyway.
	// 0 means DefaultFlushInterval; negative means never (pages are read
	// only when buffer_percent is reached, and on Stop).
	FlushInterval time.Duration
	// ReportIdle makes ReadPage return (0, nil) whenever it finds the
	// buffer empty (after a flush timeout, a Kick, or when catching up), and
	// record when it looked (EmptyAt). A merging consumer needs this to know
	// that a quiet CPU has nothing older to contribute.
	ReportIdle bool
}

// CPUReader hands out whole raw pages from one CPU's trace_pipe_raw.
//
// It exists because the obvious ways to read that file hurt: os.Open puts
// the fd in Go's netpoller, where a read can block forever below
// buffer_percent; a blocking read wakes on the first event and returns a
// nearly empty page, which costs the traced task microseconds per event.
// CPUReader instead polls (readiness follows buffer_percent) with a flush
// timeout, reads without blocking, and has an eventfd so Stop wakes it at
// once. One goroutine should call ReadPage; Stop may be called from any.
type CPUReader struct {
	cpu    int
	subbuf int
	flush  time.Duration

	mu       sync.Mutex // held by ReadPage; Close waits for it
	fd       int
	poll     *poller // Stop and Kick wake it
	stopping atomic.Bool
	closed   bool
	// catchUp is set after a wake-up produced a page: the following calls
	// read without waiting until the buffer is empty, so data below
	// buffer_percent is not left behind for ever at low rates.
	catchUp bool

	reportIdle bool
	kicked     atomic.Bool
	emptyAt    atomic.Int64 // UnixNano (monotonic-derived) before the last read that found nothing
}

var monoBase = time.Now()

// monoNow is a monotonic clock in nanoseconds, comparable across readers.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// MonoNow returns the clock EmptyAt uses, for comparing with page read times.
func MonoNow() int64 { return monoNow() }

// EmptyAt returns when (MonoNow) the reader last started a read that found
// the buffer empty: every event of this CPU not yet read was written after
// that moment. Only maintained with ReportIdle.
func (r *CPUReader) EmptyAt() int64 { return r.emptyAt.Load() }

// Kick asks a ReadPage waiting for buffer_percent to look now: it returns a
// page if there is data, or (0, nil) with EmptyAt updated if there is none.
// Only meaningful with ReportIdle.
func (r *CPUReader) Kick() {
	r.kicked.Store(true)
	r.signal()
}

// OpenCPUReader opens per_cpu/cpuN/trace_pipe_raw of this instance.
// ErrCPUOffline (wrapped) means the CPU is not online: skip it.
func (in *Instance) OpenCPUReader(cpu int, opts *ReaderOptions) (*CPUReader, error) {
	if cpu < 0 {
		return nil, fmt.Errorf("opening reader: invalid cpu %d", cpu)
	}
	subbuf, err := in.SubbufSize()
	if err != nil {
		return nil, fmt.Errorf("opening reader for cpu%d: %w", cpu, err)
	}
	flush := DefaultFlushInterval
	if opts != nil && opts.FlushInterval != 0 {
		flush = opts.FlushInterval
	}
	p := in.fs.path(in.file(path.Join(fmt.Sprintf("per_cpu/cpu%d", cpu), "trace_pipe_raw")))
	// unix.Open, not os.Open: the fd must stay out of the netpoller and
	// non-blocking, so that we decide when to wait (see ReadPage).
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENODEV || err == unix.ENOENT {
			return nil, fmt.Errorf("opening %s: %w", p, ErrCPUOffline)
		}
		return nil, fileErr("opening", p, err)
	}
	poll, err := newPoller(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("opening reader for cpu%d: %w", cpu, err)
	}
	cr := &CPUReader{cpu: cpu, subbuf: subbuf, flush: flush, fd: fd, poll: poll}
	if opts != nil {
		cr.reportIdle = opts.ReportIdle
	}
	return cr, nil
}

// OpenReaders opens a reader for every online CPU. CPUs that turn out to
// be offline are returned in offline rather than failing the whole set.
func (in *Instance) OpenReaders(opts *ReaderOptions) (readers []*CPUReader, offline []int, err error) {
	cpus, err := in.fs.OnlineCPUs()
	if err != nil {
		return nil, nil, err
	}
	// CPUs that exist but are offline now are reported, so that a user
	// knows the trace does not cover them.
	online := map[int]bool{}
	for _, c := range cpus {
		online[c] = true
	}
	if b, err := readAbs(path.Join(in.fs.sysRoot, "devices/system/cpu/present")); err == nil {
		if all, err := parseCPUList(strings.TrimSpace(string(b))); err == nil {
			for _, c := range all {
				if !online[c] && in.fs.exists(path.Join("per_cpu", fmt.Sprintf("cpu%d", c))) {
					offline = append(offline, c)
				}
			}
		}
	}
	for _, c := range cpus {
		r, err := in.OpenCPUReader(c, opts)
		if errors.Is(err, ErrCPUOffline) {
			offline = append(offline, c)
			continue
		}
		if err != nil {
			for _, r := range readers {
				r.Close()
			}
			return nil, nil, err
		}
		readers = append(readers, r)
	}
	return readers, offline, nil
}

// CPU is the CPU this reader drains; records carry no CPU number of their own.
func (r *CPUReader) CPU() int { return r.cpu }

// SubbufSize is the buffer length ReadPage needs: one whole sub-buffer.
func (r *CPUReader) SubbufSize() int { return r.subbuf }

// ReadPage waits for data and copies one whole sub-buffer into buf, which
// must hold at least SubbufSize bytes (a shorter read would split a page).
// It waits until the buffer reaches buffer_percent or FlushInterval passes,
// then returns pages without waiting until the buffer is empty (the last
// one possibly partial). Wake-ups are thus bounded by buffer_percent and
// the flush interval, never one per event. After Stop it drains what is left without
// waiting and then returns io.EOF. ErrCPUOffline (wrapped) means the CPU
// went away; the other readers can carry on.
func (r *CPUReader) ReadPage(buf []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, ErrClosed
	}
	if len(buf) < r.subbuf {
		return 0, fmt.Errorf("reading cpu%d: buffer of %d bytes is smaller than the %d-byte sub-buffer", r.cpu, len(buf), r.subbuf)
	}
	buf = buf[:r.subbuf]

	timeout := time.Duration(-1)
	if r.flush > 0 {
		timeout = r.flush
	}
	idle := 0 // poll said readable but there was nothing to read
	for {
		if r.stopping.Load() {
			r.catchUp = false
			return r.drain(buf)
		}
		if r.catchUp || r.kicked.Load() {
			r.kicked.Store(false)
			t := monoNow()
			n, err := r.read(buf)
			if n > 0 || err != nil {
				return n, err
			}
			r.catchUp = false
			if r.reportIdle {
				r.emptyAt.Store(t)
				return 0, nil
			}
		}
		// Readiness without data would spin: after a few, wait on Stop
		// and the timeout alone.
		ready := true
		switch err := r.poll.wait(timeout, idle < 3); {
		case err == errWoken:
			continue // the flags say why
		case errors.Is(err, os.ErrDeadlineExceeded):
			ready = false
		case err != nil:
			return 0, fmt.Errorf("polling cpu%d: %w", r.cpu, err)
		}
		// Ready (buffer_percent reached) or flush timeout: try one read.
		t := monoNow()
		n, err := r.read(buf)
		if n > 0 {
			r.catchUp = true
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if ready {
			idle++
		} else {
			idle = 0
			if r.reportIdle {
				r.emptyAt.Store(t)
				return 0, nil
			}
		}
	}
}

// read does one non-blocking read. It returns (0, nil) when there is
// nothing to read now: EAGAIN, a transient EBUSY, or a 0-byte read, which
// on trace_pipe_raw means "caught up with the writer", not end of file.
func (r *CPUReader) read(buf []byte) (int, error) {
	for {
		n, err := unix.Read(r.fd, buf)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.EBUSY:
			return 0, nil
		case unix.ENODEV:
			return 0, fmt.Errorf("reading cpu%d: %w", r.cpu, ErrCPUOffline)
		default:
			return 0, fmt.Errorf("reading cpu%d: %w", r.cpu, err)
		}
	}
}

// drain returns the next leftover page after Stop, or io.EOF when the
// buffer is empty. A 0-byte read is retried a few times because it can
// happen while data remains.
func (r *CPUReader) drain(buf []byte) (int, error) {
	for range 3 {
		n, err := unix.Read(r.fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, io.EOF
		case err == unix.ENODEV:
			return 0, fmt.Errorf("reading cpu%d: %w", r.cpu, ErrCPUOffline)
		case err != nil && err != unix.EBUSY:
			return 0, fmt.Errorf("reading cpu%d: %w", r.cpu, err)
		case n > 0:
			return n, nil
		}
	}
	return 0, io.EOF
}

// Stop makes ReadPage stop waiting: a blocked call wakes at once, and from
// then on ReadPage drains the remaining pages and returns io.EOF. Turn
// tracing off first, or the drain chases the writer. Safe to call from any
// goroutine, more than once, and after Close.
func (r *CPUReader) Stop() {
	r.stopping.Store(true)
	r.signal()
}

func (r *CPUReader) signal() { r.poll.wake() }

// Close stops the reader, waits for a ReadPage in progress to return, and
// closes both file descriptors. The instance can be removed only after
// every reader is closed.
func (r *CPUReader) Close() error {
	r.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	err1 := unix.Close(r.fd)
	err2 := r.poll.close()
	r.fd = -1
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("closing reader for cpu%d: %w", r.cpu, err)
	}
	return nil
}
