package tracefs

import (
	"debug/elf"
	"fmt"
	"strconv"
	"strings"
)

// USDTArg is one argument of a USDT probe, from its note's argument
// string: SIZE@OPERAND, the size in bytes, negative for a signed value.
type USDTArg struct {
	Size    int  // 1, 2, 4 or 8
	Signed  bool // the size was negative
	Operand string
}

// Type is the fetch type that holds the argument: u8..u64 or s8..s64.
func (a USDTArg) Type() string {
	t := "u"
	if a.Signed {
		t = "s"
	}
	return t + strconv.Itoa(a.Size*8)
}

func (a USDTArg) String() string {
	n := a.Size
	if a.Signed {
		n = -n
	}
	return strconv.Itoa(n) + "@" + a.Operand
}

// maxUSDTArgs bounds the arguments of one probe (<sys/sdt.h> has up to 12).
const maxUSDTArgs = 32

// ParseUSDTArgs splits a note's argument string into its arguments. They
// are separated by spaces, except inside brackets (arm64's "[sp, 12]").
// An operand without SIZE@ (very old notes) is taken as 8 bytes unsigned,
// as bpftrace and BCC do.
func ParseUSDTArgs(s string) ([]USDTArg, error) {
	if len(s) > maxStapsdtString {
		return nil, fmt.Errorf("usdt arguments: %d bytes (max %d)", len(s), maxStapsdtString)
	}
	var words []string
	depth, start := 0, -1
	for i := 0; i <= len(s); i++ {
		c := byte(' ')
		if i < len(s) {
			c = s[i]
		}
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		}
		if (c == ' ' || c == '\t') && depth <= 0 {
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("usdt arguments %q: unbalanced brackets", short100(s))
	}
	if len(words) > maxUSDTArgs {
		return nil, fmt.Errorf("usdt arguments: %d (max %d)", len(words), maxUSDTArgs)
	}
	out := make([]USDTArg, 0, len(words))
	for i, w := range words {
		a := USDTArg{Size: 8, Operand: w}
		if at := strings.IndexByte(w, '@'); at > 0 {
			if n, err := strconv.Atoi(w[:at]); err == nil {
				switch n {
				case 1, 2, 4, 8, -1, -2, -4, -8:
				default:
					return nil, fmt.Errorf("usdt argument %d %q: size %d (want 1, 2, 4 or 8, negative for signed)", i, short100(w), n)
				}
				a.Size, a.Signed, a.Operand = n, n < 0, w[at+1:]
				if n < 0 {
					a.Size = -n
				}
			}
		}
		if a.Operand == "" {
			return nil, fmt.Errorf("usdt argument %d %q: empty operand", i, short100(w))
		}
		out = append(out, a)
	}
	return out, nil
}

// usdtAddr resolves a symbol (with an offset) that an operand names, for
// rip-relative and absolute memory operands, to the fetch arg that reads
// it; nil when nothing can be resolved (tests of pure operands).
type usdtAddr func(sym string, off int64) (string, error)

// USDTFetch turns an argument's operand into a uprobe fetch arg, for a
// binary of machine m:
//
//	x86-64:  %rdi %edi %di %dil → %di      16(%rsp), -8(%rbp), (%rax) → +16(%sp), -8(%bp), +0(%ax)
//	         $42, $-1 → \42, \-1 (Linux 5.4+)    sym(%rip), sym+8(%rip), sym → @+FILEOFFSET
//	arm64:   x4, w4 → %x4    [sp], [sp, 12], [x29, -8] → +0(%sp), +12(%sp), -8(%x29)    12, #12 → \12
//
// An operand with an index register, OFF(%base,%index,SCALE), has no
// fetch arg equivalent (fetch args cannot add two registers): the error
// says so. addr resolves symbols; it may be nil.
func USDTFetch(m elf.Machine, a USDTArg, addr usdtAddr) (string, error) {
	op := a.Operand
	switch m {
	case elf.EM_X86_64, elf.EM_386:
		return x86Fetch(op, a, addr)
	case elf.EM_AARCH64:
		return arm64Fetch(op, addr)
	}
	return "", fmt.Errorf("operand %q: tracer knows the usdt operands of x86-64 and arm64, not %s", op, m)
}

