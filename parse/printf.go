package parse

// C printf formatting, byte-exact like the kernel's lib/vsprintf.c, for the
// print fmt compiler (printfmt.go) and for anything that formats a format
// string found at run time (bprint's printk_formats, trace_printk).
//
// Helpers for other files of this package. All append to dst and allocate
// nothing beyond dst's growth:
//
//	parsePrintf(format string) ([]fmtPiece, error)
//	    Split a C format into literal pieces (conv == 0; "%%" already reduced
//	    to "%") and verbs. A '*' width or precision is flagged by
//	    widthStar/precStar: the caller takes an int argument for it and stores
//	    it in a copy of the spec with spec.withStar(w, p).
//	appendIntVerb(dst []byte, v uint64, sp fmtSpec, longSize int) []byte
//	    One integer argument for d i u x X o c: v is the argument's bits; they
//	    are truncated and sign- or zero-extended as the length modifier
//	    (hh h l ll z t j) and the conversion say, as va_arg would read them.
//	    l, z and t are the kernel's long (longSize, 4 or 8).
//	appendStr(dst []byte, s []byte, sp fmtSpec) []byte
//	    %s of a C string: s is cut at its first NUL, then precision and width
//	    apply. Use appendStrLit for text that must not stop at a NUL.
//	appendPtr(dst []byte, v uint64, sp fmtSpec, longSize int, syms *Symbols) []byte
//	    %p of an address: plain %p/%px/%pK as 2*longSize zero-padded hex
//	    digits (what the kernel prints with hash-ptr off), %pS/%ps/%pB/%pF/%pf
//	    as symbols ("0x<hex>" when none matches), and for the extensions that
//	    dereference (%pI4, %pM, %pU, ...) "(null)" or "(efault)", since the
//	    memory is not in the record.
//	appendPtrBytes(dst []byte, b []byte, sp fmtSpec, bigEndian bool, longSize int) []byte
//	    %p extensions that read memory, given the bytes the pointer points
//	    to: %pI4 %pi4 %pI6 %pi6 %pI6c %pIS[pfsc] %piS %pM %pMR %pMF %pm %pU[bBlL]
//	    %*ph[CDN] %*pb %*pbl (for %*p.. the bit or byte count is sp.width).
//	    Missing bytes read as zero.
//	ptrExtDerefs(ext string) bool
//	    Whether a %p extension reads memory (then use appendPtrBytes).
//	ptrExtSupported(ext string) bool
//	    Whether this file knows how to print a %p extension.
//	appendKNumber(dst []byte, num uint64, signed bool, base int, small bool, sp fmtSpec) []byte
//	    The kernel's number(): num is printed as signed when signed is set.

import (
	"encoding/binary"
	"strconv"
)

// Flags of a conversion.
const (
	flagLeft    = 1 << iota // '-'
	flagPlus                // '+'
	flagSpace               // ' '
	flagSpecial             // '#'
	flagZero                // '0'
)

// Length modifiers.
const (
	lenNone = iota
	lenHH
	lenH
	lenL
	lenLL // ll, L, q, j
	lenZ  // z, Z: size_t
	lenT  // t: ptrdiff_t
)

// fmtSpec is one conversion of a C format: what the kernel's printf_spec
// holds plus the conversion letter and the %p extension letters.
type fmtSpec struct {
	flags  uint8
	length uint8
	conv   byte   // d i u x X o c s p; 0 for a literal piece
	width  int32  // -1: none
	prec   int32  // -1: none
	ext    string // for 'p': the letters after it ("S", "I6c", "ISpc", "x", "")
}

// fmtPiece is literal text (conv == 0) or one verb of a format.
type fmtPiece struct {
	lit string
	fmtSpec
	widthStar, precStar bool
}

// withStar returns sp with the width and precision taken from '*'
// arguments, as the kernel applies them: a negative width means
// left-justify, a negative precision is clamped to 0.
func (sp fmtSpec) withStar(p *fmtPiece, width, prec int64) fmtSpec {
	if p.widthStar {
		if width < 0 {
			sp.flags |= flagLeft
			width = -width
		}
		if width > 1<<15 {
			width = 1 << 15
		}
		sp.width = int32(width)
	}
	if p.precStar {
		if prec < 0 {
			prec = 0
		}
		if prec > 1<<15 {
			prec = 1 << 15
		}
		sp.prec = int32(prec)
	}
	return sp
}

