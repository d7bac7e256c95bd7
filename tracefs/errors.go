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

// UnsupportedFeatureError says that this kernel lacks a feature, which
// version brought it and which config option turns it on, so that a
// person knows whether a newer kernel or a rebuilt one would do (cilium/ebpf's
// UnsupportedFeatureError is the model). errors.Is(err, ErrNotSupported)
// holds for every one.
type UnsupportedFeatureError struct {
	// Name is the feature, e.g. "hist triggers".
	Name string
	// MinimumVersion is the first Linux version with it, e.g. "4.7".
	MinimumVersion string
	// Config is the kernel config option it needs, "" if none of its own.
	Config string
	// Detail says what is missing or what to use instead; may be empty.
	Detail string
}

func (e *UnsupportedFeatureError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	b.WriteString(" not supported by this kernel (needs Linux ")
	b.WriteString(e.MinimumVersion)
	b.WriteString("+")
	if e.Config != "" {
		b.WriteString(" with ")
		b.WriteString(e.Config)
	}
	b.WriteString(")")
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is makes every UnsupportedFeatureError an ErrNotSupported.
func (e *UnsupportedFeatureError) Is(target error) bool { return target == ErrNotSupported }

// errNoInstances is the error of a kernel without tracefs instances.
func errNoInstances(dir string) error {
	return &UnsupportedFeatureError{Name: "tracing instances", MinimumVersion: "3.10", Config: "CONFIG_TRACING", Detail: "no " + dir}
}

// errNoSubbufSize is the error of a kernel without buffer_subbuf_size_kb.
var errNoSubbufSize = &UnsupportedFeatureError{Name: "sub-buffer size (buffer_subbuf_size_kb)", MinimumVersion: "6.8"}

// errNoBufferPercent is the error of a kernel without buffer_percent.
var errNoBufferPercent = &UnsupportedFeatureError{Name: "buffer_percent", MinimumVersion: "5.1"}

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
