package parse

import (
	"strconv"
	"strings"
)

// FieldKind says how a field's bytes are laid out in the payload.
type FieldKind uint8

// Field kinds. The kind is decided once, when the format file is parsed, so
// that accessors on the hot path only switch on a small integer.
const (
	KindScalar  FieldKind = iota // 1, 2, 4 or 8 bytes, signedness from the file
	KindArray                    // type name[N]: N elements of Size/N bytes
	KindDataLoc                  // __data_loc: u32 with offset (low 16) and length (high 16) from the payload start
	KindRelLoc                   // __rel_loc: like __data_loc, offset from the end of the field
	KindDynOld                   // legacy 2-byte __data_loc: an offset, data runs to NUL
	KindFlex                     // name[] with size 0: runs to the end of the payload
	KindBytes                    // anything else (odd sizes): raw bytes
)

var kindNames = [...]string{"scalar", "array", "data_loc", "rel_loc", "data_loc16", "flex", "bytes"}

func (k FieldKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// Field is one field of an event's payload as its format file describes it.
// Size and Signed come from the file and win over the declared type: syscall
// events declare "int" fields 8 bytes wide.
type Field struct {
	Name     string
	Type     string // declared C type, without the name and array suffix ("char", "__data_loc char[]")
	Offset   int
	Size     int
	Signed   bool
	Kind     FieldKind
	ElemSize int  // for arrays and dynamic fields: bytes per element (1 for strings)
	Count    int  // for KindArray: the number of elements
	IsString bool // char arrays and __data_loc char[]: print up to the first NUL
	IsCommon bool // common_* header fields shared by every event
}

// Schema is one event type: its identity, fields and print format. A Schema
// is immutable once parsed except for caches filled on first use by the
// renderers (which the Decoder serialises by compiling eagerly or lazily
// from one goroutine).
type Schema struct {
	System   string
	Name     string
	ID       int
	Fields   []Field
	PrintFmt string // the text after "print fmt: ", verbatim

	// Indexes of the common fields, -1 when absent.
	typeIdx, flagsIdx, preemptIdx, pidIdx int

	acc      []access // per field: where its integer value lies, for Int/Uint
	longSize int
	printer  *printer
	printErr error // why printer is failedPrinter (PrintError)
	// probeRest is the compiled argument part of a probe event's print fmt.
	probeRest *printer // compiled print fmt, built on first use
	special   specialKind
	// eprobeTarget is "SYSTEM.EVENT" for an eprobe (SetEprobeTarget).
	eprobeTarget string
	// stdCommon: common_flags, common_preempt_count and a signed
	// common_pid lie at bytes 2, 3 and 4..7, as on every kernel since
	// 2.6.32, so the text prefix reads them without the accessors.
	stdCommon bool
	// sysArgs: for a sys_enter event, the arguments print_syscall_enter
	// prints, with the "__<arg>_val" user-space copy of each.
	sysArgs []sysArg
	// The escaped JSON from the flags' closing quote through "system:name"
	// to the first field's key, and of each further field's key with its
	// comma and colon.
	jsonEvent  string
	jsonOps    []jsonOp
	jsonFields int // len(Fields) when jsonOps was built
}

// sysArg is one argument of a sys_enter event: its field, the field of
// its user-space copy (-1 if none), whether that copy is a byte array
// rather than a string, and the field of the argument that bounds the
// array's length (-1 if none).
type sysArg struct {
	field, val int
	array      bool
	size       int
}

// prepareJSON builds the escaped JSON text of the event name and field
// keys once, for AppendJSON.
func (s *Schema) prepareJSON() {
	b := appendJSONStringBody(nil, s.System)
	b = append(b, ':')
	b = appendJSONStringBody(b, s.Name)
	b = append(b, `","fields":{`...)
	s.jsonOps = s.jsonOps[:0]
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.IsCommon {
			continue
		}
		var key []byte
		if len(s.jsonOps) > 0 {
			key = append(key, ',')
		}
		key = append(appendJSONString(key, f.Name), ':')
		o := jsonOp{key: string(key), idx: int32(i)}
		switch {
		case s.special == specialKernelStack && f.Name == "caller":
			o.kind = jsonStack
		case f.Kind == KindScalar:
			o.kind, o.off, o.size, o.signed = jsonScalar, f.Offset, f.Size, f.Signed
		}
		s.jsonOps = append(s.jsonOps, o)
	}
	// The constant text from the flags' closing quote to the first key is
	// one copy per record.
	head := append([]byte(`","event":"`), b...)
	if len(s.jsonOps) > 0 {
		head = append(head, s.jsonOps[0].key...)
		s.jsonOps[0].key = ""
	}
	s.jsonEvent = string(head)
	s.jsonFields = len(s.Fields)
}

