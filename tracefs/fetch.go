package tracefs

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/tracer-dev/tracer/parse"
)

// The fetch ladder. Before Linux 6.19 a syscall tracepoint carries the
// addresses of a path or of argv, not their contents, and reading the
// process's memory afterwards loses the race with any short-lived process.
// A Fetch makes the kernel copy the data at the event instead, the best
// way this kernel offers (shared/userdata.md has the measurements):
//
//  1. the syscall event's own string field (6.19+: __filename_val & co.);
//  2. an eprobe on the syscall tracepoint (5.15+, CONFIG_EPROBE_EVENTS);
//  3. a kprobe on the syscall's entry with fetch args (CONFIG_KPROBE_EVENTS);
//  4. uprobes in user space: the dynamic loader's entry point for argv,
//     libc's open family for paths (static binaries are not covered);
//  5. /proc and process_vm_readv after the fact: best effort, last.
//
// Its probes live in the session's own group and its events are hidden
// from Next (the caller did not add them); Next feeds every record to the
// session's fetches in time order, and the caller takes the values when
// the syscall it joins them to completes.

// fsCache holds what the fetch ladder reads once per FS.
type fsCache struct {
	mu      sync.Mutex
	syms    []byte
	symsErr error
	mapped  map[string][]string // "loader", "libc" → files
	argMode *ArgMode
}

// FetchJob is a piece of user data a caller wants copied at the event.
type FetchJob int

const (
	// FetchExecArgv is the argv of every exec (execve, execveat).
	FetchExecArgv FetchJob = iota + 1
	// FetchOpenPath is the path of every open (open, openat, openat2, creat).
	FetchOpenPath
)

func (j FetchJob) String() string {
	switch j {
	case FetchExecArgv:
		return "exec argv"
	case FetchOpenPath:
		return "open path"
	}
	return "fetch(" + strconv.Itoa(int(j)) + ")"
}

// FetchWay is how the kernel copies the data, best first.
type FetchWay int

const (
	// FetchAuto picks the best way this kernel offers.
	FetchAuto FetchWay = iota
	FetchKernel
	FetchEprobe
	FetchKprobe
	FetchUprobe
	FetchProc
)

var fetchWayNames = []string{"auto", "kernel", "eprobe", "kprobe", "uprobe", "proc"}

func (w FetchWay) String() string {
	if int(w) < len(fetchWayNames) {
		return fetchWayNames[w]
	}
	return "way(" + strconv.Itoa(int(w)) + ")"
}

