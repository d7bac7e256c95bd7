package tracefs

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// ProbeType is the kind of a dynamic probe.
type ProbeType int

const (
	Kprobe ProbeType = iota
	Kretprobe
	Uprobe
	Uretprobe
	// Eprobe is an event probe (Linux 5.15+): fetch args evaluated on the
	// fields of another event each time it fires, created through
	// dynamic_events. Its Target is that event.
	Eprobe
)

func (t ProbeType) String() string {
	switch t {
	case Kprobe:
		return "kprobe"
	case Kretprobe:
		return "kretprobe"
	case Uprobe:
		return "uprobe"
	case Uretprobe:
		return "uretprobe"
	case Eprobe:
		return "eprobe"
	}
	return "probe(" + strconv.Itoa(int(t)) + ")"
}

// User reports whether the probe is in user space (uprobe_events).
func (t ProbeType) User() bool { return t == Uprobe || t == Uretprobe }

// Return reports whether the probe fires on function return.
func (t ProbeType) Return() bool { return t == Kretprobe || t == Uretprobe }

// ProbeSpec is a parsed probe definition, before symbol resolution and
// before it is given a group. ParseProbeSpec makes one from what users type.
type ProbeSpec struct {
	Type ProbeType
	// Event is the event name the user asked for (raw syntax, or
	// `tracer probe add --name`); "" means DefaultEvent.
	Event string
	// Symbol is the kernel function ([MOD:]func, or a 0x address) or the
	// user-space symbol; for uprobes it is "" when Offset is a file offset.
	Symbol string
	// Offset is added to Symbol, or is the file offset of a uprobe without one.
	Offset uint64
	// Path is the binary of a uprobe.
	Path string
	// MaxActive is the kretprobe maxactive count (raw syntax r<N>:), 0 for default.
	MaxActive int
	// Target is the event an eprobe attaches to (System and Name of a
	// tracepoint or synthetic event); empty for other probes.
	Target EventID
	// Filter is an eprobe's "if FILTER" part: a filter on the target
	// event's fields, applied before the fetch args run (Linux 6.1+).
	Filter string
	// RefCtrOffset is the file offset of a USDT probe's semaphore, which
	// the kernel counts up while the uprobe is enabled (Linux 4.20+,
	// "PATH:OFFSET(REF_CTR_OFFSET)"); 0 for none.
	RefCtrOffset uint64
	Args         []ProbeArg
}

// ProbeArg is one fetch argument: Name=Fetch:Type.
type ProbeArg struct {
	Name  string
	Fetch string
	Type  string // "" for the kernel's default (x64 on 64-bit)
}

// probePrefixes are the spellings that make an event argument a probe spec.
var probePrefixes = []struct {
	prefix string
	typ    ProbeType
}{
	{"kprobe:", Kprobe}, {"kretprobe:", Kretprobe}, {"uprobe:", Uprobe}, {"uretprobe:", Uretprobe},
	{"eprobe:", Eprobe},
	{"k:", Kprobe}, {"kr:", Kretprobe}, {"u:", Uprobe}, {"ur:", Uretprobe},
}

// isShortEprobe tells the short spelling e:SYSTEM:EVENT from the kernel's
// e:[GROUP/]NAME SYSTEM.EVENT: only the short one has a second ':' in its
// first word (the kernel's names never contain one).
func isShortEprobe(first string) bool {
	rest, ok := strings.CutPrefix(first, "e:")
	return ok && strings.Contains(rest, ":")
}

// IsProbeSpec reports whether s is a probe definition rather than an event
// pattern: bpftrace-like (kprobe:, kretprobe:, uprobe:, uretprobe:,
// eprobe:, and the short k:, kr:, u:, ur:, e:) or the kernel's own (p:,
// r:, r<N>:, e:, "p ", "r ", "e ").
func IsProbeSpec(s string) bool {
	s = strings.TrimSpace(s)
	for _, p := range probePrefixes {
		if strings.HasPrefix(s, p.prefix) {
			return true
		}
	}
	return IsUSDTSpec(s) || isRawProbe(s)
}

func isRawProbe(s string) bool {
	if s == "" || (s[0] != 'p' && s[0] != 'r' && s[0] != 'e') {
		return false
	}
	i := 1
	if s[0] == 'r' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i < len(s) && (s[i] == ':' || s[i] == ' ' || s[i] == '\t')
}