// printfError is returned for a format the kernel's vsnprintf would stop at.
type printfError struct {
	off int
	msg string
}

func (e *printfError) Error() string { return "printf format at " + strconv.Itoa(e.off) + ": " + e.msg }

// parsePrintf splits a C printf format into pieces, like the kernel's
// format_decode. Widths and precisions are capped so that hostile formats
// cannot ask for huge padding.
func parsePrintf(format string) ([]fmtPiece, error) {
	var out []fmtPiece
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			out = append(out, fmtPiece{lit: string(lit)})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			j := i
			for j < len(format) && format[j] != '%' {
				j++
			}
			lit = append(lit, format[i:j]...)
			i = j
			continue
		}
		start := i
		i++
		if i < len(format) && format[i] == '%' {
			lit = append(lit, '%')
			i++
			continue
		}
		p := fmtPiece{fmtSpec: fmtSpec{width: -1, prec: -1}}
	flags:
		for i < len(format) {
			switch format[i] {
			case '-':
				p.flags |= flagLeft
			case '+':
				p.flags |= flagPlus
			case ' ':
				p.flags |= flagSpace
			case '#':
				p.flags |= flagSpecial
			case '0':
				p.flags |= flagZero
			default:
				break flags
			}
			i++
		}
		if i < len(format) && format[i] == '*' {
			p.widthStar = true
			i++
		} else if n, j, ok := parseDigits(format, i); ok {
			p.width, i = n, j
		}
		if i < len(format) && format[i] == '.' {
			i++
			p.prec = 0
			if i < len(format) && format[i] == '*' {
				p.precStar = true
				i++
			} else if n, j, ok := parseDigits(format, i); ok {
				p.prec, i = n, j
			}
		}
		if i < len(format) {
			switch format[i] {
			case 'h':
				p.length = lenH
				i++
				if i < len(format) && format[i] == 'h' {
					p.length = lenHH
					i++
				}
			case 'l':
				p.length = lenL
				i++
				if i < len(format) && format[i] == 'l' {
					p.length = lenLL
					i++
				}
			case 'L', 'q', 'j':
				p.length = lenLL
				i++
			case 'z', 'Z':
				p.length = lenZ
				i++
			case 't':
				p.length = lenT
				i++
			}
		}
		if i >= len(format) {
			return nil, &printfError{start, "format ends inside a conversion"}
		}
		p.conv = format[i]
		i++
		switch p.conv {
		case 'd', 'i', 'u', 'x', 'X', 'o', 'c', 's':
		case 'p':
			j := i
			for j < len(format) && isAlnum(format[j]) {
				j++
			}
			p.ext = format[i:j]
			i = j
		default:
			return nil, &printfError{start, "unknown conversion %" + string(p.conv)}
		}
		flush()
		out = append(out, p)
	}
	flush()
	return out, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func parseDigits(s string, i int) (int32, int, bool) {
	j := i
	n := int32(0)
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if n < 1<<15 {
			n = n*10 + int32(s[j]-'0')
		}
		j++
	}
	if n > 1<<15 {
		n = 1 << 15
	}
	return n, j, j > i
}

// argSize is the size in bytes of the argument va_arg reads for an integer
// conversion with this length modifier.
func (sp *fmtSpec) argSize(longSize int) int {
	switch sp.length {
	case lenHH:
		return 1
	case lenH:
		return 2
	case lenL, lenZ, lenT:
		return longSize
	case lenLL:
		return 8
	}
	return 4
}

// appendIntVerb formats one integer argument for d i u x X o c (and p, s
// given an integer, which it treats as %p and as an unsigned number).
func appendIntVerb(dst []byte, v uint64, sp fmtSpec, longSize int) []byte {
	switch sp.conv {
	case 'c':
		return appendChar(dst, byte(v), sp)
	case 'p':
		return appendPtr(dst, v, sp, longSize, nil)
	}
	size := sp.argSize(longSize)
	switch sp.conv {
	case 'd', 'i':
		return appendKNumber(dst, uint64(signExtend(truncBits(v, size), size)), true, 10, true, sp)
	case 'x':
		return appendKNumber(dst, truncBits(v, size), false, 16, true, sp)
	case 'X':
		return appendKNumber(dst, truncBits(v, size), false, 16, false, sp)
	case 'o':
		return appendKNumber(dst, truncBits(v, size), false, 8, true, sp)
	}
	return appendKNumber(dst, truncBits(v, size), false, 10, true, sp)
}

