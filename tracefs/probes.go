package tracefs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tracer-dev/tracer/parse"
)

// Dynamic probes are global: every instance sees them and every tool can
// remove them. tracer therefore only ever creates and removes probes in
// groups of its own:
//
//   - tracer_<pid>_<hex>: a session's probes, named after its instance
//     tracer-<pid>-<hex>. Close removes them after the instance; `tracer
//     reset` removes them once <pid> is gone.
//   - tracer_named: probes made by `tracer probe add`, which outlive
//     sessions until `tracer probe remove`. Reset leaves them alone.
const (
	probeGroupPrefix = "tracer_"
	// NamedProbeGroup holds the probes of `tracer probe add`.
	NamedProbeGroup = "tracer_named"
)

// ErrNoKprobes means the kernel has no kprobe_events (built without
// CONFIG_KPROBE_EVENTS, like some cloud and embedded kernels).
var ErrNoKprobes = &UnsupportedFeatureError{Name: "kprobe events", MinimumVersion: "2.6.33", Config: "CONFIG_KPROBE_EVENTS", Detail: "no kprobe_events, so kprobes and kretprobes are unavailable; use tracepoints (tracer list) or uprobes instead"}

// ErrNoUprobes means the kernel has no uprobe_events.
var ErrNoUprobes = &UnsupportedFeatureError{Name: "uprobe events", MinimumVersion: "3.5", Config: "CONFIG_UPROBE_EVENTS", Detail: "no uprobe_events, so uprobes are unavailable; use tracepoints (tracer list) instead"}

// ErrNoEprobes means the kernel cannot create event probes: they need
// Linux 5.15+ built with CONFIG_EPROBE_EVENTS (before that option existed,
// eprobes came with the probe events, CONFIG_PROBE_EVENTS).
var ErrNoEprobes = &UnsupportedFeatureError{Name: "eprobes", MinimumVersion: "5.15", Config: "CONFIG_EPROBE_EVENTS", Detail: "use tracepoints (tracer list), kprobes or uprobes instead"}

// argModeOverride lets tests act as a kernel before 4.20.
var argModeOverride *ArgMode

// probeFile is the control file that creates, lists and removes probes of
// type t. Eprobes have no file of their own: they live in dynamic_events,
// which lists kprobes and uprobes too.
func probeFile(t ProbeType) string {
	switch {
	case t == Eprobe:
		return "dynamic_events"
	case t.User():
		return "uprobe_events"
	}
	return "kprobe_events"
}

// checkProbeSupport fails early, and plainly, on kernels without the file.
func (fs *FS) checkProbeSupport(t ProbeType) error {
	if t == Eprobe {
		if !fs.hasEprobes() {
			return fmt.Errorf("%s: %w", t, ErrNoEprobes)
		}
		return nil
	}
	if fs.exists(probeFile(t)) {
		return nil
	}
	if t.User() {
		return fmt.Errorf("%s: %w", t, ErrNoUprobes)
	}
	return fmt.Errorf("%s: %w", t, ErrNoKprobes)
}

// ArgMode tells how this kernel takes $argN: from its own README (which
// lists "$arg<N>" where the kernel can fetch arguments, 4.20+) or, if that
// cannot be read, from the kernel version.
func (fs *FS) ArgMode() ArgMode {
	if argModeOverride != nil {
		return *argModeOverride
	}
	fs.cache.mu.Lock()
	defer fs.cache.mu.Unlock()
	if fs.cache.argMode != nil {
		return *fs.cache.argMode
	}
	m := fs.argMode()
	fs.cache.argMode = &m
	return m
}

func (fs *FS) argMode() ArgMode {
	m := ArgMode{Arch: runtime.GOARCH}
	if b, err := fs.readFile("README"); err == nil {
		s := string(b)
		m.Native = strings.Contains(s, "$arg<N>")
		if i := strings.Index(s, "return probes support:"); i >= 0 {
			line, _, _ := strings.Cut(s[i:], "\n")
			m.NativeReturn = strings.Contains(line, "$arg<N>")
		}
		return m
	}
	maj, min := kernelVersion()
	m.Native = maj > 4 || maj == 4 && min >= 20
	return m
}

func kernelVersion() (int, int) {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return 0, 0
	}
	r := unix.ByteSliceToString(u.Release[:])
	a, rest, _ := strings.Cut(r, ".")
	b, _, _ := strings.Cut(rest, ".")
	b = strings.TrimRightFunc(b, func(r rune) bool { return r < '0' || r > '9' })
	maj, _ := strconv.Atoi(a)
	min, _ := strconv.Atoi(b)
	return maj, min
}