// jsonOp is how AppendJSON writes one non-common field: its key (with the
// comma before it) and, for scalars, where to read it.
type jsonOp struct {
	key    string
	idx    int32
	kind   uint8
	signed bool
	off    int
	size   int
}

const (
	jsonOther = iota
	jsonScalar
	jsonStack
)

// FieldIndex returns the index of the named field in Fields, or -1. Resolve
// names once per schema and use the index per record.
func (s *Schema) FieldIndex(name string) int {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// FullName returns "system:event".
func (s *Schema) FullName() string { return s.System + ":" + s.Name }

// ParseFormat parses an events/<system>/<event>/format file. longSize is the
// kernel's long size (from the Layout), needed to size elements of dynamic
// arrays of longs, pointers and cpumasks.
func ParseFormat(system string, b []byte, longSize int) (*Schema, error) {
	where := "format " + system
	s := &Schema{System: system, ID: -1, typeIdx: -1, flagsIdx: -1, preemptIdx: -1, pidIdx: -1, longSize: longSize}
	lines := strings.Split(string(b), "\n")
	inFormat := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "name:"):
			s.Name = strings.TrimSpace(t[len("name:"):])
			where = "format " + system + "/" + s.Name
		case strings.HasPrefix(t, "ID:"):
			id, ok := atoi(strings.TrimSpace(t[len("ID:"):]))
			if !ok || id > 0xffff {
				return nil, errf(ErrSyntax, where, i+1, "bad ID %q", t)
			}
			s.ID = id
		case t == "format:":
			inFormat = true
		case strings.HasPrefix(t, "print fmt:"):
			// print fmt is the last item; keep the rest verbatim (it is one line
			// on every kernel seen, but nothing guarantees that).
			rest := strings.TrimSpace(t[len("print fmt:"):])
			if i+1 < len(lines) {
				tail := strings.TrimRight(strings.Join(lines[i+1:], "\n"), "\n ")
				if tail != "" {
					rest += "\n" + tail
				}
			}
			s.PrintFmt = rest
			i = len(lines)
		case strings.HasPrefix(t, "field:"):
			if !inFormat {
				return nil, errf(ErrSyntax, where, i+1, "field before format:")
			}
			hf, ok := parseFieldLine(t)
			if !ok {
				return nil, errf(ErrSyntax, where, i+1, "bad field line %q", t)
			}
			f, err := makeField(hf, longSize)
			if err != nil {
				return nil, errf(ErrSyntax, where, i+1, "%v", err)
			}
			if len(s.Fields) >= 4096 {
				return nil, errf(ErrCorrupt, where, i+1, "too many fields")
			}
			s.Fields = append(s.Fields, f)
		case t == "":
		default:
			return nil, errf(ErrSyntax, where, i+1, "unexpected line %q", t)
		}
	}
	if s.Name == "" || s.ID < 0 {
		return nil, errf(ErrSyntax, where, -1, "missing name or ID")
	}
	for i := range s.Fields {
		f := &s.Fields[i]
		if strings.HasPrefix(f.Name, "common_") {
			f.IsCommon = true
		}
		switch f.Name {
		case "common_type":
			s.typeIdx = i
		case "common_flags":
			s.flagsIdx = i
		case "common_preempt_count":
			s.preemptIdx = i
		case "common_pid":
			s.pidIdx = i
		}
	}
	s.acc = make([]access, len(s.Fields))
	for i := range s.Fields {
		f := &s.Fields[i]
		switch f.Kind {
		case KindScalar:
			s.acc[i] = access{off: uint16(f.Offset), size: uint8(f.Size), signed: f.Signed}
		case KindArray:
			if es := f.ElemSize; es == 1 || es == 2 || es == 4 || es == 8 {
				s.acc[i] = access{off: uint16(f.Offset), size: uint8(es), signed: f.Signed}
			}
		}
	}
	s.stdCommon = s.flagsIdx >= 0 && s.preemptIdx >= 0 && s.pidIdx >= 0 &&
		s.acc[s.flagsIdx] == access{off: 2, size: 1, signed: s.acc[s.flagsIdx].signed} &&
		s.acc[s.preemptIdx] == access{off: 3, size: 1, signed: s.acc[s.preemptIdx].signed} &&
		s.acc[s.pidIdx] == access{off: 4, size: 4, signed: true}
	s.special = specialFor(s)
	if s.special == specialSysEnter || s.special == specialSysOpenat {
		s.sysArgs = sysEnterArgs(s)
	}
	s.prepareJSON()
	return s, nil
}

// access is the compact form of a field that integer accessors read on the
// hot path; size 0 means the field is not an integer.
type access struct {
	off    uint16
	size   uint8
	signed bool
}