func truncBits(v uint64, size int) uint64 {
	if size >= 8 {
		return v
	}
	return v & (1<<(8*uint(size)) - 1)
}

func appendChar(dst []byte, c byte, sp fmtSpec) []byte {
	w := int(sp.width)
	if sp.flags&flagLeft == 0 {
		for ; w > 1; w-- {
			dst = append(dst, ' ')
		}
	}
	dst = append(dst, c)
	for ; w > 1; w-- {
		dst = append(dst, ' ')
	}
	return dst
}

const hexLower = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

// appendKNumber is the kernel's number(): note that, unlike glibc, it
// prints "0" for a zero with precision 0, "0x0" for %#x of 0, and keeps
// zero padding when a precision is given.
func appendKNumber(dst []byte, num uint64, signed bool, base int, small bool, sp fmtSpec) []byte {
	var tmp [24]byte
	flags := sp.flags
	needPfx := flags&flagSpecial != 0 && base != 10
	isZero := num == 0
	fw := int(sp.width)
	prec := int(sp.prec)
	if flags&flagLeft != 0 {
		flags &^= flagZero
	}
	var sign byte
	if signed {
		if int64(num) < 0 {
			sign = '-'
			num = -num
			fw--
		} else if flags&flagPlus != 0 {
			sign = '+'
			fw--
		} else if flags&flagSpace != 0 {
			sign = ' '
			fw--
		}
	}
	if needPfx {
		if base == 16 {
			fw -= 2
		} else if !isZero {
			fw--
		}
	}
	digits := hexUpper
	if small {
		digits = hexLower
	}
	i := 0
	switch base {
	case 16:
		for {
			tmp[i] = digits[num&15]
			i++
			num >>= 4
			if num == 0 {
				break
			}
		}
	case 8:
		for {
			tmp[i] = digits[num&7]
			i++
			num >>= 3
			if num == 0 {
				break
			}
		}
	default:
		for {
			tmp[i] = byte('0' + num%10)
			i++
			num /= 10
			if num == 0 {
				break
			}
		}
	}
	if i > prec {
		prec = i
	}
	fw -= prec
	if flags&(flagZero|flagLeft) == 0 {
		for ; fw > 0; fw-- {
			dst = append(dst, ' ')
		}
	}
	if sign != 0 {
		dst = append(dst, sign)
	}
	if needPfx {
		if base == 16 || !isZero {
			dst = append(dst, '0')
		}
		if base == 16 {
			if small {
				dst = append(dst, 'x')
			} else {
				dst = append(dst, 'X')
			}
		}
	}
	if flags&flagLeft == 0 {
		c := byte(' ')
		if flags&flagZero != 0 {
			c = '0'
		}
		for ; fw > 0; fw-- {
			dst = append(dst, c)
		}
	}
	for ; prec > i; prec-- {
		dst = append(dst, '0')
	}
	for i--; i >= 0; i-- {
		dst = append(dst, tmp[i])
	}
	for ; fw > 0; fw-- {
		dst = append(dst, ' ')
	}
	return dst
}

// appendStr is %s of a C string: up to the first NUL, then precision and
// width as the kernel's string() applies them.
func appendStr(dst []byte, s []byte, sp fmtSpec) []byte {
	s = cstr(s)
	if cleanText(s) {
		return appendStrLit(dst, s, sp)
	}
	// A string a process controls (a comm, a file name) with control
	// bytes: escaped, so that it cannot split the line or reach the
	// terminal (the kernel's own text prints it raw).
	if sp.prec >= 0 && int(sp.prec) < len(s) {
		s = s[:sp.prec]
	}
	start := len(dst)
	dst = AppendEscaped(dst, s)
	sp.prec = -1
	return padFrom(dst, start, sp)
}