// resolveProbe fills in what the kernel needs but the spec leaves to us:
// an absolute path for uprobes (bare names are looked up in $PATH) and the
// file offset of the symbol.
func resolveProbe(spec *ProbeSpec) (fileOffset uint64, err error) {
	if !spec.Type.User() {
		return 0, nil
	}
	p := spec.Path
	if !strings.Contains(p, "/") {
		if lp, err := exec.LookPath(p); err == nil {
			p = lp
		}
	}
	if p, err = filepath.Abs(p); err != nil {
		return 0, fmt.Errorf("uprobe path %s: %w", spec.Path, err)
	}
	if st, err := os.Stat(p); err != nil {
		return 0, fmt.Errorf("uprobe on %s: %w", spec.Path, err)
	} else if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("uprobe on %s: not a regular file", p)
	}
	spec.Path = p
	return ResolveUprobe(p, spec.Symbol, spec.Offset)
}

// AddProbe creates a probe from spec as group/event (event "" means
// spec.DefaultEvent()) and returns its event. The definition is appended
// to kprobe_events or uprobe_events (O_APPEND, so other probes stay); if
// the kernel refuses it, the error is a *KernelError with the kernel's
// error_log line and caret. The caller owns the probe and must remove it.
func (fs *FS) AddProbe(group, event string, spec *ProbeSpec) (EventID, error) {
	if event == "" {
		event = spec.DefaultEvent()
	}
	if !strings.HasPrefix(group, probeGroupPrefix) {
		return EventID{}, fmt.Errorf("%w: probe group %q: tracer only creates probes in groups named %s*", ErrInvalidName, group, probeGroupPrefix)
	}
	if err := fs.checkProbeSupport(spec.Type); err != nil {
		return EventID{}, err
	}
	if err := fs.checkEprobe(spec); err != nil {
		return EventID{}, err
	}
	off, err := resolveProbe(spec)
	if err != nil {
		return EventID{}, err
	}
	cmd, mapped, err := spec.Command(group, event, off, fs.ArgMode())
	if err != nil {
		return EventID{}, err
	}
	if mapped {
		regs := ArgRegisters(runtime.GOARCH)
		fs.notice(fmt.Sprintf("this kernel cannot fetch $argN itself (needs 4.20+); tracer reads $arg1..$arg%d from the %s argument registers (%s) instead, which is right at function entry",
			len(regs), runtime.GOARCH, strings.Join(regs, " ")))
	}
	if spec.Type == Uretprobe && isGoBinary(spec.Path) {
		fs.notice("uretprobes on Go programs can crash them: the Go runtime moves and unwinds goroutine stacks, where the kernel has replaced a return address (" + spec.Path + ")")
	}
	id := EventID{System: group, Name: event}
	if err := fs.writeProbe(probeFile(spec.Type), "creating "+spec.Type.String()+" "+id.String(), cmd); err != nil {
		return EventID{}, err
	}
	return id, nil
}

// checkEprobe checks an eprobe against the live kernel before it is
// written, so that mistakes read as tracer's own messages: the target
// event exists and is not a probe (the kernel attaches eprobes to
// tracepoints and synthetic events only), the fields the fetch args name
// are its fields, and an "if" filter is something this kernel takes.
// Other probe types pass.
func (fs *FS) checkEprobe(spec *ProbeSpec) error {
	if spec.Type != Eprobe {
		return nil
	}
	t := spec.Target
	if spec.Filter != "" {
		if b, err := fs.readFile("README"); err == nil && !strings.Contains(string(b), "<attached-event> [<args>] [if <filter>]") {
			return fmt.Errorf("eprobe on %s: %w: an eprobe filter (if ...) needs Linux 6.1+; filter the eprobe's own fields with --filter instead", t, ErrNotSupported)
		}
	}
	format, err := fs.Format(t.System, t.Name)
	if errors.Is(err, ErrNoEvent) {
		if _, rerr := fs.ResolveEvents([]string{t.String()}); rerr != nil {
			return fmt.Errorf("eprobe: no event %s to attach to: %w", t, rerr)
		}
	}
	if err != nil {
		return fmt.Errorf("eprobe: event %s to attach to: %w", t, err)
	}
	sc, err := parse.ParseFormat(t.System, format, strconv.IntSize/8)
	if err != nil {
		return fmt.Errorf("eprobe: reading the format of %s: %w", t, err)
	}
	var fields []string
	for _, f := range sc.Fields {
		if f.IsCommon {
			continue
		}
		if f.Name == "__probe_ip" || f.Name == "__probe_func" {
			return fmt.Errorf("%w: eprobe on %s: that is a kprobe or uprobe event; eprobes attach to tracepoints and synthetic events only", ErrInvalidName, t)
		}
		fields = append(fields, f.Name)
	}
	if eps, err := fs.listEprobes(); err == nil {
		for _, e := range eps {
			if e.ID() == t {
				return fmt.Errorf("%w: eprobe on %s: that is an eprobe itself; eprobes attach to tracepoints and synthetic events only", ErrInvalidName, t)
			}
		}
	}
	return spec.checkEprobeFields(fields)
}