// maxProbeSpecLen bounds a definition; the kernel limits a write to a page.
const maxProbeSpecLen = 2048

// ParseProbeSpec parses one probe definition:
//
//	kprobe:do_sys_openat2 dfd=$arg1 path=+0($arg2):string
//	kprobe:vfs_read+0x10
//	kretprobe:do_sys_openat2 ret=$retval:s64
//	uprobe:/bin/bash:readline
//	uretprobe:/bin/bash:readline line=+0($retval):string
//	uprobe:/bin/bash:0x1234          (a file offset)
//	p:myevent do_sys_open %di        (the kernel's syntax; any group is replaced)
//	r:/bin/bash:0x1234 $retval
//	eprobe:syscalls:sys_enter_openat path=+0($filename):ustring
//	e:syscalls:sys_enter_execve a1=+0(+8($argv)):ustring
//	e:op syscalls.sys_enter_openat path=+0($filename):ustring   (the kernel's syntax)
//	eprobe:raw_syscalls:sys_enter nr=$id:s64 if id == 257
//
// Eprobe fetch args name the target event's fields as $FIELD; whether the
// fields exist is checked against its format when the probe is added
// (Session.AddTracepoint, FS.AddProbe), not here.
func ParseProbeSpec(s string) (*ProbeSpec, error) {
	if len(s) > maxProbeSpecLen {
		return nil, fmt.Errorf("%w: probe definition is %d bytes long (max %d)", ErrInvalidName, len(s), maxProbeSpecLen)
	}
	if i := strings.IndexAny(s, "\n\r\x00"); i >= 0 {
		return nil, fmt.Errorf("%w: probe definition contains a newline or NUL at byte %d", ErrInvalidName, i)
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, fmt.Errorf("%w: empty probe definition", ErrInvalidName)
	}
	if IsUSDTSpec(s) {
		// A usdt spec stands for one uprobe per probe site, read from the
		// binary's notes: ParseUSDTSpec and FS.USDTProbeSpecs (usdt.go).
		return nil, fmt.Errorf("%w: %s is a usdt probe, which names several uprobes; resolve it with FS.USDTProbeSpecs", ErrInvalidName, short100(f[0]))
	}
	p := &ProbeSpec{}
	var target string
	rest := f[1:]
	matched := false
	for _, pp := range probePrefixes {
		if t, ok := strings.CutPrefix(f[0], pp.prefix); ok {
			p.Type, target, matched = pp.typ, t, true
			break
		}
	}
	if !matched && isShortEprobe(f[0]) {
		p.Type, target, matched = Eprobe, f[0][2:], true
	}
	if !matched {
		if !isRawProbe(strings.TrimSpace(s)) {
			return nil, fmt.Errorf("%w: %q is not a probe (want kprobe:FUNC, kretprobe:FUNC, uprobe:PATH:SYM, uretprobe:PATH:SYM, eprobe:SYSTEM:EVENT, or p:/r:/e: syntax)", ErrInvalidName, f[0])
		}
		if err := p.parseRawHead(f[0]); err != nil {
			return nil, err
		}
		if len(f) < 2 {
			if p.Type == Eprobe {
				return nil, fmt.Errorf("%w: eprobe %q: missing the event to attach to (want e:[GROUP/]NAME SYSTEM.EVENT, or eprobe:SYSTEM:EVENT)", ErrInvalidName, s)
			}
			return nil, fmt.Errorf("%w: probe %q: missing the place to probe", ErrInvalidName, s)
		}
		target, rest = f[1], f[2:]
		// The kernel tells uprobes from kprobes by the file it is written
		// to; we tell them by the place: PATH:OFFSET has a '/' before ':'.
		if c := strings.LastIndexByte(target, ':'); p.Type != Eprobe && c > 0 && strings.Contains(target[:c], "/") {
			p.Type += Uprobe // Kprobe→Uprobe, Kretprobe→Uretprobe
		}
	}
	if p.Type == Eprobe {
		if err := p.parseEprobeTarget(target, matched); err != nil {
			return nil, err
		}
		// "if FILTER" ends an eprobe definition, as in the kernel's syntax.
		for i, w := range rest {
			if w != "if" {
				continue
			}
			p.Filter = strings.Join(rest[i+1:], " ")
			if p.Filter == "" {
				return nil, fmt.Errorf("%w: eprobe %s: \"if\" without a filter", ErrInvalidName, f[0])
			}
			if err := checkFilter(p.Filter); err != nil {
				return nil, fmt.Errorf("eprobe %s: %w", f[0], err)
			}
			rest = rest[:i]
			break
		}
	} else if err := p.parseTarget(target); err != nil {
		return nil, err
	}
	kind := fetchProbe
	if p.Type == Eprobe {
		kind = fetchEvent
	}
	names := map[string]bool{}
	for i, a := range rest {
		arg, err := parseProbeArg(a, i+1, kind)
		if err != nil {
			return nil, fmt.Errorf("probe %s: %w", f[0], err)
		}
		if names[arg.Name] {
			return nil, fmt.Errorf("%w: probe %s: argument name %q used twice", ErrInvalidName, f[0], arg.Name)
		}
		names[arg.Name] = true
		p.Args = append(p.Args, arg)
	}
	if len(p.Args) > 128 { // MAX_TRACE_ARGS
		return nil, fmt.Errorf("%w: probe %s: %d fetch args (the kernel allows 128)", ErrInvalidName, f[0], len(p.Args))
	}
	return p, nil
}

