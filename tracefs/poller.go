package tracefs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// errWoken is what poller.wait returns when wake interrupted it.
var errWoken = errors.New("poller woken")

// poller waits for one trace_pipe_raw fd to become readable, for a timeout,
// or for wake from another goroutine, whichever comes first. It is the one
// wait loop of CPUReader and RawRecorder (cilium/ebpf's internal/epoll is
// the model): readiness follows buffer_percent, so a quiet CPU costs no
// wake-ups, and an eventfd lets Stop interrupt a wait at once.
//
// poll(2), not epoll: there is one fd to watch per reader, and poll needs
// no third descriptor.
//
// One goroutine calls wait; wake may be called from any, also during or
// after close; close must not run while wait does (the readers serialise
// the two).
type poller struct {
	fd  int // watched, owned by the caller
	fds [2]unix.PollFd

	mu  sync.RWMutex // guards efd: close against a concurrent wake
	efd int
}

// newPoller makes a poller for fd, which must be non-blocking.
func newPoller(fd int) (*poller, error) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &poller{fd: fd, efd: efd}, nil
}

// wait blocks until the fd is readable (nil), wake was called (errWoken,
// the wake is consumed), or timeout passed (os.ErrDeadlineExceeded); a
// negative timeout waits for ever. With watchFd false only wake and the
// timeout end it: a caller whose fd says readable without data to read
// would spin otherwise. An fd in error without data is an error.
func (p *poller) wait(timeout time.Duration, watchFd bool) error {
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	p.fds[0] = unix.PollFd{Fd: int32(p.efd), Events: unix.POLLIN}
	p.fds[1] = unix.PollFd{Fd: int32(p.fd), Events: unix.POLLIN}
	fds := p.fds[:1]
	if watchFd {
		fds = p.fds[:2]
	}
	for {
		_, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		break
	}
	if fds[0].Revents != 0 {
		var v [8]byte
		unix.Read(p.efd, v[:]) // reset the counter; the caller's flags say why
		return errWoken
	}
	if !watchFd || fds[1].Revents == 0 {
		return os.ErrDeadlineExceeded
	}
	if r := fds[1].Revents; r&(unix.POLLERR|unix.POLLNVAL) != 0 && r&unix.POLLIN == 0 {
		return fmt.Errorf("poll: revents %#x", r)
	}
	return nil
}

// wake interrupts a wait in progress, or makes the next one return at once.
// Safe from any goroutine, more than once, and after close.
func (p *poller) wake() {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.efd < 0 {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(p.efd, one[:]) // EAGAIN only if already woken many times
}

// close releases the eventfd (not the watched fd).
func (p *poller) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.efd < 0 {
		return nil
	}
	err := unix.Close(p.efd)
	p.efd = -1
	if err != nil {
		return fmt.Errorf("closing eventfd: %w", err)
	}
	return nil
}
