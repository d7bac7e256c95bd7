package tracefs

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Without kprobes, syscall tracepoints before 6.19 carry user pointers,
// not the strings they point to. These helpers read them from the task's
// memory when tracer decodes the event: a moment after the call, so the
// answer is best effort (the task may have exited, exec'd or reused the
// buffer). Callers mark what they could not read.

// ReadUserString reads a NUL-terminated string of at most maxLen bytes at
// addr in the memory of task tid.
func ReadUserString(tid int, addr uint64, maxLen int) (string, bool) {
	if addr == 0 || tid <= 0 {
		return "", false
	}
	buf := make([]byte, maxLen)
	// Two iovecs split at the page boundary: a string near the end of the
	// last mapped page must not fail because the read runs past it.
	const page = 4096
	first := int(page - addr%page)
	if first > maxLen {
		first = maxLen
	}
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(maxLen)
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: first}}
	if first < maxLen {
		remote = append(remote, unix.RemoteIovec{Base: uintptr(addr) + uintptr(first), Len: maxLen - first})
	}
	n, _ := unix.ProcessVMReadv(tid, local, remote, 0)
	if n <= 0 {
		return "", false
	}
	b := buf[:n]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]), true
	}
	return "", false // no terminator within reach: not trustworthy
}

// ReadUserArgv reads a NULL-terminated argv array at addr in task tid.
func ReadUserArgv(tid int, addr uint64) ([]string, bool) {
	if addr == 0 {
		return nil, false
	}
	const maxArgs = 256
	ptrs := make([]byte, 8*maxArgs)
	local := []unix.Iovec{{Base: &ptrs[0]}}
	local[0].SetLen(len(ptrs))
	first := int(4096 - addr%4096)
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: min(first, len(ptrs))}}
	if first < len(ptrs) {
		remote = append(remote, unix.RemoteIovec{Base: uintptr(addr) + uintptr(first), Len: len(ptrs) - first})
	}
	n, _ := unix.ProcessVMReadv(tid, local, remote, 0)
	var out []string
	for i := 0; i+8 <= n; i += 8 {
		p := binary.NativeEndian.Uint64(ptrs[i:])
		if p == 0 {
			return out, true
		}
		s, ok := ReadUserString(tid, p, 4096)
		if !ok {
			return out, false
		}
		out = append(out, s)
	}
	return out, false
}

// ReadCmdline returns /proc/PID/cmdline split into arguments.
func ReadCmdline(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil, false
	}
	b = bytes.TrimSuffix(b, []byte{0})
	return strings.Split(string(b), "\x00"), true
}

// ReadUID returns the real uid of pid from /proc/PID/status, -1 if unreadable.
func ReadUID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	if v, ok := statusField(b, "Uid:"); ok {
		return v
	}
	return -1
}

// ReadComm returns /proc/PID/comm.
func ReadComm(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}
