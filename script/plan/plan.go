// Package plan turns a checked bpftrace program into what tracer sets up
// and runs: per probe, the events and probe specs to add to a session,
// the part of the predicate the kernel filters with, the user-space rest,
// and the fetches the kernel must make so strings are copied at the event.
// It is pure: the live system is reached only through Env, so tests plan
// against a fake and compare the printed plan.
package plan

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/script"
)

// Env is what the planner asks of the system.
type Env interface {
	// Events expands a tracepoint pattern (system:event, globs allowed)
	// to the event names it matches, sorted.
	Events(pattern string) ([]string, error)
	// Fields returns an event's payload fields (common ones included).
	Fields(event string) ([]parse.Field, error)
	// Eprobes reports whether the kernel has event probes, so a pointer
	// field's string can be copied at the event.
	Eprobes() bool
}

// FetchKind is how the string behind a pointer field reaches the runtime.
type FetchKind int

// The fetch kinds, best first.
const (
	// FetchExecArgv: join(args->argv) on an exec syscall, through the
	// session's fetch layer (tracefs.FetchExecArgv).
	FetchExecArgv FetchKind = iota + 1
	// FetchOpenPath: the path of an open syscall (tracefs.FetchOpenPath).
	FetchOpenPath
	// FetchEprobe: an eprobe on the tracepoint copies the string
	// (Event.Spec is the eprobe, its field NAME_str holds the string).
	FetchEprobe
	// FetchProcMem: the kernel cannot copy it; read from the process's
	// memory when the action runs (tracefs.ReadUserString), best effort.
	FetchProcMem
)

var fetchNames = [...]string{FetchExecArgv: "exec argv (fetch layer)", FetchOpenPath: "open path (fetch layer)", FetchEprobe: "eprobe string", FetchProcMem: "process memory afterwards (best effort)"}

// String names the kind for the printed plan.
func (k FetchKind) String() string {
	if k > 0 && int(k) < len(fetchNames) {
		return fetchNames[k]
	}
	return "fetch(" + strconv.Itoa(int(k)) + ")"
}

// Fetch is one string a probe's actions need from a pointer field.
type Fetch struct {
	Field string // the tracepoint field (filename, argv)
	Kind  FetchKind
}

// Event is one event a probe attaches to.
type Event struct {
	// Name is system:event for a tracepoint; for a kprobe or uprobe it
	// is "" until the session creates the probe.
	Name string
	// Spec is what Session.AddTracepoint is given: the event name, or a
	// probe spec with its fetch args (kprobe:FUNC arg0=$arg1:u64 ...).
	Spec string
	// Probe is the value of bpftrace's probe builtin for this event
	// (tracepoint:syscalls:sys_enter_openat, kprobe:vfs_read).
	Probe string
	// Func is the value of func (the function probed, or the event name).
	Func string
	// Fields are the payload fields of a tracepoint, for the runtime.
	Fields  []parse.Field
	Fetches []Fetch
}

// Probe is the plan of one probe of the program.
type Probe struct {
	Index int // in Program.Probes, from 0
	AST   *script.Probe
	Kind  script.ProbeKind // of the first attach point (BEGIN, END, interval, or an event kind)
	// Events are the events for the event kinds (tracepoints, probes).
	Events []Event
	// Filter is the kernel filter set on every event; "" for none.
	Filter string
	// UserPred is what of the predicate runs in user space (nil: none).
	UserPred script.Expr
	// Interval is the period of an interval probe.
	Interval time.Duration
}

// Plan is a whole program's plan.
type Plan struct {
	Prog   *script.Program
	Info   *script.Info
	Probes []*Probe
	// Attached is the number bpftrace prints in "Attaching N probes...":
	// one per event matched, BEGIN, END and interval probe.
	Attached int
	// Notes are said once on stderr when the program starts: where the
	// plan is less exact than bpftrace (strings read after the fact).
	Notes []string
}

