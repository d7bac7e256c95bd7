package parse

import (
	"strconv"
	"strings"
	"sync"
)

// Events the kernel prints with dedicated C code instead of their print
// fmt: the ftrace internal events (kernel/trace/trace_output.c) and the
// syscall events (kernel/trace/trace_syscalls.c). Their lines have no
// "name: " part. Also here: the fields layout (print_fields) used for
// events whose print fmt does not compile.

// specialKind says which dedicated printer an event uses; 0 is none.
type specialKind uint8

const (
	specialNone        specialKind = iota
	specialFunction                // ftrace:function   " func <-parent"
	specialKernelStack             // ftrace:kernel_stack
	specialUserStack               // ftrace:user_stack
	specialPrint                   // ftrace:print (trace_marker, trace_printk of constant strings)
	specialBprint                  // ftrace:bprint (trace_printk with arguments)
	specialBputs                   // ftrace:bputs
	specialRawData                 // ftrace:raw_data (trace_marker_raw)
	specialSysEnter                // syscalls:sys_enter_*
	specialSysExit                 // syscalls:sys_exit_*
	specialProbe                   // kprobe or uprobe (by fields: __probe_ip)
	specialRetProbe                // kretprobe or uretprobe (__probe_func, __probe_ret_ip)
)

// dedicated reports whether the kind replaces the print fmt.
func (k specialKind) dedicated() bool { return k != specialNone }

// specialFor decides, when a format file is parsed, whether the event is
// printed by dedicated code. ftrace events are matched by name (their IDs
// are fixed, but names say the same and survive a renumbering); syscall
// events by their name prefix.
func specialFor(s *Schema) specialKind {
	switch s.System {
	case "ftrace":
		switch s.Name {
		case "function":
			return specialFunction
		case "kernel_stack":
			return specialKernelStack
		case "user_stack":
			return specialUserStack
		case "print":
			return specialPrint
		case "bprint":
			return specialBprint
		case "bputs":
			return specialBputs
		case "raw_data":
			return specialRawData
		}
	case "syscalls":
		switch {
		case strings.HasPrefix(s.Name, "sys_enter_"):
			return specialSysEnter
		case strings.HasPrefix(s.Name, "sys_exit_"):
			return specialSysExit
		}
	}
	return probeKind(s)
}

