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
	specialSysOpenat               // syscalls:sys_enter_openat with sys_enter_openat_print (7.x)
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
		case s.Name == "sys_enter_openat" && strings.HasPrefix(s.PrintFmt, openatPrintFmt):
			return specialSysOpenat
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
		return appendSysEnter(dst, rec, s, d.sysStyle)
	case specialSysOpenat:
		return appendSysOpenat(dst, rec, s)
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

// sysStyle is how print_syscall_enter prints the arguments, which changed
// with the kernel release.
type sysStyle uint8

const (
	// sysArrayText (7.x, and when the release is unknown): values as
	// decimal below 10 and 0x-hex otherwise; user-space strings in
	// quotes; user-space arrays as hex bytes followed by their text.
	sysArrayText sysStyle = iota
	// sysSmallDec (6.17 to 6.19): the same, arrays without their text.
	sysSmallDec
	// sysBareHex (before 6.17): every value as bare %lx.
	sysBareHex
)

// sysExtra is what the kernel adds to a user-space copy cut at its limit
// (EXTRA in trace_syscalls.c).
const sysExtra = "..."

// appendSysEnter prints print_syscall_enter's "sys_write(fd: 1, buf:
// 0x7ffc..., count: 0xd)". An argument with a user-space copy in a
// "__<arg>_val" field (6.19+) is followed by that copy: a string in
// quotes, an array as " (68:69)" with ", ..." inside the parentheses
// when the copy is shorter than the size argument, then (7.x) its text
// with unprintable bytes as '.'.
func appendSysEnter(dst []byte, rec *Record, s *Schema, style sysStyle) []byte {
	dst = append(dst, "sys_"...)
	dst = append(dst, s.Name[len("sys_enter_"):]...)
	dst = append(dst, '(')
	args := s.sysArgs
	if args == nil {
		args = sysEnterArgs(s)
	}
	for n, a := range args {
		f := &s.Fields[a.field]
		if n > 0 {
			dst = append(dst, ',', ' ')
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		v, ok := rec.readUint(f.Offset, f.Size)
		switch {
		case !ok:
			dst = append(dst, "<OVERFLOW>"...)
		case style == sysBareHex:
			dst = appendHexU(dst, v)
		case v < 10:
			dst = append(dst, byte('0'+v))
		default:
			dst = append0x(dst, v)
		}
		switch {
		case a.val < 0:
		case !a.array:
			dst = append(dst, ' ', '"')
			dst = append(dst, rec.Str(a.val)...)
			dst = append(dst, '"')
		default:
			dst = appendSysArray(dst, rec, s, a, style)
		}
	}
	dst = append(dst, ')')
	return append(dst, '\n')
}

// appendSysArray prints the user-space copy of an array argument.
func appendSysArray(dst []byte, rec *Record, s *Schema, a sysArg, style sysStyle) []byte {
	b, _ := rec.Bytes(a.val)
	// The kernel compares the copy's length with the size argument
	// truncated to an int.
	cut := false
	if a.size >= 0 {
		f := &s.Fields[a.size]
		if n, ok := rec.readUint(f.Offset, f.Size); ok {
			cut = len(b) < int(int32(n))
		}
	}
	dst = append(dst, ' ', '(')
	printable := false
	for j, c := range b {
		if j > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		printable = printable || asciiPrint(c)
	}
	if cut {
		dst = append(dst, ", "+sysExtra...)
	}
	dst = append(dst, ')')
	if style != sysArrayText || !printable {
		return dst
	}
	dst = append(dst, ' ', '"')
	for _, c := range b {
		if !asciiPrint(c) {
			c = '.'
		}
		dst = append(dst, c)
	}
	dst = append(dst, '"')
	if cut {
		dst = append(dst, sysExtra...)
	}
	return dst
}

// asciiPrint is the kernel's isascii(c) && isprint(c).
func asciiPrint(c byte) bool { return c >= 0x20 && c <= 0x7e }

// openatPrintFmt starts the print fmt of sys_enter_openat on kernels that
// print it with sys_enter_openat_print (7.x): the format file says which
// printer the kernel uses, whatever the release.
const openatPrintFmt = `"dfd: 0x%08lx, filename: 0x%08lx \"%s\", flags: %s%s, mode: 0%03o"`

// openFlags are the open(2) flags sys_enter_openat_print names, in its
// order. The values are asm-generic's (x86 and most architectures; arm,
// arm64, alpha, mips, parisc, powerpc and sparc move some of them).
var openFlags = [...]struct {
	mask uint64
	name string
}{
	{0o20200000, "O_TMPFILE"}, // __O_TMPFILE | O_DIRECTORY
	{0o1, "O_WRONLY"},
	{0o2, "O_RDWR"},
	{0o100, "O_CREAT"},
	{0o200, "O_EXCL"},
	{0o400, "O_NOCTTY"},
	{0o1000, "O_TRUNC"},
	{0o2000, "O_APPEND"},
	{0o4000, "O_NONBLOCK"},
	{0o10000, "O_DSYNC"},
	{0o40000, "O_DIRECT"},
	{0o100000, "O_LARGEFILE"},
	{0o200000, "O_DIRECTORY"},
	{0o400000, "O_NOFOLLOW"},
	{0o1000000, "O_NOATIME"},
	{0o2000000, "O_CLOEXEC"},
}

const (
	oAccmode = 0o3
	oCreat   = 0o100
	oTmpfile = 0o20200000
)

// appendSysOpenat prints sys_enter_openat_print (7.x): "sys_openat(dfd:
// 4294967196, filename: 140728646553498 \"/etc/passwd\", flags:
// O_RDONLY|O_CLOEXEC)": dfd and filename as unsigned decimal, the flags
// by name, and the mode in octal only when the flags can create a file.
func appendSysOpenat(dst []byte, rec *Record, s *Schema) []byte {
	dst = append(dst, "sys_openat("...)
	args := s.sysArgs
	if args == nil {
		args = sysEnterArgs(s)
	}
	for i, a := range args {
		f := &s.Fields[a.field]
		if i > 0 {
			dst = append(dst, ',', ' ')
		}
		v, ok := rec.readUint(f.Offset, f.Size)
		if !ok {
			dst = append(dst, f.Name...)
			dst = append(dst, ": <OVERFLOW>"...)
			continue
		}
		switch i {
		case 2:
			dst = append(dst, "flags: "...)
			dst = appendOpenFlags(dst, v)
			// The kernel reads the flags as an int.
			if int32(v)&(oCreat|oTmpfile) == 0 {
				return append(dst, ')', '\n')
			}
			continue
		case 3:
			dst = append(dst, f.Name...)
			dst = append(dst, ':', ' ', '0')
			n := len(dst)
			dst = strconv.AppendUint(dst, uint64(uint32(v)), 8)
			dst = rightAlign(dst, n, 3, '0')
			continue
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		dst = strconv.AppendUint(dst, v, 10)
		if a.val >= 0 {
			dst = append(dst, ' ', '"')
			dst = append(dst, rec.Str(a.val)...)
			dst = append(dst, '"')
		}
	}
	return append(dst, ')', '\n')
}

// appendOpenFlags prints open flags as sys_enter_openat_print does:
// O_RDONLY for none, "O_RDONLY|" before other flags without an access
// mode, then trace_print_flags_seq's names joined by '|' and any bits
// left as 0x-hex.
func appendOpenFlags(dst []byte, v uint64) []byte {
	// An int passed as unsigned long: sign-extended.
	bits := uint64(int64(int32(v)))
	if bits&oAccmode == 0 {
		if bits == 0 {
			return append(dst, "O_RDONLY"...)
		}
		dst = append(dst, "O_RDONLY|"...)
	}
	first := true
	for _, fl := range openFlags {
		if bits == 0 {
			break
		}
		if bits&fl.mask != fl.mask {
			continue
		}
		bits &^= fl.mask
		if !first {
			dst = append(dst, '|')
		}
		first = false
		dst = append(dst, fl.name...)
	}
	if bits != 0 {
		if !first {
			dst = append(dst, '|')
		}
		dst = append0x(dst, bits)
	}
	return dst
}

// sysEnterArgs lists the fields print_syscall_enter prints and their
// user-space copies. The print fmt tells arrays (__print_dynamic_array)
// from strings (__get_str); an array's length is bounded by the argument
// after it (write, pwrite64 and mq_timedsend: the pointer, then its size).
func sysEnterArgs(s *Schema) []sysArg {
	args := []sysArg{}
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.IsCommon || f.Name == "__syscall_nr" || isUserValField(f.Name) {
			continue
		}
		args = append(args, sysArg{field: i, val: userValFor(s, f.Name), size: -1})
	}
	for k := range args {
		a := &args[k]
		if a.val < 0 || !strings.Contains(s.PrintFmt, "__print_dynamic_array("+s.Fields[a.val].Name+",") {
			continue
		}
		a.array = true
		if k+1 < len(args) {
			a.size = args[k+1].field
		}
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
