package tracefs

import (
	"fmt"
	"strings"
)

const (
	// maxNameLen bounds system, event, option and instance names. The
	// longest tracepoint names are about 40 bytes; dynamic events are
	// limited to 64 (MAX_EVENT_NAME_LEN) by the kernel.
	maxNameLen = 128
	// maxFilterLen bounds filter expressions; the kernel copies a write
	// into one allocation and longer filters are certainly a mistake.
	maxFilterLen = 4095
)

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}

// checkName refuses anything that could escape a directory or smuggle a
// second command into a control file: only [A-Za-z0-9_.-], not "." or
// "..", bounded length. what names the kind for the message.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty %s name", ErrInvalidName, what)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%w: %s name is %d bytes long (max %d)", ErrInvalidName, what, len(s), maxNameLen)
	}
	if s == "." || s == ".." {
		return fmt.Errorf("%w: %s name %q", ErrInvalidName, what, s)
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return fmt.Errorf("%w: %s name %q: character %q not allowed (use letters, digits, '_', '.', '-')", ErrInvalidName, what, s, s[i])
		}
	}
	return nil
}

// checkPattern is checkName plus the glob characters that ResolveEvents
// expands in Go; patterns never reach a path or a control file.
func checkPattern(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty event pattern", ErrInvalidName)
	}
	if len(s) > 2*maxNameLen+1 {
		return fmt.Errorf("%w: event pattern is %d bytes long", ErrInvalidName, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !nameByte(c) && !strings.ContainsRune("*?[]:", rune(c)) {
			return fmt.Errorf("%w: event pattern %q: character %q not allowed", ErrInvalidName, s, c)
		}
	}
	if strings.Count(s, ":") > 1 {
		return fmt.Errorf("%w: event pattern %q: more than one ':' (want system:event)", ErrInvalidName, s)
	}
	return nil
}

func checkEvent(system, event string) error {
	if err := checkName("system", system); err != nil {
		return err
	}
	return checkName("event", event)
}

// checkFilter refuses what would end the command early or be cut by the
// kernel: newlines, NULs and over-long expressions. Everything else is the
// kernel's to judge, and its error_log says why.
func checkFilter(expr string) error {
	if len(expr) > maxFilterLen {
		return fmt.Errorf("%w: filter is %d bytes long (max %d)", ErrInvalidName, len(expr), maxFilterLen)
	}
	if i := strings.IndexAny(expr, "\n\r\x00"); i >= 0 {
		return fmt.Errorf("%w: filter contains a newline or NUL at byte %d", ErrInvalidName, i)
	}
	return nil
}