// appendSpecial appends the body of an event with a dedicated printer,
// newline included.
func (d *Decoder) appendSpecial(dst []byte, rec *Record, s *Schema) []byte {
	switch s.special {
	case specialProbe, specialRetProbe:
		return d.appendProbe(dst, rec, s)
	case specialFunction:
		// trace_fn_trace: ip, then " <-parent" when print-parent is on (the
		// default) and parent_ip is not 0.
		dst = d.appendIPSym(dst, rec.Uint(s.FieldIndex("ip")))
		if parent := rec.Uint(s.FieldIndex("parent_ip")); parent != 0 {
			dst = append(dst, " <-"...)
			dst = d.appendIPSym(dst, parent)
		}
		return append(dst, '\n')
	case specialKernelStack:
		return d.appendKernelStack(dst, rec, s)
	case specialUserStack:
		return d.appendUserStack(dst, rec, s)
	case specialPrint:
		// trace_print_print: "%ps: %s". The buffer carries its own newline
		// (trace_marker adds one when the writer did not).
		dst = d.appendIPSym(dst, rec.Uint(s.FieldIndex("ip")))
		dst = append(dst, ':', ' ')
		dst = append(dst, rec.Str(s.FieldIndex("buf"))...)
		return endLine(dst)
	case specialBputs:
		dst = d.appendIPSym(dst, rec.Uint(s.FieldIndex("ip")))
		dst = append(dst, ':', ' ')
		addr := rec.Uint(s.FieldIndex("str"))
		if str, ok := d.Printk.Lookup(addr); ok {
			dst = append(dst, str...)
		} else {
			dst = append0x(dst, addr)
		}
		return endLine(dst)
	case specialBprint:
		dst = d.appendIPSym(dst, rec.Uint(s.FieldIndex("ip")))
		dst = append(dst, ':', ' ')
		addr := rec.Uint(s.FieldIndex("fmt"))
		format, ok := d.Printk.Lookup(addr)
		if !ok {
			dst = append(dst, "[UNKNOWN FORMAT "...)
			dst = append0x(dst, addr)
			dst = append(dst, ']')
			return endLine(dst)
		}
		buf, _ := rec.Bytes(s.FieldIndex("buf"))
		dst = appendBprintf(dst, format, buf, rec, d)
		return endLine(dst)
	case specialRawData:
		// trace_raw_data: "# %x buf:" and " %02x" for every byte to the end
		// of the record, padding included.
		dst = append(dst, '#', ' ')
		dst = appendHex(dst, rec.Uint(s.FieldIndex("id")))
		dst = append(dst, " buf:"...)
		if b, ok := rec.Bytes(s.FieldIndex("buf")); ok {
			for _, c := range b {
				dst = append(dst, ' ', hexDigits[c>>4], hexDigits[c&0xf])
			}
		}
		return append(dst, '\n')
	case specialSysEnter:
		return appendSysEnter(dst, rec, s, d.sysBareHex)
	case specialSysExit:
		// print_syscall_exit: "%s -> 0x%lx\n".
		dst = append(dst, "sys_"...)
		dst = append(dst, s.Name[len("sys_exit_"):]...)
		dst = append(dst, " -> "...)
		i := s.FieldIndex("ret")
		v, ok := rec.UintOK(i)
		if !ok {
			dst = append(dst, "<OVERFLOW>"...)
		} else {
			dst = append0x(dst, v)
		}
		return append(dst, '\n')
	}
	return append(dst, '\n')
}

// appendSysEnter prints print_syscall_enter's "sys_write(fd: 1, buf:
// 0x7ffc..., count: 0xd)": each argument as decimal below 10 and 0x-hex
// otherwise (6.17+; earlier kernels printed every value as bare %lx,
// which bareHex selects). An
// argument with a user-space copy in a "__<arg>_val" string (6.19+) is
// followed by that string in quotes.
func appendSysEnter(dst []byte, rec *Record, s *Schema, bareHex bool) []byte {
	dst = append(dst, "sys_"...)
	dst = append(dst, s.Name[len("sys_enter_"):]...)
	dst = append(dst, '(')
	first := true
	args := s.sysArgs
	if args == nil {
		args = sysEnterArgs(s)
	}
	for _, a := range args {
		f := &s.Fields[a.field]
		if !first {
			dst = append(dst, ',', ' ')
		}
		first = false
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		v, ok := rec.readUint(f.Offset, f.Size)
		switch {
		case !ok:
			dst = append(dst, "<OVERFLOW>"...)
		case bareHex:
			dst = appendHexU(dst, v)
		case v < 10:
			dst = append(dst, byte('0'+v))
		default:
			dst = append0x(dst, v)
		}
		if j := a.val; j >= 0 {
			dst = append(dst, ' ', '"')
			dst = append(dst, rec.Str(j)...)
			dst = append(dst, '"')
		}
	}
	dst = append(dst, ')')
	return append(dst, '\n')
}

// sysEnterArgs lists the fields print_syscall_enter prints and their
// user-space copies.
func sysEnterArgs(s *Schema) []sysArg {
	args := []sysArg{}
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.IsCommon || f.Name == "__syscall_nr" || isUserValField(f.Name) {
			continue
		}
		args = append(args, sysArg{i, userValFor(s, f.Name)})
	}
	return args
}

// isUserValField reports whether name is a "__<arg>_val" user-space copy.
func isUserValField(name string) bool {
	return len(name) > 6 && strings.HasPrefix(name, "__") && strings.HasSuffix(name, "_val")
}