// ParseFetchWay parses a way's name ("kernel", "eprobe", ..., "auto").
func ParseFetchWay(s string) (FetchWay, error) {
	for i, n := range fetchWayNames {
		if s == n {
			return FetchWay(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown fetch way %q (want %s)", ErrInvalidName, s, strings.Join(fetchWayNames, ", "))
}

// FetchOption is one way for a job on this kernel: whether it is
// available and, if not, why.
type FetchOption struct {
	Way       FetchWay
	Available bool
	Why       string // why not, or what it uses
}

// fetchSyscalls are the syscalls of a job that this kernel traces, with the
// 1-based position of the argument that points to the data.
func (fs *FS) fetchSyscalls(job FetchJob) []fetchSyscall {
	var want []fetchSyscall
	switch job {
	case FetchExecArgv:
		want = []fetchSyscall{{"execve", 2, "argv"}, {"execveat", 3, "argv"}}
	case FetchOpenPath:
		want = []fetchSyscall{{"open", 1, "filename"}, {"openat", 2, "filename"}, {"openat2", 2, "filename"}, {"creat", 1, "pathname"}}
	}
	var out []fetchSyscall
	for _, sc := range want {
		if fs.exists("events/syscalls/sys_enter_" + sc.name) {
			out = append(out, sc)
		}
	}
	return out
}

type fetchSyscall struct {
	name  string
	arg   int    // 1-based argument holding the user pointer
	field string // its field in sys_enter_<name>
}

// FetchOptions lists every way for job, best first, with what this
// kernel says of each (for tracer doctor and for choosing).
func (fs *FS) FetchOptions(job FetchJob) []FetchOption {
	scs := fs.fetchSyscalls(job)
	out := make([]FetchOption, 0, 5)
	// 1. the syscall event's own string.
	kf := FetchOption{Way: FetchKernel}
	switch {
	case job == FetchExecArgv:
		kf.Why = "syscall events copy the file name of an exec, never argv"
	case len(scs) == 0:
		kf.Why = "no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)"
	default:
		if f := fs.kernelStringField(scs[0]); f != "" {
			kf.Available, kf.Why = true, "sys_enter_"+scs[0].name+" carries "+f
		} else {
			kf.Why = "syscall events carry only the address (strings need Linux 6.19+)"
		}
	}
	out = append(out, kf)
	// 2. eprobes.
	ep := FetchOption{Way: FetchEprobe}
	switch {
	case len(scs) == 0:
		ep.Why = "no syscall tracepoints to attach to"
	case !fs.hasEprobes():
		ep.Why = "no eprobes (needs Linux 5.15+ with CONFIG_EPROBE_EVENTS)"
	default:
		ep.Available, ep.Why = true, "eprobes on syscalls:sys_enter_"+scs[0].name
	}
	out = append(out, ep)
	// 3. kprobes.
	kp := FetchOption{Way: FetchKprobe}
	if !fs.exists("kprobe_events") {
		kp.Why = "no kprobe_events (CONFIG_KPROBE_EVENTS is off)"
	} else if fn, _, err := fs.syscallEntry(syscallName(job)); err != nil {
		kp.Why = err.Error()
	} else {
		kp.Available, kp.Why = true, "kprobes on "+fn+" and the like"
	}
	out = append(out, kp)
	// 4. uprobes.
	up := FetchOption{Way: FetchUprobe}
	if !fs.exists("uprobe_events") {
		up.Why = "no uprobe_events (CONFIG_UPROBE_EVENTS is off)"
	} else {
		var files []string
		var err error
		if job == FetchExecArgv {
			files, err = fs.loaderFiles()
		} else {
			files, err = fs.libcFiles()
		}
		if err != nil || len(files) == 0 {
			up.Why = fmt.Sprintf("no dynamic loader or libc found to probe (%v)", err)
		} else {
			what := "the dynamic loader's entry in " + strings.Join(files, ", ") + ", and libc's exec functions; static binaries exec'd by static callers are not covered"
			if job == FetchOpenPath {
				what = "libc's open functions in " + strings.Join(files, ", ") + "; static binaries, raw syscalls and the loader's own opens are not covered"
			}
			up.Available, up.Why = true, what
		}
	}
	out = append(out, up)
	out = append(out, FetchOption{Way: FetchProc, Available: true, Why: "/proc and process memory after the event: best effort, loses short-lived processes"})
	return out
}

func syscallName(job FetchJob) string {
	if job == FetchExecArgv {
		return "execve"
	}
	return "openat"
}

// maxUserBufSize is the most the kernel copies of a user string into a
// syscall event (6.19+: syscall_user_buf_size, 63 by default).
const maxUserBufSize = 165

// setUserBufSize asks the instance's syscall events for the longest user
// strings the kernel allows, so that paths are cut as late as possible.
func setUserBufSize(in *Instance) error {
	if !in.fs.exists(in.file("syscall_user_buf_size")) {
		return nil
	}
	if err := in.write("syscall_user_buf_size", strconv.Itoa(maxUserBufSize)); err != nil {
		return fmt.Errorf("setting %s: %w", in.file("syscall_user_buf_size"), err)
	}
	return nil
}

// kernelStringField returns the string field the kernel adds to
// sys_enter_<sc> for the pointer argument (6.19+), or "".
func (fs *FS) kernelStringField(sc fetchSyscall) string {
	b, err := fs.Format("syscalls", "sys_enter_"+sc.name)
	if err != nil {
		return ""
	}
	s, err := parse.ParseFormat("syscalls", b, 8)
	if err != nil {
		return ""
	}
	for _, f := range s.Fields {
		if f.IsString && (f.Kind == parse.KindDataLoc || f.Kind == parse.KindRelLoc) && strings.Contains(f.Name, sc.field) {
			return f.Name
		}
	}
	return ""
}

// syscallRegs are the pt_regs offsets of the syscall argument registers,
// per architecture, for kprobes on the syscall wrappers that take a
// struct pt_regs * (x86-64 since 4.17, arm64 since 4.19).
var syscallRegs = map[string]struct {
	prefix string
	offs   []int
}{
	"amd64": {"__x64_sys_", []int{0x70, 0x68, 0x60, 0x38, 0x48, 0x40}}, // di si dx r10 r8 r9
	"arm64": {"__arm64_sys_", []int{0, 8, 16, 24, 32, 40}},             // x0..x5
}

// syscallEntry finds the kernel function to kprobe for syscall name, and
// how to reach its argument N: through the pt_regs wrapper where the
// kernel has one, else the plain sys_NAME with its arguments in place.
func (fs *FS) syscallEntry(name string) (fn string, viaRegs bool, err error) {
	syms, err := fs.kallsymsOnce()
	if err != nil {
		return "", false, fmt.Errorf("reading kallsyms: %w", err)
	}
	if r, ok := syscallRegs[runtime.GOARCH]; ok && symsHave(syms, r.prefix+name) {
		return r.prefix + name, true, nil
	}
	if symsHave(syms, "sys_"+name) {
		return "sys_" + name, false, nil
	}
	return "", false, fmt.Errorf("no kernel function for syscall %s in kallsyms", name)
}

// symsHave reports whether kallsyms text b lists the symbol name.
func symsHave(b []byte, name string) bool {
	return bytes.Contains(b, []byte(" "+name+"\n")) || bytes.Contains(b, []byte(" "+name+"\t"))
}

// userArg renders "the user pointer in syscall argument n" for a kprobe
// on fn.
func userArg(n int, viaRegs bool) string {
	if !viaRegs {
		return "$arg" + strconv.Itoa(n)
	}
	off := syscallRegs[runtime.GOARCH].offs[n-1]
	return "+" + strconv.Itoa(off) + "($arg1)"
}

// FetchConfig tunes a fetch.
type FetchConfig struct {
	// Way forces a way (FetchAuto: the best available).
	Way FetchWay
	// MaxArgs bounds argv (default 20, like BCC's execsnoop).
	MaxArgs int
}

// Fetch is one job set up in a session: its probes, and the values they
// delivered, by thread, until the caller takes them.
type Fetch struct {
	Job FetchJob
	Way FetchWay
	// Files lists the binaries probed (uprobes), for messages.
	Files []string
	// Skipped says why better ways than Way could not be set up (FetchAuto).
	Skipped []string
	// setup, if set, prepares the session's instance for the way.
	setup func(in *Instance) error
	// OnArgv, if set, is called when argv for pid arrives; with the
	// uprobe way it comes after the exec's own events (the new program's
	// loader runs after execve returns), so callers hold rows until then.
	OnArgv func(pid int)

	maxArgs int
	specs   []fetchSpec
	events  []EventID // the probe events created for it
	// eventLate says, per event, whether it is a loader-entry probe.
	eventLate []bool
	dynamic   map[string]bool
	srcs      map[*parse.Schema]*fetchSource
	vals      map[int32]fetchValue // copied at the call, by the calling thread
	late      map[int32]fetchValue // copied by the new program's loader, by pid
	// Dropped counts values never taken (the table is bounded).
	Dropped int
}

type fetchSpec struct {
	spec string
	late bool   // see fetchSource.late
	kind string // "argv", "path"
	// ptrArg, for paths fetched in user space, names the field holding
	// the pointer too, so the value can be matched to the syscall.
	ptrArg bool
	// event is "system:event" for the kernel way (no probe to create).
	event string
	field string
}

// fetchSource is a schema the fetch reads from, with its field indexes.
type fetchSource struct {
	kind  string
	args  []int // argv strings a0..aN (N = maxArgs: one more tells truncation)
	ptrs  []int // their pointers p0..pN, where fetched (else empty)
	argc  int   // index of argc (uprobe at the loader's entry), -1 if none
	path  int
	ptr   int
	probe bool // an event of our own (hidden); false: a syscall event of the caller's
	late  bool // the loader's entry: argv of the program that starts, after its exec
}

type fetchValue struct {
	ts        uint64
	argv      []string
	truncated bool
	path      string
	ptr       uint64
	hasPtr    bool
}

// maxFetchValues bounds the values waiting to be taken.
const maxFetchValues = 1 << 16

// AddFetch sets up job in the session, before Open: the probes it needs are
// created by Open in the session's group and removed by Close, and their
// events are hidden from Next. The error says why a forced way cannot be
// had; FetchAuto always succeeds (FetchProc, the last way, needs nothing).
func (s *Session) AddFetch(job FetchJob, cfg FetchConfig) (*Fetch, error) {
	if cfg.MaxArgs <= 0 {
		cfg.MaxArgs = 20
	}
	if cfg.MaxArgs > 62 {
		// Two fetch args per argument (string and pointer), one more
		// argument than shown: within the kernel's 128 per probe.
		return nil, fmt.Errorf("%w: at most 62 arguments can be fetched per exec (the kernel allows 128 fetch args per probe, tracer uses two per argument)", ErrInvalidName)
	}
	opts := s.fs.FetchOptions(job)
	if cfg.Way != FetchAuto {
		for _, o := range opts {
			if o.Way == cfg.Way && !o.Available {
				return nil, fmt.Errorf("%w: fetching %s by %s: %s", ErrNotSupported, job, cfg.Way, o.Why)
			}
		}
		return s.setupFetch(job, cfg.Way, cfg.MaxArgs)
	}
	// The best available way; one that cannot be set up after all (a
	// probe the spec checks refuse) gives way to the next, and says why.
	var skipped []string
	for _, o := range opts {
		if !o.Available {
			continue
		}
		f, err := s.setupFetch(job, o.Way, cfg.MaxArgs)
		if err == nil {
			f.Skipped = skipped
			return f, nil
		}
		skipped = append(skipped, fmt.Sprintf("%s: %v", o.Way, err))
	}
	return nil, fmt.Errorf("fetching %s: no way could be set up: %s", job, strings.Join(skipped, "; "))
}

// setupFetch prepares the probes of one way; on error the session is as
// it was before.
func (s *Session) setupFetch(job FetchJob, way FetchWay, maxArgs int) (*Fetch, error) {
	f := &Fetch{Job: job, Way: way, maxArgs: maxArgs, srcs: map[*parse.Schema]*fetchSource{}, vals: map[int32]fetchValue{}, late: map[int32]fetchValue{}, dynamic: map[string]bool{}}
	var err error
	switch way {
	case FetchKernel:
		for _, sc := range s.fs.fetchSyscalls(job) {
			if fld := s.fs.kernelStringField(sc); fld != "" {
				f.specs = append(f.specs, fetchSpec{kind: "path", event: "syscalls:sys_enter_" + sc.name, field: fld})
			}
		}
		f.setup = setUserBufSize
	case FetchEprobe:
		err = f.eprobeSpecs(s.fs)
	case FetchKprobe:
		err = f.kprobeSpecs(s.fs)
	case FetchUprobe:
		err = f.uprobeSpecs(s.fs)
	case FetchProc:
	}
	if err != nil {
		return nil, err
	}
	before := len(s.probes.pending)
	for _, p := range f.specs {
		if p.spec == "" {
			continue
		}
		if err := s.addProbe(p.spec, ""); err != nil {
			s.probes.pending = s.probes.pending[:before]
			return nil, fmt.Errorf("fetching %s by %s: %w", job, way, err)
		}
		s.probes.pending[len(s.probes.pending)-1].owner = f
		s.probes.pending[len(s.probes.pending)-1].late = p.late
	}
	s.fetches = append(s.fetches, f)
	return f, nil
}

// The traced processes' pointers are this build's: a 32-bit tracer runs
// on a 32-bit kernel (armhf), where argv is an array of 4-byte pointers.
// (32-bit processes under a 64-bit kernel are not covered.)
var (
	ptrBytes = strconv.IntSize / 8
	ptrHex   = "x" + strconv.Itoa(strconv.IntSize) // x64 or x32
	ptrUint  = "u" + strconv.Itoa(strconv.IntSize)
)

// argvFetchArgs renders the fetch args of argv[0..n] (one more than the
// rows show, to tell truncation): each string, and with ptrs its pointer
// too. Kernels before 5.11 store an empty user string with length 0, like
// one they could not read; the pointer tells an empty argument (non-zero)
// from the end of argv (NULL).
func argvFetchArgs(n int, ptr func(i int) string, ptrs bool) string {
	var b strings.Builder
	for i := 0; i <= n; i++ {
		fmt.Fprintf(&b, " a%d=+0(%s):ustring", i, ptr(i))
		if ptrs {
			fmt.Fprintf(&b, " p%d=%s:%s", i, ptr(i), ptrHex)
		}
	}
	return b.String()
}

func (f *Fetch) eprobeSpecs(fs *FS) error {
	for _, sc := range fs.fetchSyscalls(f.Job) {
		ev := "eprobe:syscalls:sys_enter_" + sc.name
		if f.Job == FetchExecArgv {
			f.specs = append(f.specs, fetchSpec{kind: "argv", spec: ev + argvFetchArgs(f.maxArgs, func(i int) string {
				return "+u" + strconv.Itoa(ptrBytes*i) + "($" + sc.field + ")"
			}, true)})
		} else {
			f.specs = append(f.specs, fetchSpec{kind: "path", spec: ev + " path=+0($" + sc.field + "):ustring"})
		}
	}
	return nil
}

func (f *Fetch) kprobeSpecs(fs *FS) error {
	for _, sc := range fs.fetchSyscalls(f.Job) {
		fn, viaRegs, err := fs.syscallEntry(sc.name)
		if err != nil {
			continue // e.g. no creat on this architecture's kernel
		}
		ptr := userArg(sc.arg, viaRegs)
		if f.Job == FetchExecArgv {
			f.specs = append(f.specs, fetchSpec{kind: "argv", spec: "kprobe:" + fn + argvFetchArgs(f.maxArgs, func(i int) string {
				return "+u" + strconv.Itoa(ptrBytes*i) + "(" + ptr + ")"
			}, true)})
		} else {
			f.specs = append(f.specs, fetchSpec{kind: "path", spec: "kprobe:" + fn + " path=+0(" + ptr + "):ustring"})
		}
	}
	if len(f.specs) == 0 {
		return fmt.Errorf("%w: no syscall entry function to kprobe for %s", ErrNotSupported, f.Job)
	}
	return nil
}

// libcOpens are libc's exported open functions, with the argument that
// holds the path. Aliases share an address and get one probe.
var libcOpens = []struct {
	sym string
	arg int
}{
	{"open64", 1}, {"open", 1}, {"openat64", 2}, {"openat", 2},
	{"__open64_nocancel", 1}, {"__open_nocancel", 1}, {"__openat64_nocancel", 2},
	{"creat64", 1}, {"creat", 1},
	{"__open_2", 1}, {"__open64_2", 1}, {"__openat_2", 2}, {"__openat64_2", 2},
}

func (f *Fetch) uprobeSpecs(fs *FS) error {
	if f.Job == FetchExecArgv {
		files, err := fs.loaderFiles()
		if err != nil {
			return err
		}
		for _, file := range files {
			off, err := elfEntryOffset(file)
			if err != nil {
				continue
			}
			// At the loader's entry the stack holds argc, then argv[0..].
			spec := fmt.Sprintf("uprobe:%s:0x%x argc=$stack0:%s", file, off, ptrUint) + argvFetchArgs(f.maxArgs, func(i int) string {
				return "$stack" + strconv.Itoa(i+1)
			}, false)
			f.specs = append(f.specs, fetchSpec{kind: "argv", spec: spec, late: true})
			f.Files = append(f.Files, file)
		}
		// And libc's exec functions, in the caller: the argv exactly as
		// passed (a script's own argv[0] too), failed execs included.
		if files, err := fs.libcFiles(); err == nil {
			for _, file := range files {
				syms, err := ELFSymbols(file)
				if err != nil {
					continue
				}
				done := map[uint64]bool{}
				for _, s := range syms {
					arg := map[string]int{"execve": 2, "execveat": 3, "fexecve": 2}[s.Name]
					if arg == 0 || done[s.Offset] {
						continue
					}
					done[s.Offset] = true
					a := "$arg" + strconv.Itoa(arg)
					spec := fmt.Sprintf("uprobe:%s:0x%x argvp=%s:%s", file, s.Offset, a, ptrHex) + argvFetchArgs(f.maxArgs, func(i int) string {
						return "+" + strconv.Itoa(ptrBytes*i) + "(" + a + ")"
					}, true)
					f.specs = append(f.specs, fetchSpec{kind: "argv", spec: spec})
				}
				f.Files = append(f.Files, file)
			}
		}
	} else {
		files, err := fs.libcFiles()
		if err != nil {
			return err
		}
		for _, file := range files {
			syms, err := ELFSymbols(file)
			if err != nil {
				continue
			}
			byName := map[string]ELFSymbol{}
			for _, s := range syms {
				byName[s.Name] = s
			}
			done := map[uint64]bool{}
			for _, o := range libcOpens {
				s, ok := byName[o.sym]
				if !ok || done[s.Offset] {
					continue
				}
				done[s.Offset] = true
				a := "$arg" + strconv.Itoa(o.arg)
				spec := fmt.Sprintf("uprobe:%s:0x%x path=+0(%s):ustring ptr=%s:%s", file, s.Offset, a, a, ptrHex)
				f.specs = append(f.specs, fetchSpec{kind: "path", spec: spec, ptrArg: true})
			}
			f.Files = append(f.Files, file)
		}
	}
	if len(f.specs) == 0 {
		return fmt.Errorf("%w: nothing to uprobe for %s", ErrNotSupported, f.Job)
	}
	return nil
}

// hasInterp reports whether an ELF file names a program interpreter
// (PT_INTERP): a dynamically linked program, which the loader starts.
func hasInterp(file string) bool {
	ef, err := elf.Open(file)
	if err != nil {
		return false
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// ArgvLater reports whether the argv of an exec of file reaches this fetch
// only after the exec's own events: with the uprobe way the new program's
// loader copies it, so callers hold the exec's row until OnArgv says it
// came. A static binary never runs the loader (false: take what there is).
func (f *Fetch) ArgvLater(file string) bool {
	if f.Way != FetchUprobe || f.Job != FetchExecArgv {
		return false
	}
	if v, ok := f.dynamic[file]; ok {
		return v
	}
	if len(f.dynamic) > 4096 {
		clear(f.dynamic)
	}
	v := hasInterp(file)
	f.dynamic[file] = v
	return v
}

// elfEntryOffset returns the file offset of an ELF file's entry point.
func elfEntryOffset(file string) (uint64, error) {
	ef, err := elf.Open(file)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", file, err)
	}
	defer ef.Close()
	off, ok := fileOffset(ef, ef.Entry)
	if !ok {
		return 0, fmt.Errorf("%s: entry point 0x%x is in no loaded segment", file, ef.Entry)
	}
	return off, nil
}

// loaderFiles lists the dynamic loaders to probe: every ld.so that a
// running process maps (through /proc/PID/root, so containers' own are
// covered) and the interpreters of the usual programs, one path per file.
func (fs *FS) loaderFiles() ([]string, error) { return fs.mappedOnce("loader") }

// libcFiles lists the C libraries to probe, likewise.
func (fs *FS) libcFiles() ([]string, error) { return fs.mappedOnce("libc") }

// mappedOnce scans /proc once per FS for both kinds of file.
func (fs *FS) mappedOnce(kind string) ([]string, error) {
	c := &fs.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mapped == nil {
		progs := []string{"/bin/sh", "/usr/bin/env", "/bin/true"}
		c.mapped = scanMapped(progs)
	}
	if len(c.mapped[kind]) == 0 {
		return nil, errors.New("none found")
	}
	return c.mapped[kind], nil
}

func isLoader(base string) bool {
	return strings.HasPrefix(base, "ld-linux") || (strings.HasPrefix(base, "ld-") && strings.Contains(base, ".so"))
}

func isLibc(base string) bool {
	return base == "libc.so.6" || (strings.HasPrefix(base, "libc-2.") && strings.HasSuffix(base, ".so"))
}

// scanMapped finds the loaders and C libraries to probe: those named by
// the programs' ELF interpreter and DT_NEEDED entries (resolved through
// the loader's usual directories), then every one a running process maps.
// Each file appears once (by device and inode), plain paths first.
func scanMapped(programs []string) map[string][]string {
	type key struct{ dev, ino uint64 }
	seen := map[key]bool{}
	out := map[string][]string{}
	add := func(kind, p string) {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return
		}
		k := key{uint64(sys.Dev), sys.Ino}
		if seen[k] {
			return
		}
		seen[k] = true
		out[kind] = append(out[kind], p)
	}
	for _, prog := range programs {
		ef, err := elf.Open(prog)
		if err != nil {
			continue
		}
		var ip string
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP && p.Filesz < 4096 {
				b := make([]byte, p.Filesz)
				if _, err := p.ReadAt(b, 0); err == nil {
					ip = string(bytes.TrimRight(b, "\x00"))
				}
			}
		}
		libs, _ := ef.ImportedLibraries()
		ef.Close()
		if ip != "" {
			add("loader", ip)
		}
		for _, l := range libs {
			if isLibc(l) {
				for _, dir := range libDirs(ip) {
					add("libc", filepath.Join(dir, l))
				}
			}
		}
	}
	procs, _ := os.ReadDir(procRoot)
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(procRoot + "/" + p.Name() + "/maps")
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			i := bytes.IndexByte(line, '/')
			if i < 0 || !bytes.Contains(line[i:], []byte(".so")) {
				continue
			}
			file := string(line[i:])
			if strings.HasSuffix(file, " (deleted)") {
				continue
			}
			kind := ""
			switch base := filepath.Base(file); {
			case isLoader(base):
				kind = "loader"
			case isLibc(base):
				kind = "libc"
			default:
				continue
			}
			// The path is in the process's mount namespace.
			add(kind, procRoot+"/"+p.Name()+"/root"+file)
		}
	}
	return out
}

