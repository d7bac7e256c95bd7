package tracedat

// Streamed files: a trace.dat written as the recording goes.
//
// tracer record -o writes its file with a StreamWriter so that a recording
// cut short (kill -9, a full disk, a crash) still leaves a file whose
// complete pages report. The file is an ordinary uncompressed v7 trace.dat
// laid out in this order:
//
//	file header, compression "none"
//	sections: header_page/header_event, ftrace formats, event formats,
//	          kallsyms, printk_formats, saved_cmdlines (this one with room
//	          to spare: it is rewritten in place at the end, padded with '\n')
//	options section 1: the section offsets, TRACECLOCK, UNAME, VERSION,
//	          CPUCOUNT; its DONE option points at options section 2, 0 until
//	          the recording is finished
//	flyrecord section header (id 3, size 0 until finished), padded to a page
//	chunks, each page-aligned:  [chunk header page][N pages of one CPU]
//	options section 2 (written at the end): CPUSTATs and the BUFFER option
//	          that lists every chunk's used pages as one (cpu, offset, size)
//	          entry, in file order
//
// A chunk header page starts with the 16 bytes ChunkMagic, then (in the
// file's byte order) u32 cpu, u32 N (data pages in the chunk), u32 page
// size; the rest of the page is zero. Each CPU's recorder reserves a whole
// chunk before it writes into it (chunks of a CPU grow from 16 to 255
// pages), writes the header page first, then its pages in order, so a CPU's
// chunks, in file order, hold its pages in time order. A finished file is
// read by trace-cmd (which only sees the BUFFER option's entries, several
// per CPU) and by tracer (which joins a CPU's entries into one stream).
//
// Recovery rule (File.recover): a v7 file whose options name no BUFFER but
// are followed by a flyrecord section header is an unfinished recording.
// From the first page boundary after that header, chunks are walked: a
// chunk header page gives the CPU and N; its data pages that lie wholly
// inside the file are that CPU's pages (pages never written read as zeros,
// commit 0, and hold no events). The walk stops at the end of the file or
// at a page that is not a chunk header where one should be. The report
// says the file was not finished.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// ChunkMagic opens every chunk header page of a streamed file.
var ChunkMagic = []byte("tracer-chunk\x00\x00\x00\x00")

// Chunk sizes in data pages: a CPU's chunks double from the first size up
// to the largest (+ the header page: 1 MiB chunks of 4 KiB pages).
var (
	firstChunkPages = 16
	maxChunkPages   = 255
)

// StreamWriter writes a streamed trace.dat (see above) into a file.
type StreamWriter struct {
	w        io.WriterAt
	m        *Meta
	ps       int64
	prealloc func(off, n int64) error

	mu       sync.Mutex
	end      int64 // end of the last chunk reserved
	dataOff  int64
	flyOff   int64
	doneAt   int64 // where options section 1's DONE value is
	cmdOff   int64 // where the cmdlines bytes are
	cmdRoom  int
	cpus     map[int]*streamCPU
	chunks   []*streamChunk
	stats    []string
	err      error
	finished bool
}

type streamCPU struct {
	cur   *streamChunk
	pages int // size of the next chunk
}

type streamChunk struct {
	cpu  int
	off  int64 // first data page
	cap  int64 // bytes
	used int64
}