// userValFor returns the index of the "__<arg>_val" field of arg, or -1.
func userValFor(s *Schema, arg string) int {
	for i := range s.Fields {
		n := s.Fields[i].Name
		if len(n) == len(arg)+6 && isUserValField(n) && n[2:len(n)-4] == arg {
			return i
		}
	}
	return -1
}

// appendKernelStack prints trace_stack_print: "<stack trace>\n" and
// " => sym\n" per entry. The entries run to the end of the record (the
// format's caller[8] is nominal) or to a ULONG_MAX marker.
func (d *Decoder) appendKernelStack(dst []byte, rec *Record, s *Schema) []byte {
	dst = append(dst, "<stack trace>\n"...)
	i := s.FieldIndex("caller")
	if i < 0 {
		return dst
	}
	ls := rec.longSize
	if ls != 4 && ls != 8 {
		ls = s.Fields[i].ElemSize
	}
	maxv := uint64(1)<<(8*uint(ls)) - 1
	if ls == 8 {
		maxv = ^uint64(0)
	}
	for off := s.Fields[i].Offset; off+ls <= len(rec.Data); off += ls {
		v, _ := rec.readUint(off, ls)
		if v == maxv {
			break
		}
		dst = append(dst, " => "...)
		dst = d.appendIPSym(dst, v)
		dst = append(dst, '\n')
	}
	return dst
}

// appendUserStack prints trace_user_stack_print without sym-userobj:
// "<user stack trace>\n" and " =>  <%016lx>\n" per entry up to the first 0
// (at most 8).
func (d *Decoder) appendUserStack(dst []byte, rec *Record, s *Schema) []byte {
	dst = append(dst, "<user stack trace>\n"...)
	i := s.FieldIndex("caller")
	if i < 0 {
		return dst
	}
	ls := rec.longSize
	if ls != 4 && ls != 8 {
		ls = 8
	}
	off := s.Fields[i].Offset
	for n := 0; n < 8 && off+ls <= len(rec.Data); n, off = n+1, off+ls {
		v, _ := rec.readUint(off, ls)
		if v == 0 {
			break
		}
		dst = append(dst, " =>  <"...)
		dst = appendHexWidth(dst, v, 2*ls)
		dst = append(dst, '>', '\n')
	}
	return dst
}

// appendHexWidth appends v as hex zero-padded to width digits.
func appendHexWidth(dst []byte, v uint64, width int) []byte {
	n := len(dst)
	dst = strconv.AppendUint(dst, v, 16)
	return rightAlign(dst, n, width, '0')
}

// maxSymSize bounds the extent of a symbol found by address: past it the
// address is taken to lie outside the kernel's symbols (a heap or user
// address that happens to follow the last per-CPU or module symbol).
const maxSymSize = 1 << 24

// kernelSym finds the symbol containing addr the way kallsyms_lookup would
// in the kernel, as far as a symbol table without section bounds can tell.
func (d *Decoder) kernelSym(addr uint64) (name, module string, off, size uint64, ok bool) {
	name, module, off, size, ok = d.Symbols.Lookup(addr)
	if !ok || name == "" || size == 0 || off >= size || size > maxSymSize {
		return "", "", 0, 0, false
	}
	return name, module, off, size, true
}

// appendIPSym prints seq_print_ip_sym without sym-offset: "0" for 0, the
// symbol name, or "0x%08lx" when no symbol is known.
func (d *Decoder) appendIPSym(dst []byte, ip uint64) []byte {
	if ip == 0 {
		return append(dst, '0')
	}
	if name, _, _, _, ok := d.kernelSym(ip); ok {
		return append(dst, name...)
	}
	dst = append(dst, '0', 'x')
	return appendHexWidth(dst, ip, 8)
}

