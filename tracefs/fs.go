// Package tracefs owns the live ftrace system: it finds (or mounts) tracefs,
// reads and writes its control files safely, manages owner-tagged instances,
// resolves event names and hands out raw per-CPU pages. It returns bytes,
// never decoded text; meaning belongs to package parse.
package tracefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	defaultMount = "/sys/kernel/tracing"
	debugMount   = "/sys/kernel/debug/tracing"
	tracefsMagic = 0x74726163 // TRACEFS_MAGIC, include/uapi/linux/magic.h
)

// FS is a tracefs mount. Every accessor is a method on it so that tests can
// point one at a fake tree (NewFS) and commands never hard-code a path.
type FS struct {
	root     string
	procRoot string
	sysRoot  string

	// Mounted is true when Open mounted tracefs itself: the kernel had it
	// available but nobody had mounted it. Commands should tell the user.
	Mounted bool
	// Notice is a one-line message for stderr when Open changed the system
	// (for example mounted tracefs); empty otherwise.
	Notice string
	// NoticeFunc, if set, receives one-line notices that a user should see
	// once (for example that $argN was mapped to registers). The library
	// itself never prints: commands set this to write to their error
	// writer.
	NoticeFunc func(msg string)
	noticed    sync.Map // notices already given, once per FS

	cache fsCache // what a run reads once (fetch.go)
}

// notice hands msg to NoticeFunc, once per FS.
func (fs *FS) notice(msg string) {
	if fs.NoticeFunc == nil {
		return
	}
	if _, dup := fs.noticed.LoadOrStore(msg, true); dup {
		return
	}
	fs.NoticeFunc(msg)
}

// NewFS uses root as the tracefs mount without checking it, so that tests
// can run against a fake tree under t.TempDir().
func NewFS(root string) *FS {
	return &FS{root: root, procRoot: "/proc", sysRoot: "/sys"}
}

// Open finds the tracefs mount the way the kernel documents it: a tracefs
// entry in /proc/self/mountinfo, then the two well-known paths (checked by
// filesystem magic, so an empty directory is not mistaken for a mount). If
// none is found and we are root, it mounts tracefs at /sys/kernel/tracing
// and says so in Notice, because an unmounted tracefs is a common reason
// for tracing tools to print nothing.
func Open() (*FS, error) {
	root, err := findMount("/proc/self/mountinfo")
	if err != nil {
		if os.Geteuid() != 0 {
			if isPermission(err) {
				return nil, fmt.Errorf("finding tracefs: %w (%w)", err, ErrPermission)
			}
			return nil, fmt.Errorf("finding tracefs: %w", ErrNotMounted)
		}
		if merr := unix.Mount("nodev", defaultMount, "tracefs", 0, ""); merr != nil {
			return nil, fmt.Errorf("mounting tracefs at %s: %w: %w", defaultMount, merr, ErrNotMounted)
		}
		fs := NewFS(defaultMount)
		fs.Mounted = true
		fs.Notice = "tracefs was not mounted; mounted it at " + defaultMount
		return fs, nil
	}
	fs := NewFS(root)
	// Probe one file that every tracefs has, so a permission problem shows
	// up here with advice instead of later as a bare EACCES.
	if _, err := fs.readFile("trace_clock"); err != nil {
		return nil, err
	}
	return fs, nil
}

func findMount(mountinfo string) (string, error) {
	if f, err := os.Open(mountinfo); err == nil {
		mounts := parseMountinfo(f)
		f.Close()
		for _, m := range mounts {
			if m == defaultMount {
				return m, nil
			}
		}
		if len(mounts) > 0 {
			return mounts[0], nil
		}
	}
	var lastErr error = ErrNotMounted
	for _, p := range []string{defaultMount, debugMount} {
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err != nil {
			if isPermission(err) {
				lastErr = err
			}
			continue
		}
		if uint32(st.Type) == tracefsMagic {
			return p, nil
		}
	}
	return "", lastErr
}

// parseMountinfo returns the mount points of tracefs mounts in the order
// listed. Fields: see proc(5); the fstype follows the " - " separator and
// mount points escape spaces as \040.
func parseMountinfo(r io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) || fields[sep+1] != "tracefs" {
			continue
		}
		out = append(out, unescapeOctal(fields[4]))
	}
	return out
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Root is the mount point, for messages and for tools that need a path.
func (fs *FS) Root() string { return fs.root }

func (fs *FS) path(rel string) string { return filepath.Join(fs.root, rel) }

