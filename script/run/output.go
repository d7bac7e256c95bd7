package run

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracer-dev/tracer/script"
)

// fmtPart is a literal run of a printf format or one conversion, in Go's
// fmt syntax, with how to convert its argument.
type fmtPart struct {
	lit  string
	verb string // Go format ("%-5d"); "" for a literal
	conv byte   // the C verb: d u x s c p
}

// parseFormat turns a C printf format into parts Go's fmt can print with
// the same output: length modifiers dropped, %u made unsigned, %p 0x-hex.
func parseFormat(f string) []fmtPart {
	var parts []fmtPart
	var lit strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			lit.WriteByte(f[i])
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-+ #0", f[j]) >= 0 {
			j++
		}
		for j < len(f) && (f[j] >= '0' && f[j] <= '9' || f[j] == '.') {
			j++
		}
		spec := f[i:j]
		for j < len(f) && strings.IndexByte("hlzjt", f[j]) >= 0 {
			j++
		}
		if j >= len(f) {
			lit.WriteString(f[i:])
			break
		}
		if lit.Len() > 0 {
			parts = append(parts, fmtPart{lit: lit.String()})
			lit.Reset()
		}
		c := f[j]
		goVerb := string(c)
		switch c {
		case 'i', 'u':
			goVerb = "d"
		case 'p':
			goVerb = "x"
		}
		parts = append(parts, fmtPart{verb: spec + goVerb, conv: c})
		i = j
	}
	if lit.Len() > 0 {
		parts = append(parts, fmtPart{lit: lit.String()})
	}
	return parts
}

func (k *compiler) printf(e *script.Call) execFn {
	lit, ok := e.Args[0].(*script.StrLit)
	if !ok {
		k.fail(e.Pos, "printf(): the format must be a string literal")
		return nil
	}
	parts := parseFormat(lit.Value)
	args := make([]evalFn, 0, len(e.Args)-1)
	for _, a := range e.Args[1:] {
		args = append(args, k.expr(a))
	}
	return func(c *Ctx) flow {
		rt := c.rt
		b := rt.scratch[:0]
		ai := 0
		for _, p := range parts {
			if p.verb == "" {
				b = append(b, p.lit...)
				continue
			}
			var v Value
			if ai < len(args) {
				v = args[ai](c)
			}
			ai++
			b = appendConv(b, p, v)
		}
		rt.scratch = b
		rt.emit("printf", b)
		return flowNext
	}
}

// appendConv prints one argument as C's printf would.
func appendConv(b []byte, p fmtPart, v Value) []byte {
	switch p.conv {
	case 's':
		if v.K == kStr {
			return fmt.Appendf(b, p.verb, v.S)
		}
		return fmt.Appendf(b, p.verb, strconv.FormatInt(v.I, 10))
	case 'c':
		return fmt.Appendf(b, p.verb, rune(byte(v.I)))
	case 'd', 'i':
		return fmt.Appendf(b, p.verb, v.I)
	case 'p':
		b = append(b, "0x"...)
		return fmt.Appendf(b, p.verb, uint64(v.I))
	}
	return fmt.Appendf(b, p.verb, uint64(v.I))
}

// emit writes text output, or one JSON line of the given type.
func (rt *Runtime) emit(typ string, text []byte) {
	if rt.opts.JSON {
		rt.buf = append(rt.buf, `{"type": "`...)
		rt.buf = append(rt.buf, typ...)
		rt.buf = append(rt.buf, `", "data": `...)
		rt.buf = appendJSONString(rt.buf, string(text))
		rt.buf = append(rt.buf, "}\n"...)
	} else {
		rt.buf = append(rt.buf, text...)
	}
	if err := rt.write(); err != nil && rt.werr == nil {
		rt.werr = err
	}
}

