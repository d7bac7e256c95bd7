// Command capture records a decoder fixture from the running kernel: raw
// trace_pipe_raw pages (as hex text), the kernel's own `trace` text of the
// same events, and the metadata a decoder needs (header_page, header_event,
// event formats, printk_formats, saved_cmdlines, a reduced kallsyms).
//
// It works in a throw-away tracefs instance named tracer-capture-<pid> and
// removes it on exit, on error and on SIGINT/SIGTERM. It never changes the
// top-level instance. It must build statically (CGO_ENABLED=0) and run with
// nothing but busybox around it, so it uses only the standard library.
//
// Usage:
//
//	capture -o DIR                  # write a fixture directory
//	capture -all-formats FILE.txt.gz  # every events/*/*/format, gzipped
//
// The layout of DIR is described in testdata/kernels/README.md.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	outDir     = flag.String("o", "", "write the fixture to `DIR`")
	allFormats = flag.String("all-formats", "", "write every event format of the kernel to `FILE` (gzipped text)")
	tracefsDir = flag.String("tracefs", "", "tracefs mount point (default: /sys/kernel/tracing, then /sys/kernel/debug/tracing)")
	bufferKB   = flag.Int("buffer-kb", 16, "per-CPU buffer size of the capture instance, in KB")
	verbose    = flag.Bool("v", false, "log each step")
	syscallsFx = flag.Bool("syscalls", false, "capture every syscall event over a file-system workload instead of the broad set")
)

func main() {
	flag.Parse()
	runtime.GOMAXPROCS(1) // fewer runtime threads waking up, less noise
	if (*outDir == "") == (*allFormats == "") {
		fmt.Fprintln(os.Stderr, "usage: capture -o DIR | -all-formats FILE.txt.gz")
		os.Exit(2)
	}
	root, err := findTracefs(*tracefsDir)
	if err != nil {
		fatal(err)
	}
	if *allFormats != "" {
		if err := writeAllFormats(root, *allFormats); err != nil {
			fatal(err)
		}
		return
	}
	c := &capture{root: root, out: *outDir}
	c.inst = filepath.Join(root, "instances", fmt.Sprintf("tracer-capture-%d", os.Getpid()))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "capture: %v: removing %s\n", s, c.inst)
		c.cleanup()
		os.Exit(1)
	}()

	err = func() error {
		defer c.cleanup() // also on panic
		return c.run()
	}()
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "capture: %v\n", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	if *verbose {
		fmt.Fprintf(os.Stderr, "capture: "+format+"\n", args...)
	}
}

func findTracefs(dir string) (string, error) {
	cands := []string{dir}
	if dir == "" {
		cands = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}
	}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "instances")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no tracefs with instances/ found in %v", cands)
}

// readFile reads a pseudo-file without trusting its size.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func writeCtl(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(val)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("writing %q to %s: %w", val, path, werr)
	}
	return cerr
}

type capture struct {
	root, inst, out string
	created         bool
	once            sync.Once

	enabled  []string // "sys/event" enabled in the instance, in order
	hashPtr  bool     // %p values in trace.txt are hashed
	subbuf   int
	longSize int
}

// cleanup disables everything in the instance and removes it. Safe to call
// more than once and from the signal handler.
func (c *capture) cleanup() {
	c.once.Do(func() {
		if !c.created {
			return
		}
		writeCtl(filepath.Join(c.inst, "tracing_on"), "0")
		writeCtl(filepath.Join(c.inst, "events", "enable"), "0")
		writeCtl(filepath.Join(c.inst, "options", "stacktrace"), "0")
		writeCtl(filepath.Join(c.inst, "options", "userstacktrace"), "0")
		var err error
		for i := 0; i < 50; i++ {
			if err = syscall.Rmdir(c.inst); err == nil || errors.Is(err, syscall.ENOENT) {
				err = nil
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "capture: removing instance %s: %v\n", c.inst, err)
		}
	})
}

