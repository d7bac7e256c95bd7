package tracedat

import (
	"fmt"
	"io"
	"strings"

	"github.com/tracer-dev/tracer/parse"
)

// SubbufSize is the page size of buffer b's data.
func (f *File) SubbufSize(b *Buffer) int {
	if b.PageSize > 0 {
		return b.PageSize
	}
	return f.PageSize
}

// Decoder builds a decoder for the records of buffer b (nil: the first
// buffer with data): the page layout follows the buffer's sub-buffer size,
// and every format, kallsyms, printk_formats and saved_cmdlines in the
// file are loaded (symbols and printk formats parsed, print fmts compiled
// on first use). Formats that do not parse are skipped with a note. Call
// Compile on the decoder before sharing it between goroutines.
func (f *File) Decoder(b *Buffer) (*parse.Decoder, error) {
	if b == nil {
		b = f.DataBuffer()
	}
	l, err := parse.ParseHeaderPage(f.HeaderPage, f.BigEndian)
	if err != nil {
		return nil, fmt.Errorf("trace.dat header_page: %w", err)
	}
	if len(f.HeaderEvent) > 0 {
		if err := parse.ParseHeaderEvent(f.HeaderEvent); err != nil {
			return nil, fmt.Errorf("trace.dat header_event: %w", err)
		}
	}
	if b != nil {
		if ps := f.SubbufSize(b); ps > l.DataOffset+16 {
			l.DataSize = ps - l.DataOffset
		}
	}
	d := parse.NewDecoder(l)
	clock := f.Clock()
	if b != nil && b.Clock != "" {
		clock = b.Clock
	}
	d.SetClock(clock)
	if fs := strings.Fields(f.Uname); len(fs) >= 3 {
		d.SetKernelRelease(fs[2])
	}
	add := func(sys string, fm []byte) {
		if _, err := d.AddFormat(sys, fm); err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("format of %s skipped: %v", sys, err))
		}
	}
	for _, fm := range f.FtraceFormats {
		add("ftrace", fm)
	}
	for _, s := range f.Systems {
		for _, fm := range s.Formats {
			add(s.Name, fm)
		}
	}
	// kallsyms and printk_formats are parsed, and print fmts compiled, on
	// first use: most files print few of their events' formats and no
	// symbol, and start-up was mostly this work.
	if len(f.Kallsyms) > 0 {
		d.Symbols = parse.LazyKallsyms(f.Kallsyms)
	}
	if len(f.Printk) > 0 {
		d.Printk = parse.LazyPrintkFormats(f.Printk)
	}
	if len(f.Cmdlines) > 0 {
		d.Comms = parse.ParseSavedCmdlines(f.Cmdlines)
	}
	return d, nil
}

// DataBuffer returns the first buffer holding page data (trace-cmd -B
// files leave the top buffer empty), or the first buffer, or nil.
func (f *File) DataBuffer() *Buffer {
	for _, b := range f.Buffers {
		for _, c := range b.CPUs {
			if c.Size > 0 && !b.Latency {
				return b
			}
		}
	}
	if len(f.Buffers) > 0 {
		return f.Buffers[0]
	}
	return nil
}

// Streams returns one page stream per CPU of buffer b that has data, to be
// merged with parse.NewMerger. Pages are read from the file as they are
// needed. A CPU whose data runs past the end of the file yields its
// complete pages and then an error saying where the data stops.
func (f *File) Streams(d *parse.Decoder, b *Buffer) []*parse.PageStream {
	var out []*parse.PageStream
	ps := f.SubbufSize(b)
	if b.compressed {
		for _, c := range b.CPUs {
			if c.Size == 0 {
				continue
			}
			out = append(out, &parse.PageStream{Dec: d, CPU: c.CPU, NextPage: f.chunkPages(c, ps, b.Name)})
		}
		return out
	}
	// A CPU may have several entries (streamed files list one per chunk):
	// they are its pages in order, read as one stream.
	var order []int
	segs := map[int][]CPUData{}
	for _, c := range b.CPUs {
		if c.Size == 0 {
			continue
		}
		if _, ok := segs[c.CPU]; !ok {
			order = append(order, c.CPU)
		}
		segs[c.CPU] = append(segs[c.CPU], c)
	}
	for _, cpu := range order {
		out = append(out, &parse.PageStream{Dec: d, CPU: cpu, NextPage: f.plainPages(segs[cpu], ps, b.Name)})
	}
	return out
}