// writeProbe appends one command to kprobe_events or uprobe_events and
// explains a refusal with the new lines of the (shared) error_log.
func (fs *FS) writeProbe(file, op, cmd string) error {
	var log *errorLog
	if fs.exists("error_log") {
		log = startErrorLog(fs.path("error_log"), false) // shared: never cleared
	}
	err := fs.writeFile(file, []byte(cmd), unix.O_APPEND)
	if err == nil {
		return nil
	}
	if log == nil {
		return &KernelError{Op: op, Err: unwrapErrno(err), Log: []string{"Command: " + cmd}}
	}
	kerr := log.wrap(op, err, cmd)
	if ke, ok := kerr.(*KernelError); ok && len(ke.Log) == 0 {
		ke.Log = []string{"Command: " + cmd}
	}
	return kerr
}

// RemoveProbe removes group/event, only in tracer's own groups. A probe
// that is gone already is not an error. The kernel refuses (EBUSY) while
// the event is enabled somewhere or open by perf; that is retried briefly.
func (fs *FS) RemoveProbe(group, event string) error {
	if !strings.HasPrefix(group, probeGroupPrefix) {
		return fmt.Errorf("%w: probe group %q is not tracer's; tracer never removes other tools' probes", ErrInvalidName, group)
	}
	if err := checkProbeName("group", group); err != nil {
		return err
	}
	if err := checkProbeName("event", event); err != nil {
		return err
	}
	infos, err := fs.ListProbes()
	if err != nil {
		return err
	}
	for _, p := range infos {
		if p.Group == group && p.Event == event {
			return fs.removeProbe(p)
		}
	}
	return nil
}

func (fs *FS) removeProbe(p ProbeInfo) error {
	cmd := "-:" + p.Group + "/" + p.Event
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := fs.writeFile(probeFile(p.Type), []byte(cmd), unix.O_APPEND)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY) && time.Now().Before(deadline):
			time.Sleep(20 * time.Millisecond)
		case errors.Is(err, unix.EBUSY):
			return fmt.Errorf("removing probe %s:%s: %w (still enabled or in use by another tool)", p.Group, p.Event, err)
		default:
			return fmt.Errorf("removing probe %s:%s: %w", p.Group, p.Event, err)
		}
	}
}

// ProbeInfo is one line of kprobe_events or uprobe_events, or an eprobe
// line of dynamic_events.
type ProbeInfo struct {
	Type       ProbeType
	Group      string
	Event      string
	Definition string // the place (eprobes: SYSTEM.EVENT) and fetch args, as the kernel shows them
	// Target is the event an eprobe is attached to; empty for other types.
	Target EventID
	// Ours is true for tracer's groups (tracer_<pid>_<hex> and tracer_named).
	Ours bool
	// OwnerPID is the session's pid for tracer_<pid>_<hex> groups, else 0.
	OwnerPID int
}

// ID returns the probe's event.
func (p ProbeInfo) ID() EventID { return EventID{System: p.Group, Name: p.Event} }

// ListProbes lists every kprobe, uprobe and eprobe on the system, tracer's
// and other tools'. Files that the kernel lacks are skipped.
func (fs *FS) ListProbes() ([]ProbeInfo, error) {
	var out []ProbeInfo
	for _, t := range []ProbeType{Kprobe, Uprobe, Eprobe} {
		f := probeFile(t)
		if !fs.exists(f) {
			continue
		}
		b, err := fs.readFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, parseProbeList(b, t)...)
	}
	return out, nil
}