// NewStreamWriter writes the metadata of m (everything before the pages)
// at the start of w. prealloc, if not nil, is asked to allocate each chunk
// before it is used (fallocate), so that a full disk shows when a chunk is
// reserved rather than in the middle of a page.
func NewStreamWriter(w io.WriterAt, m *Meta, prealloc func(off, n int64) error) (*StreamWriter, error) {
	if err := m.check(nil); err != nil {
		return nil, err
	}
	s := &StreamWriter{w: w, m: m, ps: int64(m.PageSize), prealloc: prealloc, cpus: map[int]*streamCPU{}}
	h := m.newBuf()
	m.fileHeader(h, "7")
	h.cstr("none")
	h.cstr("")
	optOffAt := h.Len()
	h.u64(0)
	clean := CleanCmdlines(m.Cmdlines)
	s.cmdRoom = len(clean)*2 + 64<<10
	cmd := append(clean, bytes.Repeat([]byte{'\n'}, s.cmdRoom-len(clean))...)
	metas := []struct {
		id   uint16
		fill func(*wbuf)
	}{
		{OptHeaderInfo, m.headers},
		{OptFtraceEvents, m.ftrace},
		{OptEventFormats, m.events},
		{OptKallsyms, func(w *wbuf) { w.blob(4, m.Kallsyms) }},
		{OptPrintk, func(w *wbuf) { w.blob(4, m.Printk) }},
		{OptCmdlines, func(w *wbuf) { w.blob(8, cmd) }},
	}
	refs := map[uint16]int64{}
	for _, mt := range metas {
		b := m.newBuf()
		mt.fill(b)
		sec, _ := m.section(mt.id, b.Bytes(), nil)
		refs[mt.id] = int64(h.Len())
		if mt.id == OptCmdlines {
			s.cmdOff = int64(h.Len()) + 16 + 8
		}
		h.Write(sec)
	}
	optOff := int64(h.Len())
	m.order().PutUint64(h.Bytes()[optOffAt:], uint64(optOff))
	o := m.newBuf()
	for _, id := range []uint16{OptHeaderInfo, OptFtraceEvents, OptEventFormats, OptKallsyms, OptPrintk, OptCmdlines} {
		o.u16(id)
		o.u32(8)
		o.u64(uint64(refs[id]))
	}
	sm := *m
	sm.CPUStats = nil
	sm.commonOptions(o)
	o.u16(OptCPUCount)
	o.u32(4)
	o.u32(uint32(m.CPUCount))
	o.u16(OptDone)
	o.u32(8)
	s.doneAt = optOff + 16 + int64(o.Len())
	o.u64(0)
	sec, _ := m.section(OptDone, o.Bytes(), nil)
	h.Write(sec)
	s.flyOff = int64(h.Len())
	h.u16(OptBuffer)
	h.u16(0)
	h.u32(0)
	h.u64(0) // size: patched by Finish
	s.dataOff = pad(int64(h.Len()), s.ps)
	h.Write(make([]byte, s.dataOff-int64(h.Len())))
	if _, err := w.WriteAt(h.Bytes(), 0); err != nil {
		return nil, fmt.Errorf("writing trace.dat header: %w", err)
	}
	s.end = s.dataOff
	return s, nil
}

// Space returns where cpu's next page goes and how many bytes fit there,
// reserving a new chunk when the current one is full.
func (s *StreamWriter) Space(cpu int) (int64, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, 0, s.err
	}
	if s.finished {
		return 0, 0, errors.New("trace.dat already finished")
	}
	c := s.cpus[cpu]
	if c == nil {
		c = &streamCPU{pages: firstChunkPages}
		s.cpus[cpu] = c
	}
	if c.cur != nil && c.cur.used < c.cur.cap {
		return c.cur.off + c.cur.used, c.cur.cap - c.cur.used, nil
	}
	n := int64(c.pages)
	at := s.end
	size := (n + 1) * s.ps
	if s.prealloc != nil {
		if err := s.prealloc(at, size); err != nil {
			return 0, 0, fmt.Errorf("reserving %d KB in the file for cpu%d: %w", size>>10, cpu, err)
		}
	}
	hdr := make([]byte, s.ps)
	copy(hdr, ChunkMagic)
	o := s.m.order()
	o.PutUint32(hdr[16:], uint32(cpu))
	o.PutUint32(hdr[20:], uint32(n))
	o.PutUint32(hdr[24:], uint32(s.ps))
	if _, err := s.w.WriteAt(hdr, at); err != nil {
		return 0, 0, fmt.Errorf("writing chunk header for cpu%d: %w", cpu, err)
	}
	s.end = at + size
	c.cur = &streamChunk{cpu: cpu, off: at + s.ps, cap: n * s.ps}
	s.chunks = append(s.chunks, c.cur)
	c.pages = min(c.pages*2, maxChunkPages)
	return c.cur.off, c.cur.cap, nil
}

// Advance records that n more bytes of cpu were written at
// the offset Space returned.
func (s *StreamWriter) Advance(cpu int, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cpus[cpu]; c != nil && c.cur != nil {
		c.cur.used = min(c.cur.used+n, c.cur.cap)
	}
}