// appendStrLit is appendStr for text that is already cut to length.
func appendStrLit(dst []byte, s []byte, sp fmtSpec) []byte { return appendPadded(dst, s, sp) }

// appendStrString is appendStrLit for a Go string.
func appendStrString(dst []byte, s string, sp fmtSpec) []byte { return appendPadded(dst, s, sp) }

// appendPadded applies precision and width (the kernel's string()) to text
// held as bytes or as a string, without converting it.
func appendPadded[T string | []byte](dst []byte, s T, sp fmtSpec) []byte {
	if sp.prec >= 0 && int(sp.prec) < len(s) {
		s = s[:sp.prec]
	}
	pad := int(sp.width) - len(s)
	if pad > 0 && sp.flags&flagLeft == 0 {
		for ; pad > 0; pad-- {
			dst = append(dst, ' ')
		}
	}
	dst = append(dst, s...)
	for ; pad > 0; pad-- {
		dst = append(dst, ' ')
	}
	return dst
}

// padFrom applies the precision and width of sp to the text appended to
// dst since start, in place: what the kernel's string() does to a string
// built by a %p extension or a print helper.
func padFrom(dst []byte, start int, sp fmtSpec) []byte {
	if sp.prec >= 0 && len(dst)-start > int(sp.prec) {
		dst = dst[:start+int(sp.prec)]
	}
	n := len(dst) - start
	pad := int(sp.width) - n
	if pad <= 0 {
		return dst
	}
	for i := 0; i < pad; i++ {
		dst = append(dst, ' ')
	}
	if sp.flags&flagLeft == 0 {
		copy(dst[start+pad:], dst[start:start+n])
		for i := start; i < start+pad; i++ {
			dst[i] = ' '
		}
	}
	return dst
}

// ptrExtSupported reports whether a %p extension can be printed.
func ptrExtSupported(ext string) bool {
	if ext == "" {
		return true
	}
	switch ext[0] {
	case 'x', 'K', 'S', 's', 'B', 'F', 'f', 'M', 'm', 'U', 'h', 'b':
		return true
	case 'I', 'i':
		return len(ext) >= 2 && (ext[1] == '4' || ext[1] == '6' || ext[1] == 'S')
	}
	return false
}

// ptrExtDerefs reports whether a %p extension prints the memory the
// pointer points to rather than the pointer.
func ptrExtDerefs(ext string) bool {
	if ext == "" {
		return false
	}
	switch ext[0] {
	case 'I', 'i', 'M', 'm', 'U', 'h', 'b':
		return true
	}
	return false
}

// appendPtr formats %p of an address.
func appendPtr(dst []byte, v uint64, sp fmtSpec, longSize int, syms *Symbols) []byte {
	if longSize == 4 {
		v &= 0xffffffff
	}
	var x byte
	if sp.ext != "" {
		x = sp.ext[0]
	}
	switch x {
	case 'S', 's', 'B', 'F', 'f':
		start := len(dst)
		dst = appendSym(dst, v, x, syms)
		return padFrom(dst, start, sp)
	case 0, 'x', 'K':
		// With hash-ptr off the kernel turns %p into %px: pointer_string.
		if sp.width < 0 {
			sp.width = int32(2 * longSize)
			sp.flags |= flagZero
		}
		return appendKNumber(dst, v, false, 16, true, sp)
	}
	if ptrExtDerefs(sp.ext) {
		s := "(efault)"
		if v == 0 {
			s = "(null)"
		}
		if x == 'h' || x == 'b' {
			sp.width, sp.prec = -1, -1
		}
		return appendStrString(dst, s, sp)
	}
	if sp.width < 0 {
		sp.width = int32(2 * longSize)
		sp.flags |= flagZero
	}
	return appendKNumber(dst, v, false, 16, true, sp)
}

