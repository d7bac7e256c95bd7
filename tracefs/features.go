package tracefs

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Features is what this kernel offers, so commands can refuse early with a
// reason (and doctor can print it) instead of failing halfway.
type Features struct {
	KernelRelease  string // uname -r
	Instances      bool   // instances/ (private buffers)
	KprobeEvents   bool   // kprobe_events (CONFIG_KPROBE_EVENTS)
	UprobeEvents   bool   // uprobe_events (CONFIG_UPROBE_EVENTS)
	DynamicEvents  bool   // dynamic_events (5.3+)
	Eprobes        bool   // event probes (5.15+, CONFIG_EPROBE_EVENTS), see hasEprobes
	FunctionTracer bool   // "function" listed in available_tracers
	HistTriggers   bool   // events/sched/sched_switch/hist exists
	SubbufSize     bool   // buffer_subbuf_size_kb (6.8+)
	BufferPercent  bool   // buffer_percent (5.1+); readers rely on it
	ErrorLog       bool   // error_log (5.2+): kernel explanations of refused writes
	Lockdown       string // current mode from securityfs, "" if unknown
	// Notes explain caveats a user should see, e.g. that a listed
	// function tracer may still be refused.
	Notes []string
}

// Features probes the kernel. It only looks: nothing is written.
func (fs *FS) Features() Features {
	f := Features{
		Instances:     fs.exists("instances"),
		KprobeEvents:  fs.exists("kprobe_events"),
		UprobeEvents:  fs.exists("uprobe_events"),
		DynamicEvents: fs.exists("dynamic_events"),
		HistTriggers:  fs.exists("events/sched/sched_switch/hist"),
		SubbufSize:    fs.exists("buffer_subbuf_size_kb"),
		BufferPercent: fs.exists("buffer_percent"),
		ErrorLog:      fs.exists("error_log"),
		Eprobes:       fs.hasEprobes(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.KernelRelease = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := fs.readFile("available_tracers"); err == nil {
		for _, t := range strings.Fields(string(b)) {
			if t == "function" {
				f.FunctionTracer = true
			}
		}
	}
	if f.FunctionTracer {
		f.Notes = append(f.Notes, "the function tracer is listed, but some kernels refuse current_tracer/set_ftrace_filter writes (EPERM); it is only known to work once used")
	}
	if b, err := readAbs(path.Join(fs.sysRoot, "kernel/security/lockdown")); err == nil {
		f.Lockdown = parseLockdown(b)
		if f.Lockdown != "" && f.Lockdown != "none" {
			f.Notes = append(f.Notes, "kernel lockdown is "+f.Lockdown+": kprobes and some tracefs files may be refused")
		}
	}
	if !f.KprobeEvents {
		f.Notes = append(f.Notes, "no kprobe_events: kernel built without CONFIG_KPROBE_EVENTS; kprobes are unavailable")
	}
	if !f.Instances {
		f.Notes = append(f.Notes, "no instances directory: tracer needs private instances (Linux 3.10+ tracefs)")
	}
	if _, err := os.Stat(path.Join(fs.procRoot, "kallsyms")); err != nil {
		f.Notes = append(f.Notes, "no /proc/kallsyms: kernel addresses cannot be resolved")
	}
	return f
}

// eprobeCache holds hasEprobes' answer per proc root and tracefs root:
// eprobes cannot be a module, so the answer holds until reboot, and
// reading kallsyms costs a few milliseconds.
var eprobeCache sync.Map

// hasEprobes tells whether this kernel can create eprobes. The tracefs
// README is not enough: 6.18 built without CONFIG_EPROBE_EVENTS still
// lists the "e[:[<group>/][<event>]] <attached-group>.<attached-event>"
// syntax (it is in the shared probe help). So a README without it means no
// (before 5.15), and otherwise kallsyms decides by the eprobe code's own
// function (eprobe_dyn_event_create, which the dynamic event ops point
// to, so it is never inlined away). Without a readable kallsyms the README
// is trusted. Nothing is written: a trial e: line would land in the
// shared error_log.
func (fs *FS) hasEprobes() bool {
	if !fs.exists("dynamic_events") {
		return false
	}
	key := fs.procRoot + "\x00" + fs.root
	if v, ok := eprobeCache.Load(key); ok {
		return v.(bool)
	}
	ok := true
	if b, err := fs.readFile("README"); err == nil && !strings.Contains(string(b), "<attached-group>.<attached-event>") {
		ok = false
	} else if found, known := kallsymsHas(path.Join(fs.procRoot, "kallsyms"), "eprobe_dyn_event_create"); known {
		ok = found
	}
	eprobeCache.Store(key, ok)
	return ok
}

// kallsymsHas scans a kallsyms file for a symbol name. known is false
// when the file cannot be read or lists nothing (no CONFIG_KALLSYMS).
// Lines are "ADDR TYPE NAME[\t[MODULE]]"; a line longer than the scanner's
// buffer is skipped, not an error.
func kallsymsHas(file, name string) (found, known bool) {
	f, err := os.Open(file)
	if err != nil {
		return false, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	lines := 0
	for sc.Scan() {
		lines++
		l := sc.Bytes()
		if i := bytes.IndexByte(l, '\t'); i >= 0 {
			l = l[:i]
		}
		if i := bytes.LastIndexByte(l, ' '); i >= 0 && string(l[i+1:]) == name {
			return true, true
		}
	}
	return false, lines > 0
}

// parseLockdown takes the bracketed mode from "[none] integrity confidentiality".
func parseLockdown(b []byte) string {
	for _, w := range strings.Fields(string(b)) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			return w[1 : len(w)-1]
		}
	}
	return ""
}