// wanted lists the events to enable; "sys/*" enables a whole system.
var wanted = []string{
	"sched/sched_switch", "sched/sched_wakeup", "sched/sched_waking",
	"sched/sched_process_exec", "sched/sched_process_fork", "sched/sched_process_exit",
	"syscalls/sys_enter_openat", "syscalls/sys_exit_openat",
	"syscalls/sys_enter_write", "syscalls/sys_exit_write", "syscalls/sys_enter_read",
	"kmem/kmalloc", "kmem/kfree", "kmem/mm_page_alloc",
	"block/*", "irq/*",
	"timer/hrtimer_start", "timer/timer_start",
	"signal/signal_generate", "signal/signal_deliver",
	"task/task_newtask", "task/task_rename",
	"workqueue/workqueue_queue_work",
	"ipi/ipi_send_cpumask", "ipi/ipi_send_cpu", "ipi/ipi_raise",
	"net/*",
}

// noisy events are turned off after the first workload phase so that the
// small buffer keeps the later, more interesting records.
var noisy = []string{"kmem", "block", "timer", "irq/softirq_raise", "irq/softirq_entry", "irq/softirq_exit"}

// alwaysFormats are written to formats.txt whether or not they fired.
var alwaysFormats = []string{
	"ftrace/print", "ftrace/raw_data", "ftrace/kernel_stack", "ftrace/user_stack",
	"ftrace/bprint", "ftrace/bputs", "ftrace/function",
}

