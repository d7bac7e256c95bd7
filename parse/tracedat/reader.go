// Package tracedat reads and writes trace-cmd's trace.dat files, versions 6
// and 7, so that tracer recordings open in trace-cmd and KernelShark and
// their recordings open in tracer.
//
// A File holds the metadata (header_page, formats, kallsyms, printk_formats,
// saved_cmdlines, options) and, per buffer (instance), where each CPU's
// pages are. The pages themselves stay in the file and are read lazily,
// page by page, through PageStreams that feed parse's iterators, so a
// recording of any size reports in constant memory (v7 compressed data is
// decompressed one chunk at a time).
//
// Every count, offset and size read from the file is bounded by the file's
// size before it is used; damage yields a *parse.FormatError saying at
// which byte, and the pages before it still decode.
package tracedat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tracer-dev/tracer/parse"
)

// Option IDs (trace-cmd's enum tracecmd_file_options).
const (
	OptDone         = 0
	OptDate         = 1
	OptCPUStat      = 2
	OptBuffer       = 3
	OptTraceClock   = 4
	OptUname        = 5
	OptHook         = 6
	OptOffset       = 7
	OptCPUCount     = 8
	OptVersion      = 9
	OptProcMaps     = 10
	OptTraceID      = 11
	OptTimeShift    = 12
	OptGuest        = 13
	OptTSC2NSec     = 14
	OptStrings      = 15
	OptHeaderInfo   = 16
	OptFtraceEvents = 17
	OptEventFormats = 18
	OptKallsyms     = 19
	OptPrintk       = 20
	OptCmdlines     = 21
	OptBufferText   = 22
)