// x86Regs maps every width of the x86 general registers to the kernel's
// pt_regs name (arch/x86/kernel/ptrace.c); the value is fetched whole and
// the type (from the size) keeps the low bytes.
var x86Regs = func() map[string]string {
	m := map[string]string{"rip": "ip", "eip": "ip", "ip": "ip"}
	for _, r := range []string{"ax", "bx", "cx", "dx"} {
		m["r"+r], m["e"+r], m[r], m[r[:1]+"l"] = r, r, r, r
	}
	for _, r := range []string{"si", "di", "bp", "sp"} {
		m["r"+r], m["e"+r], m[r], m[r+"l"] = r, r, r, r
	}
	for i := 8; i <= 15; i++ {
		r := "r" + strconv.Itoa(i)
		m[r], m[r+"d"], m[r+"w"], m[r+"b"], m[r+"l"] = r, r, r, r, r
	}
	return m
}()

func x86Reg(op, name string) (string, error) {
	switch name {
	case "ah", "bh", "ch", "dh":
		// Bits 8..15 of a register: a bitfield of the whole register.
		return "", fmt.Errorf("operand %q: %w: high-byte register %%%s", op, errUSDTOperand, name)
	}
	if r, ok := x86Regs[name]; ok {
		return "%" + r, nil
	}
	return "", fmt.Errorf("operand %q: unknown x86 register %%%s", op, name)
}

