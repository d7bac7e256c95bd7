package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/script"
	"github.com/tracer-dev/tracer/script/plan"
	"github.com/tracer-dev/tracer/tracefs"
)

// ErrExit is returned by Record once the program called exit(): the
// caller stops reading and calls Finish.
var ErrExit = errors.New("program called exit()")

// DefaultMapCap bounds each map's entries; beyond it the oldest entry is
// evicted and the evictions are reported at the end.
const DefaultMapCap = 1 << 16

// PathSource gives the path the fetch layer copied for a thread's open
// (*tracefs.Fetch of FetchOpenPath).
type PathSource interface {
	Path(tid int, ptr uint64) (string, bool)
}

// ArgvSource gives the argv copied at a thread's exec (*tracefs.Fetch of
// FetchExecArgv).
type ArgvSource interface {
	Argv(tid int, enterTS uint64) (argv []string, truncated bool, ok bool)
}

// Options configure a Runtime.
type Options struct {
	Out    io.Writer // the program's output; buffer it, the runtime writes often
	Err    io.Writer // notes and warnings (nil: discarded)
	JSON   bool      // bpftrace's -f json
	MapCap int       // entries per map (0: DefaultMapCap)
	Params []string  // positional parameters $1...
	// Comm names a thread as it was at the event (the session's process
	// context); PID gives its process. Nil: /proc, best effort.
	Comm func(tid int) (string, bool)
	PID  func(tid int) (int, bool)
	// PPID gives a thread's parent process at the event, for tracer's
	// ppid builtin. Nil: /proc, best effort.
	PPID func(tid int) (int, bool)
	// Tool leaves out bpftrace's "Attaching N probes..." line and its
	// printing of every map at exit: the embedded tools print what they
	// mean to, in BEGIN and END, in their own columns.
	Tool bool
	// Now returns the monotonic clock in the records' unit (ns), for
	// BEGIN, END and interval probes, which have no record.
	Now func() uint64
}

// Runtime runs one program.
type Runtime struct {
	plan  *plan.Plan
	opts  Options
	maps  map[string]*Map
	names []string // map names, sorted, for the final print

	begin, end, events []*cprobe
	intervals          []*cprobe
	bySchema           [][]*binding // by schema ID

	ctx     Ctx
	buf     []byte // output waiting to be written
	scratch []byte // printf's and join's text
	werr    error  // the first write error of an action
	exited  bool
	startTS uint64
	notes   map[string]bool

	paths    PathSource
	argvs    ArgvSource
	pathSeen *aggregate.Bounded[int32, seenPath]
}

// seenPath is the path copied for a thread's last open, so that
// str(@name[tid]) of its pointer, later, finds the kernel's copy.
type seenPath struct {
	ptr  uint64
	path string
}

// cprobe is one compiled probe.
type cprobe struct {
	p          *plan.Probe
	pred       evalFn // user-space part of the predicate (nil: none)
	body       execFn
	nvars      int
	nkeys      int      // map key sites, each with its Ctx.keys slot
	fieldNames []string // args->NAME, argN, retval read, by slot
	next       time.Time
	probe      string // BEGIN, END, interval:s:1
}

// binding is a compiled probe bound to one event's schema.
type binding struct {
	cp       *cprobe
	ev       *plan.Event
	fields   []int  // field index by slot, -1 if the event lacks it
	strField []int  // eprobe NAME_str field by slot, -1 if none
	isString []bool // by slot
	signed   []bool
	pathSlot int // slot of the open syscall's path pointer field, -1
	argvSlot int // slot of exec's argv field, -1
	procMem  []bool
}