// Bytes is the size of the page data written so far.
func (s *StreamWriter) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, c := range s.chunks {
		n += c.used / s.ps * s.ps
	}
	return n
}

// Holes returns the unused tails of chunks (offset, length), page-aligned,
// which a caller may give back to the file system (punch holes).
func (s *StreamWriter) Holes() [][2]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][2]int64
	for _, c := range s.chunks {
		if u := pad(c.used, s.ps); u < c.cap {
			out = append(out, [2]int64{c.off + u, c.cap - u})
		}
	}
	return out
}

// Finish rewrites saved_cmdlines (cut at a line if it outgrew its room),
// appends the final options (cpuStats and the chunk list) and links them
// in, which makes the file a finished trace.dat. If it fails, the file is
// still an unfinished recording that tracer report recovers.
func (s *StreamWriter) Finish(cmdlines []byte, cpuStats []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = true
	m := s.m
	if cmdlines != nil {
		cmdlines = CleanCmdlines(cmdlines)
		if len(cmdlines) > s.cmdRoom {
			cmdlines = cmdlines[:s.cmdRoom]
			if i := bytes.LastIndexByte(cmdlines, '\n'); i >= 0 {
				cmdlines = cmdlines[:i+1]
			}
		}
		b := append(append([]byte(nil), cmdlines...), bytes.Repeat([]byte{'\n'}, s.cmdRoom-len(cmdlines))...)
		if _, err := s.w.WriteAt(b, s.cmdOff); err != nil {
			return fmt.Errorf("rewriting saved_cmdlines: %w", err)
		}
	}
	s.stats = cpuStats
	var used []CPUData
	for _, c := range s.chunks {
		if c.used >= s.ps {
			used = append(used, CPUData{CPU: c.cpu, Offset: c.off, Size: c.used / s.ps * s.ps})
		}
	}
	sec := s.finalOptions(used)
	opt2 := s.end
	if _, err := s.w.WriteAt(sec, opt2); err != nil {
		return fmt.Errorf("writing the final options: %w", err)
	}
	var n [8]byte
	m.order().PutUint64(n[:], uint64(s.end-(s.flyOff+16)))
	if _, err := s.w.WriteAt(n[:], s.flyOff+8); err != nil {
		return err
	}
	// Last: link the final options in. Until this write lands the file is
	// an unfinished recording, which is still readable.
	m.order().PutUint64(n[:], uint64(opt2))
	if _, err := s.w.WriteAt(n[:], s.doneAt); err != nil {
		return fmt.Errorf("linking the final options: %w", err)
	}
	return nil
}

// finalOptions is options section 2: the CPU stats and the BUFFER option.
func (s *StreamWriter) finalOptions(entries []CPUData) []byte {
	m := s.m
	o := m.newBuf()
	for _, st := range s.stats {
		o.u16(OptCPUStat)
		o.u32(uint32(len(st) + 1))
		o.cstr(st)
	}
	b := m.newBuf()
	b.u64(uint64(s.flyOff))
	b.cstr(m.BufferName)
	b.cstr(clockName(m.clockOption()))
	b.u32(uint32(m.PageSize))
	b.u32(uint32(len(entries)))
	for _, e := range entries {
		b.u32(uint32(e.CPU))
		b.u64(uint64(e.Offset))
		b.u64(uint64(e.Size))
	}
	o.u16(OptBuffer)
	o.u32(uint32(b.Len()))
	o.Write(b.Bytes())
	o.u16(OptDone)
	o.u32(8)
	o.u64(0)
	sec, _ := m.section(OptDone, o.Bytes(), nil)
	return sec
}

// Scattered says whether some CPU's pages are in more than one chunk: such
// a file is read by tracer but not by trace-cmd 3.1, which wants one
// (offset, size) per CPU; Compact writes the form it reads.
func (s *StreamWriter) Scattered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int]bool{}
	for _, c := range s.chunks {
		if c.used < s.ps {
			continue
		}
		if seen[c.cpu] {
			return true
		}
		seen[c.cpu] = true
	}
	return false
}

