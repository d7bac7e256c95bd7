package tracedat

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Meta is what a trace.dat carries besides the pages.
type Meta struct {
	BigEndian     bool
	LongSize      int // user space long size (8 on 64-bit)
	PageSize      int // the sub-buffer size of the data (v6 has no other place for it)
	HeaderPage    []byte
	HeaderEvent   []byte
	FtraceFormats [][]byte
	Systems       []System
	Kallsyms      []byte
	Printk        []byte
	Cmdlines      []byte
	TraceClock    string // trace_clock file content ("[local] global ...") or a clock name
	Uname         string
	Version       string // recorder version, for the VERSION option
	CPUStats      []string
	CPUCount      int    // CPUs of the machine; data CPU ids must be below it
	BufferName    string // v7: the buffer's name ("" = top buffer)
}

// CPUInput is one CPU's pages: Size bytes read from R.
type CPUInput struct {
	CPU  int
	Size int64
	R    io.Reader
}

// WriteOptions choose the file version and (v7) compression.
type WriteOptions struct {
	Version     int    // 6 (default) or 7
	Compression string // v7: "none" (default), "zlib" or "zstd"
}

type wbuf struct {
	bytes.Buffer
	order binary.ByteOrder
}

func (w *wbuf) u16(v uint16) {
	var b [2]byte
	w.order.PutUint16(b[:], v)
	w.Write(b[:])
}

func (w *wbuf) u32(v uint32) {
	var b [4]byte
	w.order.PutUint32(b[:], v)
	w.Write(b[:])
}

func (w *wbuf) u64(v uint64) {
	var b [8]byte
	w.order.PutUint64(b[:], v)
	w.Write(b[:])
}
func (w *wbuf) cstr(s string) {
	w.WriteString(s)
	w.WriteByte(0)
}
func (w *wbuf) blob(sizeLen int, b []byte) {
	if sizeLen == 4 {
		w.u32(uint32(len(b)))
	} else {
		w.u64(uint64(len(b)))
	}
	w.Write(b)
}