// parseRawHead parses "p", "p:EVENT", "p:GRP/EVENT", "r", "r5:EVENT",
// "e:EVENT"...
func (p *ProbeSpec) parseRawHead(h string) error {
	p.Type = Kprobe
	switch h[0] {
	case 'r':
		p.Type = Kretprobe
	case 'e':
		p.Type = Eprobe
	}
	i := 1
	for p.Type == Kretprobe && i < len(h) && h[i] >= '0' && h[i] <= '9' {
		i++
	}
	if i > 1 {
		n, err := strconv.Atoi(h[1:i])
		if err != nil || n > 4096 {
			return fmt.Errorf("%w: probe %q: bad maxactive", ErrInvalidName, h)
		}
		p.MaxActive = n
	}
	name, ok := strings.CutPrefix(h[i:], ":")
	if !ok || name == "" {
		return nil
	}
	if _, ev, ok := strings.Cut(name, "/"); ok {
		name = ev // the group is always ours; see Session and `tracer probe`
	}
	if name != "" {
		if err := checkProbeName("event", name); err != nil {
			return err
		}
		p.Event = name
	}
	return nil
}

// parseEprobeTarget parses the event an eprobe attaches to: SYSTEM:EVENT
// in tracer's spelling (short is true), SYSTEM.EVENT or SYSTEM/EVENT in the
// kernel's. Both names are identifiers, as the kernel's event names are.
func (p *ProbeSpec) parseEprobeTarget(t string, short bool) error {
	seps := "./"
	want := "SYSTEM.EVENT"
	if short {
		seps, want = ":", "SYSTEM:EVENT"
	}
	i := strings.IndexAny(t, seps)
	if i < 0 {
		return fmt.Errorf("%w: eprobe %q: want %s, the event to attach to", ErrInvalidName, short100(t), want)
	}
	sys, ev := t[:i], t[i+1:]
	if !identOK(sys) || !identOK(ev) {
		return fmt.Errorf("%w: eprobe %q: want %s, with names of letters, digits and '_' (at most 64)", ErrInvalidName, short100(t), want)
	}
	p.Target = EventID{System: sys, Name: ev}
	return nil
}

// short100 cuts s for an error message, so a huge input is not echoed.
func short100(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func (p *ProbeSpec) parseTarget(t string) error {
	if t == "" {
		return fmt.Errorf("%w: %s: missing the function to probe", ErrInvalidName, p.Type)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] == 0x7f {
			return fmt.Errorf("%w: %s %q: control character", ErrInvalidName, p.Type, t)
		}
	}
	if p.Type.User() {
		c := strings.LastIndexByte(t, ':')
		if c <= 0 || c == len(t)-1 {
			return fmt.Errorf("%w: %s %q: want PATH:SYMBOL[+OFFSET] or PATH:0xOFFSET", ErrInvalidName, p.Type, t)
		}
		p.Path, t = t[:c], t[c+1:]
		if strings.HasSuffix(t, "%return") {
			return fmt.Errorf("%w: %s %q: use uretprobe: (or r:) for return probes", ErrInvalidName, p.Type, t)
		}
		if off, ok := parseUint(t); ok {
			p.Offset = off
			return nil
		}
	} else if _, ok := parseUint(t); ok && strings.HasPrefix(t, "0x") {
		p.Symbol = t // a kernel address
		return nil
	}
	sym, offs, hasOff := strings.Cut(t, "+")
	if hasOff {
		off, ok := parseUint(offs)
		if !ok {
			return fmt.Errorf("%w: %s %q: bad offset %q", ErrInvalidName, p.Type, t, offs)
		}
		p.Offset = off
	}
	if p.Type.User() {
		// User symbols never reach the kernel (they are resolved to file
		// offsets), so Go and C++ names (main.(*T).M, ns::f) are fine.
		if sym == "" || strings.ContainsAny(sym, "\"'") {
			return fmt.Errorf("%w: %s: bad symbol %q", ErrInvalidName, p.Type, sym)
		}
	} else if !symbolOK(sym, true) {
		return fmt.Errorf("%w: %s: bad symbol %q", ErrInvalidName, p.Type, sym)
	}
	p.Symbol = sym
	if p.Type == Kretprobe && p.Offset != 0 {
		return fmt.Errorf("%w: kretprobe %s+%#x: a return probe must be on the function itself, not at an offset", ErrInvalidName, sym, p.Offset)
	}
	return nil
}

