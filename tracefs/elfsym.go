package tracefs

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// ELFSymbol is a function symbol of a binary, with where it lies in the file.
type ELFSymbol struct {
	Name  string
	Value uint64 // virtual address as linked (relative to load base for PIE)
	Size  uint64
	// Offset is the file offset of Value: what uprobe_events wants.
	Offset uint64
	// Dynamic is true if the symbol came from .dynsym.
	Dynamic bool
}

// ELFSymbols returns the function symbols of the ELF file at path, from
// .symtab and then .dynsym (a stripped binary keeps only the latter),
// each with its file offset. Symbols outside any PT_LOAD segment, and
// undefined ones (imports), are left out.
func ELFSymbols(file string) ([]ELFSymbol, error) {
	f, err := openELF(file)
	if err != nil {
		return nil, fmt.Errorf("reading symbols of %s: %w", file, err)
	}
	defer f.Close()
	return elfSymbols(f, file)
}

func elfSymbols(f *elf.File, file string) ([]ELFSymbol, error) {
	var out []ELFSymbol
	seen := map[string]bool{}
	add := func(syms []elf.Symbol, dyn bool) {
		for _, s := range syms {
			t := elf.ST_TYPE(s.Info)
			if t != elf.STT_FUNC && t != elf.STT_GNU_IFUNC {
				continue
			}
			if s.Section == elf.SHN_UNDEF || s.Value == 0 || s.Name == "" || seen[s.Name] {
				continue
			}
			off, ok := fileOffset(f, s.Value)
			if !ok {
				continue
			}
			seen[s.Name] = true
			out = append(out, ELFSymbol{Name: s.Name, Value: s.Value, Size: s.Size, Offset: off, Dynamic: dyn})
		}
	}
	var errs []error
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		errs = append(errs, err)
	}
	add(syms, false)
	dsyms, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		errs = append(errs, err)
	}
	add(dsyms, true)
	if len(out) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("reading symbols of %s: %w", file, errors.Join(errs...))
	}
	return out, nil
}

// fileOffset maps a virtual address to a file offset through the PT_LOAD
// segment that contains it. This is right for PIE and non-PIE binaries
// alike, and for text that is not in the first segment.
func fileOffset(f *elf.File, addr uint64) (uint64, bool) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if addr >= p.Vaddr && addr-p.Vaddr < p.Filesz {
			return addr - p.Vaddr + p.Off, true
		}
	}
	return 0, false
}

// ResolveUprobe returns the file offset of sym+off in the ELF file, or,
// when sym is "", off itself (already a file offset). A missing symbol
// gives an error naming the closest symbols of the file.
func ResolveUprobe(file, sym string, off uint64) (uint64, error) {
	f, err := openELF(file)
	if err != nil {
		return 0, fmt.Errorf("uprobe on %s: %w", file, err)
	}
	defer f.Close()
	if sym == "" {
		// The kernel takes any offset and fails only at enable, with
		// EINVAL: check it is in the file.
		if st, err := os.Stat(file); err == nil && off >= uint64(st.Size()) {
			return 0, fmt.Errorf("uprobe %s:%#x: offset past the end of the file (%d bytes)", file, off, st.Size())
		}
		return off, nil
	}
	syms, err := elfSymbols(f, file)
	if err != nil {
		return 0, err
	}
	for _, s := range syms {
		if s.Name == sym {
			if off != 0 && s.Size != 0 && off >= s.Size {
				return 0, fmt.Errorf("uprobe %s:%s+%#x: offset past the end of %s (%d bytes)", file, sym, off, sym, s.Size)
			}
			return s.Offset + off, nil
		}
	}
	if len(syms) == 0 {
		return 0, fmt.Errorf("uprobe on %s: %w: no function symbols (stripped?); probe a file offset instead, e.g. uprobe:%s:0x1234", file, ErrNoEvent, file)
	}
	names := make([]string, len(syms))
	for i, s := range syms {
		names[i] = s.Name
	}
	if c := closeNames(names, sym, 5); len(c) > 0 {
		return 0, fmt.Errorf("uprobe on %s: no function %q (%w); did you mean %s?", file, sym, ErrNoEvent, strings.Join(c, ", "))
	}
	return 0, fmt.Errorf("uprobe on %s: no function %q (%w); see tracer list -u %s", file, sym, ErrNoEvent, file)
}

