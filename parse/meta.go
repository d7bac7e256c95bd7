package parse

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Symbols maps kernel addresses to symbol names, from /proc/kallsyms or the
// kallsyms section of a trace.dat. Names live in one string so that a table
// of a hundred thousand symbols costs three allocations, not a hundred
// thousand.
type Symbols struct {
	addrs []uint64
	offs  []uint32 // start of name i in names; module after a '\x00' if any
	ends  []uint32 // end of the name proper of symbol i (its '\x00' if any)
	names string
	// hint remembers, per hash of an address, the index a recent lookup
	// found. A hint is only ever used after checking that the symbol it
	// names contains the address, so a stale or racing hint costs a
	// binary search, never a wrong answer. Atomics keep it race-free for
	// decoders shared between goroutines.
	hint [symHints]atomic.Uint32
	// raw, when set, is kallsyms not parsed yet (LazyKallsyms): parsing
	// a hundred thousand lines takes most of a start-up, and most
	// traces never print a symbol.
	raw  []byte
	once sync.Once
}

// LazyKallsyms returns the table of kallsyms b, parsed on its first use
// (safely for decoders shared between goroutines). b must not change.
func LazyKallsyms(b []byte) *Symbols { return &Symbols{raw: b} }

// load parses raw on the first call.
func (s *Symbols) load() {
	if s.raw == nil {
		return
	}
	s.once.Do(func() {
		p := ParseKallsyms(s.raw)
		s.addrs, s.offs, s.ends, s.names = p.addrs, p.offs, p.ends, p.names
	})
}

const symHints = 512

// ParseKallsyms parses "ADDR TYPE NAME [MODULE]" lines. Malformed lines are
// skipped: kallsyms is advisory and a partial table is better than none.
func ParseKallsyms(b []byte) *Symbols {
	type ent struct {
		addr uint64
		seq  int
		name string
	}
	var ents []ent
	var names bytes.Buffer
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		f := bytes.Fields(line)
		if len(f) < 3 {
			continue
		}
		addr, err := strconv.ParseUint(string(f[0]), 16, 64)
		if err != nil || addr == 0 {
			continue
		}
		name := string(f[2])
		if len(f) > 3 {
			name += "\x00" + string(bytes.Trim(f[3], "[]"))
		}
		ents = append(ents, ent{addr, len(ents), name})
	}
	// Stable by file order within an address: the kernel prints the first
	// of several aliases at one address.
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].addr < ents[j].addr })
	s := &Symbols{addrs: make([]uint64, 0, len(ents)), offs: make([]uint32, 0, len(ents)+1)}
	for i, e := range ents {
		if i > 0 && ents[i-1].addr == e.addr {
			continue
		}
		s.addrs = append(s.addrs, e.addr)
		s.offs = append(s.offs, uint32(names.Len()))
		end := len(e.name)
		if j := strings.IndexByte(e.name, 0); j >= 0 {
			end = j
		}
		s.ends = append(s.ends, uint32(names.Len()+end))
		names.WriteString(e.name)
	}
	s.offs = append(s.offs, uint32(names.Len()))
	s.names = names.String()
	return s
}

// Len returns the number of distinct symbol addresses.
func (s *Symbols) Len() int {
	if s == nil {
		return 0
	}
	s.load()
	return len(s.addrs)
}

// Lookup finds the symbol containing addr. size is the distance to the next
// symbol (0 for the last one); module is "" for the core kernel.
func (s *Symbols) Lookup(addr uint64) (name, module string, off, size uint64, ok bool) {
	if s == nil {
		return "", "", 0, 0, false
	}
	s.load()
	if len(s.addrs) == 0 || addr < s.addrs[0] {
		return "", "", 0, 0, false
	}
	// The last symbol at or below addr: addrs[0] <= addr, so i >= 0.
	a := s.addrs
	h := &s.hint[(addr^addr>>9^addr>>18)%symHints]
	i := int(h.Load())
	if i >= len(a) || a[i] > addr || i+1 < len(a) && a[i+1] <= addr {
		lo, hi := 1, len(a)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if a[m] > addr {
				hi = m
			} else {
				lo = m + 1
			}
		}
		i = lo - 1
		h.Store(uint32(i))
	}
	start, end, next := s.offs[i], s.ends[i], s.offs[i+1]
	name = s.names[start:end]
	if end < next {
		module = s.names[end+1 : next]
	}
	if i+1 < len(a) {
		size = a[i+1] - a[i]
	}
	return name, module, addr - a[i], size, true
}

// Comms maps pids to command names, from saved_cmdlines, as the kernel's
// text prefix shows them.
type Comms struct {
	// tab is an open-addressing table (linear probing, half full at
	// most) of n pids, which the text prefix looks up once per record.
	// It is the only index: a map beside it made parsing a kernel's
	// thousands of saved comms the largest part of a report's start-up.
	tab []commSlot
	n   int
	// Miss, if set, is asked about pids the table lacks. A live session
	// uses it to re-read saved_cmdlines, where the kernel records the comm
	// of a task shortly after it is first traced.
	Miss func(pid int) (string, bool)
}