// symbolOK accepts C and C++/Rust linkage names (letters, digits, _ . $ @)
// and, for kernel symbols, one MODULE: prefix.
func symbolOK(s string, kernel bool) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	if kernel {
		if mod, fn, ok := strings.Cut(s, ":"); ok {
			return symbolOK(mod, false) && symbolOK(fn, false)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '$' || c == '@') {
			return false
		}
	}
	return true
}

func parseUint(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 0, 64)
	return v, err == nil
}

func identOK(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkProbeName checks a group or event name of a dynamic event: the
// kernel takes [A-Za-z_][A-Za-z0-9_]* up to MAX_EVENT_NAME_LEN (64).
func checkProbeName(what, s string) error {
	if len(s) > 64 && !identOK(s) { // do not echo a huge name back
		return fmt.Errorf("%w: %s name is %d bytes long (use letters, digits and '_', at most 64, not starting with a digit)", ErrInvalidName, what, len(s))
	}
	if !identOK(s) {
		return fmt.Errorf("%w: %s name %q (use letters, digits and '_', at most 64, not starting with a digit)", ErrInvalidName, what, s)
	}
	return nil
}

// parseProbeArg parses NAME=FETCHARG[:TYPE] or FETCHARG[:TYPE]; pos is the
// 1-based position, for the name of an unnamed argument that has no
// natural one. kind says which variables the probe type has.
func parseProbeArg(s string, pos int, kind fetchKind) (ProbeArg, error) {
	var a ProbeArg
	if n, v, ok := strings.Cut(s, "="); ok && identOK(n) {
		a.Name, s = n, v
	}
	// The type follows the last ':' after any closing parenthesis.
	from := strings.LastIndexByte(s, ')') + 1
	if strings.HasPrefix(s, `\"`) {
		from = strings.LastIndexByte(s, '"') + 1
	}
	if c := strings.LastIndexByte(s[from:], ':'); c >= 0 {
		a.Type, s = s[from+c+1:], s[:from+c]
		if err := checkFetchType(a.Type); err != nil {
			return a, err
		}
	}
	a.Fetch = s
	if _, err := walkFetch(s, 0, kind, nil); err != nil {
		return a, err
	}
	if a.Name == "" {
		a.Name = defaultArgName(s, pos)
	}
	if !identOK(a.Name) {
		return a, fmt.Errorf("%w: argument name %q", ErrInvalidName, a.Name)
	}
	return a, nil
}

func defaultArgName(fetch string, pos int) string {
	switch {
	case strings.HasPrefix(fetch, "$") && identOK(fetch[1:]):
		return fetch[1:] // arg1, retval, comm, stack3
	case strings.HasPrefix(fetch, "%") && identOK(fetch[1:]):
		return fetch[1:]
	}
	return "arg" + strconv.Itoa(pos)
}

// checkFetchType accepts the kernel's fetch types: u8..u64, s8..s64,
// x8..x64, string, ustring, symbol (and the newer char, symstr), bitfields
// b<width>@<offset>/<container size>, each optionally an array T[N].
func checkFetchType(t string) error {
	base := t
	if i := strings.IndexByte(t, '['); i >= 0 {
		if !strings.HasSuffix(t, "]") {
			return fmt.Errorf("%w: type %q: unclosed array", ErrInvalidName, t)
		}
		n, err := strconv.Atoi(t[i+1 : len(t)-1])
		if err != nil || n < 1 || n > 64 { // MAX_ARRAY_LEN
			return fmt.Errorf("%w: type %q: array length must be 1..64", ErrInvalidName, t)
		}
		base = t[:i]
		if base == "string" || base == "ustring" || strings.HasPrefix(base, "b") {
			// The kernel allows string arrays, but not bitfield arrays.
			if base[0] == 'b' {
				return fmt.Errorf("%w: type %q: bitfields cannot be arrays", ErrInvalidName, t)
			}
		}
	}
	switch base {
	case "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "x8", "x16", "x32", "x64",
		"string", "ustring", "symbol", "symstr", "char":
		return nil
	}
	if bf, ok := strings.CutPrefix(base, "b"); ok {
		w, rest, ok1 := strings.Cut(bf, "@")
		o, sz, ok2 := strings.Cut(rest, "/")
		wi, e1 := strconv.Atoi(w)
		oi, e2 := strconv.Atoi(o)
		if ok1 && ok2 && e1 == nil && e2 == nil {
			switch sz {
			case "8", "16", "32", "64":
				s, _ := strconv.Atoi(sz)
				if wi >= 1 && oi >= 0 && wi+oi <= s {
					return nil
				}
			}
		}
		return fmt.Errorf("%w: bitfield type %q: want b<width>@<offset>/<container bits 8|16|32|64>, width+offset within the container", ErrInvalidName, t)
	}
	return fmt.Errorf("%w: unknown fetch type %q (want u8..u64, s8..s64, x8..x64, string, ustring, symbol, b<w>@<o>/<s>, optionally [N])", ErrInvalidName, t)
}

// maxFetchDepth bounds nested dereferences (the kernel's FETCH_INSN_MAX is 16).
const maxFetchDepth = 8

// fetchRewrite maps $argN to something else (a register) or refuses it;
// nil keeps everything as written.
type fetchRewrite func(v string) (string, error)

// fetchKind says which fetch forms a probe type has: kprobes and uprobes
// read registers, the stack and arguments; eprobes (trace_eprobe.c) have
// none of those, and read the target event's fields as $FIELD instead.
type fetchKind uint8

const (
	fetchProbe fetchKind = iota
	fetchEvent
)

// walkFetch checks a fetch argument's syntax and returns it with each
// variable passed through rw:
//
//	%REG | @ADDR | @SYM[+|-OFFS] | $stackN | $stack | $retval | $comm | $argN
//	+|-[u]OFFS(FETCHARG) | \IMM | \"STRING"
//
// For eprobes (fetchEvent): $FIELD | $comm | @ADDR | @SYM[+|-OFFS] |
// +|-[u]OFFS(FETCHARG) | \IMM | \"STRING".
func walkFetch(s string, depth int, kind fetchKind, rw fetchRewrite) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty fetch argument", ErrInvalidName)
	}
	if depth > maxFetchDepth {
		return "", fmt.Errorf("%w: fetch argument nested more than %d deep", ErrInvalidName, maxFetchDepth)
	}
	switch s[0] {
	case '+', '-':
		open := strings.IndexByte(s, '(')
		if open < 0 || !strings.HasSuffix(s, ")") {
			return "", fmt.Errorf("%w: dereference %q: want +OFFS(FETCHARG)", ErrInvalidName, s)
		}
		off := s[1:open]
		off = strings.TrimPrefix(off, "u")
		if _, ok := parseUint(off); !ok {
			return "", fmt.Errorf("%w: dereference %q: bad offset %q", ErrInvalidName, s, s[1:open])
		}
		inner, err := walkFetch(s[open+1:len(s)-1], depth+1, kind, rw)
		if err != nil {
			return "", err
		}
		return s[:open+1] + inner + ")", nil
	case '$':
		v := s[1:]
		if kind == fetchEvent {
			// Any identifier may be a field of the target event (the
			// kernel looks fields up first); which ones exist is checked
			// against its format later (checkEprobeFields).
			if !identOK(v) {
				return "", fmt.Errorf("%w: %s: want $FIELD, a field of the event the eprobe attaches to, or $comm", ErrInvalidName, short100(s))
			}
			if rw != nil {
				return rw(s)
			}
			return s, nil
		}
		switch {
		case v == "retval", v == "comm", v == "stack":
		case strings.HasPrefix(v, "stack") && isDigits(v[5:]):
		case strings.HasPrefix(v, "arg") && isDigits(v[3:]):
			if n, _ := strconv.Atoi(v[3:]); n < 1 {
				return "", fmt.Errorf("%w: %s: arguments count from $arg1", ErrInvalidName, s)
			}
		default:
			return "", fmt.Errorf("%w: unknown variable %s (want $argN, $retval, $stackN, $stack, $comm)", ErrInvalidName, s)
		}
		if rw != nil {
			return rw(s)
		}
		return s, nil
	case '%':
		if kind == fetchEvent {
			return "", fmt.Errorf("%w: %s: eprobes cannot read registers; fetch the target event's fields with $FIELD", ErrInvalidName, short100(s))
		}
		if !isAlnum(s[1:]) {
			return "", fmt.Errorf("%w: register %q", ErrInvalidName, s)
		}
		return s, nil
	case '@':
		a := s[1:]
		if a == "" {
			return "", fmt.Errorf("%w: empty address %q", ErrInvalidName, s)
		}
		if _, ok := parseUint(a); ok {
			return s, nil
		}
		if o, ok := strings.CutPrefix(a, "+"); ok && kind == fetchProbe { // uprobes: @+OFFSET in the file
			if _, ok := parseUint(o); ok {
				return s, nil
			}
		}
		sym, off := a, ""
		if i := strings.IndexAny(a, "+-"); i > 0 {
			sym, off = a[:i], a[i+1:]
			if _, ok := parseUint(off); !ok {
				return "", fmt.Errorf("%w: address %q: bad offset", ErrInvalidName, s)
			}
		}
		if !symbolOK(sym, true) {
			return "", fmt.Errorf("%w: address %q: bad symbol", ErrInvalidName, s)
		}
		return s, nil
	case '\\':
		v := s[1:]
		if strings.HasPrefix(v, `"`) {
			if len(v) < 2 || !strings.HasSuffix(v, `"`) || strings.Contains(v[1:len(v)-1], `"`) {
				return "", fmt.Errorf("%w: immediate string %q", ErrInvalidName, s)
			}
			return s, nil
		}
		if strings.HasPrefix(v, "-") {
			v = v[1:]
		}
		if _, ok := parseUint(v); !ok {
			return "", fmt.Errorf("%w: immediate %q", ErrInvalidName, s)
		}
		return s, nil
	}
	if kind == fetchEvent {
		return "", fmt.Errorf("%w: fetch argument %q (want $FIELD, $comm, @ADDR, +OFFS(...) or \\IMM; tracer does not take the BTF forms)", ErrInvalidName, short100(s))
	}
	return "", fmt.Errorf("%w: fetch argument %q (want $argN, $retval, $stackN, $comm, %%REG, @ADDR, +OFFS(...) or \\IMM)", ErrInvalidName, s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ArgRegisters returns the registers that carry the first integer
// arguments of a function in the C calling convention of arch (GOARCH
// spelling), as the kernel's probe syntax names them; nil if unknown.
func ArgRegisters(arch string) []string {
	switch arch {
	case "amd64":
		return []string{"%di", "%si", "%dx", "%cx", "%r8", "%r9"}
	case "arm64":
		return []string{"%x0", "%x1", "%x2", "%x3", "%x4", "%x5", "%x6", "%x7"}
	case "386": // kernel (regparm(3)) convention; user space passes on the stack
		return []string{"%ax", "%dx", "%cx"}
	case "riscv64":
		return []string{"%a0", "%a1", "%a2", "%a3", "%a4", "%a5", "%a6", "%a7"}
	case "arm":
		return []string{"%r0", "%r1", "%r2", "%r3"}
	case "ppc64", "ppc64le":
		return []string{"%gpr3", "%gpr4", "%gpr5", "%gpr6", "%gpr7", "%gpr8", "%gpr9", "%gpr10"}
	case "s390x":
		return []string{"%r2", "%r3", "%r4", "%r5", "%r6"}
	}
	return nil
}

// ArgMode says how $argN is written to the kernel.
type ArgMode struct {
	// Native: the kernel understands $argN on kprobes (4.20+, on
	// architectures with function argument access).
	Native bool
	// NativeReturn: the kernel also has $argN on return probes (6.4+).
	NativeReturn bool
	// Arch is the GOARCH whose registers replace $argN otherwise.
	Arch string
}

// DefaultEvent is the event name for a spec without one: the function
// name (do_sys_openat2, do_sys_openat2__return, readline,
// bash_0x1234), made a valid event name.
func (p *ProbeSpec) DefaultEvent() string {
	if p.Event != "" {
		return p.Event
	}
	var n string
	switch {
	case p.Type == Eprobe:
		n = p.Target.Name // the kernel's default too
	case p.Symbol != "":
		n = p.Symbol
		if i := strings.IndexByte(n, ':'); i >= 0 {
			n = n[i+1:]
		}
		n = n[strings.LastIndexByte(n, '/')+1:] // Go: example.com/pkg.Func → pkg.Func
		if p.Offset != 0 {
			n += "_" + strconv.FormatUint(p.Offset, 16)
		}
	default:
		n = path.Base(p.Path) + "_0x" + strconv.FormatUint(p.Offset, 16)
	}
	suffix := ""
	if p.Type.Return() {
		suffix = "__return"
	}
	b := []byte(n)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'p', '_'}, b...)
	}
	if max := 56 - len(suffix); len(b) > max { // room for a _N suffix within 64
		b = b[:max]
	}
	return string(b) + suffix
}