// New compiles a plan.
func New(p *plan.Plan, opts Options) (*Runtime, error) {
	if opts.MapCap <= 0 {
		opts.MapCap = DefaultMapCap
	}
	if opts.Err == nil {
		opts.Err = io.Discard
	}
	if opts.Now == nil {
		opts.Now = monotonicNow
	}
	rt := &Runtime{plan: p, opts: opts, maps: map[string]*Map{}, notes: map[string]bool{}, pathSeen: aggregate.NewBounded[int32, seenPath](4096)}
	for name, mi := range p.Info.Maps {
		m := &Map{name: name, info: mi, t: aggregate.NewBounded[mkey, *entry](opts.MapCap)}
		if err := m.setup(); err != nil {
			return nil, &script.Error{Pos: mi.Pos, Msg: err.Error()}
		}
		rt.maps[name] = m
		rt.names = append(rt.names, name)
	}
	sort.Strings(rt.names)
	var errs script.ErrorList
	for _, pp := range p.Probes {
		cp := &cprobe{p: pp, probe: pp.AST.AttachPoints[0].Raw}
		k := &compiler{rt: rt, cp: cp, vars: map[string]int{}, fields: map[string]int{}}
		if pp.UserPred != nil {
			cp.pred = k.expr(pp.UserPred)
		}
		cp.body = k.block(pp.AST.Body)
		cp.nvars = len(k.vars)
		if k.err != nil {
			var se *script.Error
			if errors.As(k.err, &se) {
				errs = append(errs, se)
			}
			continue
		}
		switch pp.Kind {
		case script.KindBegin:
			rt.begin = append(rt.begin, cp)
		case script.KindEnd:
			rt.end = append(rt.end, cp)
		case script.KindInterval:
			rt.intervals = append(rt.intervals, cp)
		default:
			rt.events = append(rt.events, cp)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rt, nil
}

// Events lists, per event probe, the events to bind: the caller adds
// each Spec to the session and, once it is open, calls Bind with the
// schema of each.
func (rt *Runtime) Events() []*plan.Event {
	var out []*plan.Event
	for _, cp := range rt.events {
		for i := range cp.p.Events {
			out = append(out, &cp.p.Events[i])
		}
	}
	return out
}

// Bind attaches ev's probe to the records of schema sc.
func (rt *Runtime) Bind(ev *plan.Event, sc *parse.Schema) {
	for _, cp := range rt.events {
		for i := range cp.p.Events {
			if &cp.p.Events[i] != ev {
				continue
			}
			b := &binding{cp: cp, ev: ev, pathSlot: -1, argvSlot: -1}
			for slot, name := range cp.fieldNames {
				idx := sc.FieldIndex(name)
				b.fields = append(b.fields, idx)
				b.strField = append(b.strField, sc.FieldIndex(name+"_str"))
				str, signed := false, true
				if idx >= 0 {
					str, signed = sc.Fields[idx].IsString, sc.Fields[idx].Signed
				}
				b.isString = append(b.isString, str)
				b.signed = append(b.signed, signed)
				pm := false
				for _, f := range ev.Fetches {
					if f.Field != name {
						continue
					}
					switch f.Kind {
					case plan.FetchOpenPath:
						b.pathSlot = slot
					case plan.FetchExecArgv:
						b.argvSlot = slot
					case plan.FetchProcMem:
						pm = true
					}
				}
				b.procMem = append(b.procMem, pm)
			}
			for sc.ID >= len(rt.bySchema) {
				rt.bySchema = append(rt.bySchema, nil)
			}
			rt.bySchema[sc.ID] = append(rt.bySchema[sc.ID], b)
		}
	}
}

// SetFetches gives the runtime the session's fetches (either may be nil).
func (rt *Runtime) SetFetches(paths PathSource, argvs ArgvSource) {
	rt.paths, rt.argvs = paths, argvs
}

// Attached is the number of probes bpftrace would say it attached.
func (rt *Runtime) Attached() int { return rt.plan.Attached }

// Start prints the "Attaching N probes..." line and runs BEGIN. It
// returns ErrExit when BEGIN called exit().
func (rt *Runtime) Start() error {
	n := rt.plan.Attached
	if rt.opts.Tool {
		// No line of bpftrace's: the tool's BEGIN says what it traces.
	} else if rt.opts.JSON {
		rt.buf = append(rt.buf[:0], `{"type": "attached_probes", "data": {"probes": `...)
		rt.buf = strconv.AppendInt(rt.buf, int64(n), 10)
		rt.buf = append(rt.buf, "}}\n"...)
	} else {
		s := "s"
		if n == 1 {
			s = ""
		}
		rt.buf = fmt.Appendf(rt.buf[:0], "Attaching %d probe%s...\n", n, s)
	}
	if err := rt.write(); err != nil {
		return err
	}
	rt.startTS = rt.opts.Now()
	now := time.Now()
	for _, cp := range rt.intervals {
		cp.next = now.Add(cp.p.Interval)
	}
	for _, cp := range rt.begin {
		if rt.runSpecial(cp) {
			return ErrExit
		}
	}
	return nil
}

// NextTick returns the period to check intervals at (0: none).
func (rt *Runtime) NextTick() time.Duration {
	var d time.Duration
	for _, cp := range rt.intervals {
		if d == 0 || cp.p.Interval < d {
			d = cp.p.Interval
		}
	}
	return d
}

// Tick runs the interval probes that are due. It returns ErrExit when
// one called exit().
func (rt *Runtime) Tick(now time.Time) error {
	if rt.exited {
		return ErrExit
	}
	for _, cp := range rt.intervals {
		for !now.Before(cp.next) {
			cp.next = cp.next.Add(cp.p.Interval)
			if rt.runSpecial(cp) {
				return ErrExit
			}
		}
	}
	return nil
}

// runSpecial runs a probe that has no record (BEGIN, END, interval); it
// reports whether the program exited.
func (rt *Runtime) runSpecial(cp *cprobe) bool {
	c := &rt.ctx
	c.reset(rt, nil, cp, rt.opts.Now())
	c.tid, c.cpu = os.Getpid(), 0
	c.probe = cp.probe
	if cp.pred != nil && !cp.pred(c).truth() {
		return false
	}
	cp.body(c)
	return rt.exited
}

// Record runs the probes bound to r's event. It allocates nothing for a
// program that counts by integer or comm keys.
func (rt *Runtime) Record(r *parse.Record) error {
	if rt.exited {
		return ErrExit
	}
	if r.Schema == nil || r.Schema.ID >= len(rt.bySchema) {
		return nil
	}
	for _, b := range rt.bySchema[r.Schema.ID] {
		c := &rt.ctx
		c.reset(rt, r, b.cp, r.TS)
		c.b = b
		c.probe, c.fn = b.ev.Probe, b.ev.Func
		if b.pathSlot >= 0 && rt.paths != nil {
			rt.takePath(c, b)
		}
		if b.cp.pred != nil && !b.cp.pred(c).truth() {
			continue
		}
		if b.cp.body(c) == flowExit || rt.exited {
			return ErrExit
		}
		if rt.werr != nil {
			return rt.werr
		}
	}
	return nil
}

// takePath takes the path the fetch layer copied for this open, once per
// record, and keeps it for str() of the pointer, now or later.
func (rt *Runtime) takePath(c *Ctx, b *binding) {
	idx := b.fields[b.pathSlot]
	if idx < 0 {
		return
	}
	ptr := c.rec.Uint(idx)
	if p, ok := rt.paths.Path(c.tid, ptr); ok {
		rt.pathSeen.Put(int32(c.tid), seenPath{ptr: ptr, path: p})
	}
}

// Finish runs END and prints the maps, as bpftrace does at exit.
func (rt *Runtime) Finish() error {
	rt.exited = false
	for _, cp := range rt.end {
		if rt.runSpecial(cp) {
			break
		}
	}
	if rt.opts.Tool {
		return rt.write()
	}
	rt.buf = append(rt.buf[:0], "\n\n"...)
	if err := rt.write(); err != nil {
		return err
	}
	for _, name := range rt.names {
		m := rt.maps[name]
		if m.t.Len() == 0 {
			// bpftrace prints an emptied keyed map as a blank line.
			if !rt.opts.JSON && len(m.info.Keys) > 0 {
				rt.buf = append(rt.buf, '\n')
			}
		} else {
			rt.printMap(m)
		}
		if err := rt.write(); err != nil {
			return err
		}
	}
	for _, name := range rt.names {
		if m := rt.maps[name]; m.t.Evicted > 0 {
			fmt.Fprintf(rt.opts.Err, "tracer: @%s: %d entries evicted (the table holds %d)\n", name, m.t.Evicted, rt.opts.MapCap)
		}
	}
	return nil
}

func (rt *Runtime) write() error {
	if len(rt.buf) == 0 {
		return nil
	}
	_, err := rt.opts.Out.Write(rt.buf)
	rt.buf = rt.buf[:0]
	return err
}

func (rt *Runtime) noteOnce(key, format string, args ...any) {
	if rt.notes[key] {
		return
	}
	rt.notes[key] = true
	fmt.Fprintf(rt.opts.Err, format+"\n", args...)
}

// uid and gid are best effort: the process's ids now, from /proc.
func (rt *Runtime) uid(pid int) int { return tracefs.ReadUID(pid) }

func (rt *Runtime) gid(pid int) int { return procStatusInt(pid, "Gid:") }

// procStatusInt is the first number of a /proc/PID/status line, -1 when
// the process is gone.
func procStatusInt(pid int, key string) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return -1
}

// Ctx is the state of one action.
type Ctx struct {
	rt    *Runtime
	rec   *parse.Record
	b     *binding
	tid   int
	cpu   int
	ts    uint64
	probe string
	fn    string
	vars  []Value
	keys  []mkey // by map key site
}

func (c *Ctx) reset(rt *Runtime, r *parse.Record, cp *cprobe, ts uint64) {
	c.rt, c.rec, c.b, c.ts = rt, r, nil, ts
	c.probe, c.fn = "", ""
	if r != nil {
		c.tid, c.cpu = r.PID(), r.CPU
	}
	if cap(c.vars) < cp.nvars {
		c.vars = make([]Value, cp.nvars)
	}
	c.vars = c.vars[:cp.nvars]
	clear(c.vars)
	if len(c.keys) < cp.nkeys {
		c.keys = make([]mkey, cp.nkeys)
	}
}

func (c *Ctx) pid() int {
	if c.rec == nil {
		return os.Getpid()
	}
	if c.rt.opts.PID != nil {
		if p, ok := c.rt.opts.PID(c.tid); ok {
			return p
		}
	}
	return c.tid
}

// ppid is the parent of the event's process: the session's process
// context, else /proc now (best effort), else 0.
func (c *Ctx) ppid() int {
	if c.rec == nil {
		return os.Getppid()
	}
	if c.rt.opts.PPID != nil {
		if p, ok := c.rt.opts.PPID(c.tid); ok {
			return p
		}
	}
	return procStatusInt(c.tid, "PPid:")
}

// fieldBytes is the raw bytes of args->NAME (an array such as
// inet_sock_set_state's saddr), nil when the event lacks it.
func (c *Ctx) fieldBytes(slot int) []byte {
	if c.b == nil || slot >= len(c.b.fields) || c.b.fields[slot] < 0 {
		return nil
	}
	b, _ := c.rec.Bytes(c.b.fields[slot])
	return b
}

func (c *Ctx) comm() string {
	if c.rec == nil {
		return "tracer"
	}
	if c.rt.opts.Comm != nil {
		if s, ok := c.rt.opts.Comm(c.tid); ok {
			return s
		}
	}
	if s, ok := tracefs.ReadComm(c.tid); ok {
		return s
	}
	return "<...>"
}

// field reads args->NAME (or argN, retval) of the current record.
func (c *Ctx) field(slot int) Value {
	if c.b == nil || slot >= len(c.b.fields) {
		return Value{K: kInt}
	}
	idx := c.b.fields[slot]
	if idx < 0 {
		return Value{K: kInt}
	}
	if c.b.isString[slot] {
		return strV(string(c.rec.Str(idx)))
	}
	if c.b.signed[slot] {
		return intV(c.rec.Int(idx))
	}
	return intV(int64(c.rec.Uint(idx)))
}

// str is str(x): the string the kernel copied for a field where it did,
// else what the pointer points to now in the process (best effort).
func (c *Ctx) str(slot int, x Value, limit int64) string {
	s, ok := c.strOf(slot, x)
	if !ok {
		return ""
	}
	if limit <= 0 || limit > defaultStrLen {
		limit = defaultStrLen
	}
	if int64(len(s)) > limit-1 {
		s = s[:limit-1]
	}
	return s
}

func (c *Ctx) strOf(slot int, x Value) (string, bool) {
	if x.K == kStr {
		return x.S, true
	}
	if c.b != nil && slot >= 0 && slot < len(c.b.fields) {
		if i := c.b.strField[slot]; i >= 0 {
			return string(c.rec.Str(i)), true // an eprobe's copy
		}
	}
	if p, ok := c.rt.pathSeen.Get(int32(c.tid)); ok && p.ptr == uint64(x.I) {
		return p.path, true
	}
	if x.I == 0 {
		return "", false
	}
	if c.b == nil || slot < 0 || !c.b.procMem[slot] {
		c.rt.noteOnce("procmem", "tracer: str() of a pointer the kernel did not copy: read from the process's memory after the event (best effort)")
	}
	return tracefs.ReadUserString(c.tid, uint64(x.I), defaultStrLen)
}

// argv is join(args->argv)'s list: the fetch layer's copy, else the
// process's memory (best effort).
func (c *Ctx) argv(slot int) []string {
	if c.b == nil || slot >= len(c.b.fields) || c.b.fields[slot] < 0 {
		return nil
	}
	if c.rt.argvs != nil && c.b.argvSlot == slot {
		if argv, _, ok := c.rt.argvs.Argv(c.tid, c.ts); ok {
			return argv
		}
	}
	c.rt.noteOnce("argv", "tracer: join(): an argv the kernel did not copy was read from the process's memory after the event (best effort)")
	argv, _ := tracefs.ReadUserArgv(c.tid, c.rec.Uint(c.b.fields[slot]))
	return argv
}

// monotonicNow is CLOCK_MONOTONIC, bpftrace's nsecs, which the session's
// "mono" trace clock stamps records with.
func monotonicNow() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}