// MaxKeys bounds the keys of one map (@m[k1, k2, k3, k4]): the runtime's
// keys are fixed-size values, so counting needs no allocation.
const MaxKeys = 4

// unsupported are functions the checker accepts that tracer run does not
// execute yet: refused by name rather than run wrongly.
var unsupported = map[string]string{
	"ksym":     "ksym() is not supported by tracer run yet",
	"kaddr":    "kaddr() is not supported by tracer run yet",
	"strftime": "strftime() is not supported by tracer run yet",
	"kstack":   "kstack is not supported by tracer run yet",
}

// Build plans a checked program.
func Build(prog *script.Program, info *script.Info, env Env) (*Plan, error) {
	p := &Plan{Prog: prog, Info: info}
	var errs script.ErrorList
	fail := func(pos script.Pos, format string, args ...any) {
		errs = append(errs, &script.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	for name, m := range info.Maps {
		if len(m.Keys) > MaxKeys {
			fail(m.Pos, "map @%s has %d keys: tracer run allows at most %d", name, len(m.Keys), MaxKeys)
		}
		if m.Kind == script.MapTuple {
			fail(m.Pos, "map @%s holds tuples: not supported by tracer run yet", name)
		}
	}
	notes := map[string]bool{}
	for i, ap := range prog.Probes {
		pp := &Probe{Index: i, AST: ap, Kind: ap.AttachPoints[0].Kind}
		use := scan(ap)
		for _, c := range use.calls {
			if why, ok := unsupported[c.Name]; ok {
				fail(c.Pos, "%s", why)
			}
		}
		for _, b := range use.stacks {
			fail(b.Pos, "%s", unsupported["kstack"])
		}
		for _, at := range ap.AttachPoints {
			switch at.Kind {
			case script.KindBegin, script.KindEnd:
				p.Attached++
			case script.KindInterval:
				p.Attached++
				pp.Interval = period(at)
			case script.KindTracepoint:
				names, err := env.Events(at.Target + ":" + at.Func)
				if err != nil {
					fail(at.Pos, "probe %s: %v", at.Raw, err)
					continue
				}
				for _, n := range names {
					fields, err := env.Fields(n)
					if err != nil {
						fail(at.Pos, "probe %s: event %s: %v", at.Raw, n, err)
						continue
					}
					ev := Event{Name: n, Spec: n, Probe: "tracepoint:" + n, Func: n[strings.IndexByte(n, ':')+1:], Fields: fields}
					p.planFetches(&ev, use, env, notes, fail)
					pp.Events = append(pp.Events, ev)
					p.Attached++
				}
			case script.KindKprobe, script.KindKretprobe, script.KindUprobe, script.KindUretprobe:
				pp.Events = append(pp.Events, probeEvent(at, use))
				p.Attached++
			default:
				fail(at.Pos, "%s probes are not supported by tracer run yet", at.Kind)
			}
		}
		if pp.Kind == script.KindTracepoint {
			for _, f := range use.fields {
				for _, ev := range pp.Events {
					if fieldIndex(ev.Fields, f.Name) < 0 {
						fail(f.Pos, "tracepoint %s has no field %q", ev.Name, f.Name)
					}
				}
			}
		}
		if ap.Pred != nil {
			pp.Filter, pp.UserPred = splitPred(ap.Pred, pp)
		}
		p.Probes = append(p.Probes, pp)
	}
	// A session has one filter per event: an event two probes attach to
	// with different kernel filters is filtered in user space instead.
	filters := map[string]map[string]bool{}
	for _, pp := range p.Probes {
		for _, ev := range pp.Events {
			if filters[ev.Spec] == nil {
				filters[ev.Spec] = map[string]bool{}
			}
			filters[ev.Spec][pp.Filter] = true
		}
	}
	for _, pp := range p.Probes {
		for _, ev := range pp.Events {
			if len(filters[ev.Spec]) > 1 && pp.Filter != "" {
				pp.Filter, pp.UserPred = "", pp.AST.Pred
				break
			}
		}
	}
	for n := range notes {
		p.Notes = append(p.Notes, n)
	}
	sort.Strings(p.Notes)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Pos.Before(errs[j].Pos) })
		return p, errs
	}
	return p, nil
}