// Command renders the line for kprobe_events, uprobe_events or (eprobes)
// dynamic_events. For
// uprobes, fileOffset is where Symbol+Offset (or Offset) is in Path,
// which must be absolute. mapped reports that $argN was replaced by
// registers because the kernel cannot fetch it itself.
func (p *ProbeSpec) Command(group, event string, fileOffset uint64, mode ArgMode) (cmd string, mapped bool, err error) {
	if err := checkProbeName("group", group); err != nil {
		return "", false, err
	}
	if err := checkProbeName("event", event); err != nil {
		return "", false, err
	}
	if p.Type == Eprobe {
		cmd, err := p.eprobeCommand(group, event)
		return cmd, false, err
	}
	var b strings.Builder
	if p.Type.Return() {
		b.WriteByte('r')
		if p.MaxActive > 0 && !p.Type.User() {
			b.WriteString(strconv.Itoa(p.MaxActive))
		}
	} else {
		b.WriteByte('p')
	}
	b.WriteString(":" + group + "/" + event + " ")
	if p.Type.User() {
		if !path.IsAbs(p.Path) {
			return "", false, fmt.Errorf("%w: uprobe path %q is not absolute", ErrInvalidName, p.Path)
		}
		b.WriteString(p.Path + ":0x" + strconv.FormatUint(fileOffset, 16))
		if p.RefCtrOffset != 0 {
			b.WriteString("(0x" + strconv.FormatUint(p.RefCtrOffset, 16) + ")")
		}
	} else {
		b.WriteString(p.Symbol)
		if p.Offset != 0 {
			b.WriteString("+0x" + strconv.FormatUint(p.Offset, 16))
		}
	}
	regs := ArgRegisters(mode.Arch)
	rw := func(v string) (string, error) {
		switch {
		case v == "$retval" && !p.Type.Return():
			return "", fmt.Errorf("%w: $retval is only available in return probes (%s)", ErrInvalidName, p.Type+1)
		case strings.HasPrefix(v, "$arg"):
			n, _ := strconv.Atoi(v[4:])
			kernelNative := !p.Type.User() && (mode.Native && !p.Type.Return() || mode.NativeReturn && p.Type.Return())
			if p.Offset != 0 && (!p.Type.User() || p.Symbol != "") {
				return "", fmt.Errorf("%w: %s is only defined at function entry, not at +%#x", ErrInvalidName, v, p.Offset)
			}
			if kernelNative {
				return v, nil
			}
			if p.Type.Return() {
				return "", fmt.Errorf("%w: %s in a return probe needs Linux 6.4 or later (use a %s to fetch arguments)", ErrInvalidName, v, p.Type-1)
			}
			if len(regs) == 0 {
				return "", fmt.Errorf("%w: %s: the kernel cannot fetch arguments and tracer knows no calling convention for %s; use registers", ErrInvalidName, v, mode.Arch)
			}
			if n > len(regs) {
				return "", fmt.Errorf("%w: %s: only %d arguments are passed in registers on %s (name a stack slot with $stackN)", ErrInvalidName, v, len(regs), mode.Arch)
			}
			if !p.Type.User() {
				mapped = true
			}
			return regs[n-1], nil
		}
		return v, nil
	}
	for _, a := range p.Args {
		f, err := walkFetch(a.Fetch, 0, fetchProbe, rw)
		if err != nil {
			return "", false, fmt.Errorf("probe %s argument %s: %w", event, a.Name, err)
		}
		b.WriteString(" " + a.Name + "=" + f)
		if a.Type != "" {
			b.WriteString(":" + a.Type)
		}
	}
	return b.String(), mapped, nil
}