func (c *capture) run() error {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(c.inst, 0o755); err != nil {
		return fmt.Errorf("creating instance: %w", err)
	}
	c.created = true
	logf("instance %s", c.inst)
	ctl := func(name, val string) error { return writeCtl(filepath.Join(c.inst, name), val) }
	opt := func(name, val string) bool {
		p := filepath.Join(c.inst, "options", name)
		if _, err := os.Stat(p); err != nil {
			return false
		}
		return writeCtl(p, val) == nil
	}

	if err := ctl("tracing_on", "0"); err != nil {
		return err
	}
	if err := ctl("buffer_size_kb", strconv.Itoa(*bufferKB)); err != nil {
		return err
	}
	// Without this option (before 5.12) or with it on, %p prints hashed.
	c.hashPtr = !opt("hash-ptr", "0")

	hp, err := readFile(filepath.Join(c.inst, "events", "header_page"))
	if err != nil {
		return err
	}
	if c.subbuf, c.longSize, err = parseHeaderPage(hp); err != nil {
		return err
	}
	logf("sub-buffer %d bytes, long %d", c.subbuf, c.longSize)

	events := wanted
	if *syscallsFx {
		events = []string{"syscalls/*"}
	}
	for _, w := range events {
		sys, ev, _ := strings.Cut(w, "/")
		var names []string
		if ev == "*" {
			ents, err := os.ReadDir(filepath.Join(c.inst, "events", sys))
			if err != nil {
				continue
			}
			for _, e := range ents {
				if e.IsDir() {
					names = append(names, e.Name())
				}
			}
		} else {
			names = []string{ev}
		}
		for _, n := range names {
			p := filepath.Join(c.inst, "events", sys, n, "enable")
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if err := writeCtl(p, "1"); err != nil {
				logf("enable %s/%s: %v", sys, n, err)
				continue
			}
			c.enabled = append(c.enabled, sys+"/"+n)
		}
	}
	logf("%d events enabled", len(c.enabled))

	marker, err := os.OpenFile(filepath.Join(c.inst, "trace_marker"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer marker.Close()
	mark := func(s string) { marker.WriteString(s) }
	rawMarker, err := os.OpenFile(filepath.Join(c.inst, "trace_marker_raw"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer rawMarker.Close()
	long := ("tracer-capture long marker: " + strings.Repeat("0123456789", 20))[:200]

	if *syscallsFx {
		// One CPU, so that the small buffer keeps the workload's records
		// rather than the runtime's on the other CPU.
		runtime.LockOSThread()
		pinCPU(0)
		if err := ctl("tracing_on", "1"); err != nil {
			return err
		}
		syscallWork()
		mark("tracer-capture end\n")
		if err := ctl("tracing_on", "0"); err != nil {
			return err
		}
		runtime.UnlockOSThread()
		return c.save(hp)
	}

	// Phase 1: everything on; file and socket activity.
	if err := ctl("tracing_on", "1"); err != nil {
		return err
	}
	mark("tracer-capture phase 1")
	fileWork()
	mark(long)

	// Phase 2: the floods off, so that the small buffer keeps what follows;
	// a fork+exec.
	for _, n := range noisy {
		writeCtl(filepath.Join(c.inst, "events", n, "enable"), "0")
	}
	mark("tracer-capture phase 2")
	execTrue()
	fileWork()
	rawMarker.Write([]byte{0x2a, 0, 0, 0, 'r', 'a', 'w', 0, 0xde, 0xad, 0xbe, 0xef})

	// Kernel and user stacks, for a moment.
	if opt("stacktrace", "1") {
		syscall.Open("/nonexistent/tracer-capture-stack", syscall.O_RDONLY, 0)
		mark("tracer-capture with stacktrace")
		opt("stacktrace", "0")
	}
	if opt("userstacktrace", "1") {
		mark("tracer-capture with userstacktrace")
		opt("userstacktrace", "0")
	}
	mark(long)
	mark("no newline at the end")

	// Phase 3: only markers, on one CPU, across a gap over 2^27 ns so that
	// a TIME_EXTEND record is written.
	writeCtl(filepath.Join(c.inst, "events", "enable"), "0")
	runtime.LockOSThread()
	pinned := pinCPU(0)
	mark("tracer-capture before sleep")
	time.Sleep(300 * time.Millisecond)
	mark("tracer-capture after sleep")
	rawMarker.Write([]byte{0x01, 0x02, 0x03, 0x04, 'e', 'n', 'd'})
	mark(long)
	mark("tracer-capture end\n")
	if err := ctl("tracing_on", "0"); err != nil {
		return err
	}
	runtime.UnlockOSThread()
	logf("workload done (pinned to cpu0: %v)", pinned)

	return c.save(hp)
}

// execTrue forks and execs true(1): sched_process_fork/exec/exit,
// task_newtask, task_rename, signal_generate/deliver (SIGCHLD).
func execTrue() {
	cmd := exec.Command("/bin/busybox", "true")
	if p, err := exec.LookPath("true"); err == nil {
		cmd = exec.Command(p)
	}
	cmd.Run()
}

// fileWork opens a missing file, reads, writes and syncs a file, and sends a
// datagram over loopback.
func fileWork() {
	for i := 0; i < 2; i++ {
		if fd, err := syscall.Open("/nonexistent/tracer-capture", syscall.O_RDONLY, 0); err == nil {
			syscall.Close(fd)
		}
	}
	if fd, err := syscall.Open("/proc/self/stat", syscall.O_RDONLY, 0); err == nil {
		buf := make([]byte, 512)
		syscall.Read(fd, buf)
		syscall.Close(fd)
	}
	if f, err := os.CreateTemp("", "tracer-capture-*"); err == nil {
		f.WriteString("hello tracer\n")
		f.Sync()
		f.Close()
		os.Remove(f.Name())
	}
	// A datagram over loopback, for net: events (ignored if lo is down).
	if fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0); err == nil {
		to := &syscall.SockaddrInet4{Port: 9, Addr: [4]byte{127, 0, 0, 1}}
		syscall.Sendto(fd, []byte("tracer-capture"), 0, to)
		syscall.Close(fd)
	}
	time.Sleep(5 * time.Millisecond)
}

// printed reports whether the kernel's text shows a record of the syscall
// event e ("syscalls/sys_enter_X" prints "sys_X(", sys_exit_X "sys_X ->");
// other events count as printed.
func printed(trace []byte, e string) bool {
	if name, ok := strings.CutPrefix(e, "syscalls/sys_enter_"); ok {
		return bytes.Contains(trace, []byte(" sys_"+name+"("))
	}
	if name, ok := strings.CutPrefix(e, "syscalls/sys_exit_"); ok {
		return bytes.Contains(trace, []byte(" sys_"+name+" -> "))
	}
	return true
}

// syscallWork makes the syscalls whose text differs most between kernels:
// paths (one, two), open flags and modes, writes of text and of binary
// bytes, a path longer than the kernel copies, and an exec with arguments.
func syscallWork() {
	dir, err := os.MkdirTemp("", "tracer-capture-sys-*")
	if err != nil {
		return
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, fl := range []int{syscall.O_RDONLY, syscall.O_WRONLY | syscall.O_CREAT | syscall.O_TRUNC, syscall.O_RDWR | syscall.O_APPEND | syscall.O_CLOEXEC, syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NOFOLLOW} {
		p := a
		if fl&syscall.O_DIRECTORY != 0 {
			p = dir
		}
		if fd, err := syscall.Open(p, fl, 0o640); err == nil {
			syscall.Write(fd, []byte("text\n"))
			syscall.Close(fd)
		}
	}
	if fd, err := syscall.Open(a, syscall.O_WRONLY, 0); err == nil {
		syscall.Write(fd, []byte{0, 1, 2, 0xff, 'o', 'k'})
		syscall.Write(fd, make([]byte, 300))
		syscall.Close(fd)
	}
	syscall.Open(filepath.Join(dir, strings.Repeat("long-name-", 20)), syscall.O_RDONLY, 0)
	os.Rename(a, b)
	os.Symlink(b, a)
	os.Readlink(a)
	os.Link(b, filepath.Join(dir, "c"))
	os.Chmod(b, 0o600)
	os.Stat(b)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	os.Remove(filepath.Join(dir, "d"))
	os.Remove(filepath.Join(dir, "c"))
	if p, err := exec.LookPath("true"); err == nil {
		exec.Command(p, "an arg", `a "quoted" one`).Run()
	}
}

func pinCPU(cpu int) bool {
	var mask [16]uint64
	mask[cpu/64] |= 1 << (cpu % 64)
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	return e == 0
}

var fieldRE = regexp.MustCompile(`field:\s*([^;]*?)\s+(\w+);\s*offset:(\d+);\s*size:(\d+);`)

// parseHeaderPage returns the sub-buffer size (data offset + data size) and
// the kernel long size (size of commit).
func parseHeaderPage(b []byte) (subbuf, long int, err error) {
	for _, m := range fieldRE.FindAllStringSubmatch(string(b), -1) {
		off, _ := strconv.Atoi(m[3])
		size, _ := strconv.Atoi(m[4])
		switch m[2] {
		case "commit":
			long = size
		case "data":
			subbuf = off + size
		}
	}
	if subbuf == 0 || long == 0 {
		return 0, 0, fmt.Errorf("cannot parse header_page: %q", b)
	}
	return subbuf, long, nil
}

func (c *capture) save(headerPage []byte) error {
	put := func(name string, b []byte) error {
		return os.WriteFile(filepath.Join(c.out, name), b, 0o644)
	}
	// The kernel's text first, then consume the same data raw.
	trace, err := readFile(filepath.Join(c.inst, "trace"))
	if err != nil {
		return err
	}
	if err := put("trace.txt", trace); err != nil {
		return err
	}

	cpus, err := filepath.Glob(filepath.Join(c.inst, "per_cpu", "cpu*"))
	if err != nil {
		return err
	}
	sort.Slice(cpus, func(i, j int) bool { return cpuNum(cpus[i]) < cpuNum(cpus[j]) })
	var st stats
	for _, d := range cpus {
		pages, err := drain(filepath.Join(d, "trace_pipe_raw"), c.subbuf)
		if err != nil {
			return err
		}
		for _, p := range pages {
			st.page(p, c.longSize)
		}
		if err := put(filepath.Base(d)+".hex", hexPages(pages)); err != nil {
			return err
		}
		logf("%s: %d pages", filepath.Base(d), len(pages))
	}

	if err := put("header_page", headerPage); err != nil {
		return err
	}
	he, err := readFile(filepath.Join(c.inst, "events", "header_event"))
	if err != nil {
		return err
	}
	if err := put("header_event", he); err != nil {
		return err
	}

	var fm bytes.Buffer
	seen := map[string]bool{}
	for _, e := range append(append([]string{}, c.enabled...), alwaysFormats...) {
		if seen[e] {
			continue
		}
		seen[e] = true
		if *syscallsFx && !printed(trace, e) {
			continue // hundreds of syscall formats: keep those that fired
		}
		b, err := readFile(filepath.Join(c.root, "events", e, "format"))
		if err != nil {
			continue
		}
		fmt.Fprintf(&fm, "--- %s\n", e)
		fm.Write(b)
	}
	if err := put("formats.txt", fm.Bytes()); err != nil {
		return err
	}

	for _, n := range []string{"printk_formats", "saved_cmdlines"} {
		b, err := readFile(filepath.Join(c.root, n))
		if err != nil {
			return err
		}
		if err := put(n, b); err != nil {
			return err
		}
	}

	ks, err := reduceKallsyms(trace)
	if err != nil {
		return err
	}
	if err := put("kallsyms", ks); err != nil {
		return err
	}

	var uts syscall.Utsname
	syscall.Uname(&uts)
	clk, _ := readFile(filepath.Join(c.inst, "trace_clock"))
	clock := ""
	if m := regexp.MustCompile(`\[(\S+)\]`).FindSubmatch(clk); m != nil {
		clock = string(m[1])
	}
	var meta bytes.Buffer
	fmt.Fprintf(&meta, "kernel: %s\n", cstr(uts.Release[:]))
	fmt.Fprintf(&meta, "clock: %s\n", clock)
	fmt.Fprintf(&meta, "cpus: %d\n", len(cpus))
	fmt.Fprintf(&meta, "long_size: %d\n", c.longSize)
	fmt.Fprintf(&meta, "byte_order: %s\n", byteOrder())
	fmt.Fprintf(&meta, "subbuf_size: %d\n", c.subbuf)
	fmt.Fprintf(&meta, "buffer_size_kb: %d\n", *bufferKB)
	fmt.Fprintf(&meta, "hash_ptr: %d\n", map[bool]int{false: 0, true: 1}[c.hashPtr])
	fmt.Fprintf(&meta, "options: %s\n", strings.Join(c.options(), " "))
	if err := put("meta", meta.Bytes()); err != nil {
		return err
	}

	lines := traceLines(trace)
	fmt.Fprintf(os.Stderr, "capture: %s: %d pages, %d data records (%d type_len 0, %d kernel_stack, %d padding/discarded), %d time_extend, %d time_stamp, %d pages with missed events; trace.txt: %d event lines, %d lost-events lines\n",
		c.out, st.pages, st.data, st.typeLen0, st.stacks, st.padding, st.extend, st.stamp, st.missed, lines.events, lines.lost)
	if st.data != lines.events {
		fmt.Fprintf(os.Stderr, "capture: WARNING: %d records in pages but %d event lines in trace.txt\n", st.data, lines.events)
	}
	return nil
}

func (c *capture) options() []string {
	ents, _ := os.ReadDir(filepath.Join(c.inst, "options"))
	var on []string
	for _, e := range ents {
		b, err := readFile(filepath.Join(c.inst, "options", e.Name()))
		if err == nil && strings.TrimSpace(string(b)) == "1" {
			on = append(on, e.Name())
		}
	}
	return on
}

// cstr converts a NUL-terminated Utsname field: int8 on x86, uint8 on
// arm, arm64 and s390x.
func cstr[T int8 | uint8](b []T) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func byteOrder() string {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return "little"
	}
	return "big"
}

func cpuNum(dir string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "cpu"))
	return n
}

// drain reads trace_pipe_raw without blocking, one sub-buffer per read,
// until EAGAIN. A read of 0 bytes is retried a few times.
func drain(path string, subbuf int) ([][]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer syscall.Close(fd)
	var pages [][]byte
	zeros := 0
	for {
		buf := make([]byte, subbuf)
		n, err := syscall.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return pages, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return pages, fmt.Errorf("reading %s: %w", path, err)
		case n == 0:
			if zeros++; zeros > 5 {
				return pages, nil
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		zeros = 0
		pages = append(pages, buf[:n])
	}
}

// hexPages renders pages as "# page N" followed by "OFFSET: xx xx ..." lines
// of 16 bytes.
func hexPages(pages [][]byte) []byte {
	var b bytes.Buffer
	const digits = "0123456789abcdef"
	for i, p := range pages {
		fmt.Fprintf(&b, "# page %d\n", i)
		for off := 0; off < len(p); off += 16 {
			fmt.Fprintf(&b, "%04x:", off)
			end := min(off+16, len(p))
			for _, x := range p[off:end] {
				b.WriteByte(' ')
				b.WriteByte(digits[x>>4])
				b.WriteByte(digits[x&15])
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

type stats struct {
	pages, data, typeLen0, stacks, padding, extend, stamp, missed int
}

// native is the byte order of this machine, which is the kernel's: the
// pages are in it.
var native binary.ByteOrder = func() binary.ByteOrder {
	if byteOrder() == "big" {
		return binary.BigEndian
	}
	return binary.LittleEndian
}()

// page walks one page well enough to count records, as a check that
// trace.txt and the pages hold the same events.
func (s *stats) page(p []byte, long int) {
	s.pages++
	if len(p) < 8+long {
		return
	}
	var commit uint64
	if long == 8 {
		commit = native.Uint64(p[8:])
	} else {
		commit = uint64(native.Uint32(p[8:]))
	}
	if uint32(commit)&(1<<31) != 0 {
		s.missed++
	}
	size := int(commit & (1<<27 - 1))
	data := p[8+long:]
	if size > len(data) {
		size = len(data)
	}
	data = data[:size]
	for off := 0; off+4 <= len(data); {
		w := native.Uint32(data[off:])
		tl, delta := w&31, w>>5
		if native == binary.BigEndian {
			// The header's bit fields (type_len:5, time_delta:27) are
			// allocated from the most significant bit on big-endian.
			tl, delta = w>>27, w&(1<<27-1)
		}
		switch {
		case tl == 29:
			if delta == 0 || off+8 > len(data) {
				return
			}
			s.padding++
			off += 4 + int(native.Uint32(data[off+4:]))
		case tl == 30:
			s.extend++
			off += 8
		case tl == 31:
			s.stamp++
			off += 8
		case tl == 0:
			if off+8 > len(data) {
				return
			}
			l := int(native.Uint32(data[off+4:]))
			if l == 0 {
				return
			}
			s.data++
			s.typeLen0++
			s.kind(data[off+8:], 4)
			off += 4 + l
		default:
			s.data++
			s.kind(data[off+4:], 0)
			off += 4 + 4*int(tl)
		}
	}
}

func (s *stats) kind(payload []byte, _ int) {
	if len(payload) >= 2 && native.Uint16(payload) == 4 { // TRACE_STACK
		s.stacks++
	}
}

type lineStats struct{ events, lost int }

// traceLines counts event lines in the kernel's trace text: lines that are
// not comments, not stack-trace bodies (" => ") and not "CPU:N [LOST" lines.
func traceLines(trace []byte) lineStats {
	var ls lineStats
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, " => "):
		case strings.HasPrefix(l, "CPU:"):
			ls.lost++
		default:
			ls.events++
		}
	}
	return ls
}

var identRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_.$]*`)

// reduceKallsyms keeps the /proc/kallsyms lines whose name appears in the
// trace text, each with the line that follows it in address order (for
// symbol sizes), and the _stext line. Output is sorted by address.
func reduceKallsyms(trace []byte) ([]byte, error) {
	b, err := readFile("/proc/kallsyms")
	if err != nil {
		return nil, err
	}
	words := map[string]bool{}
	for _, w := range identRE.FindAll(trace, -1) {
		words[string(w)] = true
	}
	type sym struct {
		addr uint64
		name string
		line string
	}
	var syms []sym
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		syms = append(syms, sym{a, f[2], l})
	}
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
	keep := make([]bool, len(syms))
	for i, s := range syms {
		if s.name == "_stext" || words[s.name] {
			keep[i] = true
			for j := i + 1; j < len(syms); j++ {
				if syms[j].addr > s.addr {
					keep[j] = true
					break
				}
			}
		}
	}
	var out bytes.Buffer
	for i, s := range syms {
		if keep[i] {
			out.WriteString(s.line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}

// writeAllFormats writes every events/<sys>/<event>/format, each after a
// "--- sys/event" line, gzipped, sorted by name.
func writeAllFormats(root, file string) error {
	paths, err := filepath.Glob(filepath.Join(root, "events", "*", "*", "format"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	n := 0
	for _, p := range paths {
		b, err := readFile(p)
		if err != nil {
			continue
		}
		ev := filepath.Dir(p)
		fmt.Fprintf(zw, "--- %s/%s\n", filepath.Base(filepath.Dir(ev)), filepath.Base(ev))
		zw.Write(b)
		n++
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "capture: %s: %d formats\n", file, n)
	return f.Close()
}
