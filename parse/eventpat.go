package parse

import (
	"fmt"
	"path"
	"strings"
)

// EventPattern is one compiled event pattern, the one meaning every command
// gives to an event name (record, count, hist, report --events, list):
//
//	sched:sched_switch   system and event (each a glob; an empty side is *)
//	sched                a bare glob: a system name or an event name
//	tracepoint:sched:sched_switch, t:sched:sched_switch
//	                     bpftrace's spelling of the first form
//
// It is pure: matching needs the names only, never tracefs.
type EventPattern struct {
	// System and Event are the globs of a qualified pattern; a bare one
	// has its glob in Event and System empty.
	System, Event string
	// Qualified says the pattern named a system ("sys:event"): then both
	// globs must match; a bare glob matches either name.
	Qualified bool
}

// bpftracePrefixes are bpftrace's names for the tracepoint probe type.
var bpftracePrefixes = []string{"tracepoint:", "t:"}

// TrimTracepointPrefix removes a leading "tracepoint:" or "t:" when what
// follows is still "system:event", so that bpftrace's spelling names the
// same event; "t:x" alone stays the system t's event x.
func TrimTracepointPrefix(p string) string {
	for _, pre := range bpftracePrefixes {
		if rest, ok := strings.CutPrefix(p, pre); ok && strings.Contains(rest, ":") {
			return rest
		}
	}
	return p
}

// ParseEventPattern compiles p. The error says what is wrong with the
// pattern (an empty pattern, more than one ':', a malformed glob).
func ParseEventPattern(p string) (EventPattern, error) {
	q := TrimTracepointPrefix(p)
	if q == "" {
		return EventPattern{}, fmt.Errorf("empty event pattern")
	}
	var ep EventPattern
	if sys, ev, ok := strings.Cut(q, ":"); ok {
		if strings.Contains(ev, ":") {
			return EventPattern{}, fmt.Errorf("event pattern %q: more than one ':' (want system:event)", p)
		}
		if sys == "" {
			sys = "*"
		}
		if ev == "" {
			ev = "*"
		}
		ep = EventPattern{System: sys, Event: ev, Qualified: true}
	} else {
		ep = EventPattern{Event: q}
	}
	for _, g := range []string{ep.System, ep.Event} {
		if _, err := path.Match(g, ""); err != nil {
			return EventPattern{}, fmt.Errorf("event pattern %q: %w", p, err)
		}
	}
	return ep, nil
}

// String is the pattern in tracer's own spelling.
func (ep EventPattern) String() string {
	if ep.Qualified {
		return ep.System + ":" + ep.Event
	}
	return ep.Event
}

// Match reports whether the event system:name matches.
func (ep EventPattern) Match(system, name string) bool {
	if ep.Qualified {
		return glob(ep.System, system) && glob(ep.Event, name)
	}
	return glob(ep.Event, system) || glob(ep.Event, name)
}

// EventPatterns is a set of patterns; an event matches if any does.
type EventPatterns []EventPattern

// ParseEventPatterns compiles every pattern of ps.
func ParseEventPatterns(ps []string) (EventPatterns, error) {
	out := make(EventPatterns, 0, len(ps))
	for _, p := range ps {
		ep, err := ParseEventPattern(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	return out, nil
}

// Match reports whether any pattern matches system:name.
func (eps EventPatterns) Match(system, name string) bool {
	for _, ep := range eps {
		if ep.Match(system, name) {
			return true
		}
	}
	return false
}

// glob is path.Match for patterns already checked by ParseEventPattern.
func glob(pattern, s string) bool {
	ok, _ := path.Match(pattern, s)
	return ok
}
