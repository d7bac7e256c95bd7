package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeWatch reports who writes the top level's control files, through
// fanotify, which gives the writer's pid with each event. Other tools on
// the machine (trace-cmd, perf) may rightly change the top level while the
// suite runs; only a write by a tracer the suite started is a fault.
type writeWatch struct {
	f      *os.File
	mu     sync.Mutex
	writes map[int][]string // pid -> files written
	done   chan struct{}
}

func newWriteWatch(root string, files []string) (*writeWatch, error) {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("fanotify_init: %w", err)
	}
	for _, f := range files {
		p := filepath.Join(root, f)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, unix.FAN_MODIFY, unix.AT_FDCWD, p); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("fanotify_mark %s: %w", p, err)
		}
	}
	w := &writeWatch{f: os.NewFile(uintptr(fd), "fanotify"), writes: map[int][]string{}, done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *writeWatch) loop() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	const metaLen = int(unsafe.Sizeof(unix.FanotifyEventMetadata{}))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+metaLen <= n; {
			evLen := int(binary.NativeEndian.Uint32(buf[off:]))
			fd := int32(binary.NativeEndian.Uint32(buf[off+16:]))
			pid := int(int32(binary.NativeEndian.Uint32(buf[off+20:])))
			name := "?"
			if fd >= 0 {
				if l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd))); err == nil {
					name = filepath.Base(l)
				}
				unix.Close(int(fd))
			}
			w.mu.Lock()
			w.writes[pid] = append(w.writes[pid], name)
			w.mu.Unlock()
			if evLen <= 0 {
				break
			}
			off += evLen
		}
	}
}

// take returns the files that pid wrote, and forgets them.
func (w *writeWatch) take(pid int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.writes[pid]
	delete(w.writes, pid)
	return f
}

func (w *writeWatch) close() {
	w.f.Close()
	<-w.done
}