// table is table(FORMAT, TOP, @first, @more...): for each entry of
// @first, largest value first (the first TOP, all when TOP <= 0), one
// printf of FORMAT with the entry's keys, its value, then the value of
// each further map under the same keys (0 or "" where it has none). It
// prints BCC's tables (syscount's SYSCALL COUNT TIME), which bpftrace's
// one-map print cannot. Histograms cannot be table cells.
func (k *compiler) table(e *script.Call) execFn {
	lit, ok := e.Args[0].(*script.StrLit)
	if !ok {
		k.fail(e.Pos, "table(): the format must be a string literal")
		return nil
	}
	parts := parseFormat(lit.Value)
	top := k.expr(e.Args[1])
	var maps []*Map
	for _, a := range e.Args[2:] {
		m, ok := a.(*script.MapRef)
		if !ok {
			k.fail(a.Position(), "table() takes maps after the format and the row count")
			return nil
		}
		mp, _ := k.mapAndKey(m)
		if kind := mp.info.Kind; kind == script.MapHist || kind == script.MapLhist {
			k.fail(a.Position(), "table(): @%s is a histogram; print it with print()", m.Name)
			return nil
		}
		maps = append(maps, mp)
	}
	return func(c *Ctx) flow {
		rt := c.rt
		rows := maps[0].sorted()
		n := int(top(c).I)
		if n <= 0 || n > len(rows) {
			n = len(rows)
		}
		vals := make([]Value, 0, 8)
		for i := len(rows) - 1; i >= len(rows)-n; i-- {
			r := rows[i]
			vals = vals[:0]
			vals = append(vals, r.k.v[:r.k.n]...)
			vals = append(vals, r.e.value(maps[0]))
			for _, m := range maps[1:] {
				v := Value{K: kInt}
				if e, ok := m.t.Get(r.k); ok {
					v = e.value(m)
				}
				vals = append(vals, v)
			}
			b := rt.scratch[:0]
			ai := 0
			for _, p := range parts {
				if p.verb == "" {
					b = append(b, p.lit...)
					continue
				}
				var v Value
				if ai < len(vals) {
					v = vals[ai]
				}
				ai++
				b = appendConv(b, p, v)
			}
			rt.scratch = b
			rt.emit("printf", b)
		}
		return flowNext
	}
}

func (k *compiler) print(e *script.Call) execFn {
	if m, ok := e.Args[0].(*script.MapRef); ok && m.Keys == nil {
		if mi := k.rt.plan.Info.Maps[m.Name]; mi != nil && (len(mi.Keys) > 0 || mi.Kind.IsAggregate()) {
			mp, _ := k.mapAndKey(m)
			return func(c *Ctx) flow {
				if mp.t.Len() > 0 {
					c.rt.printMap(mp)
					if err := c.rt.write(); err != nil && c.rt.werr == nil {
						c.rt.werr = err
					}
				}
				return flowNext
			}
		}
	}
	x := k.expr(e.Args[0])
	return func(c *Ctx) flow {
		v := x(c)
		rt := c.rt
		if rt.opts.JSON {
			rt.buf = append(rt.buf, `{"type": "value", "data": `...)
			rt.buf = v.appendJSON(rt.buf)
			rt.buf = append(rt.buf, "}\n"...)
		} else {
			rt.buf = v.appendText(rt.buf)
			rt.buf = append(rt.buf, '\n')
		}
		if err := rt.write(); err != nil && rt.werr == nil {
			rt.werr = err
		}
		return flowNext
	}
}

func (rt *Runtime) emitTime(format string) {
	rt.scratch = strftime(rt.scratch[:0], format, time.Now())
	rt.emit("time", rt.scratch)
}

func (rt *Runtime) emitJoin(argv []string, sep string) {
	b := rt.scratch[:0]
	for i, a := range argv {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, a...)
	}
	if !rt.opts.JSON {
		b = append(b, '\n')
	}
	rt.scratch = b
	rt.emit("join", b)
}

// strftime formats t with the C conversions bpftrace's time() passes to
// strftime(3); unknown ones are copied as written.
func strftime(b []byte, f string, t time.Time) []byte {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b = append(b, f[i])
			continue
		}
		i++
		switch f[i] {
		case 'H':
			b = fmt.Appendf(b, "%02d", t.Hour())
		case 'M':
			b = fmt.Appendf(b, "%02d", t.Minute())
		case 'S':
			b = fmt.Appendf(b, "%02d", t.Second())
		case 'Y':
			b = fmt.Appendf(b, "%d", t.Year())
		case 'y':
			b = fmt.Appendf(b, "%02d", t.Year()%100)
		case 'm':
			b = fmt.Appendf(b, "%02d", int(t.Month()))
		case 'd':
			b = fmt.Appendf(b, "%02d", t.Day())
		case 'e':
			b = fmt.Appendf(b, "%2d", t.Day())
		case 'j':
			b = fmt.Appendf(b, "%03d", t.YearDay())
		case 'a':
			b = append(b, t.Format("Mon")...)
		case 'A':
			b = append(b, t.Format("Monday")...)
		case 'b', 'h':
			b = append(b, t.Format("Jan")...)
		case 'B':
			b = append(b, t.Format("January")...)
		case 'p':
			b = append(b, t.Format("PM")...)
		case 'Z':
			b = append(b, t.Format("MST")...)
		case 'z':
			b = append(b, t.Format("-0700")...)
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
		case 'T':
			b = fmt.Appendf(b, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
		case 'R':
			b = fmt.Appendf(b, "%02d:%02d", t.Hour(), t.Minute())
		case 'D':
			b = fmt.Appendf(b, "%02d/%02d/%02d", int(t.Month()), t.Day(), t.Year()%100)
		case 'F':
			b = fmt.Appendf(b, "%d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case '%':
			b = append(b, '%')
		default:
			b = append(b, '%', f[i])
		}
	}
	return b
}
