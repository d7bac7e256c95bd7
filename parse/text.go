package parse

import "strconv"

// Kernel text rendering: one record exactly as the kernel's trace and
// trace_pipe files print it with the default options (irq-info on,
// print-parent on, no sym-offset, no latency-format, no record-tgid):
//
//	<comm:%16s>-<pid:%-7d> [<cpu:%03d>] <lat:5 chars> <secs:%5lu>.<usecs:%06lu>: <name>: <body>\n
//
// (trace_print_context and trace_print_lat_fmt in kernel/trace/trace_output.c).
// Events the kernel prints with dedicated code (ftrace internal events and
// syscalls, see special.go) have no "name: " part; events whose print fmt
// cannot be compiled are printed like the kernel's options/fields mode
// (print_fields).
//
// Renderers append to a caller's buffer and allocate nothing per record;
// the only allocation is the print fmt compilation on an event's first use,
// which Compile does up front.

// failedPrinter marks a schema whose print fmt did not compile: it is
// printed in the fields layout.
var failedPrinter = new(printer)

// Compile compiles the print fmt of every registered schema, so that the
// decoder is read-only afterwards and may be shared by goroutines that
// render records. It reports how many schemas got a compiled printer and
// how many fall back to the fields layout. Events printed by dedicated code
// count as compiled. Call it again after adding schemas.
func (d *Decoder) Compile() (compiled, fallback int) {
	for _, s := range d.schemas {
		if s == nil {
			continue
		}
		if s.special.dedicated() {
			compiled++
			continue
		}
		if d.printerFor(s) == failedPrinter {
			fallback++
		} else {
			compiled++
		}
	}
	return compiled, fallback
}

// printerFor returns the schema's compiled printer, compiling it on first
// use; failedPrinter when it does not compile.
func (d *Decoder) printerFor(s *Schema) *printer { return s.compiledPrinter() }

// compiledPrinter compiles the print fmt on first use and keeps the
// printer, or failedPrinter and the reason (PrintError).
func (s *Schema) compiledPrinter() *printer {
	if p := s.printer; p != nil {
		return p
	}
	p, err := compilePrint(s)
	if err == nil && p == nil {
		err = cerr(0, "print fmt compiled to nothing")
	}
	if err != nil {
		p = failedPrinter
		where := "print fmt of " + s.System + "/" + s.Name
		if ce, ok := err.(*compileError); ok {
			// Off is a byte offset into PrintFmt.
			s.printErr = &FormatError{Where: where, Off: ce.pos, Msg: ce.msg, Err: ErrSyntax}
		} else {
			s.printErr = &FormatError{Where: where, Off: -1, Msg: err.Error(), Err: ErrSyntax}
		}
	}
	s.printer = p
	return p
}

// PrintError says why records of s print in the fields layout (the
// kernel's options/fields mode) rather than by their print fmt: the
// *FormatError of compiling it, with the byte offset into PrintFmt. It is
// nil when the print fmt compiled or the kernel prints the event with
// dedicated code. It compiles the print fmt if needed, like a first
// rendering (so the Decoder's serialisation rule applies).
func (s *Schema) PrintError() error {
	if s == nil || s.special.dedicated() {
		return nil
	}
	if s.compiledPrinter() != failedPrinter {
		return nil
	}
	if s.printErr == nil {
		// Marked failed without a compilation (tests force the fields
		// layout so): still an error, never nil for a fallback.
		s.printErr = &FormatError{Where: "print fmt of " + s.System + "/" + s.Name, Off: -1, Msg: "not compiled", Err: ErrSyntax}
	}
	return s.printErr
}

// Fallback reports whether records of s print in the fields layout because
// its print fmt did not compile (s.PrintError says why). It compiles the
// print fmt if needed.
func (d *Decoder) Fallback(s *Schema) bool { return s.PrintError() != nil }