// appendSymOffset prints the kernel's %pS: "sym+0xoff/0xsize [module]",
// or "0x%lx" when no symbol is known.
func (d *Decoder) appendSymOffset(dst []byte, addr uint64) []byte {
	name, module, off, size, ok := d.kernelSym(addr)
	if !ok {
		return append0x(dst, addr)
	}
	dst = append(dst, name...)
	dst = append(dst, '+')
	dst = append0x(dst, off)
	dst = append(dst, '/')
	dst = append0x(dst, size)
	if module != "" {
		dst = append(dst, ' ', '[')
		dst = append(dst, module...)
		dst = append(dst, ']')
	}
	return dst
}

// appendFields prints the kernel's options/fields layout (print_event_fields
// and print_fields, 6.18): "name:" then " field=value" for every
// non-common field, then a newline.
func (d *Decoder) appendFields(dst []byte, rec *Record, s *Schema) []byte {
	dst = append(dst, s.Name...)
	dst = append(dst, ':')
	n := 0
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.IsCommon {
			continue
		}
		n++
		dst = append(dst, ' ')
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		dst = d.appendFieldValue(dst, rec, f)
	}
	if n == 0 {
		return append(dst, "No fields found\n"...)
	}
	return append(dst, '\n')
}

// appendFieldValue prints one field as print_fields does, deciding by the
// filter type the kernel derives from the declared type.
func (d *Decoder) appendFieldValue(dst []byte, rec *Record, f *Field) []byte {
	data := rec.Data
	if f.Offset+f.Size > len(data) {
		return append(dst, "<OVERFLOW>"...)
	}
	isChar := strings.Contains(f.Type, "char")
	switch {
	case (f.Kind == KindDataLoc || f.Kind == KindRelLoc || f.Kind == KindDynOld) && isChar:
		// FILTER_DYN_STRING / FILTER_RDYN_STRING: "%.*s".
		b, ok := rec.fieldBytes(f)
		if !ok {
			return append(dst, "<OVERFLOW>"...)
		}
		return append(dst, cstr(b)...)
	case (f.Kind == KindArray || f.Kind == KindFlex) && isChar:
		// FILTER_STATIC_STRING: "%.*s" bounded by the field size (0 for a
		// flexible array).
		return append(dst, cstr(data[f.Offset:f.Offset+f.Size])...)
	case f.Type == "char *" || f.Type == "const char *":
		// FILTER_PTR_STRING. The kernel reads the string from kernel memory;
		// here only constant strings from printk_formats can be shown. (On a
		// fault 6.18 prints the field's own address, which no reader can know:
		// the value is printed instead.)
		v, _ := rec.readUint(f.Offset, f.Size)
		dst = append(dst, '(')
		dst = append0x(dst, v)
		if str, ok := d.Printk.Lookup(v); ok {
			dst = append(dst, ':')
			dst = append(dst, str...)
		}
		return append(dst, ')')
	}
	switch f.Size {
	case 1:
		c := data[f.Offset]
		if kernelIsPrint(c) {
			dst = append(dst, '\'', c, '\'')
		}
		dst = append(dst, '(')
		dst = strconv.AppendUint(dst, uint64(c), 10)
		return append(dst, ')')
	case 2:
		v, _ := rec.readUint(f.Offset, 2)
		dst = append0x(dst, v)
		dst = append(dst, ' ', '(')
		dst = strconv.AppendUint(dst, v, 10)
		return append(dst, ')')
	case 4:
		if f.Kind == KindDataLoc || f.Kind == KindRelLoc {
			// print_array: the bytes as comma-separated %02x.
			b, ok := rec.fieldBytes(f)
			if !ok {
				return append(dst, "<OVERFLOW>"...)
			}
			for j, c := range b {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
			}
			return dst
		}
		v, _ := rec.readUint(f.Offset, 4)
		if rec.longSize == 4 {
			dst = d.appendSymOffset(dst, v)
		} else {
			dst = append0x(dst, v)
		}
		dst = append(dst, ' ', '(')
		dst = strconv.AppendInt(dst, int64(int32(v)), 10)
		return append(dst, ')')
	case 8:
		v, _ := rec.readUint(f.Offset, 8)
		if rec.longSize == 8 {
			dst = d.appendSymOffset(dst, v)
		} else {
			dst = append0x(dst, v)
		}
		dst = append(dst, ' ', '(')
		dst = strconv.AppendInt(dst, int64(v), 10)
		return append(dst, ')')
	}
	return append(dst, "<INVALID-SIZE>"...)
}