// appendSym is the kernel's sprint_symbol family: "sym+0xoff/0xsize [mod]"
// for S, B and F, "sym" for s and f, "0x<addr>" when no symbol matches.
func appendSym(dst []byte, v uint64, x byte, syms *Symbols) []byte {
	addr := v
	if x == 'B' {
		addr--
	}
	name, mod, off, size, ok := syms.Lookup(addr)
	if !ok || name == "" {
		dst = append(dst, "0x"...)
		return strconv.AppendUint(dst, v, 16)
	}
	if x == 'B' {
		off++
	}
	dst = append(dst, name...)
	if x != 's' && x != 'f' {
		dst = append(dst, "+0x"...)
		dst = appendHexU(dst, off)
		dst = append(dst, "/0x"...)
		dst = appendHexU(dst, size)
	}
	if mod != "" {
		dst = append(dst, " ["...)
		dst = append(dst, mod...)
		dst = append(dst, ']')
	}
	return dst
}

// appendPtrBytes formats a %p extension that reads memory, given that
// memory (b); absent bytes read as zero.
func appendPtrBytes(dst []byte, b []byte, sp fmtSpec, bigEndian bool, longSize int) []byte {
	ext := sp.ext
	if ext == "" {
		return appendPtr(dst, 0, sp, longSize, nil)
	}
	start := len(dst)
	switch ext[0] {
	case 'I', 'i':
		if len(ext) < 2 {
			break
		}
		switch ext[1] {
		case '4':
			var mod byte
			if len(ext) > 2 {
				mod = ext[2]
			}
			dst = appendIP4(dst, b, ext[0] == 'i', mod, bigEndian)
		case '6':
			if ext[0] == 'I' && len(ext) > 2 && ext[2] == 'c' {
				dst = appendIP6c(dst, b)
			} else {
				dst = appendIP6(dst, b, ext[0] == 'I')
			}
		case 'S':
			dst = appendSockaddr(dst, b, ext, bigEndian)
		}
		return padFrom(dst, start, sp)
	case 'M', 'm':
		sep, rev := byte(':'), false
		if ext[0] == 'm' {
			sep = 0
		}
		for _, c := range ext[1:] {
			switch c {
			case 'F':
				if sep != 0 {
					sep = '-'
				}
			case 'R':
				rev = true
			}
		}
		for i := 0; i < 6; i++ {
			j := i
			if rev {
				j = 5 - i
			}
			if i > 0 && sep != 0 {
				dst = append(dst, sep)
			}
			dst = appendHexByte(dst, byteAt(b, j), hexLower)
		}
		return padFrom(dst, start, sp)
	case 'U':
		idx := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
		digits := hexLower
		if len(ext) > 1 {
			switch ext[1] {
			case 'L':
				digits = hexUpper
				idx = [16]byte{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
			case 'l':
				idx = [16]byte{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
			case 'B':
				digits = hexUpper
			}
		}
		for i := 0; i < 16; i++ {
			dst = appendHexByte(dst, byteAt(b, int(idx[i])), digits)
			if i == 3 || i == 5 || i == 7 || i == 9 {
				dst = append(dst, '-')
			}
		}
		return padFrom(dst, start, sp)
	case 'h':
		if sp.width == 0 {
			return dst
		}
		n := int(sp.width)
		if n < 0 {
			n = 1
		}
		if n > 64 {
			n = 64
		}
		sep := byte(' ')
		if len(ext) > 1 {
			switch ext[1] {
			case 'C':
				sep = ':'
			case 'D':
				sep = '-'
			case 'N':
				sep = 0
			}
		}
		for i := 0; i < n; i++ {
			if i > 0 && sep != 0 {
				dst = append(dst, sep)
			}
			dst = appendHexByte(dst, byteAt(b, i), hexLower)
		}
		return dst
	case 'b':
		nbits := int(sp.width)
		if nbits < 0 {
			nbits = 0
		}
		if len(ext) > 1 && ext[1] == 'l' {
			return appendBitmapList(dst, b, nbits, bigEndian, longSize)
		}
		return appendBitmap(dst, b, nbits, bigEndian, longSize)
	}
	return appendPtr(dst, 0, sp, longSize, nil)
}

func byteAt(b []byte, i int) byte {
	if i >= 0 && i < len(b) {
		return b[i]
	}
	return 0
}

func appendHexByte(dst []byte, c byte, digits string) []byte {
	return append(dst, digits[c>>4], digits[c&15])
}

// appendIP4 is ip4_string: mod is the byte-order letter (h l n b) if any.
func appendIP4(dst []byte, b []byte, leadingZeros bool, mod byte, bigEndian bool) []byte {
	idx, step := 0, 1
	switch mod {
	case 'h':
		if !bigEndian {
			idx, step = 3, -1
		}
	case 'l':
		idx, step = 3, -1
	}
	for i := 0; i < 4; i++ {
		if i > 0 {
			dst = append(dst, '.')
		}
		c := byteAt(b, idx)
		if leadingZeros {
			dst = append(dst, '0'+c/100, '0'+c/10%10, '0'+c%10)
		} else {
			dst = strconv.AppendUint(dst, uint64(c), 10)
		}
		idx += step
	}
	return dst
}

// appendIP6 is ip6_string: eight groups of four hex digits, with colons
// for %pI6 and without for %pi6.
func appendIP6(dst []byte, b []byte, colons bool) []byte {
	for i := 0; i < 8; i++ {
		dst = appendHexByte(dst, byteAt(b, 2*i), hexLower)
		dst = appendHexByte(dst, byteAt(b, 2*i+1), hexLower)
		if colons && i != 7 {
			dst = append(dst, ':')
		}
	}
	return dst
}

// appendIP6c is the kernel's ip6_compressed_string: the longest run of
// two or more zero groups becomes "::", and IPv4-mapped and ISATAP
// addresses end in dotted quad.
func appendIP6c(dst []byte, b []byte) []byte {
	var a [16]byte
	for i := range a {
		a[i] = byteAt(b, i)
	}
	word := func(i int) uint16 { return uint16(a[2*i])<<8 | uint16(a[2*i+1]) }
	v4mapped := a[0]|a[1]|a[2]|a[3]|a[4]|a[5]|a[6]|a[7]|a[8]|a[9] == 0 && a[10] == 0xff && a[11] == 0xff
	isatap := (a[8]|0x02) == 0x02 && a[9] == 0 && a[10] == 0x5e && a[11] == 0xfe
	useV4 := v4mapped || isatap
	rng := 8
	if useV4 {
		rng = 6
	}
	var zl [8]int
	for i := 0; i < rng; i++ {
		for j := i; j < rng; j++ {
			if word(j) != 0 {
				break
			}
			zl[i]++
		}
	}
	longest, colonpos := 1, -1
	for i := 0; i < rng; i++ {
		if zl[i] > longest {
			longest, colonpos = zl[i], i
		}
	}
	needColon := false
	for i := 0; i < rng; i++ {
		if i == colonpos {
			if needColon || i == 0 {
				dst = append(dst, ':')
			}
			dst = append(dst, ':')
			needColon = false
			i += longest - 1
			continue
		}
		if needColon {
			dst = append(dst, ':')
		}
		w := word(i)
		hi, lo := byte(w>>8), byte(w)
		if hi != 0 {
			if hi > 0x0f {
				dst = appendHexByte(dst, hi, hexLower)
			} else {
				dst = append(dst, hexLower[hi])
			}
			dst = appendHexByte(dst, lo, hexLower)
		} else if lo > 0x0f {
			dst = appendHexByte(dst, lo, hexLower)
		} else {
			dst = append(dst, hexLower[lo])
		}
		needColon = true
	}
	if useV4 {
		if needColon {
			dst = append(dst, ':')
		}
		dst = appendIP4(dst, a[12:], false, 0, true)
	}
	return dst
}

// appendSockaddr is ip_addr_string for %pIS/%piS: the address family
// (native order) at offset 0 selects sockaddr_in or sockaddr_in6; the
// letters after 'S' add the port (p), flow info (f), scope (s) or ask for
// compression (c).
func appendSockaddr(dst []byte, b []byte, ext string, bigEndian bool) []byte {
	var fam uint16
	if len(b) >= 2 {
		if bigEndian {
			fam = binary.BigEndian.Uint16(b)
		} else {
			fam = binary.LittleEndian.Uint16(b)
		}
	}
	var haveP, haveS, haveF, haveC bool
	var mod4 byte
	for i := 2; i < len(ext); i++ {
		switch ext[i] {
		case 'p':
			haveP = true
		case 'f':
			haveF = true
		case 's':
			haveS = true
		case 'c':
			haveC = true
		case 'h', 'l', 'n', 'b':
			mod4 = ext[i]
		}
	}
	be16 := func(off int) uint64 { return uint64(byteAt(b, off))<<8 | uint64(byteAt(b, off+1)) }
	switch fam {
	case 2: // AF_INET
		var addr []byte
		if len(b) > 4 {
			addr = b[4:]
		}
		dst = appendIP4(dst, addr, ext[0] == 'i', mod4, bigEndian)
		if haveP {
			dst = append(dst, ':')
			dst = strconv.AppendUint(dst, be16(2), 10)
		}
		return dst
	case 10: // AF_INET6
		var addr []byte
		if len(b) > 8 {
			addr = b[8:]
		}
		br := haveP || haveS || haveF
		if br {
			dst = append(dst, '[')
		}
		if ext[0] == 'I' && haveC {
			dst = appendIP6c(dst, addr)
		} else {
			dst = appendIP6(dst, addr, ext[0] == 'I')
		}
		if br {
			dst = append(dst, ']')
		}
		if haveP {
			dst = append(dst, ':')
			dst = strconv.AppendUint(dst, be16(2), 10)
		}
		if haveF {
			dst = append(dst, '/')
			fl := uint64(byteAt(b, 4))<<24 | uint64(byteAt(b, 5))<<16 | uint64(byteAt(b, 6))<<8 | uint64(byteAt(b, 7))
			dst = strconv.AppendUint(dst, fl&0x0fffffff, 10)
		}
		if haveS {
			dst = append(dst, '%')
			var scope uint64
			if len(b) >= 28 {
				if bigEndian {
					scope = uint64(binary.BigEndian.Uint32(b[24:]))
				} else {
					scope = uint64(binary.LittleEndian.Uint32(b[24:]))
				}
			}
			dst = strconv.AppendUint(dst, scope, 10)
		}
		return dst
	}
	return append(dst, "(einval)"...)
}

// bitmapWord reads long number w of a bitmap, zero when out of range.
func bitmapWord(b []byte, w int, bigEndian bool, longSize int) uint64 {
	off := w * longSize
	if off < 0 || off+longSize > len(b) {
		return 0
	}
	if longSize == 4 {
		if bigEndian {
			return uint64(binary.BigEndian.Uint32(b[off:]))
		}
		return uint64(binary.LittleEndian.Uint32(b[off:]))
	}
	if bigEndian {
		return binary.BigEndian.Uint64(b[off:])
	}
	return binary.LittleEndian.Uint64(b[off:])
}

// appendBitmap is the kernel's bitmap_string (%*pb): 32-bit hex chunks,
// most significant first, separated by commas; the first chunk is only as
// wide as the bits it holds.
func appendBitmap(dst []byte, b []byte, nbits int, bigEndian bool, longSize int) []byte {
	if nbits > len(b)*8+64 {
		nbits = len(b)*8 + 64 // beyond the data every chunk is zero anyway
	}
	chunksz := nbits & 31
	if chunksz == 0 {
		chunksz = 32
	}
	bpl := longSize * 8
	first := true
	for i := (nbits+31)&^31 - 32; i >= 0; i -= 32 {
		mask := uint64(1)<<uint(chunksz) - 1
		val := (bitmapWord(b, i/bpl, bigEndian, longSize) >> uint(i%bpl)) & mask
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendKNumber(dst, val, false, 16, true, fmtSpec{flags: flagZero, width: int32((chunksz + 3) / 4), prec: -1})
		chunksz = 32
	}
	return dst
}

// appendBitmapList is bitmap_list_string (%*pbl): ranges like "0-3,8".
func appendBitmapList(dst []byte, b []byte, nbits int, bigEndian bool, longSize int) []byte {
	if nbits > len(b)*8 {
		nbits = len(b) * 8
	}
	bpl := longSize * 8
	bit := func(i int) bool { return bitmapWord(b, i/bpl, bigEndian, longSize)>>uint(i%bpl)&1 != 0 }
	first := true
	for i := 0; i < nbits; {
		if !bit(i) {
			i++
			continue
		}
		j := i
		for j < nbits && bit(j) {
			j++
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = strconv.AppendInt(dst, int64(i), 10)
		if j != i+1 {
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(j-1), 10)
		}
		i = j
	}
	return dst
}