// makeField turns a parsed field line into a Field, deciding its kind.
func makeField(h headerField, longSize int) (Field, error) {
	decl := h.decl
	f := Field{Offset: h.offset, Size: h.size}
	if h.offset > 0xffff || h.size > 0xffff {
		return f, errorString("field offset or size out of range")
	}
	arr, hasArr := "", false
	if strings.HasSuffix(decl, "]") {
		if j := strings.LastIndexByte(decl, '['); j >= 0 {
			arr, hasArr = decl[j+1:len(decl)-1], true
			decl = strings.TrimSpace(decl[:j])
		}
	}
	f.Name = lastIdent(decl)
	if f.Name == "" {
		return f, errorString("field without a name")
	}
	f.Type = strings.TrimSpace(strings.TrimSuffix(decl, f.Name))
	base := f.Type
	switch {
	case strings.HasPrefix(base, "__data_loc"), strings.HasPrefix(base, "__rel_loc"):
		elem := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(base, "__data_loc"), "__rel_loc"))
		elem = strings.TrimSpace(strings.TrimSuffix(elem, "[]"))
		f.ElemSize = typeSize(elem, longSize)
		f.IsString = isCharType(elem)
		switch {
		case strings.HasPrefix(base, "__rel_loc"):
			f.Kind = KindRelLoc
		case h.size == 2:
			f.Kind = KindDynOld
		default:
			f.Kind = KindDataLoc
		}
		if f.Kind != KindDynOld && h.size != 4 {
			return f, errorString("dynamic field " + f.Name + " has size " + strconv.Itoa(h.size) + ", want 4")
		}
	case hasArr && arr == "" && h.size > 0 && typeSize(base, longSize) > 0 && h.size%typeSize(base, longSize) == 0:
		// Probe events declare fixed arrays without a bound ("u8 g[]; size:3").
		f.Kind = KindArray
		f.ElemSize = typeSize(base, longSize)
		f.Count = h.size / f.ElemSize
		f.IsString = isCharType(base)
	case hasArr && (arr == "" || h.size == 0):
		f.Kind = KindFlex
		f.ElemSize = typeSize(base, longSize)
		f.IsString = isCharType(base)
	case hasArr:
		f.Kind = KindArray
		f.IsString = isCharType(base)
		if n, ok := atoi(arr); ok && n > 0 && h.size%n == 0 {
			f.Count, f.ElemSize = n, h.size/n
		} else {
			// Array bounds such as [sizeof(struct in6_addr)] or [TASK_COMM_LEN]:
			// trust the size and the element type.
			f.ElemSize = typeSize(base, longSize)
			if f.ElemSize <= 0 || h.size%f.ElemSize != 0 {
				f.ElemSize = 1
			}
			f.Count = h.size / f.ElemSize
		}
	case h.size == 1 || h.size == 2 || h.size == 4 || h.size == 8:
		f.Kind = KindScalar
		f.ElemSize = h.size
	default:
		f.Kind = KindBytes
		f.ElemSize = 1
	}
	if h.signed >= 0 {
		f.Signed = h.signed == 1
	} else {
		f.Signed = !strings.Contains(base, "unsigned") && !strings.HasPrefix(base, "u") && !strings.HasPrefix(base, "__u") && base != "char" && base != "bool"
	}
	return f, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func isCharType(t string) bool {
	t = strings.TrimPrefix(t, "const ")
	t = strings.TrimPrefix(t, "unsigned ")
	t = strings.TrimPrefix(t, "signed ")
	return t == "char"
}

// typeSize gives the size of an element type named in a dynamic array or an
// array with a symbolic bound, where the format file states no element size.
func typeSize(t string, longSize int) int {
	t = strings.TrimPrefix(strings.TrimSpace(t), "const ")
	if strings.HasSuffix(t, "*") {
		return longSize
	}
	switch t {
	case "char", "unsigned char", "signed char", "u8", "s8", "__u8", "__s8", "bool", "_Bool", "uint8_t", "int8_t":
		return 1
	case "short", "unsigned short", "u16", "s16", "__u16", "__s16", "__le16", "__be16", "uint16_t", "int16_t":
		return 2
	case "int", "unsigned int", "unsigned", "u32", "s32", "__u32", "__s32", "__le32", "__be32", "pid_t", "uint32_t", "int32_t", "gfp_t", "dev_t":
		return 4
	case "long", "unsigned long", "cpumask_t", "size_t", "ssize_t":
		return longSize
	case "u64", "s64", "__u64", "__s64", "__le64", "__be64", "long long", "unsigned long long", "uint64_t", "int64_t", "loff_t", "sector_t":
		return 8
	}
	if strings.Contains(t, "cpumask") || strings.Contains(t, "bitmask") {
		return longSize
	}
	return 1
}