// Compact writes to dst (empty) a copy of the finished file src in which
// each CPU's pages are contiguous, one BUFFER entry per CPU, as trace-cmd
// reads it. Both are files, so the copies happen in the kernel
// (copy_file_range). Call it after Finish.
func (s *StreamWriter) Compact(src, dst *os.File) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := dst.Seek(0, io.SeekStart); err != nil {
		return err
	}
	copyAt := func(off, n int64) error {
		if _, err := src.Seek(off, io.SeekStart); err != nil {
			return err
		}
		m, err := io.Copy(dst, io.LimitReader(src, n))
		if err == nil && m != n {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if err := copyAt(0, s.dataOff); err != nil {
		return err
	}
	var order []int
	byCPU := map[int][]*streamChunk{}
	for _, c := range s.chunks {
		if c.used < s.ps {
			continue
		}
		if _, ok := byCPU[c.cpu]; !ok {
			order = append(order, c.cpu)
		}
		byCPU[c.cpu] = append(byCPU[c.cpu], c)
	}
	off := s.dataOff
	var entries []CPUData
	for _, cpu := range order {
		e := CPUData{CPU: cpu, Offset: off}
		for _, c := range byCPU[cpu] {
			n := c.used / s.ps * s.ps
			if err := copyAt(c.off, n); err != nil {
				return err
			}
			e.Size += n
		}
		off += e.Size
		entries = append(entries, e)
	}
	sec := s.finalOptions(entries)
	if _, err := dst.WriteAt(sec, off); err != nil {
		return err
	}
	var n [8]byte
	s.m.order().PutUint64(n[:], uint64(off-(s.flyOff+16)))
	if _, err := dst.WriteAt(n[:], s.flyOff+8); err != nil {
		return err
	}
	s.m.order().PutUint64(n[:], uint64(off))
	_, err := dst.WriteAt(n[:], s.doneAt)
	return err
}

func (f *File) hasPageBuffer() bool {
	for _, b := range f.Buffers {
		if !b.Latency {
			return true
		}
	}
	return false
}

// recover applies the recovery rule (see the top of this file) to a v7
// file whose options name no buffer: at is where the options end.
func (f *File) recover(at int64, cutFinal string) {
	c := &cursor{r: f.r, off: at, end: f.size, order: f.order, what: "flyrecord section header"}
	id, err := c.u16()
	if err != nil || id != OptBuffer {
		return
	}
	flags, _ := c.u16()
	c.u32()
	size, err := c.u64()
	if err != nil || flags != 0 {
		return
	}
	end := f.size
	if size > 0 && int64(size) < end-c.off {
		end = c.off + int64(size)
	}
	ps := int64(f.PageSize)
	b := &Buffer{flyOff: at}
	hdr := make([]byte, 28)
	var pages, chunks int64
	stop := ""
	off := pad(c.off, ps)
	for off+ps <= end {
		if _, err := f.r.ReadAt(hdr, off); err != nil {
			break
		}
		if !bytes.Equal(hdr[:16], ChunkMagic) {
			stop = fmt.Sprintf("; the scan stopped at byte %d, which is not a chunk header", off)
			break
		}
		cpu := f.order.Uint32(hdr[16:])
		n := int64(f.order.Uint32(hdr[20:]))
		if int64(f.order.Uint32(hdr[24:])) != ps || n == 0 || n > 1<<20 || cpu >= maxCount {
			stop = fmt.Sprintf("; the scan stopped at byte %d: bad chunk header", off)
			break
		}
		data := off + ps
		have := max(min(n, (end-data)/ps), 0)
		if have > 0 {
			b.CPUs = append(b.CPUs, CPUData{CPU: int(cpu), Offset: data, Size: have * ps})
			if int(cpu) >= f.CPUCount {
				f.CPUCount = int(cpu) + 1
			}
		}
		pages += have
		chunks++
		off = data + n*ps
	}
	f.Buffers = append(f.Buffers, b)
	f.Unfinished = true
	why := "the file was not finished (its recording may still be going on, or was killed or ran out of disk space)"
	if cutFinal != "" {
		why = "the file's final options are cut or damaged (" + cutFinal + "), as if it was truncated after it was finished"
	}
	f.Notes = append(f.Notes, fmt.Sprintf("%s: %d pages in %d chunks were found by scanning and are reported; pages cut off at the end are not%s", why, pages, chunks, stop))
}
