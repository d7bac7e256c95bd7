package tracefs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// OpenRaw sets the session up exactly like Open (instance, probes, buffer
// size, clock, pids, filters, events) and turns tracing on, but starts no
// decoding readers: the caller moves the raw pages itself, with one
// RawRecorder per CPU (see RawRecorders), e.g. into a trace.dat. Close
// removes everything as after Open.
//
// The recorders must be created between OpenRaw's setup and tracing on, so
// OpenRaw takes a function that creates them; it runs with events enabled
// and tracing still off.
func (s *Session) OpenRaw(startRecorders func(inst *Instance) error) (err error) {
	if err := s.setup(); err != nil {
		return err
	}
	inst := s.inst
	defer func() {
		if err != nil {
			s.teardown()
		}
	}()
	if startRecorders != nil {
		if err := startRecorders(inst); err != nil {
			return err
		}
	}
	if s.ownThreads > 0 && len(s.opts.PIDs) == 0 {
		s.excludeSelf() // the recorders may have started threads
	}
	return inst.SetTracingOn(true)
}

// RefreshSelfExclusion re-lists this process's threads in
// set_event_notrace_pid when their number changed (Go starts threads on
// demand). Cheap; call it now and then while recording.
func (s *Session) RefreshSelfExclusion() {
	if s.inst != nil && len(s.opts.PIDs) == 0 {
		s.excludeSelf()
	}
}

// RawMeta is what a recording needs besides the pages to be decoded on
// another machine.
type RawMeta struct {
	HeaderPage  []byte
	HeaderEvent []byte
	Formats     map[string][][]byte // by system, in event order
	Systems     []string            // systems in order ("ftrace" included if used)
	Kallsyms    []byte
	Printk      []byte
	Cmdlines    []byte
	TraceClock  string // the instance's trace_clock file ("[local] global ...")
	SubbufSize  int
	CPUs        []int // online CPUs
	NumCPUs     int   // highest CPU id + 1
	Uname       string
	BigEndian   bool
}

// RawMeta collects the metadata of an open session. Call it at the end of
// a recording, so saved_cmdlines holds the tasks seen.
func (s *Session) RawMeta() (*RawMeta, error) {
	in := s.inst
	if in == nil {
		return nil, errors.New("reading metadata: session not open")
	}
	m := &RawMeta{Formats: map[string][][]byte{}, BigEndian: nativeBigEndian()}
	var err error
	if m.HeaderPage, err = in.HeaderPage(); err != nil {
		return nil, err
	}
	if m.HeaderEvent, err = in.HeaderEvent(); err != nil {
		return nil, err
	}
	if m.SubbufSize, err = in.SubbufSize(); err != nil {
		return nil, err
	}
	for _, id := range s.events {
		f, err := s.fs.Format(id.System, id.Name)
		if err != nil {
			return nil, err
		}
		if _, ok := m.Formats[id.System]; !ok {
			m.Systems = append(m.Systems, id.System)
		}
		m.Formats[id.System] = append(m.Formats[id.System], f)
	}
	// Missing symbol tables only cost symbol names in the text.
	m.Kallsyms, _ = s.fs.Kallsyms()
	m.Printk, _ = s.fs.PrintkFormats()
	m.Cmdlines, _ = s.fs.SavedCmdlines()
	if b, err := in.read("trace_clock"); err == nil {
		m.TraceClock = strings.TrimSpace(string(b))
	}
	if m.CPUs, err = s.fs.OnlineCPUs(); err != nil {
		return nil, err
	}
	sort.Ints(m.CPUs)
	if len(m.CPUs) > 0 {
		m.NumCPUs = m.CPUs[len(m.CPUs)-1] + 1
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		// As trace-cmd writes it: sysname nodename release machine.
		m.Uname = fmt.Sprintf("%s %s %s %s", unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Nodename[:]),
			unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:]))
	}
	return m, nil
}

// StatsText returns the kernel's per_cpu/cpuN/stats file as text, for the
// CPUSTAT options of a trace.dat.
func (in *Instance) StatsText(cpu int) (string, error) {
	b, err := in.read(fmt.Sprintf("per_cpu/cpu%d/stats", cpu))
	return string(b), err
}