func where(buf string, cpu int) string {
	if buf == "" {
		return fmt.Sprintf("cpu%d", cpu)
	}
	return fmt.Sprintf("buffer %s cpu%d", buf, cpu)
}

// readPages is how many pages plainPages reads at once.
const readPages = 64

// plainPages reads uncompressed pages of one CPU (one or more segments of
// the file, in order), readPages at a time, into one reused buffer.
func (f *File) plainPages(segs []CPUData, ps int, buf string) func() ([]byte, error) {
	var block []byte
	var c CPUData
	var pos, end int64
	short, failed := false, false
	next := func() bool {
		if len(segs) == 0 {
			return false
		}
		c, segs = segs[0], segs[1:]
		pos, end = c.Offset, c.Offset+c.Size
		short = end > f.size
		if short {
			end = f.size
		}
		return true
	}
	next()
	var have []byte // read, not yet returned
	return func() ([]byte, error) {
		if failed {
			return nil, io.EOF
		}
		if len(have) == 0 {
			for end-pos <= 0 || pos < 0 {
				if short {
					failed = true
					return nil, ferr(parse.ErrTruncated, pos, "%s: data of %d bytes at %d runs past the end of the file (%d bytes): the file is truncated",
						where(buf, c.CPU), c.Size, c.Offset, f.size)
				}
				if !next() {
					return nil, io.EOF
				}
			}
			if block == nil {
				block = make([]byte, ps*readPages)
			}
			n := min(end-pos, int64(len(block)))
			m, err := f.r.ReadAt(block[:n], pos)
			if int64(m) < n {
				// Keep the whole pages that were read; the error comes after.
				n = int64(m) / int64(ps) * int64(ps)
				if n == 0 {
					failed = true
					return nil, ferr(parse.ErrTruncated, pos, "%s: reading page: %v", where(buf, c.CPU), err)
				}
				end = pos + n
				short = true
			}
			pos += n
			have = block[:n]
		}
		n := min(ps, len(have))
		p := have[:n]
		have = have[n:]
		return p, nil
	}
}

// chunkPages serves pages from v7 compressed chunks, one chunk in memory.
func (f *File) chunkPages(c CPUData, ps int, buf string) func() ([]byte, error) {
	// trace-cmd's recorded size leaves out the chunk count: bound by the file.
	cur := &cursor{r: f.r, off: c.Offset, end: f.size, order: f.order, what: where(buf, c.CPU) + " compressed data"}
	var chunks, done uint32
	started, failed := false, false
	var data []byte
	return func() ([]byte, error) {
		if failed {
			return nil, io.EOF
		}
		fail := func(err error) ([]byte, error) {
			failed = true
			return nil, err
		}
		if !started {
			started = true
			n, err := cur.u32()
			if err != nil {
				return fail(err)
			}
			if n > maxCount*16 {
				return fail(cur.errf(parse.ErrCorrupt, "%d chunks", n))
			}
			chunks = n
		}
		for len(data) == 0 {
			if done == chunks {
				return nil, io.EOF
			}
			at := cur.off
			cs, err := cur.u32()
			if err != nil {
				return fail(err)
			}
			us, err := cur.u32()
			if err != nil {
				return fail(err)
			}
			if int64(cs) > cur.end-cur.off || us > maxSection {
				cur.off = at
				return fail(cur.errf(parse.ErrCorrupt, "chunk %d of %d/%d bytes runs past its data (%d left)", done, cs, us, cur.end-cur.off-8))
			}
			src, err := cur.read(int(cs))
			if err != nil {
				return fail(err)
			}
			src = append([]byte(nil), src...)
			out, err := f.dec(src, int(us))
			if err != nil {
				return fail(ferr(parse.ErrCorrupt, at, "%s: chunk %d: %v", where(buf, c.CPU), done, err))
			}
			done++
			data = out
		}
		n := min(ps, len(data))
		p := data[:n]
		data = data[n:]
		return p, nil
	}
}
