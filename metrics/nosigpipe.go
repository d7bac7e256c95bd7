package metrics

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// A write to a socket whose peer has gone raises SIGPIPE, and tracer
// catches SIGPIPE (so that a closed stdout is an EPIPE, not a death that
// leaves an instance behind) and stops tracing on it. A scraper that
// hangs up in the middle of a response must not stop tracing, so the
// server's connections write with send(MSG_NOSIGNAL): the peer's
// going away is an EPIPE for this connection only.

// noSigpipeListener hands out connections that never raise SIGPIPE.
type noSigpipeListener struct{ net.Listener }

func (l noSigpipeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c, nil
	}
	return &noSigpipeConn{Conn: c, raw: raw}, nil
}

// noSigpipeConn is a connection whose writes use MSG_NOSIGNAL. It embeds
// net.Conn, not *net.TCPConn, so that net/http finds no ReadFrom
// (sendfile and splice would raise SIGPIPE again).
type noSigpipeConn struct {
	net.Conn
	raw syscall.RawConn
}

func (c *noSigpipeConn) Write(p []byte) (int, error) {
	n := 0
	var werr error
	// RawConn.Write waits for the socket to be writable (with the
	// connection's deadlines) each time the function returns false.
	err := c.raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, err := unix.SendmsgN(int(fd), p[n:], nil, nil, unix.MSG_NOSIGNAL)
			switch {
			case errors.Is(err, unix.EAGAIN):
				return false
			case errors.Is(err, unix.EINTR):
				continue
			case err != nil:
				werr = err
				return true
			}
			n += m
		}
		return true
	})
	if werr != nil {
		return n, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: werr}
	}
	return n, err
}
