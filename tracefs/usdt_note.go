package tracefs

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// USDT (statically defined user probes, <sys/sdt.h>) are uprobes at
// addresses a program lists in its .note.stapsdt section, with arguments
// described as assembler operands. This file reads the notes; usdt_arg.go
// turns operands into fetch args; usdt.go makes uprobe specs of them.

// USDTProbe is one probe site of a binary, from one .note.stapsdt note. A
// probe (PROVIDER:NAME) may have several sites, one per inlined copy.
type USDTProbe struct {
	Provider string
	Name     string
	// PC is the address of the probe's nop as linked, after the
	// .stapsdt.base (prelink) adjustment.
	PC uint64
	// Semaphore is the address of the probe's semaphore (a uint16 the
	// program tests before it computes the arguments), 0 for none.
	Semaphore uint64
	// Args is the note's argument string, e.g. "-4@%edi 8@16(%rsp)".
	Args string
	// Offset is PC's file offset (what uprobe_events takes), and
	// SemaphoreOffset the semaphore's (ref_ctr_offset), 0 for none. They
	// are filled by ReadUSDT, not by the note parser.
	Offset          uint64
	SemaphoreOffset uint64
}

// FullName is PROVIDER:NAME.
func (p USDTProbe) FullName() string { return p.Provider + ":" + p.Name }

const (
	// stapsdtNoteType is NT_STAPSDT, the note type of a probe descriptor.
	stapsdtNoteType = 3
	// maxStapsdtSection bounds the note section read into memory: real
	// binaries have a few KB (python3.11: 9 notes, under 1 KB).
	maxStapsdtSection = 16 << 20
	// maxStapsdtNotes bounds the probes taken from one binary.
	maxStapsdtNotes = 65536
	// maxStapsdtString bounds the provider, name and argument strings.
	maxStapsdtString = 4096
)

// parseStapsdtNotes parses the contents of a .note.stapsdt section: ELF
// notes (namesz, descsz, type as 32-bit words in the file's byte order;
// the name and the descriptor each padded to 4 bytes). Notes of owner
// "stapsdt" and type 3 describe a probe: pc, base and semaphore as
// addresses of the file's class (4 or 8 bytes), then the provider, name and
// argument strings, each NUL-terminated. Other notes are skipped.
//
// base is the address of the .stapsdt.base section, hasBase whether the
// file has one: a prelinked binary moved its code, and the note's own base
// says where that section was at link time, so pc (and the semaphore) move
// by the difference. Errors name the note and its byte offset.
func parseStapsdtNotes(data []byte, order binary.ByteOrder, addrSize int, base uint64, hasBase bool) ([]USDTProbe, error) {
	if addrSize != 4 && addrSize != 8 {
		return nil, fmt.Errorf("stapsdt notes: address size %d (want 4 or 8)", addrSize)
	}
	if len(data) > maxStapsdtSection {
		return nil, fmt.Errorf("stapsdt notes: section is %d bytes (max %d)", len(data), maxStapsdtSection)
	}
	var out []USDTProbe
	for pos, n := 0, 0; pos < len(data); n++ {
		if len(data)-pos < 12 {
			// Trailing padding shorter than a header is not a note.
			if allZero(data[pos:]) {
				break
			}
			return nil, fmt.Errorf("stapsdt note %d at byte %d: %d bytes left, a note header needs 12", n, pos, len(data)-pos)
		}
		namesz := uint64(order.Uint32(data[pos:]))
		descsz := uint64(order.Uint32(data[pos+4:]))
		typ := order.Uint32(data[pos+8:])
		nameAt := uint64(pos) + 12
		descAt := nameAt + align4(namesz)
		end := descAt + align4(descsz)
		if end > uint64(len(data)) || descAt+descsz > uint64(len(data)) {
			return nil, fmt.Errorf("stapsdt note %d at byte %d: name (%d bytes) and descriptor (%d bytes) run past the section's end (%d bytes)", n, pos, namesz, descsz, len(data))
		}
		name := data[nameAt : nameAt+namesz]
		desc := data[descAt : descAt+descsz]
		at := pos
		pos = int(end)
		if typ != stapsdtNoteType || string(bytes.TrimRight(name, "\x00")) != "stapsdt" {
			continue
		}
		if len(out) >= maxStapsdtNotes {
			return nil, fmt.Errorf("stapsdt note %d at byte %d: more than %d probes", n, at, maxStapsdtNotes)
		}
		p, err := parseStapsdtDesc(desc, order, addrSize)
		if err != nil {
			return nil, fmt.Errorf("stapsdt note %d at byte %d: %w", n, at, err)
		}
		if hasBase && p.base != 0 {
			// Wrapping arithmetic is what a relocation does: base can move down.
			p.PC += base - p.base
			if p.Semaphore != 0 {
				p.Semaphore += base - p.base
			}
		}
		out = append(out, p.USDTProbe)
	}
	return out, nil
}