// AppendText appends rec as one line (or, for stack traces, a few lines)
// of the kernel's trace text, newline included, and returns the extended
// buffer. Lost-event items print as the kernel's "CPU:N [LOST n EVENTS]"
// line; a record of an unknown event ID as "Unknown type N" after the
// usual prefix.
func (d *Decoder) AppendText(dst []byte, rec *Record) []byte {
	if rec.Kind == ItemLost {
		return appendLostText(dst, rec)
	}
	dst = d.appendContext(dst, rec)
	s := rec.Schema
	if s == nil {
		dst = append(dst, "Unknown type "...)
		dst = strconv.AppendInt(dst, int64(rec.Type), 10)
		return append(dst, '\n')
	}
	if s.special.dedicated() {
		return d.appendSpecial(dst, rec, s)
	}
	p := d.printerFor(s)
	if p == failedPrinter {
		return d.appendFields(dst, rec, s)
	}
	dst = append(dst, s.Name...)
	if s.eprobeTarget != "" {
		dst = appendEprobeHead(dst, s) // print_eprobe_event: "NAME: (SYSTEM.EVENT)"
	} else {
		dst = append(dst, ':', ' ')
	}
	// The kernel's generated output function adds the newline after the
	// print fmt ("fmt\n"), whatever the body ends with.
	dst = p.appendBody(dst, rec, d)
	return append(dst, '\n')
}

func appendLostText(dst []byte, rec *Record) []byte {
	// print_trace_line in kernel/trace/trace.c.
	dst = append(dst, "CPU:"...)
	dst = strconv.AppendInt(dst, int64(rec.CPU), 10)
	if !rec.LostKnown {
		return append(dst, " [LOST EVENTS]\n"...)
	}
	dst = append(dst, " [LOST "...)
	dst = strconv.AppendUint(dst, rec.Lost, 10)
	return append(dst, " EVENTS]\n"...)
}