func isPermission(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

// fileErr gives every I/O error the same shape: what, which file, the errno,
// and for permission errors what privilege is missing.
func fileErr(op, path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, unix.EACCES) || (errors.Is(err, unix.EPERM) && os.Geteuid() != 0) {
		return fmt.Errorf("%s %s: %w (%w)", op, path, err, ErrPermission)
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// maxControlRead bounds reads of control files; the largest (kallsyms,
// available_filter_functions) are a few tens of MB.
const maxControlRead = 256 << 20

// readAbs reads a pseudo-file to EOF. It does not trust Stat: tracefs and
// procfs report sizes of 0 or 4096 whatever the content.
func readAbs(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fileErr("opening", path, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxControlRead {
				return nil, fmt.Errorf("reading %s: larger than %d bytes", path, maxControlRead)
			}
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fileErr("reading", path, err)
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

func (fs *FS) readFile(rel string) ([]byte, error) { return readAbs(fs.path(rel)) }

func (fs *FS) exists(rel string) bool {
	_, err := os.Lstat(fs.path(rel))
	return err == nil
}

// writeAbs writes data with exactly one write(2): the kernel parses each
// write as one command, so a split write would be two half-commands.
// flag is unix.O_TRUNC (replace) or unix.O_APPEND (add).
func writeAbs(path string, data []byte, flag int) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC|flag, 0)
	if err != nil {
		return fileErr("opening", path, err)
	}
	defer unix.Close(fd)
	if len(data) == 0 {
		return nil // opening with O_TRUNC is what clears pid lists and logs
	}
	for {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fileErr("writing", path, err)
		}
		if n != len(data) {
			return fmt.Errorf("writing %s: short write (%d of %d bytes)", path, n, len(data))
		}
		return nil
	}
}

func (fs *FS) writeFile(rel string, data []byte, flag int) error {
	return writeAbs(fs.path(rel), data, flag)
}

// errorLog tracks the kernel's error_log around one write so that a refused
// command can be explained with the kernel's own words and caret.
type errorLog struct {
	path    string
	cleared bool
	before  []byte
}

// startErrorLog prepares to capture new error_log entries. An instance's own
// log is ours to clear; the top-level log is shared with every tool on the
// machine, so we only remember where it ended.
func startErrorLog(path string, own bool) *errorLog {
	l := &errorLog{path: path}
	if own {
		if err := writeAbs(path, nil, unix.O_TRUNC); err == nil {
			l.cleared = true
			return l
		}
	}
	l.before, _ = readAbs(path)
	return l
}

// wrap turns a failed write into a *KernelError with the new log entries,
// preferring those whose "Command:" matches what we wrote.
func (l *errorLog) wrap(op string, werr error, cmd string) error {
	after, err := readAbs(l.path)
	if err != nil {
		return &KernelError{Op: op, Err: werr}
	}
	var entries []logEntry
	if l.cleared {
		entries = splitLog(after)
	} else {
		entries = newLogEntries(l.before, after)
	}
	cmd = strings.TrimSpace(cmd)
	var mine []logEntry
	for _, e := range entries {
		if e.command() == cmd {
			mine = append(mine, e)
		}
	}
	if len(mine) > 0 {
		entries = mine
	}
	var lines []string
	for _, e := range entries {
		lines = append(lines, e.lines...)
	}
	var pe *os.PathError
	if errors.As(werr, &pe) {
		werr = pe.Err
	}
	return &KernelError{Op: op, Err: unwrapErrno(werr), Log: lines}
}

func unwrapErrno(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

type logEntry struct {
	ts    float64
	lines []string
}

func (e logEntry) command() string {
	for _, l := range e.lines {
		t := strings.TrimSpace(l)
		if c, ok := strings.CutPrefix(t, "Command:"); ok {
			return strings.TrimSpace(c)
		}
	}
	return ""
}

// splitLog splits error_log into entries; each starts with "[ timestamp]".
func splitLog(b []byte) []logEntry {
	var out []logEntry
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			e := logEntry{ts: -1}
			if end := strings.IndexByte(line, ']'); end > 0 {
				if v, err := strconv.ParseFloat(strings.TrimSpace(line[1:end]), 64); err == nil {
					e.ts = v
				}
			}
			out = append(out, e)
		}
		if len(out) == 0 {
			out = append(out, logEntry{ts: -1})
		}
		out[len(out)-1].lines = append(out[len(out)-1].lines, line)
	}
	return out
}

// newLogEntries returns the entries of after that were not in before. The
// log is a ring of a few entries, so old ones vanish from the front; entries
// newer than the newest old timestamp are the new ones.
func newLogEntries(before, after []byte) []logEntry {
	if bytes.HasPrefix(after, before) {
		return splitLog(after[len(before):])
	}
	last := -1.0
	for _, e := range splitLog(before) {
		if e.ts > last {
			last = e.ts
		}
	}
	var out []logEntry
	for _, e := range splitLog(after) {
		if e.ts > last {
			out = append(out, e)
		}
	}
	return out
}