func x86Fetch(op string, a USDTArg, addr usdtAddr) (string, error) {
	switch {
	case strings.HasPrefix(op, "%"):
		if strings.Contains(op, ":") {
			return "", fmt.Errorf("operand %q: %w: segment-relative memory", op, errUSDTOperand)
		}
		return x86Reg(op, op[1:])
	case strings.HasPrefix(op, "$"):
		v, ok := parseSignedImm(op[1:])
		if !ok {
			return "", fmt.Errorf("operand %q: %w: immediate that is not a number (a symbol's address)", op, errUSDTOperand)
		}
		return `\` + v, nil
	}
	disp, inner, hasParen := op, "", false
	if i := strings.IndexByte(op, '('); i >= 0 {
		if !strings.HasSuffix(op, ")") {
			return "", fmt.Errorf("operand %q: unclosed parenthesis", op)
		}
		disp, inner, hasParen = op[:i], op[i+1:len(op)-1], true
	}
	if strings.Contains(inner, ",") {
		return "", fmt.Errorf("operand %q: %w: an index register (OFF(%%base,%%index,SCALE)) would need two registers added", op, errUSDTOperand)
	}
	if hasParen && inner == "%rip" || !hasParen {
		// sym(%rip), sym+8(%rip), or (non-PIE) an absolute sym or address.
		sym, off, err := splitSymOff(disp)
		if err != nil {
			return "", fmt.Errorf("operand %q: %w", op, err)
		}
		if sym == "" {
			if hasParen {
				// A bare displacement from %rip needs the instruction's length.
				return "", fmt.Errorf("operand %q: %w: a rip-relative offset without a symbol", op, errUSDTOperand)
			}
			if off < 0 {
				return "", fmt.Errorf("operand %q: negative absolute address", op)
			}
			return "@0x" + strconv.FormatUint(uint64(off), 16), nil
		}
		if addr == nil {
			return "", fmt.Errorf("operand %q: symbol %s cannot be resolved here", op, sym)
		}
		f, err := addr(sym, off)
		if err != nil {
			return "", fmt.Errorf("operand %q: %w", op, err)
		}
		return f, nil
	}
	if !strings.HasPrefix(inner, "%") {
		return "", fmt.Errorf("operand %q: want OFF(%%reg)", op)
	}
	reg, err := x86Reg(op, inner[1:])
	if err != nil {
		return "", err
	}
	off := int64(0)
	if disp != "" {
		v, err := strconv.ParseInt(disp, 0, 64)
		if err != nil {
			return "", fmt.Errorf("operand %q: %w: displacement %q is not a number", op, errUSDTOperand, disp)
		}
		off = v
	}
	return derefFetch(off, reg), nil
}

// derefFetch renders +OFF(REG) or -OFF(REG).
func derefFetch(off int64, inner string) string {
	if off < 0 {
		return "-" + strconv.FormatUint(uint64(-off), 10) + "(" + inner + ")"
	}
	return "+" + strconv.FormatInt(off, 10) + "(" + inner + ")"
}

// splitSymOff splits "sym", "sym+8", "sym-8", "8" into a symbol and offset.
func splitSymOff(s string) (string, int64, error) {
	if s == "" {
		return "", 0, fmt.Errorf("empty address")
	}
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return "", v, nil
	}
	sym, off := s, int64(0)
	if i := strings.LastIndexAny(s, "+-"); i > 0 {
		v, err := strconv.ParseInt(s[i:], 0, 64)
		if err == nil {
			sym, off = s[:i], v
		}
	}
	if !symbolOK(sym, false) {
		return "", 0, fmt.Errorf("bad symbol %q", short100(sym))
	}
	return sym, off, nil
}

// parseSignedImm checks a decimal or 0x immediate, optionally negative,
// and gives it back as the kernel's \IMM takes it.
func parseSignedImm(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	u := strings.TrimPrefix(s, "-")
	v, err := strconv.ParseUint(u, 0, 64)
	if err != nil {
		return "", false
	}
	if neg {
		if v > 1<<63 {
			return "", false
		}
		return "-" + strconv.FormatUint(v, 10), true
	}
	return strconv.FormatUint(v, 10), true
}

// arm64Reg maps x0..x30, w0..w30, sp, wsp, xzr-free names to pt_regs
// names (arch/arm64/kernel/ptrace.c: x0..x30, sp, pc).
func arm64Reg(op, r string) (string, error) {
	switch r {
	case "sp", "wsp":
		return "%sp", nil
	case "pc":
		return "%pc", nil
	case "lr":
		return "%x30", nil
	case "fp":
		return "%x29", nil
	}
	if len(r) >= 2 && (r[0] == 'x' || r[0] == 'w') && isDigits(r[1:]) {
		if n, _ := strconv.Atoi(r[1:]); n <= 30 && len(r) <= 3 {
			return "%x" + strconv.Itoa(n), nil
		}
	}
	return "", fmt.Errorf("operand %q: unknown arm64 register %s", op, r)
}

func arm64Fetch(op string, addr usdtAddr) (string, error) {
	if strings.HasPrefix(op, "[") {
		if !strings.HasSuffix(op, "]") {
			return "", fmt.Errorf("operand %q: unclosed bracket", op)
		}
		parts := strings.Split(op[1:len(op)-1], ",")
		if len(parts) > 2 {
			return "", fmt.Errorf("operand %q: %w: an extended or scaled index", op, errUSDTOperand)
		}
		reg, err := arm64Reg(op, strings.TrimSpace(parts[0]))
		if err != nil {
			return "", err
		}
		off := int64(0)
		if len(parts) == 2 {
			d := strings.TrimPrefix(strings.TrimSpace(parts[1]), "#")
			v, err := strconv.ParseInt(d, 0, 64)
			if err != nil {
				if _, rerr := arm64Reg(op, d); rerr == nil {
					return "", fmt.Errorf("operand %q: %w: an index register would need two registers added", op, errUSDTOperand)
				}
				return "", fmt.Errorf("operand %q: offset %q is not a number", op, d)
			}
			off = v
		}
		return derefFetch(off, reg), nil
	}
	if v, ok := parseSignedImm(strings.TrimPrefix(op, "#")); ok {
		return `\` + v, nil
	}
	if strings.ContainsAny(op, "[],:") {
		return "", fmt.Errorf("operand %q: %w", op, errUSDTOperand)
	}
	if r, err := arm64Reg(op, op); err == nil {
		return r, nil
	}
	_ = addr // arm64 notes carry no symbolic operands (sdt.h uses "nor")
	return "", fmt.Errorf("operand %q: unknown arm64 operand", op)
}