// libDirs are the directories a loader searches first on this machine.
func libDirs(interp string) []string {
	dirs := []string{"/lib/" + multiarch(), "/usr/lib/" + multiarch(), "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	if interp != "" {
		if d, err := filepath.EvalSymlinks(filepath.Dir(interp)); err == nil {
			dirs = append([]string{d}, dirs...)
		}
	}
	return dirs
}

func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "386":
		return "i386-linux-gnu"
	}
	return runtime.GOARCH + "-linux-gnu"
}

// bindFetches resolves the fetches' events in the decoder (after Open).
func (s *Session) bindFetches(d *parse.Decoder) {
	for _, f := range s.fetches {
		f.bind(d, s)
	}
}

func (f *Fetch) bind(d *parse.Decoder, s *Session) {
	for _, p := range f.specs {
		if p.event == "" {
			continue
		}
		if sc := d.SchemaByName(p.event); sc != nil {
			f.srcs[sc] = &fetchSource{kind: p.kind, path: sc.FieldIndex(p.field), ptr: -1, argc: -1}
		}
	}
	for i, id := range f.events {
		sc := d.SchemaByName(id.String())
		if sc == nil {
			continue
		}
		src := &fetchSource{probe: true, late: f.eventLate[i], path: sc.FieldIndex("path"), ptr: sc.FieldIndex("ptr"), argc: sc.FieldIndex("argc")}
		if sc.FieldIndex("a0") >= 0 {
			src.kind = "argv"
			src.ptr = sc.FieldIndex("argvp")
			for i := 0; i <= f.maxArgs; i++ {
				if j := sc.FieldIndex("a" + strconv.Itoa(i)); j >= 0 {
					src.args = append(src.args, j)
					if p := sc.FieldIndex("p" + strconv.Itoa(i)); p >= 0 {
						src.ptrs = append(src.ptrs, p)
					}
				}
			}
		} else if src.path >= 0 {
			src.kind = "path"
		} else {
			continue
		}
		if (src.kind == "argv") != (f.Job == FetchExecArgv) {
			continue
		}
		f.srcs[sc] = src
	}
}