// eprobeCommand renders "e:GROUP/EVENT SYSTEM.EVENT ARGS [if FILTER]".
// $comm without a type is written as $comm:string: eprobes otherwise
// record the address of the comm (seen on 6.1 and 6.12), where kprobes
// and uprobes default to the string.
func (p *ProbeSpec) eprobeCommand(group, event string) (string, error) {
	if !identOK(p.Target.System) || !identOK(p.Target.Name) {
		return "", fmt.Errorf("%w: eprobe %s: no valid event to attach to (%q)", ErrInvalidName, event, p.Target.String())
	}
	var b strings.Builder
	b.WriteString("e:" + group + "/" + event + " " + p.Target.System + "." + p.Target.Name)
	for _, a := range p.Args {
		f, err := walkFetch(a.Fetch, 0, fetchEvent, nil)
		if err != nil {
			return "", fmt.Errorf("eprobe %s argument %s: %w", event, a.Name, err)
		}
		b.WriteString(" " + a.Name + "=" + f)
		switch {
		case a.Type != "":
			b.WriteString(":" + a.Type)
		case f == "$comm" || f == "$COMM":
			b.WriteString(":string")
		}
	}
	if p.Filter != "" {
		if err := checkFilter(p.Filter); err != nil {
			return "", fmt.Errorf("eprobe %s: %w", event, err)
		}
		b.WriteString(" if " + p.Filter)
	}
	return b.String(), nil
}