// ParseSavedCmdlines parses "PID COMM" lines.
func ParseSavedCmdlines(b []byte) *Comms {
	// One string holds every name (the comms are substrings of it): a
	// kernel may save thousands of comms. The table is not sized from the
	// line count: 6.18 pads saved_cmdlines with empty lines, 25 per name.
	all := string(b)
	c := &Comms{}
	for len(all) > 0 {
		if all[0] == '\n' {
			all = all[1:] // the padding, skipped without a search
			continue
		}
		line := all
		if i := strings.IndexByte(all, '\n'); i >= 0 {
			line, all = all[:i], all[i+1:]
		} else {
			all = ""
		}
		sp := strings.IndexByte(line, ' ')
		if sp <= 0 {
			continue
		}
		pid, err := strconv.ParseInt(line[:sp], 10, 32)
		if err != nil {
			continue
		}
		c.Set(int(pid), line[sp+1:])
	}
	return c
}

type commSlot struct {
	pid  int32
	used bool
	// head is the text prefix's "%16s-%-7d" for this pid and comm, when
	// both fit those widths (hasHead).
	hasHead bool
	head    [commHeadLen]byte
	comm    string
	// jsonHead[:jsonLen] is the JSON line's `,"pid":N,"comm":"NAME","flags":"`
	// for this pid and comm, when it fits (jsonLen 0: it does not).
	jsonLen  uint8
	jsonHead [jsonHeadMax]byte
}

// jsonHeadMax holds a JSON head with a 10-digit pid and a 16-byte comm
// that needs no escaping; other comms take the slow path.
const jsonHeadMax = len(`,"pid":`) + 10 + len(`,"comm":"`) + 16 + len(`","flags":"`)

// makeJSONHead fills e's JSON head from its pid and comm if it fits.
func (e *commSlot) makeJSONHead() {
	e.jsonLen = 0
	if e.pid < 0 || len(e.comm) > 16 {
		return // JSON names no comm for a negative pid
	}
	for i := 0; i < len(e.comm); i++ {
		if !jsonPlain[e.comm[i]] {
			return // escaped: may not fit, and is rare
		}
	}
	// It fits, so the appends stay in jsonHead.
	e.jsonLen = uint8(len(appendJSONPidCommHead(e.jsonHead[:0], int(e.pid), e.comm)))
}

// appendJSONPidCommHead appends `,"pid":N,"comm":"NAME","flags":"`.
func appendJSONPidCommHead(dst []byte, pid int, comm string) []byte {
	dst = append(dst, `,"pid":`...)
	dst = appendDecInt(dst, int64(pid))
	dst = append(dst, `,"comm":`...)
	dst = appendJSONString(dst, comm)
	return append(dst, `,"flags":"`...)
}

// idleJSONHead is the JSON head of pid 0, which Lookup always names.
var idleJSONHead = appendJSONPidCommHead(nil, 0, "<idle>")

// jsonHead returns the ready-made JSON head of pid (see commSlot), or nil
// when the table has none: the caller then writes it with Lookup, which
// may also ask Miss.
func (c *Comms) jsonHead(pid int) []byte {
	if pid == 0 {
		return idleJSONHead
	}
	if c == nil || pid < 0 || pid > math.MaxInt32 {
		return nil
	}
	if e := c.slot(int32(pid)); e != nil && e.jsonLen > 0 {
		return e.jsonHead[:e.jsonLen]
	}
	return nil
}

const commHeadLen = 16 + 1 + 7

// makeCommHead formats "%16s-%-7d" into h if comm and pid fit.
func makeCommHead(h *[commHeadLen]byte, pid int, comm string) bool {
	comm = EscapeText(comm)
	if len(comm) > 16 || pid < 0 || pid >= 10000000 {
		return false
	}
	for i := range h {
		h[i] = ' '
	}
	copy(h[16-len(comm):], comm)
	h[16] = '-'
	l := decLen(uint64(pid))
	putDigits(h[17:17+l], uint64(pid))
	return true
}

// idleHead is the head of pid 0.
var idleHead = func() (h [commHeadLen]byte) {
	makeCommHead(&h, 0, "<idle>")
	return h
}()

func commHash(pid int32) uint { return uint(uint32(pid) * 0x9e3779b1) }

// grow sizes tab for n pids (at most half full) and moves the entries.
func (c *Comms) grow(n int) {
	size := 16
	for size < 2*n+2 {
		size *= 2
	}
	if size <= len(c.tab) {
		return
	}
	old := c.tab
	c.tab = make([]commSlot, size)
	mask := uint(size - 1)
	for k := range old {
		if !old[k].used {
			continue
		}
		i := commHash(old[k].pid) & mask
		for c.tab[i].used {
			i = (i + 1) & mask
		}
		c.tab[i] = old[k] // the heads depend on pid and comm only
	}
}

