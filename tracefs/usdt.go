package tracefs

import (
	"debug/elf"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// USDTSpec is a parsed usdt:BINARY:[PROVIDER:]NAME probe spec. PROVIDER
// and NAME are globs; Provider "" (the two-part form) matches any
// provider, but a NAME without glob characters must then name probes of
// one provider only.
type USDTSpec struct {
	Path     string
	Provider string
	Name     string
	// Extra are fetch args written after the spec, added to each probe
	// after the note's arg0..argN.
	Extra []ProbeArg
}

// IsUSDTSpec reports whether s is a usdt: probe spec.
func IsUSDTSpec(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), "usdt:")
}

// ParseUSDTSpec parses
//
//	usdt:/usr/bin/python3.11:python:gc__start
//	usdt:/usr/bin/python3.11:gc__*
//	usdt:/usr/lib/x86_64-linux-gnu/libstdc++.so.6:libstdcxx:throw
//	usdt:./prog:myprov:* extra=+0(%di):ustring
//
// The note's arguments become arg0..argN; fetch args after the spec are
// added to them.
func ParseUSDTSpec(s string) (*USDTSpec, error) {
	if len(s) > maxProbeSpecLen {
		return nil, fmt.Errorf("%w: usdt probe spec is %d bytes long (max %d)", ErrInvalidName, len(s), maxProbeSpecLen)
	}
	if i := strings.IndexAny(s, "\n\r\x00"); i >= 0 {
		return nil, fmt.Errorf("%w: usdt probe spec contains a newline or NUL at byte %d", ErrInvalidName, i)
	}
	f := strings.Fields(s)
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "usdt:")
	if !ok || len(f) == 0 {
		return nil, fmt.Errorf("%w: %q is not a usdt probe (want usdt:BINARY:PROVIDER:NAME or usdt:BINARY:NAME)", ErrInvalidName, short100(s))
	}
	if w := strings.Fields(rest); len(w) > 0 {
		rest = w[0]
	} else {
		rest = ""
	}
	parts := strings.Split(rest, ":")
	u := &USDTSpec{}
	switch len(parts) {
	case 2:
		u.Path, u.Name = parts[0], parts[1]
	case 3:
		u.Path, u.Provider, u.Name = parts[0], parts[1], parts[2]
	default:
		return nil, fmt.Errorf("%w: usdt probe %q: want usdt:BINARY:PROVIDER:NAME or usdt:BINARY:NAME", ErrInvalidName, short100(f[0]))
	}
	if u.Path == "" || u.Name == "" || len(parts) == 3 && u.Provider == "" {
		return nil, fmt.Errorf("%w: usdt probe %q: empty binary, provider or name", ErrInvalidName, short100(f[0]))
	}
	for _, g := range []string{u.Provider, u.Name} {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("%w: usdt probe %q: bad glob %q", ErrInvalidName, short100(f[0]), g)
		}
	}
	names := map[string]bool{}
	for i, a := range f[1:] {
		arg, err := parseProbeArg(a, i+1, fetchProbe)
		if err != nil {
			return nil, fmt.Errorf("usdt probe %s: %w", short100(f[0]), err)
		}
		if names[arg.Name] || usdtArgName(arg.Name) {
			return nil, fmt.Errorf("%w: usdt probe %s: argument name %q is taken (arg0..argN are the note's)", ErrInvalidName, short100(f[0]), arg.Name)
		}
		names[arg.Name] = true
		u.Extra = append(u.Extra, arg)
	}
	return u, nil
}

// usdtArgName reports whether n is argN, a name the note's arguments use.
func usdtArgName(n string) bool {
	return strings.HasPrefix(n, "arg") && isDigits(n[3:])
}

func (u *USDTSpec) String() string {
	if u.Provider == "" {
		return "usdt:" + u.Path + ":" + u.Name
	}
	return "usdt:" + u.Path + ":" + u.Provider + ":" + u.Name
}