// kernelIsPrint is the kernel's isprint: ASCII 0x20-0x7e and Latin-1
// 0xa0-0xff (lib/ctype.c).
func kernelIsPrint(c byte) bool {
	return c >= 0x20 && c <= 0x7e || c >= 0xa0
}

// bprintFormats caches parsed printk formats by their text: bprint records
// name a format by address, and parsing it per record would allocate.
var bprintFormats struct {
	sync.RWMutex
	m map[string][]fmtPiece
}

// bprintPieces returns the parsed format, parsing it on first use; nil if
// the kernel's vsnprintf would not accept it either.
func bprintPieces(format string) []fmtPiece {
	bprintFormats.RLock()
	p, ok := bprintFormats.m[format]
	bprintFormats.RUnlock()
	if ok {
		return p
	}
	p, err := parsePrintf(format)
	if err != nil {
		p = nil
	}
	bprintFormats.Lock()
	if bprintFormats.m == nil {
		bprintFormats.m = map[string][]fmtPiece{}
	}
	if len(bprintFormats.m) < 1<<16 {
		bprintFormats.m[format] = p
	}
	bprintFormats.Unlock()
	return p
}

// bargs reads the binary arguments trace_printk stored with vbin_printf
// (lib/vsprintf.c): each integer at its own size and alignment, 8-byte
// values aligned to 4 only, strings inline and NUL-terminated without
// alignment. Reads past the end return zero.
type bargs struct {
	b   []byte
	pos int
	rec *Record
}

func (a *bargs) num(size int) uint64 {
	align := size
	if align > 4 {
		align = 4
	}
	a.pos = (a.pos + align - 1) &^ (align - 1)
	p := a.pos
	a.pos += size
	if p < 0 || p+size > len(a.b) {
		return 0
	}
	return a.rec.uintAt(a.b[p:], size)
}

func (a *bargs) str() []byte {
	if a.pos >= len(a.b) {
		return nil
	}
	s := cstr(a.b[a.pos:])
	a.pos += len(s) + 1
	return s
}

// appendBprintf formats a bprint record's arguments with its printk format,
// as the kernel's bstr_printf does.
func appendBprintf(dst []byte, format string, buf []byte, rec *Record, d *Decoder) []byte {
	pieces := bprintPieces(format)
	if pieces == nil {
		return append(dst, format...)
	}
	ls := rec.longSize
	a := bargs{b: buf, rec: rec}
	for i := range pieces {
		p := &pieces[i]
		if p.conv == 0 {
			dst = append(dst, p.lit...)
			continue
		}
		sp := p.fmtSpec
		if p.widthStar || p.precStar {
			var w, pr int64
			if p.widthStar {
				w = int64(int32(a.num(4)))
			}
			if p.precStar {
				pr = int64(int32(a.num(4)))
			}
			sp = sp.withStar(p, w, pr)
		}
		switch sp.conv {
		case 's':
			dst = appendStrLit(dst, a.str(), sp)
		case 'c':
			dst = appendIntVerb(dst, a.num(1), sp, ls)
		case 'p':
			if sp.ext != "" && isAlnum(sp.ext[0]) && !strings.ContainsRune("SsxKe", rune(sp.ext[0])) {
				// Dereferencing extensions were rendered to text when the
				// record was written.
				dst = append(dst, a.str()...)
				continue
			}
			dst = appendPtr(dst, a.num(ls), sp, ls, d.Symbols)
		default:
			dst = appendIntVerb(dst, a.num(sp.argSize(ls)), sp, ls)
		}
	}
	return dst
}
