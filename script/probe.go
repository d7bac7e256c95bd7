package script

import (
	"strings"
)

// prefixes maps every provider spelling bpftrace accepts to its kind.
var prefixes = map[string]ProbeKind{
	"BEGIN": KindBegin, "END": KindEnd,
	"tracepoint": KindTracepoint, "t": KindTracepoint,
	"kprobe": KindKprobe, "k": KindKprobe,
	"kretprobe": KindKretprobe, "kr": KindKretprobe,
	"uprobe": KindUprobe, "u": KindUprobe,
	"uretprobe": KindUretprobe, "ur": KindUretprobe,
	"usdt": KindUSDT, "U": KindUSDT,
	"interval": KindInterval, "i": KindInterval,
	"profile": KindProfile, "p": KindProfile,
	"software": KindSoftware, "s": KindSoftware,
	"hardware": KindHardware, "h": KindHardware,
	"watchpoint": KindWatchpoint, "w": KindWatchpoint,
	"asyncwatchpoint": KindAsyncWatchpoint, "aw": KindAsyncWatchpoint,
	"kfunc": KindKfunc, "f": KindKfunc, "fentry": KindKfunc,
	"kretfunc": KindKretfunc, "fr": KindKretfunc, "fexit": KindKretfunc,
	"rawtracepoint": KindRawTracepoint, "rt": KindRawTracepoint,
	"iter": KindIter, "it": KindIter,
}

// splitSpec splits a probe spec at the colons outside double quotes and
// removes the quotes, which bpftrace allows around paths and symbols.
func splitSpec(raw string) ([]string, bool) {
	var parts []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '"':
			quoted = !quoted
		case c == ':' && !quoted:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	parts = append(parts, b.String())
	return parts, !quoted
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// parseAttachPoint splits one spec (as written, at pos) into an
// AttachPoint. Errors here are about the spec's shape; whether tracer can
// attach it at all is the checker's call, so refused kinds parse too.
func parseAttachPoint(raw string, pos Pos) (*AttachPoint, *Error) {
	ap := &AttachPoint{Pos: pos, Raw: raw}
	parts, ok := splitSpec(raw)
	if !ok {
		return nil, errorf(pos, "unterminated string in probe %q", raw)
	}
	kind, known := prefixes[parts[0]]
	if !known {
		if len(parts) == 1 {
			return nil, errorf(pos, "unknown probe %q: expected PROVIDER:..., BEGIN or END", raw)
		}
		return nil, errorf(pos, "unknown probe type %q in %q", parts[0], raw)
	}
	ap.Kind, ap.Prefix = kind, parts[0]
	args := parts[1:]
	empty := func() bool {
		for _, a := range args {
			if a == "" {
				return true
			}
		}
		return false
	}
	shape := func(form string) *Error {
		return errorf(pos, "malformed %s probe %q: expected %s", kind, raw, form)
	}
	switch kind {
	case KindBegin, KindEnd:
		if len(args) != 0 {
			return nil, errorf(pos, "probe %s takes no arguments: %q", kind, raw)
		}
	case KindTracepoint:
		if len(args) != 2 || empty() {
			return nil, shape(ap.Prefix + ":SYSTEM:EVENT")
		}
		ap.Target, ap.Func = args[0], args[1]
		if !validName(ap.Target) || !validName(ap.Func) {
			return nil, errorf(pos, "invalid tracepoint name %q: system and event are names or globs", raw)
		}
	case KindKprobe, KindKretprobe:
		if len(args) == 2 && args[0] != "" {
			ap.Target, args = args[0], args[1:] // kprobe:MODULE:FUNC
		}
		if len(args) != 1 || empty() {
			return nil, shape(ap.Prefix + ":FUNCTION")
		}
		fn := args[0]
		if kind == KindKprobe {
			var err *Error
			if fn, ap.Offset, err = splitOffset(fn, pos, raw); err != nil {
				return nil, err
			}
		}
		if !validName(fn) {
			return nil, errorf(pos, "invalid function name %q in %q", fn, raw)
		}
		ap.Func = fn
	case KindUprobe, KindUretprobe:
		if len(args) != 2 || empty() {
			return nil, shape(ap.Prefix + ":BINARY:SYMBOL or " + ap.Prefix + ":BINARY:0xADDRESS")
		}
		ap.Target = args[0]
		sym := args[1]
		if strings.HasPrefix(sym, "0x") || strings.HasPrefix(sym, "0X") || allDigits(sym) {
			v, ok := parseIntLit(sym)
			if !ok {
				return nil, errorf(pos, "invalid address %q in %q", sym, raw)
			}
			ap.Address, ap.HasAddr = v, true
			break
		}
		if kind == KindUprobe {
			var err *Error
			if sym, ap.Offset, err = splitOffset(sym, pos, raw); err != nil {
				return nil, err
			}
		}
		ap.Func = sym
	case KindUSDT:
		switch {
		case len(args) == 2 && !empty():
			ap.Target, ap.Func = args[0], args[1]
		case len(args) == 3 && args[0] != "" && args[2] != "":
			ap.Target, ap.Provider, ap.Func = args[0], args[1], args[2]
		default:
			return nil, shape("usdt:BINARY:[PROVIDER:]NAME")
		}
	case KindInterval, KindProfile:
		if len(args) != 2 || empty() {
			return nil, shape(ap.Prefix + ":UNIT:N with UNIT s, ms, us or hz")
		}
		switch args[0] {
		case "s", "ms", "us", "hz":
		default:
			return nil, errorf(pos, "unknown %s unit %q in %q: expected s, ms, us or hz", kind, args[0], raw)
		}
		v, ok := parseIntLit(args[1])
		if !ok || v == 0 {
			return nil, errorf(pos, "invalid %s period %q in %q: expected a positive integer", kind, args[1], raw)
		}
		ap.Unit, ap.Period = args[0], v
	default:
		// Refused kinds: keep what is there for the message.
		if len(args) > 0 {
			ap.Target = args[0]
			ap.Func = args[len(args)-1]
		}
	}
	return ap, nil
}

// splitOffset splits FUNC+OFF.
func splitOffset(s string, pos Pos, raw string) (string, uint64, *Error) {
	fn, off, ok := strings.Cut(s, "+")
	if !ok {
		return s, 0, nil
	}
	v, vok := parseIntLit(off)
	if !vok || fn == "" {
		return "", 0, errorf(pos, "invalid offset %q in %q", off, raw)
	}
	return fn, v, nil
}

// validName accepts identifiers with glob characters (and the dots of
// some kernel symbols such as foo.isra.0).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isIdentChar(c) && !strings.ContainsRune("*?[]!.-", rune(c)) {
			return false
		}
	}
	return true
}