// endLine makes sure a rendered record ends with a newline.
func endLine(dst []byte) []byte {
	if len(dst) == 0 || dst[len(dst)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return dst
}

// commonFields returns pid, flags and preempt count. For a record of an
// unknown ID they are read at the offsets every kernel since 2.6.32 uses.
func commonFields(rec *Record) (pid int, flags, pc uint8) {
	if s := rec.Schema; s != nil {
		if s.stdCommon && len(rec.Data) >= 8 {
			d := rec.Data[:8]
			var v uint32
			if rec.bigEndian {
				v = uint32(d[4])<<24 | uint32(d[5])<<16 | uint32(d[6])<<8 | uint32(d[7])
			} else {
				v = uint32(d[4]) | uint32(d[5])<<8 | uint32(d[6])<<16 | uint32(d[7])<<24
			}
			return int(int32(v)), d[2], d[3]
		}
		return rec.PID(), rec.Flags(), rec.PreemptCount()
	}
	if len(rec.Data) < 8 {
		return -1, 0, 0
	}
	v, _ := rec.readUint(4, 4)
	return int(int32(v)), rec.Data[2], rec.Data[3]
}

// commFor returns the command name the kernel would print for pid
// (trace_find_cmdline): "<idle>" for 0, "<XXX>" for a negative pid, the
// saved comm, or "<...>".
func (d *Decoder) commFor(pid int) (string, bool) {
	if pid < 0 {
		return "<XXX>", false
	}
	if c, ok := d.Comms.Lookup(pid); ok {
		return EscapeText(c), true // a newline or ESC must not split the line
	}
	return "<...>", false
}

// contextMax is the most bytes appendContext writes after the comm and its
// padding: "-" pid(7) " [" cpu(3) "] " lat(5) " " secs(up to 20) "."
// usecs(6) ": ".
const contextMax = 1 + 7 + 2 + 3 + 2 + 5 + 1 + 20 + 1 + 6 + 2

func (d *Decoder) appendContext(dst []byte, rec *Record) []byte {
	pid, flags, pc := commonFields(rec)
	cpu := rec.CPU
	if uint(pid) >= 10000000 || uint(cpu) >= 1000 || d.latStyle >= latNoMigrate || !d.nsClock {
		comm, _ := d.commFor(pid)
		return d.appendContextSlow(dst, rec, pid, flags, pc, comm)
	}
	// The common case, written in place: "%16s-%-7d [%03d] " then the
	// latency columns and " %5lu.%06lu: ". The saved comms carry their
	// "%16s-%-7d" ready made.
	var head *[commHeadLen]byte
	comm := ""
	if pid == 0 {
		head = &idleHead
	} else if c := d.Comms; c != nil {
		if e := c.slot(int32(pid)); e != nil && e.hasHead {
			head = &e.head
		}
	}
	if head == nil {
		comm, _ = d.commFor(pid)
	}
	n := len(dst)
	need := max(16, len(comm)) + contextMax
	if cap(dst)-n < need {
		dst = append(dst[:cap(dst)], make([]byte, need)...)[:n]
	}
	b := dst[n : n+need]
	i := 0
	if head != nil {
		copy(b[:commHeadLen], head[:])
		i = commHeadLen
	} else {
		if len(comm) < 16 {
			i = 16 - len(comm)
			copy(b[:16], "                ")
		}
		i += copy(b[i:], comm)
		b[i] = '-'
		i++
		copy(b[i:i+8], "        ")
		l := decLen(uint64(pid))
		putDigits(b[i:i+l], uint64(pid))
		i += max(l, 7)
	}
	c := uint32(cpu)
	lat := &latTab[d.latStyle][flags]
	b = b[i:]
	_ = b[14]
	b[0], b[1] = ' ', '['
	b[2] = byte('0' + c/100)
	b[3] = digits2[2*(c%100)]
	b[4] = digits2[2*(c%100)+1]
	b[5], b[6] = ']', ' '
	b[7], b[8], b[9] = lat[0], lat[1], lat[2]
	b[10], b[11] = '.', '.'
	if pc&0xf != 0 {
		b[10] = hexDigits[pc&0xf]
	}
	if pc&0xf0 != 0 {
		b[11] = hexDigits[pc>>4]
	}
	b[12] = ' '
	i += 13
	us := (rec.TS + 500) / 1000
	secs := us / 1000000
	frac := uint32(us - secs*1000000)
	b = dst[n+i : n+need]
	k := 0
	l := decLen(secs)
	if l < 5 {
		copy(b[:4], "    ")
		k = 5 - l
	}
	putDigits(b[k:k+l], secs)
	k += l
	b = b[k:]
	_ = b[8]
	b[0] = '.'
	hi, mid, lo := frac/10000, frac/100%100, frac%100
	b[1], b[2] = digits2[2*hi], digits2[2*hi+1]
	b[3], b[4] = digits2[2*mid], digits2[2*mid+1]
	b[5], b[6] = digits2[2*lo], digits2[2*lo+1]
	b[7], b[8] = ':', ' '
	return dst[:n+i+k+9]
}

func (d *Decoder) appendContextSlow(dst []byte, rec *Record, pid int, flags, pc uint8, comm string) []byte {
	// "%16s-%-7d [%03d] "
	dst = appendPad(dst, 16-len(comm))
	dst = append(dst, comm...)
	dst = append(dst, '-')
	n := len(dst)
	dst = strconv.AppendInt(dst, int64(pid), 10)
	dst = appendPad(dst, 7-(len(dst)-n))
	dst = append(dst, ' ', '[')
	dst = appendZeroPadInt(dst, int64(rec.CPU), 3)
	dst = append(dst, ']', ' ')
	dst = appendLatFmt(dst, flags, pc, d.latStyle)
	dst = d.appendTime(dst, rec.TS)
	return append(dst, ':', ' ')
}

// appendTime appends " %5lu.%06lu" (microseconds rounded, as ns2usecs
// does) for nanosecond clocks and " %12llu" for counters.
func (d *Decoder) appendTime(dst []byte, ts uint64) []byte {
	dst = append(dst, ' ')
	if !d.nsClock {
		return appendUintWidth(dst, ts, 12)
	}
	us := (ts + 500) / 1000
	dst = appendUintWidth(dst, us/1000000, 5)
	dst = append(dst, '.')
	return appendZeroPadUint(dst, us%1000000, 6)
}

// Flag bits of common_flags (include/linux/trace_events.h, 6.13+).
const (
	flagIRQsOff         = 0x01
	flagNeedReschedLazy = 0x02 // IRQS_NOSUPPORT before 6.13
	flagNeedResched     = 0x04
	flagHardIRQ         = 0x08
	flagSoftIRQ         = 0x10
	flagPreemptResched  = 0x20
	flagNMI             = 0x40
	flagBHOff           = 0x80
)

// latStyle is the layout of the latency columns, which changed with the
// kernel: the migrate-disable column came in 5.13, and bit 0x02 changed
// from IRQS_NOSUPPORT to NEED_RESCHED_LAZY in 6.13.
type latStyle uint8

const (
	latCurrent   latStyle = iota // 6.13+
	latNoLazy                    // 5.13 .. 6.12
	latNoMigrate                 // before 5.13: four columns
)

// SetKernelRelease tells the decoder which kernel wrote the records (as
// uname -r prints it), for the parts of the text whose layout changed
// between kernels. Without it the newest layout is used.
func (d *Decoder) SetKernelRelease(release string) {
	var v [2]int
	n := 0
	for i := 0; i < len(release) && n < 2; i++ {
		c := release[i]
		switch {
		case c >= '0' && c <= '9':
			v[n] = v[n]*10 + int(c-'0')
		case c == '.':
			n++
		default:
			n = 2
		}
	}
	ver := v[0]*1000 + v[1]
	switch {
	case ver != 0 && ver < 6017:
		// print_syscall_enter printed bare %lx until "0x" and small
		// decimals came in 6.17 (seen: 6.1 and 6.12 bare, 6.18 new).
		d.sysStyle = sysBareHex
	case ver != 0 && ver < 7000:
		d.sysStyle = sysSmallDec
	default:
		// User-space arrays (write's buf) are followed by their
		// printable text. Seen in 7.2; 6.19's source lacks it. The
		// release in between is not verified: 7.0 is assumed.
		d.sysStyle = sysArrayText
	}
	switch {
	case ver == 0 || ver >= 6013:
		d.latStyle = latCurrent
	case ver >= 5013:
		d.latStyle = latNoLazy
	default:
		d.latStyle = latNoMigrate
	}
}

// appendLatFmt appends the five latency characters of trace_print_lat_fmt
// (6.13+): irqs-off, need-resched, hardirq/softirq, preempt depth and
// migrate-disable depth. Bit 0x02 is read as NEED_RESCHED_LAZY; kernels
// before 6.13 used it for IRQS_NOSUPPORT (printed 'X'), set only on
// architectures without irqflags tracing.
func appendLatFmt(dst []byte, flags, pc uint8, style latStyle) []byte {
	if style >= latNoMigrate {
		return appendLatFmtSlow(dst, flags, pc, style)
	}
	lat := &latTab[style][flags]
	c4, c5 := byte('.'), byte('.')
	if pc&0xf != 0 {
		c4 = hexDigits[pc&0xf]
	}
	if pc&0xf0 != 0 {
		c5 = hexDigits[pc>>4]
	}
	return append(dst, lat[0], lat[1], lat[2], c4, c5)
}

func appendLatFmtSlow(dst []byte, flags, pc uint8, style latStyle) []byte {
	bh := flags&flagBHOff != 0
	irqs := flags&flagIRQsOff != 0
	switch {
	case irqs && bh:
		dst = append(dst, 'D')
	case irqs:
		dst = append(dst, 'd')
	case bh:
		dst = append(dst, 'b')
	case style != latCurrent && flags&flagNeedReschedLazy != 0:
		dst = append(dst, 'X') // IRQS_NOSUPPORT before 6.13
	default:
		dst = append(dst, '.')
	}
	if style != latCurrent {
		flags &^= flagNeedReschedLazy
	}
	var nr byte
	switch flags & (flagNeedResched | flagNeedReschedLazy | flagPreemptResched) {
	case flagNeedResched | flagNeedReschedLazy | flagPreemptResched:
		nr = 'B'
	case flagNeedResched | flagPreemptResched:
		nr = 'N'
	case flagNeedReschedLazy | flagPreemptResched:
		nr = 'L'
	case flagNeedResched | flagNeedReschedLazy:
		nr = 'b'
	case flagNeedResched:
		nr = 'n'
	case flagPreemptResched:
		nr = 'p'
	case flagNeedReschedLazy:
		nr = 'l'
	default:
		nr = '.'
	}
	nmi, hard, soft := flags&flagNMI != 0, flags&flagHardIRQ != 0, flags&flagSoftIRQ != 0
	var hs byte
	switch {
	case nmi && hard:
		hs = 'Z'
	case nmi:
		hs = 'z'
	case hard && soft:
		hs = 'H'
	case hard:
		hs = 'h'
	case soft:
		hs = 's'
	default:
		hs = '.'
	}
	dst = append(dst, nr, hs)
	if style == latNoMigrate {
		// Before 5.13: one column, the whole preempt count in hex.
		if pc == 0 {
			return append(dst, '.')
		}
		return strconv.AppendUint(dst, uint64(pc), 16)
	}
	if pc&0xf != 0 {
		dst = append(dst, hexDigits[pc&0xf])
	} else {
		dst = append(dst, '.')
	}
	if pc&0xf0 != 0 {
		dst = append(dst, hexDigits[pc>>4])
	} else {
		dst = append(dst, '.')
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendPad appends n spaces (nothing if n <= 0).
func appendPad(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}

// appendUintWidth appends v right-aligned in width columns ("%*lu").
func appendUintWidth(dst []byte, v uint64, width int) []byte {
	n := len(dst)
	dst = strconv.AppendUint(dst, v, 10)
	return rightAlign(dst, n, width, ' ')
}

// appendZeroPadUint appends v zero-padded to width digits ("%0*lu").
func appendZeroPadUint(dst []byte, v uint64, width int) []byte {
	n := len(dst)
	dst = strconv.AppendUint(dst, v, 10)
	return rightAlign(dst, n, width, '0')
}

// appendZeroPadInt appends v zero-padded to width ("%0*d"), the sign
// before the zeros.
func appendZeroPadInt(dst []byte, v int64, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		width--
		n := len(dst)
		dst = strconv.AppendUint(dst, uint64(-v), 10)
		return rightAlign(dst, n, width, '0')
	}
	return appendZeroPadUint(dst, uint64(v), width)
}

// rightAlign shifts dst[start:] right with fill bytes so that it is at
// least width bytes long.
func rightAlign(dst []byte, start, width int, fill byte) []byte {
	l := len(dst) - start
	if l >= width {
		return dst
	}
	pad := width - l
	for i := 0; i < pad; i++ {
		dst = append(dst, 0)
	}
	copy(dst[start+pad:], dst[start:start+l])
	for i := start; i < start+pad; i++ {
		dst[i] = fill
	}
	return dst
}

// appendHex appends v in lower-case hex without prefix ("%lx").
func appendHex(dst []byte, v uint64) []byte { return appendHexU(dst, v) }

// append0x appends "0x%lx".
func append0x(dst []byte, v uint64) []byte {
	return appendHexU(append(dst, '0', 'x'), v)
}