func period(at *script.AttachPoint) time.Duration {
	n := time.Duration(at.Period)
	switch at.Unit {
	case "s":
		return n * time.Second
	case "ms":
		return n * time.Millisecond
	case "us":
		return n * time.Microsecond
	case "hz":
		return time.Second / n
	}
	return time.Second
}

func fieldIndex(fs []parse.Field, name string) int {
	for i := range fs {
		if fs[i].Name == name {
			return i
		}
	}
	return -1
}

// openCalls and execCalls are the syscalls the fetch layer copies paths
// and argv for.
var openCalls = map[string]bool{"sys_enter_open": true, "sys_enter_openat": true, "sys_enter_openat2": true, "sys_enter_creat": true}
var execCalls = map[string]bool{"sys_enter_execve": true, "sys_enter_execveat": true}

// planFetches decides, for each pointer field whose string the actions
// need, who copies it.
func (p *Plan) planFetches(ev *Event, use *usage, env Env, notes map[string]bool, fail func(script.Pos, string, ...any)) {
	sys, name, _ := strings.Cut(ev.Name, ":")
	seen := map[string]bool{}
	for _, f := range use.strFields {
		if seen[f.Name] || fieldIndex(ev.Fields, f.Name) < 0 {
			continue
		}
		seen[f.Name] = true
		fl := ev.Fields[fieldIndex(ev.Fields, f.Name)]
		if fl.IsString {
			continue // the event carries the string itself
		}
		switch {
		case sys == "syscalls" && openCalls[name] && (f.Name == "filename" || f.Name == "pathname"):
			ev.Fetches = append(ev.Fetches, Fetch{Field: f.Name, Kind: FetchOpenPath})
		case sys == "syscalls" && execCalls[name] && f.Name == "argv" && f.join:
			ev.Fetches = append(ev.Fetches, Fetch{Field: f.Name, Kind: FetchExecArgv})
		case f.join:
			fail(f.Pos, "join(args->%s) on %s: only exec's argv can be joined", f.Name, ev.Name)
		case env.Eprobes():
			ev.Fetches = append(ev.Fetches, Fetch{Field: f.Name, Kind: FetchEprobe})
		default:
			ev.Fetches = append(ev.Fetches, Fetch{Field: f.Name, Kind: FetchProcMem})
			notes[fmt.Sprintf("str(args->%s) on %s: this kernel has no eprobes, so it cannot copy the string at the event; tracer reads it from the process's memory afterwards (best effort)", f.Name, ev.Name)] = true
		}
	}
	// Strings kept as pointers (@name[tid] = args->filename, read later
	// by str()) are resolved from the open path the fetch layer copied.
	for _, f := range use.fields {
		if seen[f.Name] || fieldIndex(ev.Fields, f.Name) < 0 {
			continue
		}
		if sys == "syscalls" && openCalls[name] && (f.Name == "filename" || f.Name == "pathname") && !ev.Fields[fieldIndex(ev.Fields, f.Name)].IsString {
			seen[f.Name] = true
			ev.Fetches = append(ev.Fetches, Fetch{Field: f.Name, Kind: FetchOpenPath})
		}
	}
	var eprobeArgs []string
	for _, ft := range ev.Fetches {
		if ft.Kind == FetchEprobe {
			eprobeArgs = append(eprobeArgs, ft.Field+"_str=+0($"+ft.Field+"):ustring")
		}
	}
	if len(eprobeArgs) > 0 {
		// The eprobe carries every field the actions read, and the strings.
		for _, f := range use.fields {
			if !strings.Contains(strings.Join(eprobeArgs, " "), " "+f.Name+"=") {
				eprobeArgs = append(eprobeArgs, f.Name+"=$"+f.Name)
			}
		}
		ev.Spec = "eprobe:" + ev.Name + " " + strings.Join(dedup(eprobeArgs), " ")
	}
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// probeEvent builds the probe spec of a kprobe or uprobe attach point,
// with a fetch arg for each argN and retval the actions read.
func probeEvent(at *script.AttachPoint, use *usage) Event {
	var head, probe string
	user := at.Kind == script.KindUprobe || at.Kind == script.KindUretprobe
	switch at.Kind {
	case script.KindKprobe, script.KindKretprobe:
		fn := at.Func
		if at.Target != "" {
			fn = at.Target + ":" + fn
		}
		if at.Offset != 0 {
			fn += "+" + strconv.FormatUint(at.Offset, 10)
		}
		head = at.Kind.String() + ":" + fn
		probe = at.Kind.String() + ":" + at.Func
	default:
		sym := at.Func
		if at.HasAddr {
			sym = "0x" + strconv.FormatUint(at.Address, 16)
		} else if at.Offset != 0 {
			sym += "+" + strconv.FormatUint(at.Offset, 10)
		}
		head = at.Kind.String() + ":" + at.Target + ":" + sym
		probe = head
	}
	var args []string
	for _, n := range use.args {
		args = append(args, "arg"+strconv.Itoa(n)+"=$arg"+strconv.Itoa(n+1)+":u64")
	}
	strType := "string"
	if user {
		strType = "ustring"
	}
	for _, n := range use.strArgs {
		args = append(args, "arg"+strconv.Itoa(n)+"_str=+0($arg"+strconv.Itoa(n+1)+"):"+strType)
	}
	if use.retval && (at.Kind == script.KindKretprobe || at.Kind == script.KindUretprobe) {
		args = append(args, "retval=$retval:s64")
		if use.strRetval {
			args = append(args, "retval_str=+0($retval):"+strType)
		}
	}
	spec := head
	if len(args) > 0 {
		spec += " " + strings.Join(args, " ")
	}
	fn := at.Func
	if user && fn == "" {
		fn = path.Base(at.Target)
	}
	return Event{Spec: spec, Probe: probe, Func: fn}
}

// String renders the plan, for tracer run --plan and golden tests.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "attaching %d probe%s\n", p.Attached, plural(p.Attached))
	for _, pp := range p.Probes {
		var raws []string
		for _, at := range pp.AST.AttachPoints {
			raws = append(raws, at.Raw)
		}
		fmt.Fprintf(&b, "probe %d: %s\n", pp.Index+1, strings.Join(raws, ", "))
		if pp.Interval > 0 {
			fmt.Fprintf(&b, "  every %s\n", pp.Interval)
		}
		for _, ev := range pp.Events {
			fmt.Fprintf(&b, "  add %s\n", ev.Spec)
			for _, f := range ev.Fetches {
				fmt.Fprintf(&b, "    string of %s: %s\n", f.Field, f.Kind)
			}
		}
		if pp.Filter != "" {
			fmt.Fprintf(&b, "  kernel filter: %s\n", pp.Filter)
		}
		if pp.UserPred != nil {
			fmt.Fprintf(&b, "  user predicate: %s\n", pp.UserPred)
		}
		fmt.Fprintf(&b, "  actions: %d statement%s\n", len(pp.AST.Body.Stmts), plural(len(pp.AST.Body.Stmts)))
	}
	for _, name := range p.Info.MapOrder {
		m := p.Info.Maps[name]
		keys := ""
		if len(m.Keys) > 0 {
			var ks []string
			for _, k := range m.Keys {
				ks = append(ks, k.String())
			}
			keys = "[" + strings.Join(ks, ", ") + "]"
		}
		fmt.Fprintf(&b, "map %s%s: %s\n", m.Display(), keys, m.Kind)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
