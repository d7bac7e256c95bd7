package tracedat

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/tracer-dev/tracer/parse"
)

// Section flags.
const secCompressed = 1

// decompressor turns one compressed block into at most want bytes.
type decompressor func(src []byte, want int) ([]byte, error)

var zstdDec = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSection))
})

func newDecompressor(name string) (decompressor, error) {
	switch name {
	case "none", "":
		return nil, nil
	case "zstd":
		return func(src []byte, want int) ([]byte, error) {
			d, err := zstdDec()
			if err != nil {
				return nil, err
			}
			out, err := d.DecodeAll(src, make([]byte, 0, want))
			if err != nil {
				return nil, err
			}
			if len(out) != want {
				return nil, fmt.Errorf("decompressed %d bytes, header says %d", len(out), want)
			}
			return out, nil
		}, nil
	case "zlib":
		return func(src []byte, want int) ([]byte, error) {
			zr, err := zlib.NewReader(bytes.NewReader(src))
			if err != nil {
				return nil, err
			}
			out := make([]byte, want)
			if _, err := io.ReadFull(zr, out); err != nil {
				return nil, err
			}
			return out, nil
		}, nil
	}
	return nil, fmt.Errorf("compression %q not supported (zstd and zlib are)", name)
}

// section reads a v7 section header at off and returns a cursor over its
// (decompressed) body.
func (f *File) section(off int64, want uint16, what string) (*cursor, error) {
	c := &cursor{r: f.r, off: off, end: f.size, order: f.order, what: what + " section header"}
	if off <= 0 || off >= f.size {
		return nil, ferr(parse.ErrCorrupt, off, "%s section offset %d outside the file (%d bytes)", what, off, f.size)
	}
	id, err := c.u16()
	if err != nil {
		return nil, err
	}
	flags, err := c.u16()
	if err != nil {
		return nil, err
	}
	if _, err := c.u32(); err != nil { // description string id
		return nil, err
	}
	size, err := c.u64()
	if err != nil {
		return nil, err
	}
	if id != want {
		return nil, ferr(parse.ErrCorrupt, off, "%s: section id %d, want %d", what, id, want)
	}
	if size > uint64(f.size-c.off) {
		return nil, ferr(parse.ErrTruncated, off, "%s: section of %d bytes runs past the end of the file (%d left)", what, size, f.size-c.off)
	}
	body := &cursor{r: f.r, off: c.off, end: c.off + int64(size), order: f.order, what: what}
	f.lastSecEnd = body.end
	if flags&secCompressed == 0 {
		return body, nil
	}
	if f.dec == nil {
		return nil, ferr(parse.ErrCorrupt, off, "%s: compressed section in a file without compression", what)
	}
	csize, err := body.u32()
	if err != nil {
		return nil, err
	}
	usize, err := body.u32()
	if err != nil {
		return nil, err
	}
	if int64(csize) > body.end-body.off || usize > maxSection {
		return nil, ferr(parse.ErrCorrupt, off, "%s: compressed size %d / %d does not fit the section (%d)", what, csize, usize, size)
	}
	src, err := body.read(int(csize))
	if err != nil {
		return nil, err
	}
	src = append([]byte(nil), src...)
	out, err := f.dec(src, int(usize))
	if err != nil {
		return nil, ferr(parse.ErrCorrupt, off, "%s: decompressing: %v", what, err)
	}
	return &cursor{r: bytes.NewReader(out), end: int64(len(out)), order: f.order, what: what + " (decompressed)", base: 0}, nil
}

func (f *File) readV7(c *cursor) error {
	c.what = "compression header"
	var err error
	if f.Compression, err = c.cstring(64); err != nil {
		return err
	}
	if f.CompVersion, err = c.cstring(64); err != nil {
		return err
	}
	if f.dec, err = newDecompressor(f.Compression); err != nil {
		return ferr(parse.ErrCorrupt, c.off, "%v", err)
	}
	next, err := c.u64()
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	firstEnd := int64(0) // where the first options section ends
	cutFinal := ""       // why a later options section could not be read
	for next != 0 {
		off := int64(min(next, 1<<62))
		if seen[off] || len(seen) > 1024 {
			return ferr(parse.ErrCorrupt, off, "options sections loop")
		}
		seen[off] = true
		oc, err := f.section(off, OptDone, "options")
		if err == nil {
			f.nextOptions = 0
			nbuf, nsec := len(f.Buffers), len(f.sections)
			if _, err = f.readOptions(oc, true); err != nil {
				f.Buffers, f.sections = f.Buffers[:nbuf], f.sections[:nsec]
			}
		}
		if err != nil {
			if firstEnd == 0 {
				return err
			}
			// A later options section (a streamed file's final ones, at
			// its end) is cut or damaged: the pages before it are still
			// there, so fall back to the scan an unfinished file gets.
			cutFinal = err.Error()
			f.Buffers = nil
			break
		}
		if firstEnd == 0 {
			firstEnd = f.lastSecEnd
		}
		next = uint64(f.nextOptions)
	}
	optEnd := f.lastSecEnd
	if cutFinal != "" {
		optEnd = firstEnd
	}
	for _, s := range f.sections {
		var read func(*cursor) error
		what := ""
		switch s.id {
		case OptHeaderInfo:
			read, what = f.readHeaders, "header info"
		case OptFtraceEvents:
			read, what = f.readFtraceFormats, "ftrace formats"
		case OptEventFormats:
			read, what = f.readEventFormats, "event formats"
		case OptKallsyms:
			read, what = f.readKallsyms, "kallsyms"
		case OptPrintk:
			read, what = f.readPrintk, "printk_formats"
		case OptCmdlines:
			read, what = f.readCmdlines, "saved_cmdlines"
		}
		sc, err := f.section(s.off, s.id, what)
		if err != nil {
			return err
		}
		if err := read(sc); err != nil {
			return err
		}
	}
	if f.HeaderPage == nil {
		return ferr(parse.ErrCorrupt, 0, "no header info section")
	}
	if !f.hasPageBuffer() {
		f.recover(optEnd, cutFinal)
	}
	for _, b := range f.Buffers {
		if b.Latency || len(b.CPUs) == 0 {
			continue
		}
		c := &cursor{r: f.r, off: b.flyOff, end: f.size, order: f.order, what: "buffer " + b.Name + " section header"}
		if b.flyOff <= 0 || b.flyOff >= f.size {
			return ferr(parse.ErrCorrupt, b.flyOff, "buffer %q: data section offset outside the file", b.Name)
		}
		if _, err := c.u16(); err != nil {
			return err
		}
		flags, err := c.u16()
		if err != nil {
			return err
		}
		b.compressed = flags&secCompressed != 0
		if b.compressed && f.dec == nil {
			return ferr(parse.ErrCorrupt, b.flyOff, "buffer %q: compressed data in a file without compression", b.Name)
		}
	}
	return nil
}
