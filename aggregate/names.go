package aggregate

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrnoName returns the name of a negative syscall return value
// ("ENOENT" for -2), or "" for a non-negative one. Unknown numbers print
// as "E123".
func ErrnoName(ret int64) string {
	if ret >= 0 {
		return ""
	}
	if n := unix.ErrnoName(syscall.Errno(-ret)); n != "" {
		return n
	}
	return "E" + strconv.FormatInt(-ret, 10)
}

var openFlagNames = []struct {
	bit  uint64
	name string
}{
	{unix.O_CREAT, "O_CREAT"}, {unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"},
	{unix.O_TRUNC, "O_TRUNC"}, {unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"},
	{unix.O_DSYNC, "O_DSYNC"}, {unix.O_ASYNC, "O_ASYNC"}, {unix.O_DIRECT, "O_DIRECT"},
	{unix.O_LARGEFILE, "O_LARGEFILE"}, {unix.O_DIRECTORY, "O_DIRECTORY"}, {unix.O_NOFOLLOW, "O_NOFOLLOW"},
	{unix.O_NOATIME, "O_NOATIME"}, {unix.O_CLOEXEC, "O_CLOEXEC"}, {unix.O_PATH, "O_PATH"},
	{unix.O_SYNC &^ unix.O_DSYNC, "O_SYNC"}, {unix.O_TMPFILE &^ unix.O_DIRECTORY, "O_TMPFILE"},
}

// OpenFlags renders open(2) flags symbolically ("O_RDONLY|O_CLOEXEC"),
// with any bits it does not know as hex.
func OpenFlags(f uint64) string {
	var b strings.Builder
	switch f & unix.O_ACCMODE {
	case unix.O_RDONLY:
		b.WriteString("O_RDONLY")
	case unix.O_WRONLY:
		b.WriteString("O_WRONLY")
	case unix.O_RDWR:
		b.WriteString("O_RDWR")
	default:
		b.WriteString("O_ACCMODE")
	}
	rest := f &^ unix.O_ACCMODE
	for _, n := range openFlagNames {
		if n.bit != 0 && rest&n.bit == n.bit {
			b.WriteString("|" + n.name)
			rest &^= n.bit
		}
	}
	if rest != 0 {
		b.WriteString("|0x" + strconv.FormatUint(rest, 16))
	}
	return b.String()
}
