package parse

// Small formatting helpers for the hot paths: decimal and hex digits written
// without going through strconv's general entry points, and the tables the
// text prefix uses.

import "math/bits"

const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

var pow10tab = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decLen returns the number of decimal digits of v.
func decLen(v uint64) int {
	n := bits.Len64(v|1) * 1233 >> 12 // floor(log10(v)) or one more
	if v < pow10tab[n] {
		return max(n, 1)
	}
	return n + 1
}

// putDigits writes v in decimal right-aligned in b, which must be at
// least decLen(v) long.
func putDigits(b []byte, v uint64) {
	i := len(b)
	// Eight digits at a time in 32-bit arithmetic, then pairs.
	for v >= 1e8 && i >= 8 {
		q := v / 1e8
		r := uint32(v - q*1e8)
		v = q
		hi, lo := r/10000, r%10000
		a, b2, c, d := hi/100, hi%100, lo/100, lo%100
		w := b[i-8 : i]
		w[0], w[1] = digits2[2*a], digits2[2*a+1]
		w[2], w[3] = digits2[2*b2], digits2[2*b2+1]
		w[4], w[5] = digits2[2*c], digits2[2*c+1]
		w[6], w[7] = digits2[2*d], digits2[2*d+1]
		i -= 8
	}
	for v >= 100 {
		q := v / 100
		r := v - q*100
		i -= 2
		b[i], b[i+1] = digits2[2*r], digits2[2*r+1]
		v = q
	}
	if v >= 10 {
		b[i-2], b[i-1] = digits2[2*v], digits2[2*v+1]
	} else {
		b[i-1] = byte('0' + v)
	}
}

// appendDec appends v in decimal, as strconv.AppendUint(dst, v, 10).
// Values below 10^8 (pids, CPUs, seconds, most fields) are written in
// groups of up to four digits by single appends, with no length
// computation, digit loop or further call: JSON lines are mostly such
// numbers.
func appendDec(dst []byte, v uint64) []byte {
	switch {
	case v < 10:
		return append(dst, byte('0'+v))
	case v < 100:
		return append(dst, digits2[2*v], digits2[2*v+1])
	case v < 1e4:
		return appendDec4(dst, uint32(v))
	case v < 1e8:
		hi, lo := uint32(v)/1e4, uint32(v)%1e4
		return appendFixed4(appendDec4(dst, hi), lo)
	case v < 1e16:
		q := v / 1e8
		return appendFixed8(appendDec(dst, q), uint32(v-q*1e8))
	}
	n := decLen(v)
	l := len(dst)
	if cap(dst)-l < n {
		dst = append(dst, make([]byte, n)...)
	}
	dst = dst[:l+n]
	putDigits(dst[l:], v)
	return dst
}

// appendDec4 appends v < 10000 in decimal.
func appendDec4(dst []byte, v uint32) []byte {
	switch {
	case v < 10:
		return append(dst, byte('0'+v))
	case v < 100:
		return append(dst, digits2[2*v], digits2[2*v+1])
	case v < 1000:
		a, b := v/100, v%100
		return append(dst, byte('0'+a), digits2[2*b], digits2[2*b+1])
	}
	return appendFixed4(dst, v%1e4)
}

// appendFixed4 appends v < 10000 as exactly four digits.
func appendFixed4(dst []byte, v uint32) []byte {
	a, b := v/100%100, v%100
	return append(dst, digits2[2*a], digits2[2*a+1], digits2[2*b], digits2[2*b+1])
}

// appendFixed8 appends v < 10^8 as exactly eight digits.
func appendFixed8(dst []byte, v uint32) []byte {
	hi, lo := v/1e4%1e4, v%1e4
	a, b, c, d := hi/100%100, hi%100, lo/100%100, lo%100
	return append(dst, digits2[2*a], digits2[2*a+1], digits2[2*b], digits2[2*b+1],
		digits2[2*c], digits2[2*c+1], digits2[2*d], digits2[2*d+1])
}

// appendFixed9 appends v < 10^9 as exactly nine digits.
func appendFixed9(dst []byte, v uint32) []byte {
	q := v / 1e8 % 10
	return appendFixed8(append(dst, byte('0'+q)), v-q*1e8)
}

// appendFixed6 appends v < 10^6 as exactly six digits.
func appendFixed6(dst []byte, v uint32) []byte {
	hi, mid, lo := v/10000%100, v/100%100, v%100
	return append(dst, digits2[2*hi], digits2[2*hi+1], digits2[2*mid], digits2[2*mid+1], digits2[2*lo], digits2[2*lo+1])
}

// appendDecInt appends v in decimal, as strconv.AppendInt(dst, v, 10).
func appendDecInt(dst []byte, v int64) []byte {
	if v < 0 {
		return appendDec(append(dst, '-'), uint64(-v))
	}
	return appendDec(dst, uint64(v))
}

// appendHexU appends v in lower-case hex, as strconv.AppendUint(dst, v, 16).
func appendHexU(dst []byte, v uint64) []byte {
	n := (bits.Len64(v|1) + 3) >> 2
	l := len(dst)
	if cap(dst)-l < n {
		dst = append(dst, make([]byte, n)...)
	}
	dst = dst[:l+n]
	b := dst[l:]
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexLower[v&15]
		v >>= 4
	}
	return dst
}

// latTab holds the first three latency characters (irqs-off,
// need-resched, hardirq/softirq) for every common_flags value, for the
// styles with a separate migrate-disable column.
var latTab = func() (t [latNoMigrate][256][3]byte) {
	for st := range latNoMigrate {
		for f := range 256 {
			b := appendLatFmtSlow(nil, uint8(f), 0, st)
			copy(t[st][f][:], b)
		}
	}
	return t
}()
