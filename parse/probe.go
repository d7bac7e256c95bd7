package parse

import (
	"regexp"
)

// Dynamic probe events (kprobes, kretprobes, uprobes, uretprobes) are
// printed by dedicated code in the kernel (print_kprobe_event,
// print_kretprobe_event, print_uprobe_event), not by their print fmt: the
// head shows the probed address as a symbol for kprobes and as 0x-hex for
// uprobes, and a return probe shows "return address <- function", the
// reverse of the print fmt's order. The arguments that follow print as
// the print fmt says (their conversions come from the fetch types), so the
// rest of the print fmt is compiled on its own.

// probeHeadRE matches the head the kernel generates for probe events
// (__set_print_fmt in trace_probe.c) and the head arguments after it.
var probeHeadRE = regexp.MustCompile(`^"\(%lx( <- %lx)?\)(.*)",\s*REC->__probe_(?:ip|func)(?:,\s*REC->__probe_ret_ip)?\s*(?:,\s*(.*))?$`)

// probeKind tells entry from return probes, by their fields.
func probeKind(s *Schema) specialKind {
	var first, second string
	for i := range s.Fields {
		if s.Fields[i].IsCommon {
			continue
		}
		if first == "" {
			first = s.Fields[i].Name
		} else {
			second = s.Fields[i].Name
			break
		}
	}
	switch {
	case first == "__probe_ip":
		return specialProbe
	case first == "__probe_func" && second == "__probe_ret_ip":
		return specialRetProbe
	}
	return specialNone
}

// probeRest compiles the argument part of a probe event's print fmt, once.
// It returns nil when the print fmt is not the kernel's generated one; the
// caller then prints the head alone followed by the fields layout.
func (d *Decoder) probeRest(s *Schema) *printer {
	if s.probeRest != nil {
		return s.probeRest
	}
	p := failedPrinter
	if m := probeHeadRE.FindStringSubmatch(s.PrintFmt); m != nil {
		rest := `"` + m[2] + `"`
		if m[3] != "" {
			rest += ", " + m[3]
		}
		clone := *s
		clone.PrintFmt = rest
		clone.printer, clone.probeRest = nil, nil
		if q, err := compilePrint(&clone); err == nil && q != nil {
			p = q
		}
	}
	s.probeRest = p
	return p
}

// isKernelAddr tells a kprobe's address from a uprobe's: kernel text lies
// in the top half of the address space on every architecture Linux runs
// tracing on, user text below it.
func isKernelAddr(addr uint64, longSize int) bool {
	if longSize == 4 {
		return addr >= 0x80000000
	}
	return addr >= 1<<63
}

// appendProbe prints a probe event's line after the context prefix.
func (d *Decoder) appendProbe(dst []byte, rec *Record, s *Schema) []byte {
	dst = append(dst, s.Name...)
	dst = append(dst, ':', ' ', '(')
	var ip, fn uint64
	if s.special == specialProbe {
		ip = rec.Uint(s.FieldIndex("__probe_ip"))
	} else {
		fn = rec.Uint(s.FieldIndex("__probe_func"))
		ip = rec.Uint(s.FieldIndex("__probe_ret_ip"))
	}
	kernel := isKernelAddr(ip, rec.longSize)
	if kernel {
		dst = d.appendIPSymOffset(dst, ip)
	} else {
		dst = append0x(dst, ip)
	}
	if s.special == specialRetProbe {
		dst = append(dst, " <- "...)
		if kernel {
			dst = d.appendIPSym(dst, fn)
		} else {
			dst = append0x(dst, fn)
		}
	}
	dst = append(dst, ')')
	p := d.probeRest(s)
	if p == failedPrinter {
		return append(dst, '\n')
	}
	dst = p.appendBody(dst, rec, d)
	return append(dst, '\n')
}

// appendIPSymOffset prints seq_print_ip_sym with sym-offset:
// "sym+0xoff/0xsize", "0" for 0, or "0x%08lx" when no symbol is known.
func (d *Decoder) appendIPSymOffset(dst []byte, ip uint64) []byte {
	if ip == 0 {
		return append(dst, '0')
	}
	if _, _, _, _, ok := d.kernelSym(ip); ok {
		return d.appendSymOffset(dst, ip)
	}
	dst = append(dst, '0', 'x')
	return appendHexWidth(dst, ip, 8)
}

// Event probes (eprobes) are printed by print_eprobe_event in
// kernel/trace/trace_eprobe.c: "NAME: (SYSTEM.EVENT)" and then the fetch
// args, which print as the generated print fmt says (it begins with the
// space before the first argument, and is "" without arguments). Their
// format file has no field that tells them apart from other events, nor
// the event they are attached to: whoever knows (tracefs, from
// dynamic_events) says so with SetEprobeTarget. Without it, an eprobe
// prints like any event, "NAME:  ARGS", as trace-cmd prints it.

// maxEprobeTarget bounds SYSTEM.EVENT: two kernel event names of at most
// 64 bytes (MAX_EVENT_NAME_LEN) and the dot.
const maxEprobeTarget = 64 + 1 + 64

// SetEprobeTarget marks s as an eprobe attached to system:event, so that
// its text starts like the kernel's, "NAME: (SYSTEM.EVENT)". Names that
// are empty, too long or hold spaces or control characters are ignored:
// the text then stays the print fmt's.
func (s *Schema) SetEprobeTarget(system, event string) {
	t := system + "." + event
	if system == "" || event == "" || len(t) > maxEprobeTarget {
		return
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f || t[i] == '(' || t[i] == ')' {
			return
		}
	}
	s.eprobeTarget = t
}

// EprobeTarget returns "SYSTEM.EVENT" for an eprobe marked with
// SetEprobeTarget, else "".
func (s *Schema) EprobeTarget() string { return s.eprobeTarget }

// appendEprobeHead appends ": (SYSTEM.EVENT)" after the event name.
func appendEprobeHead(dst []byte, s *Schema) []byte {
	dst = append(dst, ':', ' ', '(')
	dst = append(dst, s.eprobeTarget...)
	return append(dst, ')')
}