// listEprobes lists the eprobes of dynamic_events (none where it is missing).
func (fs *FS) listEprobes() ([]ProbeInfo, error) {
	if !fs.exists("dynamic_events") {
		return nil, nil
	}
	b, err := fs.readFile("dynamic_events")
	if err != nil {
		return nil, err
	}
	return parseProbeList(b, Eprobe), nil
}

// parseProbeList parses "p:GROUP/EVENT PLACE ARGS" lines; "r<N>:" for
// return probes. from is the file's kind: Kprobe for kprobe_events, Uprobe
// for uprobe_events, Eprobe for dynamic_events, of which only the
// "e:GROUP/EVENT SYSTEM.EVENT ARGS" lines are taken (its p:/r: lines are
// the kprobes and uprobes of the other two files).
func parseProbeList(b []byte, from ProbeType) []ProbeInfo {
	var out []ProbeInfo
	for _, line := range strings.Split(string(b), "\n") {
		head, def, _ := strings.Cut(strings.TrimSpace(line), " ")
		kind, name, ok := strings.Cut(head, ":")
		if !ok || kind == "" {
			continue
		}
		g, e, ok := strings.Cut(name, "/")
		if !ok {
			continue
		}
		p := ProbeInfo{Group: g, Event: e, Definition: def}
		switch {
		case from == Eprobe:
			if kind != "e" {
				continue
			}
			p.Type = Eprobe
			place, _, _ := strings.Cut(def, " ")
			if sys, ev, ok := strings.Cut(place, "."); ok {
				p.Target = EventID{System: sys, Name: ev}
			}
		case kind[0] == 'p':
			p.Type = Kprobe
		case kind[0] == 'r':
			p.Type = Kretprobe
		default:
			continue
		}
		if from == Uprobe {
			p.Type += Uprobe
		}
		p.OwnerPID, p.Ours = probeOwner(g)
		if g == NamedProbeGroup {
			p.Ours = true
		}
		out = append(out, p)
	}
	return out
}

// probeOwner parses tracer_<pid>_<4 hex digits>.
func probeOwner(group string) (int, bool) {
	rest, ok := strings.CutPrefix(group, probeGroupPrefix)
	if !ok {
		return 0, false
	}
	return ownerPID(instancePrefix + strings.Replace(rest, "_", "-", 1))
}

// sessionProbeGroup names the probe group of an instance tracer-<pid>-<hex>.
func sessionProbeGroup(instance string) string {
	return probeGroupPrefix + strings.TrimPrefix(strings.ReplaceAll(instance, "-", "_"), "tracer_")
}

// deadProbeGroups lists session groups whose owner is gone. The owner's
// instance, if it still exists, dates the group (so a recycled pid does not
// keep it); otherwise a live pid counts as alive, because removing a live
// session's probes would break it.
func (fs *FS) deadProbeGroups() []ProbeInfo {
	list, err := fs.ListProbes()
	if err != nil {
		return nil
	}
	var out []ProbeInfo
	for _, p := range list {
		if p.OwnerPID == 0 {
			continue
		}
		inst := instancePrefix + strings.Replace(strings.TrimPrefix(p.Group, probeGroupPrefix), "_", "-", 1)
		alive := unix.Kill(p.OwnerPID, 0) != unix.ESRCH
		if fi, err := os.Stat(fs.path(path.Join("instances", inst))); err == nil {
			alive = fs.alive(p.OwnerPID, fi.ModTime())
		}
		if !alive {
			out = append(out, p)
		}
	}
	return out
}

func (fs *FS) removeProbes(list []ProbeInfo) ([]string, error) {
	var removed []string
	var errs []error
	for _, p := range list {
		if err := fs.removeProbe(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p.Group+":"+p.Event)
	}
	return removed, errors.Join(errs...)
}

// sessionProbes is the probe part of a Session.
type sessionProbes struct {
	pending []pendingProbe
	group   string
	created []ProbeInfo
}

type pendingProbe struct {
	spec   *ProbeSpec
	filter string
	// owner is the fetch that asked for the probe (fetch.go): its events
	// are the session's own, hidden from Next.
	owner *Fetch
	late  bool
}