// hasGlob reports whether s has glob characters.
func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// match returns the probe sites u names, in the order of the notes.
// "Not found" and "ambiguous" errors list what the binary has.
func (u *USDTSpec) match(probes []USDTProbe) ([]USDTProbe, error) {
	var out []USDTProbe
	providers := map[string]bool{}
	for _, p := range probes {
		if u.Provider != "" && !glob(u.Provider, p.Provider) || !glob(u.Name, p.Name) {
			continue
		}
		out = append(out, p)
		providers[p.Provider] = true
	}
	if len(out) == 0 {
		if len(probes) == 0 {
			return nil, fmt.Errorf("%s: %w: %s has no usdt probes (no .note.stapsdt section)", u, ErrNoEvent, u.Path)
		}
		return nil, fmt.Errorf("%s: %w: no usdt probe matches; %s has %s", u, ErrNoEvent, u.Path, usdtNames(probes, 12))
	}
	if u.Provider == "" && !hasGlob(u.Name) && len(providers) > 1 {
		var ps []string
		for p := range providers {
			ps = append(ps, p+":"+u.Name)
		}
		sort.Strings(ps)
		return nil, fmt.Errorf("%w: %s is ambiguous: %s; name the provider (usdt:%s:PROVIDER:%s)", ErrInvalidName, u, strings.Join(ps, ", "), u.Path, u.Name)
	}
	return out, nil
}

// usdtNames lists up to n distinct PROVIDER:NAME of probes.
func usdtNames(probes []USDTProbe, n int) string {
	seen := map[string]bool{}
	var names []string
	for _, p := range probes {
		if !seen[p.FullName()] {
			seen[p.FullName()] = true
			names = append(names, p.FullName())
		}
	}
	sort.Strings(names)
	more := ""
	if len(names) > n {
		more = fmt.Sprintf(" and %d more", len(names)-n)
		names = names[:n]
	}
	return strings.Join(names, ", ") + more
}

// usdtEvent names a probe's event: PROVIDER_NAME, made a valid event name.
func usdtEvent(p USDTProbe) string {
	return (&ProbeSpec{Type: Uprobe, Symbol: p.Provider + "_" + p.Name}).DefaultEvent()
}

// usdtProbeSpecs makes one uprobe spec per probe site: at the site's file
// offset, the semaphore (if any) as ref_ctr_offset, arg0..argN fetched as
// the note says, typed by their size and sign, then u's extra args. A
// site whose operands fetch args cannot express fails the whole spec,
// naming the probe and the operand. syms resolves symbols of rip-relative
// operands to link-time addresses (nil: none resolve). refCtr says whether
// the kernel takes ref_ctr_offset.
func usdtProbeSpecs(u *USDTSpec, file string, m elf.Machine, probes []USDTProbe, syms func(string) (uint64, bool), refCtr bool, notice func(string)) ([]*ProbeSpec, error) {
	sites, err := u.match(probes)
	if err != nil {
		return nil, err
	}
	var out []*ProbeSpec
	var bad []error
	for _, p := range sites {
		spec, err := usdtSite(u, file, m, p, syms, refCtr)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, spec)
	}
	// A glob asks for several probes: one that cannot be expressed is
	// skipped with a notice, as long as some can. A probe named exactly
	// must be there as asked.
	if len(bad) > 0 && (len(out) == 0 || !hasGlob(u.Provider) && !hasGlob(u.Name)) {
		return nil, errors.Join(bad...)
	}
	for _, err := range bad {
		if notice != nil {
			notice("skipping " + err.Error())
		}
	}
	return out, nil
}

// usdtSite makes the uprobe spec of one probe site.
func usdtSite(u *USDTSpec, file string, m elf.Machine, p USDTProbe, syms func(string) (uint64, bool), refCtr bool) (*ProbeSpec, error) {
	if p.Semaphore != 0 && !refCtr {
		return nil, fmt.Errorf("usdt probe %s in %s: %w: it has a semaphore, which the program tests before it fires the probe, and this kernel cannot set it (uprobe ref_ctr_offset needs Linux 4.20+)", p.FullName(), file, ErrNotSupported)
	}
	args, err := ParseUSDTArgs(p.Args)
	if err != nil {
		return nil, fmt.Errorf("usdt probe %s in %s: %w", p.FullName(), file, err)
	}
	spec := &ProbeSpec{Type: Uprobe, Path: file, Offset: p.Offset, Event: usdtEvent(p)}
	if p.Semaphore != 0 {
		spec.RefCtrOffset = p.SemaphoreOffset
	}
	// A fixed address is given to the kernel as @+OFFSET, which it turns
	// into an address as it does the probe's own offset
	// (translate_user_vaddr: probe address - probe offset + OFFSET). So
	// OFFSET is the symbol's distance from the probe plus the probe's
	// offset: right even where the data segment's address-to-offset delta
	// differs from the text's, and for .bss, which is not in the file.
	addr := func(sym string, off int64) (string, error) {
		v, ok := uint64(0), false
		if syms != nil {
			v, ok = syms(sym)
		}
		if !ok {
			return "", fmt.Errorf("symbol %s is not in the binary's symbol tables (stripped?)", sym)
		}
		a := v + uint64(off) - p.PC + p.Offset
		return "@+0x" + strconv.FormatUint(a, 16), nil
	}
	for i, a := range args {
		f, err := USDTFetch(m, a, addr)
		if err != nil {
			return nil, fmt.Errorf("usdt probe %s in %s, argument arg%d (%s): %w", p.FullName(), file, i, a, err)
		}
		spec.Args = append(spec.Args, ProbeArg{Name: "arg" + strconv.Itoa(i), Fetch: f, Type: a.Type()})
	}
	spec.Args = append(spec.Args, u.Extra...)
	if len(spec.Args) > 128 { // MAX_TRACE_ARGS
		return nil, fmt.Errorf("usdt probe %s in %s: %d fetch args (the kernel allows 128)", p.FullName(), file, len(spec.Args))
	}
	return spec, nil
}