func (m *Meta) order() binary.ByteOrder {
	if m.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (m *Meta) newBuf() *wbuf { return &wbuf{order: m.order()} }

func (m *Meta) headers(w *wbuf) {
	w.cstr("header_page")
	w.blob(8, m.HeaderPage)
	w.cstr("header_event")
	w.blob(8, m.HeaderEvent)
}

func (m *Meta) ftrace(w *wbuf) {
	w.u32(uint32(len(m.FtraceFormats)))
	for _, f := range m.FtraceFormats {
		w.blob(8, f)
	}
}

func (m *Meta) events(w *wbuf) {
	w.u32(uint32(len(m.Systems)))
	for _, s := range m.Systems {
		w.cstr(s.Name)
		w.u32(uint32(len(s.Formats)))
		for _, f := range s.Formats {
			w.blob(8, f)
		}
	}
}

func (m *Meta) clockOption() string {
	c := m.TraceClock
	if c == "" {
		c = "[local]"
	} else if !bytes.ContainsRune([]byte(c), '[') {
		c = "[" + c + "]"
	}
	return c
}

// commonOptions are the informational options both versions carry.
func (m *Meta) commonOptions(w *wbuf) {
	opt := func(id uint16, s string) {
		w.u16(id)
		w.u32(uint32(len(s) + 1))
		w.cstr(s)
	}
	opt(OptTraceClock, m.clockOption())
	if m.Uname != "" {
		opt(OptUname, m.Uname)
	}
	if m.Version != "" {
		opt(OptVersion, m.Version)
	}
	for _, s := range m.CPUStats {
		opt(OptCPUStat, s)
	}
}

func (m *Meta) check(cpus []CPUInput) error {
	if m.LongSize != 4 && m.LongSize != 8 {
		return fmt.Errorf("writing trace.dat: long size %d", m.LongSize)
	}
	if m.PageSize < 64 || m.PageSize&(m.PageSize-1) != 0 {
		return fmt.Errorf("writing trace.dat: page size %d", m.PageSize)
	}
	for _, c := range cpus {
		if c.CPU < 0 || c.CPU >= m.CPUCount {
			return fmt.Errorf("writing trace.dat: cpu %d outside 0..%d", c.CPU, m.CPUCount-1)
		}
		if c.Size < 0 {
			return errors.New("writing trace.dat: negative size")
		}
	}
	return nil
}

func (m *Meta) fileHeader(w *wbuf, version string) {
	w.Write(magic)
	w.cstr(version)
	if m.BigEndian {
		w.WriteByte(1)
	} else {
		w.WriteByte(0)
	}
	w.WriteByte(byte(m.LongSize))
	w.u32(uint32(m.PageSize))
}

func pad(n, align int64) int64 { return (n + align - 1) / align * align }

// Write writes a whole trace.dat: the metadata, then each CPU's pages as
// they are (a v6 file, or v7 with optional compression). A CPU's reader
// must yield exactly Size bytes. When w is an *os.File and src one too,
// the copy happens in the kernel (copy_file_range).
func Write(w io.Writer, m *Meta, cpus []CPUInput, o WriteOptions) error {
	if err := m.check(cpus); err != nil {
		return err
	}
	switch o.Version {
	case 0, 6:
		return m.writeV6(w, cpus)
	case 7:
		return m.writeV7(w, cpus, o.Compression)
	}
	return fmt.Errorf("writing trace.dat: version %d not supported", o.Version)
}

func (m *Meta) writeV6(w io.Writer, cpus []CPUInput) error {
	h := m.newBuf()
	m.fileHeader(h, "6")
	m.headers(h)
	m.ftrace(h)
	m.events(h)
	h.blob(4, m.Kallsyms)
	h.blob(4, m.Printk)
	h.blob(8, CleanCmdlines(m.Cmdlines))
	h.u32(uint32(m.CPUCount))
	h.WriteString("options  \x00")
	m.commonOptions(h)
	h.u16(OptDone)
	h.WriteString("flyrecord\x00")
	dataStart := pad(int64(h.Len())+int64(m.CPUCount)*16, int64(m.PageSize))
	byCPU := map[int]CPUInput{}
	for _, c := range cpus {
		byCPU[c.CPU] = c
	}
	off := dataStart
	for cpu := 0; cpu < m.CPUCount; cpu++ {
		c := byCPU[cpu]
		h.u64(uint64(off))
		h.u64(uint64(c.Size))
		off += pad(c.Size, int64(m.PageSize))
	}
	h.Write(make([]byte, dataStart-int64(h.Len())))
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	for cpu := 0; cpu < m.CPUCount; cpu++ {
		c, ok := byCPU[cpu]
		if !ok || c.Size == 0 {
			continue
		}
		if err := copyCPU(w, c, m.PageSize); err != nil {
			return err
		}
	}
	return nil
}

func copyCPU(w io.Writer, c CPUInput, pageSize int) error {
	n, err := io.Copy(w, io.LimitReader(c.R, c.Size))
	if err != nil {
		return fmt.Errorf("writing cpu%d data: %w", c.CPU, err)
	}
	if n != c.Size {
		return fmt.Errorf("writing cpu%d data: got %d of %d bytes", c.CPU, n, c.Size)
	}
	if p := pad(c.Size, int64(pageSize)) - c.Size; p > 0 {
		if _, err := w.Write(make([]byte, p)); err != nil {
			return err
		}
	}
	return nil
}

type compressor func([]byte) ([]byte, error)

func newCompressor(name string) (compressor, string, error) {
	switch name {
	case "", "none":
		return nil, "", nil
	case "zlib":
		return func(b []byte) ([]byte, error) {
			var out bytes.Buffer
			zw, _ := zlib.NewWriterLevel(&out, zlib.BestSpeed)
			zw.Write(b)
			if err := zw.Close(); err != nil {
				return nil, err
			}
			return out.Bytes(), nil
		}, "1.2.13", nil
	case "zstd":
		return func(b []byte) ([]byte, error) {
			e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			defer e.Close()
			return e.EncodeAll(b, nil), nil
		}, "1.5.4", nil
	}
	return nil, "", fmt.Errorf("writing trace.dat: compression %q not supported", name)
}

// section returns a v7 section: header and body, compressed if comp.
func (m *Meta) section(id uint16, body []byte, comp compressor) ([]byte, error) {
	s := m.newBuf()
	flags := uint16(0)
	if comp != nil && id != OptDone {
		z, err := comp(body)
		if err != nil {
			return nil, err
		}
		c := m.newBuf()
		c.u32(uint32(len(z)))
		c.u32(uint32(len(body)))
		c.Write(z)
		body = c.Bytes()
		flags = secCompressed
	}
	s.u16(id)
	s.u16(flags)
	s.u32(0) // no description string
	s.u64(uint64(len(body)))
	s.Write(body)
	return s.Bytes(), nil
}

const chunkPages = 10

func (m *Meta) writeV7(w io.Writer, cpus []CPUInput, compression string) error {
	comp, cver, err := newCompressor(compression)
	if err != nil {
		return err
	}
	if compression == "" {
		compression = "none"
	}
	h := m.newBuf()
	m.fileHeader(h, "7")
	h.cstr(compression)
	h.cstr(cver)
	optOffAt := h.Len()
	h.u64(0) // patched below

	type meta struct {
		id   uint16
		fill func(*wbuf)
	}
	metas := []meta{
		{OptHeaderInfo, m.headers},
		{OptFtraceEvents, m.ftrace},
		{OptEventFormats, m.events},
		{OptKallsyms, func(w *wbuf) { w.blob(4, m.Kallsyms) }},
		{OptPrintk, func(w *wbuf) { w.blob(4, m.Printk) }},
		{OptCmdlines, func(w *wbuf) { w.blob(8, CleanCmdlines(m.Cmdlines)) }},
	}
	refs := map[uint16]int64{}
	for _, mt := range metas {
		b := m.newBuf()
		mt.fill(b)
		sec, err := m.section(mt.id, b.Bytes(), comp)
		if err != nil {
			return err
		}
		refs[mt.id] = int64(h.Len())
		h.Write(sec)
	}
	// CPU data: compressed in memory (chunks of pages), or copied as is.
	type cpuOut struct {
		in   CPUInput
		data []byte // compressed form
		size int64
	}
	outs := make([]cpuOut, 0, len(cpus))
	for _, c := range cpus {
		co := cpuOut{in: c, size: c.Size}
		if comp != nil && c.Size > 0 {
			raw := make([]byte, c.Size)
			if _, err := io.ReadFull(c.R, raw); err != nil {
				return fmt.Errorf("reading cpu%d data: %w", c.CPU, err)
			}
			b := m.newBuf()
			chunk := chunkPages * m.PageSize
			n := (len(raw) + chunk - 1) / chunk
			b.u32(uint32(n))
			for i := 0; i < len(raw); i += chunk {
				part := raw[i:min(i+chunk, len(raw))]
				z, err := comp(part)
				if err != nil {
					return err
				}
				b.u32(uint32(len(z)))
				b.u32(uint32(len(part)))
				b.Write(z)
			}
			co.data = b.Bytes()
			co.size = int64(len(co.data))
		}
		outs = append(outs, co)
	}
	// Options section: its size does not depend on the offsets in it.
	ids := make([]int, len(outs))
	for i, co := range outs {
		ids[i] = co.in.CPU
	}
	optSize := func() int {
		o := m.newBuf()
		m.v7Options(o, refs, 0, ids, nil)
		return o.Len()
	}()
	optOff := int64(h.Len())
	flyOff := optOff + 16 + int64(optSize)
	dataStart := pad(flyOff+16, int64(m.PageSize))
	offs := make([]int64, len(outs))
	sizes := make([]int64, len(outs))
	off := dataStart
	for i, co := range outs {
		offs[i], sizes[i] = off, co.size
		off += pad(co.size, int64(m.PageSize))
	}
	o := m.newBuf()
	pairs := make([][2]int64, len(outs))
	for i := range outs {
		pairs[i] = [2]int64{offs[i], sizes[i]}
	}
	m.v7Options(o, refs, flyOff, ids, pairs)
	sec, _ := m.section(OptDone, o.Bytes(), nil)
	h.Write(sec)
	// Flyrecord section header, then padding to the page-aligned data.
	h.u16(OptBuffer)
	if comp != nil {
		h.u16(secCompressed)
	} else {
		h.u16(0)
	}
	h.u32(0)
	h.u64(uint64(off - (flyOff + 16)))
	h.Write(make([]byte, dataStart-int64(h.Len())))
	b := h.Bytes()
	m.order().PutUint64(b[optOffAt:], uint64(optOff))
	if _, err := w.Write(b); err != nil {
		return err
	}
	for _, co := range outs {
		if co.data != nil {
			if _, err := w.Write(co.data); err != nil {
				return err
			}
			if p := pad(co.size, int64(m.PageSize)) - co.size; p > 0 {
				w.Write(make([]byte, p))
			}
			continue
		}
		if co.size > 0 {
			if err := copyCPU(w, co.in, m.PageSize); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Meta) v7Options(o *wbuf, refs map[uint16]int64, flyOff int64, ids []int, pairs [][2]int64) {
	for _, id := range []uint16{OptHeaderInfo, OptFtraceEvents, OptEventFormats, OptKallsyms, OptPrintk, OptCmdlines} {
		o.u16(id)
		o.u32(8)
		o.u64(uint64(refs[id]))
	}
	m.commonOptions(o)
	o.u16(OptCPUCount)
	o.u32(4)
	o.u32(uint32(m.CPUCount))
	clock := clockName(m.clockOption())
	b := m.newBuf()
	b.u64(uint64(flyOff))
	b.cstr(m.BufferName)
	b.cstr(clock)
	b.u32(uint32(m.PageSize))
	b.u32(uint32(len(ids)))
	for i, id := range ids {
		b.u32(uint32(id))
		var p [2]int64
		if i < len(pairs) {
			p = pairs[i]
		}
		b.u64(uint64(p[0]))
		b.u64(uint64(p[1]))
	}
	o.u16(OptBuffer)
	o.u32(uint32(b.Len()))
	o.Write(b.Bytes())
	o.u16(OptDone)
	o.u32(8)
	o.u64(0)
}

// CleanCmdlines keeps the lines of saved_cmdlines that readers can parse:
// "PID NAME" with a decimal pid and a name. Any process may name itself
// with a newline in it (prctl), which the kernel prints as is, splitting
// its line in two; trace-cmd then stops naming every task of the file
// (<...>). The part before the newline is kept, the rest dropped.
func CleanCmdlines(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 || sp == len(line)-1 || sp > 10 {
			continue
		}
		ok := true
		for _, c := range line[:sp] {
			if c < '0' || c > '9' {
				ok = false
				break
			}
		}
		if ok {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}