// put sets pid's comm and says whether pid is new.
func (c *Comms) put(pid int32, comm string) bool {
	mask := uint(len(c.tab) - 1)
	for i := commHash(pid) & mask; ; i = (i + 1) & mask {
		e := &c.tab[i]
		if !e.used || e.pid == pid {
			added := !e.used
			*e = commSlot{pid: pid, used: true, comm: comm}
			e.hasHead = makeCommHead(&e.head, int(pid), comm)
			e.makeJSONHead()
			return added
		}
	}
}

// slot returns the table entry of pid, or nil.
func (c *Comms) slot(pid int32) *commSlot {
	t := c.tab
	if len(t) == 0 {
		return nil
	}
	mask := uint(len(t) - 1)
	for i := commHash(pid) & mask; ; i = (i + 1) & mask {
		e := &t[i&mask]
		if !e.used {
			return nil
		}
		if e.pid == pid {
			return e
		}
	}
}

func (c *Comms) get(pid int32) (string, bool) {
	t := c.tab
	if len(t) == 0 {
		return "", false
	}
	mask := uint(len(t) - 1)
	for i := commHash(pid) & mask; ; i = (i + 1) & mask {
		e := &t[i&mask]
		if !e.used {
			return "", false
		}
		if e.pid == pid {
			return e.comm, true
		}
	}
}

// Set records a comm for a pid, for sources other than saved_cmdlines.
func (c *Comms) Set(pid int, comm string) {
	c.grow(c.n + 1)
	if c.put(int32(pid), comm) {
		c.n++
	}
}

// Lookup returns the comm of pid. pid 0 is always "<idle>", as the kernel
// prints it.
func (c *Comms) Lookup(pid int) (string, bool) {
	if pid == 0 {
		return "<idle>", true
	}
	if c == nil {
		return "", false
	}
	s, ok := c.get(int32(pid))
	if !ok && c.Miss != nil {
		return c.Miss(pid)
	}
	return s, ok
}

// Len returns the number of known pids.
func (c *Comms) Len() int {
	if c == nil {
		return 0
	}
	return c.n
}

// PrintkFormats maps the addresses of kernel format strings to the strings,
// from printk_formats, for bprint events and %s of constant kernel strings.
type PrintkFormats struct {
	m map[uint64]string
	// raw, when set, is printk_formats not parsed yet (LazyPrintkFormats).
	raw  []byte
	once sync.Once
}

// LazyPrintkFormats returns the table of printk_formats b, parsed on its
// first use (safely for decoders shared between goroutines): only bprint
// events and %s of kernel strings need it. b must not change.
func LazyPrintkFormats(b []byte) *PrintkFormats { return &PrintkFormats{raw: b} }

// load parses raw on the first call.
func (p *PrintkFormats) load() {
	if p.raw != nil {
		p.once.Do(func() { p.m = ParsePrintkFormats(p.raw).m })
	}
}

// ParsePrintkFormats parses `0xADDR : "string"` lines, undoing the kernel's
// escaping of \n, \t, \" and \\.
func ParsePrintkFormats(b []byte) *PrintkFormats {
	p := &PrintkFormats{m: map[uint64]string{}}
	for _, line := range bytes.Split(b, []byte("\n")) {
		a, rest, ok := bytes.Cut(line, []byte(" : "))
		if !ok {
			continue
		}
		addr, err := strconv.ParseUint(string(bytes.TrimPrefix(bytes.TrimSpace(a), []byte("0x"))), 16, 64)
		if err != nil {
			continue
		}
		rest = bytes.TrimSpace(rest)
		if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
			rest = rest[1 : len(rest)-1]
		}
		p.m[addr] = unescapeC(rest)
	}
	return p
}

// Lookup returns the format string at addr.
func (p *PrintkFormats) Lookup(addr uint64) (string, bool) {
	if p == nil {
		return "", false
	}
	p.load()
	s, ok := p.m[addr]
	return s, ok
}

// Len returns the number of formats.
func (p *PrintkFormats) Len() int {
	if p == nil {
		return 0
	}
	p.load()
	return len(p.m)
}

func unescapeC(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		if e, ok := simpleEscape(b[i]); ok {
			out = append(out, e)
		} else {
			out = append(out, b[i])
		}
	}
	return string(out)
}

// simpleEscape maps the letter of a one-letter C escape (\n, \t, ...) to
// its byte; printk_formats and print fmt literals share these.
func simpleEscape(c byte) (byte, bool) {
	switch c {
	case 'n':
		return '\n', true
	case 't':
		return '\t', true
	case 'r':
		return '\r', true
	case 'a':
		return 7, true
	case 'b':
		return 8, true
	case 'f':
		return 12, true
	case 'v':
		return 11, true
	case 'e':
		return 27, true
	}
	return 0, false
}
