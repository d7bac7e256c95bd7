package parse

import "strconv"

// cleanText reports whether s is printable ASCII only, which every text
// output prints as is.
func cleanText[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// AppendEscaped appends s for a terminal line: control bytes (a newline
// that would split the line, an ESC that would reach the terminal),
// DEL and invalid UTF-8 are escaped the way Go quotes them (\n, \x1b),
// printable text (UTF-8 included) is kept. Text that needs no escaping is
// appended as is, without allocating. Every field a process controls
// (comm, file names, argv, string fields) goes through it in text output.
func AppendEscaped[T string | []byte](dst []byte, s T) []byte {
	if cleanText(s) {
		return append(dst, s...)
	}
	start := len(dst)
	dst = strconv.AppendQuote(dst, string(s))
	// Drop the quotes AppendQuote adds.
	copy(dst[start:], dst[start+1:len(dst)-1])
	return dst[:len(dst)-2]
}

// EscapeText is AppendEscaped for a string: s itself when it is clean.
func EscapeText(s string) string {
	if cleanText(s) {
		return s
	}
	return string(AppendEscaped(nil, s))
}