// hasRefCtr reports whether the kernel takes uprobes with a
// ref_ctr_offset (4.20+): its README shows the place as
// <path>:<offset>[%return][(ref_ctr_offset)]; without a README, by version.
func (fs *FS) hasRefCtr() bool {
	if b, err := fs.readFile("README"); err == nil {
		return strings.Contains(string(b), "ref_ctr_offset")
	}
	maj, min := kernelVersion()
	return maj > 4 || maj == 4 && min >= 20
}

// USDTProbeSpecs resolves a usdt spec (ParseUSDTSpec's syntax) against its
// binary and this kernel into uprobe specs, one per probe site: a bare
// binary name is looked up in $PATH, the path made absolute, and each
// spec carries its file offset, semaphore and arg0..argN.
func (fs *FS) USDTProbeSpecs(text string) ([]*ProbeSpec, error) {
	u, err := ParseUSDTSpec(text)
	if err != nil {
		return nil, err
	}
	if err := fs.checkProbeSupport(Uprobe); err != nil {
		return nil, fmt.Errorf("usdt: %w", err)
	}
	bin := &ProbeSpec{Type: Uprobe, Path: u.Path}
	if _, err := resolveProbe(bin); err != nil {
		return nil, fmt.Errorf("usdt: %w", err)
	}
	u.Path = bin.Path
	f, err := elf.Open(u.Path)
	if err != nil {
		return nil, fmt.Errorf("usdt probe on %s: %w", u.Path, err)
	}
	defer f.Close()
	probes, err := readUSDT(f, u.Path)
	if err != nil {
		return nil, err
	}
	var table map[string]uint64
	syms := func(name string) (uint64, bool) {
		if table == nil {
			table = elfAddrs(f)
		}
		v, ok := table[name]
		return v, ok
	}
	return usdtProbeSpecs(u, u.Path, f.Machine, probes, syms, fs.hasRefCtr(), fs.notice)
}

// elfAddrs maps the defined symbols of f (functions and data, .symtab
// then .dynsym) to their link-time addresses.
func elfAddrs(f *elf.File) map[string]uint64 {
	m := map[string]uint64{}
	for _, get := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, err := get()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			continue
		}
		for _, s := range syms {
			if s.Section == elf.SHN_UNDEF || s.Name == "" {
				continue
			}
			if _, dup := m[s.Name]; !dup {
				m[s.Name] = s.Value
			}
		}
	}
	return m
}

// addUSDT is AddTracepoint for a usdt spec: each probe site becomes a
// pending uprobe of the session (events PROVIDER_NAME, PROVIDER_NAME_2...
// for further sites), checked now so that mistakes show before anything
// is created.
func (s *Session) addUSDT(text, filter string) error {
	if filter != "" {
		if err := checkFilter(filter); err != nil {
			return err
		}
	}
	specs, err := s.fs.USDTProbeSpecs(text)
	if err != nil {
		return err
	}
	for _, spec := range specs {
		if _, _, err := spec.Command("tracer_check", spec.DefaultEvent(), spec.Offset, s.fs.ArgMode()); err != nil {
			return err
		}
	}
	for _, spec := range specs {
		s.probes.pending = append(s.probes.pending, pendingProbe{spec: spec, filter: filter})
	}
	return nil
}