// ErrNotELF is the error for a file that is not an ELF object.
var ErrNotELF = errors.New("not an ELF file")

// openELF opens an ELF file, saying "not an ELF file" for anything else
// (debug/elf says EOF or "bad magic number '[35 33 47 98]'").
func openELF(file string) (*elf.File, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	n, _ := io.ReadFull(fh, magic[:])
	fh.Close()
	if n < 4 || string(magic[:]) != elf.ELFMAG {
		return nil, fmt.Errorf("%w (it starts with %q)", ErrNotELF, magic[:n])
	}
	f, err := elf.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotELF, err)
	}
	return f, nil
}

// MatchSymbols returns the function symbols of file whose names match the
// glob pattern ("" matches all), sorted by name.
func MatchSymbols(file, pattern string) ([]ELFSymbol, error) {
	syms, err := ELFSymbols(file)
	if err != nil {
		return nil, err
	}
	var out []ELFSymbol
	for _, s := range syms {
		if pattern == "" || glob(pattern, s.Name) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// closeNames returns up to n names closest to want: names containing it
// first (shortest first), then by edit distance within a bound.
func closeNames(names []string, want string, n int) []string {
	type cand struct {
		s string
		d int
	}
	var cs []cand
	limit := len(want)/3 + 1
	lw := strings.ToLower(want)
	for _, s := range names {
		ls := strings.ToLower(s)
		switch {
		case strings.Contains(ls, lw):
			cs = append(cs, cand{s, len(s) - len(want)})
		case len(s) < 2*len(want)+8:
			if d := levenshtein(lw, ls); d <= limit {
				cs = append(cs, cand{s, d})
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	var out []string
	for i := 0; i < len(cs) && len(out) < n; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

// MatchKernelFunctions returns the traceable kernel functions (from
// available_filter_functions, read only when asked) matching a glob.
// Module functions are listed as "func [module]" by the kernel; the
// module is kept after a space.
func (fs *FS) MatchKernelFunctions(pattern string) ([]string, error) {
	rel := "available_filter_functions"
	if !fs.exists(rel) {
		return nil, fmt.Errorf("listing kernel functions: %w", &UnsupportedFeatureError{Name: "the list of traceable kernel functions", MinimumVersion: "2.6.28", Config: "CONFIG_FUNCTION_TRACER and CONFIG_DYNAMIC_FTRACE",
			Detail: "no " + fs.path(rel) + "; /proc/kallsyms lists symbols but not which can be probed"})
	}
	b, err := fs.readFile(rel)
	if err != nil && isPermission(err) && os.Geteuid() == 0 {
		// Some kernels refuse it even to root (function tracing locked
		// down); kallsyms still names the text symbols.
		kb, kerr := readAbs(path.Join(fs.procRoot, "kallsyms"))
		if kerr != nil {
			return nil, err
		}
		b = kallsymsText(kb)
	} else if err != nil {
		return nil, err
	}
	if pattern != "" {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("%w: pattern %q: %v", ErrInvalidName, pattern, err)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name := fields[0]
		if pattern != "" && !glob(pattern, name) {
			continue
		}
		if len(fields) > 1 {
			name += " " + fields[1]
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// kallsymsText turns /proc/kallsyms lines "ADDR t name [mod]" into
// available_filter_functions lines "name [mod]" for text symbols.
func kallsymsText(b []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 3 || (f[1][0] != 't' && f[1][0] != 'T') {
			continue
		}
		out.Write(f[2])
		if len(f) > 3 {
			out.WriteByte(' ')
			out.Write(f[3])
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// isGoBinary reports whether file was built by the Go toolchain.
func isGoBinary(file string) bool {
	f, err := elf.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Section(".go.buildinfo") != nil
}