var magic = []byte{0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g'}

// Limits on what a file may make us allocate; real files are far below.
const (
	maxMeta    = 1 << 30 // one metadata blob (kallsyms is the largest, ~10 MB)
	maxCount   = 1 << 20 // formats, systems, options, CPUs
	maxSection = 1 << 30
)

// System is one event system and its format files.
type System struct {
	Name    string
	Formats [][]byte
}

// CPUData is where one CPU's pages are in the file.
type CPUData struct {
	CPU    int
	Offset int64 // in the file (for compressed data: of the chunk list)
	Size   int64 // bytes in the file
}

// Buffer is one instance's recording: the top buffer has Name "".
type Buffer struct {
	Name     string
	Clock    string // "" if the file does not say per buffer
	PageSize int    // sub-buffer size; 0 means the file's page size
	CPUs     []CPUData
	Latency  bool // a latency (text) buffer: no pages
	// compressed: v7 flyrecord data stored as compressed chunks.
	compressed bool
	flyOff     int64 // v7: the flyrecord section's header
}

// Option is an option as stored, for callers that want what the reader
// does not interpret.
type Option struct {
	ID   uint16
	Data []byte
}

// File is an opened trace.dat.
type File struct {
	Version     int
	BigEndian   bool
	LongSize    int // user space long size of the recording machine
	PageSize    int // page size of the recording machine (v6: the sub-buffer size)
	Compression string
	CompVersion string

	HeaderPage    []byte
	HeaderEvent   []byte
	FtraceFormats [][]byte
	Systems       []System
	Kallsyms      []byte
	Printk        []byte
	Cmdlines      []byte

	TraceClock string // the trace_clock file's content, "[local] global ..."
	Uname      string
	TCVersion  string // the recorder's version (VERSION option)
	CPUCount   int
	CPUStats   []string
	Options    []Option
	Buffers    []*Buffer
	// Notes are things a person should know: options skipped, oddities.
	Notes []string
	// Unfinished: the file is a recording that was never finished (killed,
	// disk full); its pages were found by scanning (see stream.go).
	Unfinished bool

	r           io.ReaderAt
	size        int64
	order       binary.ByteOrder
	dec         decompressor
	nextOptions int64
	lastSecEnd  int64
	sections    []sectionRef
}

// sectionRef is a v7 metadata section an option points at.
type sectionRef struct {
	id  uint16
	off int64
}

// Clock returns the trace clock in use ("local" if the file does not say).
func (f *File) Clock() string {
	if c := clockName(f.TraceClock); c != "" {
		return c
	}
	for _, b := range f.Buffers {
		if b.Clock != "" {
			return b.Clock
		}
	}
	return "local"
}

// clockName picks the selected clock out of "[local] global counter".
func clockName(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(strings.TrimRight(s, "\x00"))
}

func ferr(sentinel error, off int64, format string, args ...any) error {
	return &parse.FormatError{Where: "trace.dat", Off: int(off), Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// cursor reads numbers and blobs from a bounded region of a ReaderAt.
type cursor struct {
	r     io.ReaderAt
	off   int64
	end   int64
	base  int64 // added to offsets in errors (for decompressed sections: the section's file offset)
	order binary.ByteOrder
	what  string
	buf   [8]byte
}

func (c *cursor) errf(sentinel error, format string, args ...any) error {
	return ferr(sentinel, c.base+c.off, "%s: %s", c.what, fmt.Sprintf(format, args...))
}

func (c *cursor) read(n int) ([]byte, error) {
	if n < 0 || int64(n) > c.end-c.off {
		return nil, c.errf(parse.ErrTruncated, "need %d bytes, %d left", n, max(c.end-c.off, 0))
	}
	if n == 0 {
		return c.buf[:0], nil
	}
	var b []byte
	if n <= len(c.buf) {
		b = c.buf[:n]
	} else {
		b = make([]byte, n)
	}
	if _, err := c.r.ReadAt(b, c.off); err != nil {
		return nil, c.errf(parse.ErrTruncated, "reading %d bytes: %v", n, err)
	}
	c.off += int64(n)
	return b, nil
}

func (c *cursor) u16() (uint16, error) {
	b, err := c.read(2)
	if err != nil {
		return 0, err
	}
	return c.order.Uint16(b), nil
}

func (c *cursor) u32() (uint32, error) {
	b, err := c.read(4)
	if err != nil {
		return 0, err
	}
	return c.order.Uint32(b), nil
}

func (c *cursor) u64() (uint64, error) {
	b, err := c.read(8)
	if err != nil {
		return 0, err
	}
	return c.order.Uint64(b), nil
}

// blob reads a size of sizeLen bytes and that many bytes.
func (c *cursor) blob(sizeLen int) ([]byte, error) {
	var n uint64
	var err error
	start := c.off
	if sizeLen == 4 {
		var v uint32
		v, err = c.u32()
		n = uint64(v)
	} else {
		n, err = c.u64()
	}
	if err != nil {
		return nil, err
	}
	if n > maxMeta || int64(n) > c.end-c.off {
		c.off = start
		return nil, c.errf(parse.ErrCorrupt, "size %d exceeds the %d bytes left", n, max(c.end-c.off-int64(sizeLen), 0))
	}
	b, err := c.read(int(n))
	if err != nil {
		return nil, err
	}
	if len(b) <= len(c.buf) { // don't alias the scratch buffer
		b = append([]byte(nil), b...)
	}
	return b, nil
}

// cstring reads a NUL-terminated string of at most max bytes.
func (c *cursor) cstring(max int) (string, error) {
	var sb []byte
	var one [64]byte
	for len(sb) <= max {
		n := int64(len(one))
		if n > c.end-c.off {
			n = c.end - c.off
		}
		if n <= 0 {
			break
		}
		m, _ := c.r.ReadAt(one[:n], c.off)
		if m == 0 {
			break
		}
		if i := bytes.IndexByte(one[:m], 0); i >= 0 {
			sb = append(sb, one[:i]...)
			c.off += int64(i + 1)
			return string(sb), nil
		}
		sb = append(sb, one[:m]...)
		c.off += int64(m)
	}
	return "", c.errf(parse.ErrTruncated, "unterminated string")
}

func (c *cursor) expect(s string) error {
	b, err := c.read(len(s))
	if err != nil {
		return err
	}
	if string(b) != s {
		c.off -= int64(len(s))
		return c.errf(parse.ErrCorrupt, "found %q, want %q", b, s)
	}
	return nil
}

// Open reads the metadata of a trace.dat of the given size. The pages are
// read later, through Streams.
func Open(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size}
	c := &cursor{r: r, end: size, order: binary.LittleEndian, what: "file header"}
	b, err := c.read(len(magic))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b, magic) {
		return nil, ferr(parse.ErrCorrupt, 0, "not a trace.dat file (bad magic)")
	}
	v, err := c.cstring(16)
	if err != nil {
		return nil, err
	}
	switch v {
	case "6":
		f.Version = 6
	case "7":
		f.Version = 7
	default:
		return nil, ferr(parse.ErrCorrupt, int64(len(magic)), "trace.dat version %q not supported (6 and 7 are)", v)
	}
	hb, err := c.read(2)
	if err != nil {
		return nil, err
	}
	switch hb[0] {
	case 0:
		f.order = binary.LittleEndian
	case 1:
		f.BigEndian = true
		f.order = binary.BigEndian
	default:
		return nil, ferr(parse.ErrCorrupt, c.off-2, "bad endianness byte %d", hb[0])
	}
	f.LongSize = int(hb[1])
	if f.LongSize != 4 && f.LongSize != 8 {
		return nil, ferr(parse.ErrCorrupt, c.off-1, "bad long size %d", f.LongSize)
	}
	c.order = f.order
	ps, err := c.u32()
	if err != nil {
		return nil, err
	}
	if ps < 64 || ps > 1<<24 || ps&(ps-1) != 0 {
		return nil, ferr(parse.ErrCorrupt, c.off-4, "bad page size %d", ps)
	}
	f.PageSize = int(ps)
	if f.Version == 6 {
		err = f.readV6(c)
	} else {
		err = f.readV7(c)
	}
	if err != nil {
		return f, err
	}
	return f, nil
}

// readMetaHeaders reads "header_page\0" size data "header_event\0" size data.
func (f *File) readHeaders(c *cursor) error {
	c.what = "header_page"
	if err := c.expect("header_page\x00"); err != nil {
		return err
	}
	var err error
	if f.HeaderPage, err = c.blob(8); err != nil {
		return err
	}
	c.what = "header_event"
	if err := c.expect("header_event\x00"); err != nil {
		return err
	}
	f.HeaderEvent, err = c.blob(8)
	return err
}

func (f *File) readFtraceFormats(c *cursor) error {
	c.what = "ftrace formats"
	n, err := c.u32()
	if err != nil {
		return err
	}
	if n > maxCount {
		return c.errf(parse.ErrCorrupt, "%d formats", n)
	}
	for range n {
		b, err := c.blob(8)
		if err != nil {
			return err
		}
		f.FtraceFormats = append(f.FtraceFormats, b)
	}
	return nil
}

func (f *File) readEventFormats(c *cursor) error {
	c.what = "event formats"
	n, err := c.u32()
	if err != nil {
		return err
	}
	if n > maxCount {
		return c.errf(parse.ErrCorrupt, "%d systems", n)
	}
	for range n {
		name, err := c.cstring(256)
		if err != nil {
			return err
		}
		m, err := c.u32()
		if err != nil {
			return err
		}
		if m > maxCount {
			return c.errf(parse.ErrCorrupt, "%d formats in system %s", m, name)
		}
		s := System{Name: name}
		for range m {
			b, err := c.blob(8)
			if err != nil {
				return err
			}
			s.Formats = append(s.Formats, b)
		}
		f.Systems = append(f.Systems, s)
	}
	return nil
}

func (f *File) readKallsyms(c *cursor) (err error) {
	c.what = "kallsyms"
	f.Kallsyms, err = c.blob(4)
	return err
}

func (f *File) readPrintk(c *cursor) (err error) {
	c.what = "printk_formats"
	f.Printk, err = c.blob(4)
	return err
}

func (f *File) readCmdlines(c *cursor) (err error) {
	c.what = "saved_cmdlines"
	f.Cmdlines, err = c.blob(8)
	return err
}

func (f *File) readV6(c *cursor) error {
	steps := []func(*cursor) error{f.readHeaders, f.readFtraceFormats, f.readEventFormats, f.readKallsyms, f.readPrintk, f.readCmdlines}
	for _, s := range steps {
		if err := s(c); err != nil {
			return err
		}
	}
	c.what = "cpu count"
	n, err := c.u32()
	if err != nil {
		return err
	}
	if n > maxCount {
		return c.errf(parse.ErrCorrupt, "%d cpus", n)
	}
	f.CPUCount = int(n)
	c.what = "options"
	kind, err := c.read(10)
	if err != nil {
		return err
	}
	var extra []*Buffer
	if strings.HasPrefix(string(kind), "options") {
		if extra, err = f.readOptions(c, false); err != nil {
			return err
		}
		if kind, err = c.read(10); err != nil {
			return err
		}
	}
	top := &Buffer{}
	switch {
	case strings.HasPrefix(string(kind), "flyrecord"):
		if err := f.readFlyrecordV6(c, top); err != nil {
			return err
		}
	case strings.HasPrefix(string(kind), "latency"):
		top.Latency = true
	default:
		return ferr(parse.ErrCorrupt, c.off-10, "found %q, want flyrecord or latency", kind)
	}
	f.Buffers = append([]*Buffer{top}, extra...)
	// Instances: each BUFFER option points at a "flyrecord" block of its own.
	for _, b := range extra {
		bc := &cursor{r: f.r, off: b.CPUs[0].Offset, end: f.size, order: f.order, what: "buffer " + b.Name}
		b.CPUs = nil
		if err := bc.expect("flyrecord\x00"); err != nil {
			return err
		}
		if err := f.readFlyrecordV6(bc, b); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) readFlyrecordV6(c *cursor, b *Buffer) error {
	c.what = "flyrecord cpu offsets"
	for cpu := 0; cpu < f.CPUCount; cpu++ {
		off, err := c.u64()
		if err != nil {
			return err
		}
		size, err := c.u64()
		if err != nil {
			return err
		}
		b.CPUs = append(b.CPUs, CPUData{CPU: cpu, Offset: int64(min(off, 1<<62)), Size: int64(min(size, 1<<62))})
	}
	return nil
}

// readOptions reads options up to DONE. v6 ends at a bare 0 id; v7 has a
// DONE option carrying the next options section's offset, which it
// returns through f (as nextOptions). BUFFER options become buffers: in v6
// they come back (with the flyrecord offset in CPUs[0].Offset) for the
// caller to read; in v7 they are complete and appended to f.Buffers.
func (f *File) readOptions(c *cursor, v7 bool) ([]*Buffer, error) {
	var v6bufs []*Buffer
	for i := 0; ; i++ {
		if i > maxCount {
			return nil, c.errf(parse.ErrCorrupt, "too many options")
		}
		c.what = "options"
		at := c.off
		id, err := c.u16()
		if err != nil {
			return nil, err
		}
		if !v7 && id == OptDone {
			return v6bufs, nil
		}
		size, err := c.u32()
		if err != nil {
			return nil, err
		}
		if int64(size) > c.end-c.off {
			c.off = at
			return nil, c.errf(parse.ErrCorrupt, "option %d of %d bytes runs past the end (%d left)", id, size, c.end-c.off-6)
		}
		data := make([]byte, size)
		if _, err := c.r.ReadAt(data, c.off); err != nil {
			return nil, c.errf(parse.ErrTruncated, "option %d: %v", id, err)
		}
		c.off += int64(size)
		str := func() string { return string(bytes.TrimRight(data, "\x00")) }
		switch id {
		case OptDone:
			if len(data) >= 8 {
				f.nextOptions = int64(min(f.order.Uint64(data), 1<<62))
			}
			return nil, nil
		case OptCPUStat:
			f.CPUStats = append(f.CPUStats, str())
		case OptTraceClock:
			f.TraceClock = str()
		case OptUname:
			f.Uname = str()
		case OptVersion:
			f.TCVersion = str()
		case OptCPUCount:
			if len(data) >= 4 {
				f.CPUCount = int(min(f.order.Uint32(data), maxCount))
			}
		case OptBuffer, OptBufferText:
			b, err := f.parseBufferOption(id, data, v7)
			if err != nil {
				return nil, ferr(parse.ErrCorrupt, c.base+at, "option BUFFER: %v", err)
			}
			if v7 {
				f.Buffers = append(f.Buffers, b)
			} else {
				v6bufs = append(v6bufs, b)
			}
		case OptHeaderInfo, OptFtraceEvents, OptEventFormats, OptKallsyms, OptPrintk, OptCmdlines:
			if len(data) >= 8 {
				f.sections = append(f.sections, sectionRef{id: id, off: int64(min(f.order.Uint64(data), 1<<62))})
			}
		case OptDate, OptHook, OptProcMaps, OptTraceID, OptStrings:
			// Known, and not needed to decode.
		case OptOffset, OptTimeShift, OptGuest, OptTSC2NSec:
			f.Notes = append(f.Notes, fmt.Sprintf("option %d (timestamp adjustment) ignored: timestamps are shown raw", id))
		default:
			f.Notes = append(f.Notes, fmt.Sprintf("unknown option %d (%d bytes) at %d skipped", id, size, c.base+at))
		}
		f.Options = append(f.Options, Option{ID: id, Data: data})
	}
}

// parseBufferOption decodes a BUFFER option: v6 is offset+name; v7 adds
// clock, page size (trace-cmd 3.1+) and per-CPU (id, offset, size).
func (f *File) parseBufferOption(id uint16, d []byte, v7 bool) (*Buffer, error) {
	if len(d) < 9 {
		return nil, errors.New("too short")
	}
	off := int64(min(f.order.Uint64(d), 1<<62))
	d = d[8:]
	cstr := func() (string, bool) {
		i := bytes.IndexByte(d, 0)
		if i < 0 {
			return "", false
		}
		s := string(d[:i])
		d = d[i+1:]
		return s, true
	}
	name, ok := cstr()
	if !ok {
		return nil, errors.New("unterminated name")
	}
	b := &Buffer{Name: name}
	if !v7 {
		b.CPUs = []CPUData{{Offset: off}}
		return b, nil
	}
	if b.Clock, ok = cstr(); !ok {
		return nil, errors.New("unterminated clock")
	}
	if id == OptBufferText {
		b.Latency = true
		return b, nil
	}
	// Older writers lack the page size: tell the forms apart by length.
	if len(d) >= 4 && uint64(len(d)-4) == uint64(f.order.Uint32(d))*20 {
		b.PageSize = 0
	} else {
		if len(d) < 8 {
			return nil, errors.New("truncated page size and cpu count")
		}
		b.PageSize = int(f.order.Uint32(d))
		if b.PageSize != 0 && (b.PageSize < 64 || b.PageSize > 1<<24) {
			return nil, fmt.Errorf("bad sub-buffer size %d", b.PageSize)
		}
		d = d[4:]
	}
	n := f.order.Uint32(d)
	d = d[4:]
	if uint64(n)*20 > uint64(len(d)) {
		return nil, fmt.Errorf("%d cpus do not fit in %d bytes", n, len(d))
	}
	for i := 0; i < int(n); i++ {
		e := d[i*20:]
		b.CPUs = append(b.CPUs, CPUData{
			CPU:    int(f.order.Uint32(e)),
			Offset: int64(min(f.order.Uint64(e[4:]), 1<<62)),
			Size:   int64(min(f.order.Uint64(e[12:]), 1<<62)),
		})
	}
	b.flyOff = off
	return b, nil
}
