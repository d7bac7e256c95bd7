package tracefs

import (
	"errors"
	"strings"
)

// Sentinel errors let commands pick a message and an exit code with
// errors.Is instead of matching strings; every error this package returns
// wraps at most one of them, with the path and the next step in the text.
var (
	// ErrNotMounted means no tracefs was found and none could be mounted.
	ErrNotMounted = errors.New("tracefs is not mounted (as root: mount -t tracefs nodev /sys/kernel/tracing)")
	// ErrPermission means the kernel refused access to a tracefs file. It is
	// wrapped after the errno, so messages read "permission denied (needs ...)".
	ErrPermission = errors.New("needs root, or CAP_SYS_ADMIN, or access to the tracefs files (e.g. through their group)")
	// ErrNoEvent means the named event or system does not exist on this kernel.
	ErrNoEvent = errors.New("no such event")
	// ErrNotSupported means this kernel lacks the control file for a feature.
	ErrNotSupported = errors.New("not supported by this kernel")
	// ErrInvalidName means a name or expression was refused before it could
	// reach a path or a control file.
	ErrInvalidName = errors.New("invalid name")
	// ErrCPUOffline means the CPU of a per-CPU file went offline (ENODEV).
	ErrCPUOffline = errors.New("cpu is offline")
	// ErrClosed means the reader was already closed.
	ErrClosed = errors.New("reader is closed")
)

// KernelError carries the kernel's own explanation of a refused write, taken
// from error_log, because an errno alone ("invalid argument") does not tell
// a user which token of a filter or probe definition was wrong.
type KernelError struct {
	// Op says what was being done, e.g. "setting filter on sched/sched_switch".
	Op string
	// Err is the errno from write(2).
	Err error
	// Log holds the new error_log lines, including the "Command:" line and
	// the caret line under the offending token. It may be empty on kernels
	// without error_log or for errors the kernel does not log.
	Log []string
}

func (e *KernelError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	for _, l := range e.Log {
		b.WriteString("\n")
		b.WriteString(l)
	}
	return b.String()
}

func (e *KernelError) Unwrap() error { return e.Err }