// eprobeFields returns the target event's fields that the fetch args
// name ($FIELD), in order, without duplicates and without $comm.
func (p *ProbeSpec) eprobeFields() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range p.Args {
		walkFetch(a.Fetch, 0, fetchEvent, func(v string) (string, error) {
			n := v[1:]
			if n != "comm" && n != "COMM" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
			return v, nil
		})
	}
	return out
}

// checkEprobeFields checks the fields an eprobe's fetch args name against
// the target event's own fields (common_* fields are not reachable: the
// kernel refuses $common_pid). have lists the target's non-common fields.
func (p *ProbeSpec) checkEprobeFields(have []string) error {
	ok := map[string]bool{}
	for _, f := range have {
		ok[f] = true
	}
	for _, n := range p.eprobeFields() {
		if ok[n] {
			continue
		}
		list := have
		more := ""
		if len(list) > 16 {
			list, more = list[:16], ", ..."
		}
		fields := strings.Join(list, ", ") + more
		if fields == "" {
			fields = "none"
		}
		why := ""
		switch {
		case strings.HasPrefix(n, "common_"):
			why = " (the common fields are not reachable from an eprobe)"
		case n == "retval" || n == "stack" || strings.HasPrefix(n, "arg") && isDigits(n[3:]) || strings.HasPrefix(n, "stack") && isDigits(n[5:]):
			why = " (eprobes have no $argN, $retval or $stack: they read the target event's fields)"
		}
		return fmt.Errorf("%w: eprobe on %s: the event has no field %q%s; its fields: %s", ErrInvalidName, p.Target, n, why, fields)
	}
	return nil
}

// String gives the spec back in the bpftrace-like spelling.
func (p *ProbeSpec) String() string {
	var b strings.Builder
	b.WriteString(p.Type.String() + ":")
	if p.Type == Eprobe {
		b.WriteString(p.Target.System + ":" + p.Target.Name)
	}
	if p.Type.User() {
		b.WriteString(p.Path + ":")
		if p.Symbol == "" {
			b.WriteString("0x" + strconv.FormatUint(p.Offset, 16))
		}
	}
	if p.Symbol != "" {
		b.WriteString(p.Symbol)
		if p.Offset != 0 {
			b.WriteString("+0x" + strconv.FormatUint(p.Offset, 16))
		}
	}
	for _, a := range p.Args {
		b.WriteString(" " + a.Name + "=" + a.Fetch)
		if a.Type != "" {
			b.WriteString(":" + a.Type)
		}
	}
	if p.Filter != "" {
		b.WriteString(" if " + p.Filter)
	}
	return b.String()
}