type stapsdtDesc struct {
	USDTProbe
	base uint64
}

func parseStapsdtDesc(d []byte, order binary.ByteOrder, addrSize int) (stapsdtDesc, error) {
	var p stapsdtDesc
	if len(d) < 3*addrSize {
		return p, fmt.Errorf("descriptor is %d bytes, the three addresses need %d", len(d), 3*addrSize)
	}
	addr := func(i int) uint64 {
		if addrSize == 4 {
			return uint64(order.Uint32(d[i*4:]))
		}
		return order.Uint64(d[i*8:])
	}
	p.PC, p.base, p.Semaphore = addr(0), addr(1), addr(2)
	rest := d[3*addrSize:]
	var strs [3]string
	for i, what := range []string{"provider", "name", "arguments"} {
		z := bytes.IndexByte(rest, 0)
		if z < 0 {
			if i == 2 && len(rest) == 0 {
				break // some old notes end without an argument string
			}
			return p, fmt.Errorf("%s string is not NUL-terminated", what)
		}
		if z > maxStapsdtString {
			return p, fmt.Errorf("%s string is %d bytes (max %d)", what, z, maxStapsdtString)
		}
		strs[i], rest = string(rest[:z]), rest[z+1:]
	}
	p.Provider, p.Name, p.Args = strs[0], strs[1], strs[2]
	if p.Provider == "" || p.Name == "" {
		return p, fmt.Errorf("empty provider or probe name (%q:%q)", p.Provider, p.Name)
	}
	for _, s := range strs {
		for i := 0; i < len(s); i++ {
			if s[i] < ' ' || s[i] == 0x7f {
				return p, fmt.Errorf("control character in %q", short100(s))
			}
		}
	}
	return p, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ReadUSDT returns the USDT probe sites of the ELF file at path (none if
// it has no .note.stapsdt section), with the file offsets of their
// addresses and semaphores, for uprobe_events.
func ReadUSDT(file string) ([]USDTProbe, error) {
	f, err := elf.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading usdt notes of %s: %w", file, err)
	}
	defer f.Close()
	return readUSDT(f, file)
}

func readUSDT(f *elf.File, file string) ([]USDTProbe, error) {
	sec := f.Section(".note.stapsdt")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if sec.Size > maxStapsdtSection {
		return nil, fmt.Errorf("usdt notes of %s: .note.stapsdt is %d bytes (max %d)", file, sec.Size, maxStapsdtSection)
	}
	data, err := io.ReadAll(io.LimitReader(sec.Open(), maxStapsdtSection+1))
	if err != nil {
		return nil, fmt.Errorf("usdt notes of %s: reading .note.stapsdt: %w", file, err)
	}
	addrSize := 8
	if f.Class == elf.ELFCLASS32 {
		addrSize = 4
	}
	var base uint64
	bs := f.Section(".stapsdt.base")
	if bs != nil {
		base = bs.Addr
	}
	probes, err := parseStapsdtNotes(data, f.ByteOrder, addrSize, base, bs != nil)
	if err != nil {
		return nil, fmt.Errorf("usdt notes of %s: %w", file, err)
	}
	for i := range probes {
		p := &probes[i]
		off, ok := fileOffset(f, p.PC)
		if !ok {
			return nil, fmt.Errorf("usdt notes of %s: probe %s at %#x is outside every loaded segment", file, p.FullName(), p.PC)
		}
		p.Offset = off
		if p.Semaphore != 0 {
			// The kernel counts the semaphore up in the file's mapping,
			// so it must be in the file (.probes is in the data segment).
			so, ok := fileOffset(f, p.Semaphore)
			if !ok {
				return nil, fmt.Errorf("usdt notes of %s: semaphore of %s at %#x is outside the file's loaded data", file, p.FullName(), p.Semaphore)
			}
			p.SemaphoreOffset = so
		}
	}
	return probes, nil
}

// errUSDTOperand marks an argument that fetch args cannot express.
var errUSDTOperand = errors.New("uprobe fetch args cannot express it")