// addProbe is AddTracepoint for a probe spec: it is parsed, checked
// against the kernel's features and (for uprobes) resolved now, so that
// mistakes show before anything is created; Open creates it.
func (s *Session) addProbe(text, filter string) error {
	if IsUSDTSpec(text) {
		return s.addUSDT(text, filter) // usdt.go: one uprobe per probe site
	}
	spec, err := ParseProbeSpec(text)
	if err != nil {
		return err
	}
	if filter != "" {
		if err := checkFilter(filter); err != nil {
			return err
		}
	}
	if err := s.fs.checkProbeSupport(spec.Type); err != nil {
		return err
	}
	if err := s.fs.checkEprobe(spec); err != nil {
		return err
	}
	off, err := resolveProbe(spec)
	if err != nil {
		return err
	}
	if _, _, err := spec.Command("tracer_check", spec.DefaultEvent(), off, s.fs.ArgMode()); err != nil {
		return err
	}
	if spec.Type.User() && spec.Symbol != "" {
		// Resolved once: keep the offset so Open does not read the ELF again.
		spec.Symbol, spec.Offset = "", off
		if spec.Event == "" {
			spec.Event = (&ProbeSpec{Type: spec.Type, Symbol: symbolOf(text)}).DefaultEvent()
		}
	}
	s.probes.pending = append(s.probes.pending, pendingProbe{spec: spec, filter: filter})
	return nil
}

// symbolOf recovers the symbol of a uprobe spec for its event name.
func symbolOf(text string) string {
	f := strings.Fields(text)
	if len(f) == 0 {
		return ""
	}
	t := f[0]
	if isRawProbe(t) && len(f) > 1 {
		t = f[1]
	}
	t = t[strings.LastIndexByte(t, ':')+1:]
	sym, off, _ := strings.Cut(t, "+")
	if off != "" {
		sym += "_" + strings.TrimPrefix(off, "0x")
	}
	return sym
}

// createProbes creates the session's probes in its group, named after its
// instance, and adds their events. Names are made unique in the group.
func (s *Session) createProbes() error {
	if len(s.probes.pending) == 0 {
		return nil
	}
	s.probes.group = sessionProbeGroup(s.inst.name)
	used := map[string]bool{}
	for _, p := range s.probes.pending {
		base := p.spec.DefaultEvent()
		ev := base
		for n := 2; used[ev]; n++ {
			ev = base + "_" + strconv.Itoa(n)
		}
		used[ev] = true
		id, err := s.fs.AddProbe(s.probes.group, ev, p.spec)
		if err != nil {
			return err
		}
		s.probes.created = append(s.probes.created, ProbeInfo{Type: p.spec.Type, Group: id.System, Event: id.Name, Target: p.spec.Target})
		s.events = append(s.events, id)
		s.filters[id] = p.filter
		if p.owner != nil {
			p.owner.events = append(p.owner.events, id)
			p.owner.eventLate = append(p.owner.eventLate, p.late)
			s.internal[id] = true
		}
	}
	return nil
}

// removeProbes removes what createProbes made. Call it after the instance
// is gone: the kernel refuses to remove a probe that is enabled.
func (s *Session) removeProbes() error {
	if len(s.probes.created) == 0 {
		return nil
	}
	// Remove in reverse order of creation; all must go, so keep going on errors.
	list := make([]ProbeInfo, 0, len(s.probes.created))
	for i := len(s.probes.created) - 1; i >= 0; i-- {
		list = append(list, s.probes.created[i])
	}
	_, err := s.fs.removeProbes(list)
	s.probes.created = nil
	return err
}

// markEprobes tells the decoder which event each eprobe among its schemas
// is attached to: the kernel prints an eprobe as "NAME: (SYSTEM.EVENT)
// ARGS", and the format file does not say SYSTEM.EVENT. The session's own
// eprobes are known; others (named ones, other tools') come from
// dynamic_events.
func (s *Session) markEprobes(d *parse.Decoder) {
	list := s.probes.created
	if eps, err := s.fs.listEprobes(); err == nil {
		list = append(append([]ProbeInfo(nil), list...), eps...)
	}
	for _, p := range list {
		if p.Type != Eprobe || p.Target.System == "" {
			continue
		}
		if sc := d.SchemaByName(p.ID().String()); sc != nil {
			sc.SetEprobeTarget(p.Target.System, p.Target.Name)
		}
	}
}

// Probes returns the probe events the session created (after Open).
func (s *Session) Probes() []EventID {
	var out []EventID
	for _, p := range s.probes.created {
		out = append(out, p.ID())
	}
	return out
}
