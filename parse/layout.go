package parse

import (
	"bytes"
	"strings"
)

// Layout is the shape of a ring-buffer page (a sub-buffer) and the byte
// order and long size of the kernel that wrote it. It is derived from the
// header_page file rather than assumed, because sub-buffer size, long size
// and byte order all vary between machines and instances.
type Layout struct {
	BigEndian  bool
	LongSize   int // the kernel's long: 8 or 4; equals the commit field's size
	TSOffset   int
	CommitOff  int
	DataOffset int
	DataSize   int
}

// SubbufSize is the size of one page as read from trace_pipe_raw or stored
// in a trace.dat file.
func (l *Layout) SubbufSize() int { return l.DataOffset + l.DataSize }

// headerField is one "field:" line of header_page or a format file.
type headerField struct {
	decl   string // everything between "field:" and the first ';'
	offset int
	size   int
	signed int // -1 when the line has no "signed:" (very old kernels)
}

// parseFieldLine parses "field:TYPE NAME; offset:N; size:N; signed:N;".
func parseFieldLine(line string) (headerField, bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "field:") {
		return headerField{}, false
	}
	f := headerField{offset: -1, size: -1, signed: -1}
	parts := strings.Split(line[len("field:"):], ";")
	f.decl = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		n, ok := atoi(strings.TrimSpace(v))
		if !ok {
			return headerField{}, false
		}
		switch k {
		case "offset":
			f.offset = n
		case "size":
			f.size = n
		case "signed":
			f.signed = n
		}
	}
	if f.decl == "" || f.offset < 0 || f.size < 0 {
		return headerField{}, false
	}
	return f, true
}

// atoi parses a small non-negative decimal; it refuses anything that would
// overflow a sane offset so that hostile input cannot size allocations.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// lastIdent returns the last C identifier in decl ("u64 timestamp" -> "timestamp").
func lastIdent(decl string) string {
	end := len(decl)
	for end > 0 && !isIdent(decl[end-1]) {
		end--
	}
	start := end
	for start > 0 && isIdent(decl[start-1]) {
		start--
	}
	return decl[start:end]
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ParseHeaderPage derives the page layout from an events/header_page file.
// The byte order is an input because the file does not carry it: it is the
// live machine's, or the one a trace.dat declares.
func ParseHeaderPage(b []byte, bigEndian bool) (Layout, error) {
	const where = "header_page"
	l := Layout{BigEndian: bigEndian, TSOffset: -1, CommitOff: -1, DataOffset: -1}
	tsSize := 0
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f, ok := parseFieldLine(line)
		if !ok {
			return Layout{}, errf(ErrSyntax, where, i+1, "bad field line %q", line)
		}
		switch lastIdent(f.decl) {
		case "timestamp":
			l.TSOffset, tsSize = f.offset, f.size
		case "commit":
			l.CommitOff, l.LongSize = f.offset, f.size
		case "data":
			l.DataOffset, l.DataSize = f.offset, f.size
		}
	}
	switch {
	case l.TSOffset < 0 || l.CommitOff < 0 || l.DataOffset < 0:
		return Layout{}, errf(ErrSyntax, where, -1, "missing timestamp, commit or data field")
	case tsSize != 8:
		return Layout{}, errf(ErrCorrupt, where, -1, "timestamp size %d, want 8", tsSize)
	case l.LongSize != 4 && l.LongSize != 8:
		return Layout{}, errf(ErrCorrupt, where, -1, "commit size %d, want 4 or 8", l.LongSize)
	case l.TSOffset+8 > l.DataOffset || l.CommitOff+l.LongSize > l.DataOffset:
		return Layout{}, errf(ErrCorrupt, where, -1, "header fields overlap the data at %d", l.DataOffset)
	case l.DataSize < 16 || l.DataOffset+l.DataSize > 1<<24:
		return Layout{}, errf(ErrCorrupt, where, -1, "data size %d out of range", l.DataSize)
	}
	return l, nil
}

// ParseHeaderEvent checks that header_event describes the record header
// this decoder knows (5-bit type_len, 27-bit delta, types 29/30/31, data up
// to 28). A kernel that changed it must be refused, not misread.
func ParseHeaderEvent(b []byte) error {
	const where = "header_event"
	want := map[string]string{
		"type_len": "5 bits", "time_delta": "27 bits", "array": "32 bits",
		"padding": "type == 29", "time_extend": "type == 30",
	}
	seen := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte("data max type_len")) {
			if !bytes.HasSuffix(bytes.TrimSpace(line), []byte("== 28")) {
				return errf(ErrCorrupt, where, -1, "data max type_len is not 28: %q", line)
			}
			continue
		}
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.Join(strings.Fields(v), " ")
		if k == "time_stamp" && v != "type == 31" {
			// Absent before 4.17, but if present it must be type 31.
			return errf(ErrCorrupt, where, -1, "time_stamp is %q, want type == 31", v)
		}
		if w, ok := want[k]; ok {
			if v != w {
				return errf(ErrCorrupt, where, -1, "%s is %q, want %q", k, v, w)
			}
			seen++
		}
	}
	if seen != len(want) {
		return errf(ErrSyntax, where, -1, "found %d of %d expected lines", seen, len(want))
	}
	return nil
}