// observe stores what r carries for this fetch; it reports whether r is
// one of the fetch's own (hidden) events.
func (f *Fetch) observe(r *parse.Record) {
	src := f.srcs[r.Schema]
	if src == nil {
		return
	}
	if len(f.vals) >= maxFetchValues {
		f.Dropped += len(f.vals)
		clear(f.vals)
	}
	tid := int32(r.PID())
	switch src.kind {
	case "argv":
		n := len(src.args)
		if src.argc >= 0 {
			n = min(n, int(r.Uint(src.argc)))
		}
		v := fetchValue{ts: r.TS, argv: make([]string, 0, n)}
		if src.ptr >= 0 {
			v.ptr, v.hasPtr = r.Uint(src.ptr), true
		}
		for i, idx := range src.args {
			if i >= n {
				break
			}
			b, ok := r.Bytes(idx)
			if len(src.ptrs) == len(src.args) {
				if r.Uint(src.ptrs[i]) == 0 {
					break // argv's NULL
				}
			} else if !ok || len(b) == 0 { // (fault): the end of argv, or unreadable
				break
			}
			if i == f.maxArgs {
				v.truncated = true
				break
			}
			v.argv = append(v.argv, string(cstrBytes(b)))
		}
		if src.late {
			if len(f.late) >= maxFetchValues {
				f.Dropped += len(f.late)
				clear(f.late)
			}
			f.late[tid] = v
			if f.OnArgv != nil {
				f.OnArgv(int(tid))
			}
			return
		}
		f.vals[tid] = v
	case "path":
		if src.path < 0 {
			return
		}
		b, ok := r.Bytes(src.path)
		if !ok || len(b) == 0 {
			return // (fault): nothing copied
		}
		v := fetchValue{ts: r.TS, path: string(cstrBytes(b))}
		if src.ptr >= 0 {
			v.ptr, v.hasPtr = r.Uint(src.ptr), true
		}
		f.vals[tid] = v
	}
}

func cstrBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// callerSlack is how long before a syscall's enter event a value copied
// in the caller (a uprobe on libc's wrapper, which runs first) may be.
// A loaded machine can preempt the caller between the two for
// milliseconds; the address check (ArgvAt) is the exact one.
const callerSlack = 1_000_000_000 // 1 s of trace clock (ns for the default clock)

// Argv takes the argv copied at the call by thread tid for the exec whose
// sys_enter event came at enterTS (0: any). A value from before that call
// belongs to an earlier one and is dropped. truncated says more than
// MaxArgs were passed.
func (f *Fetch) Argv(tid int, enterTS uint64) (argv []string, truncated bool, ok bool) {
	return f.ArgvAt(tid, enterTS, 0)
}

// ArgvAt is Argv for the exec whose sys_enter event carried the argv
// address argvPtr (0: unknown): a value copied in user space at another
// address belongs to another call.
func (f *Fetch) ArgvAt(tid int, enterTS, argvPtr uint64) (argv []string, truncated bool, ok bool) {
	v, ok := f.vals[int32(tid)]
	if !ok || v.argv == nil {
		return nil, false, false
	}
	delete(f.vals, int32(tid))
	if enterTS > callerSlack && v.ts < enterTS-callerSlack {
		return nil, false, false
	}
	if v.hasPtr && argvPtr != 0 && v.ptr != argvPtr {
		return nil, false, false
	}
	return v.argv, v.truncated, true
}

// LoaderArgv takes the argv that the loader of the program pid exec'd at
// execTS copied (uprobe way; OnArgv says when it came).
func (f *Fetch) LoaderArgv(pid int, execTS uint64) (argv []string, truncated bool, ok bool) {
	v, ok := f.late[int32(pid)]
	if !ok {
		return nil, false, false
	}
	delete(f.late, int32(pid))
	if v.ts < execTS {
		return nil, false, false // the previous program's
	}
	return v.argv, v.truncated, true
}

// Path takes the path fetched for tid's open. ptr is the address the
// syscall event carried (0 if unknown): a value fetched in user space is
// only the syscall's if it was read at that address.
func (f *Fetch) Path(tid int, ptr uint64) (string, bool) {
	v, ok := f.vals[int32(tid)]
	if !ok || v.argv != nil {
		return "", false
	}
	delete(f.vals, int32(tid))
	if v.hasPtr && ptr != 0 && v.ptr != ptr {
		return "", false // fetched for another call (one the probes missed came between)
	}
	return v.path, true
}
