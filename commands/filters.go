package commands

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tracer-dev/tracer/tracefs"
)

// filterHelp is how --filter reads, for every live command's --help.
const filterHelp = "kernel filter `EXPR` for all events, or 'system:event=EXPR' (globs) for some of the events traced; every filter that applies to an event is ANDed"

// eventFilterRE recognises "system:event=EXPR", a filter for some events.
var eventFilterRE = regexp.MustCompile(`^([A-Za-z0-9_*?.-]+:[A-Za-z0-9_*?.-]+)=(.*)$`)

// filterSet is the --filter flags split by the one rule: a filter applies
// to every event (EXPR) or to the events a pattern matches
// (system:event=EXPR), and an event's kernel filter is the AND of every
// filter that applies to it. A per-event filter never adds an event: it
// must match one of the events traced.
type filterSet struct {
	global []string
	per    []perFilter
}

type perFilter struct {
	arg, pat, expr string
	ids            map[tracefs.EventID]bool // what pat matches (after resolve)
	used           bool
}

// parseFilters splits the --filter values; resolve must follow before
// forEvent can see the per-event ones.
func parseFilters(filters []string) *filterSet {
	fs := &filterSet{}
	for _, f := range filters {
		if m := eventFilterRE.FindStringSubmatch(f); m != nil {
			fs.per = append(fs.per, perFilter{arg: f, pat: m[1], expr: m[2]})
			continue
		}
		fs.global = append(fs.global, f)
	}
	return fs
}

// resolve expands the per-event patterns against the events of fs.
func (f *filterSet) resolve(fs *tracefs.FS) error {
	for i := range f.per {
		p := &f.per[i]
		ids, err := fs.ResolveEvents([]string{p.pat})
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--filter %q: %w", p.arg, err)}
		}
		p.ids = map[tracefs.EventID]bool{}
		for _, id := range ids {
			p.ids[id] = true
		}
	}
	return nil
}

// forEvent is the kernel filter of id: the AND of the global filters and
// of the per-event filters matching it ("" for none).
func (f *filterSet) forEvent(id tracefs.EventID) string {
	exprs := append([]string(nil), f.global...)
	for _, p := range f.per {
		if p.ids[id] && strings.TrimSpace(p.expr) != "" {
			exprs = append(exprs, p.expr)
		}
	}
	return andFilters(exprs)
}

// globalFilter is the AND of the global filters, for events no per-event
// filter can name (probes, whose group tracer chooses).
func (f *filterSet) globalFilter() string { return andFilters(f.global) }

// andFilters joins kernel filter expressions with &&, each in parentheses.
func andFilters(exprs []string) string {
	switch len(exprs) {
	case 0:
		return ""
	case 1:
		return exprs[0]
	}
	return "(" + strings.Join(exprs, ") && (") + ")"
}

// addEvents adds each event pattern to s with the filters that apply to
// it (see filterSet), and refuses a per-event filter for an event not
// traced.
func addEvents(s *tracefs.Session, fs *tracefs.FS, events, filters []string) error {
	set := parseFilters(filters)
	if err := set.resolve(fs); err != nil {
		return err
	}
	global := set.globalFilter()
	for _, e := range events {
		if err := s.AddTracepoint(e, global); err != nil {
			return err
		}
		if tracefs.IsProbeSpec(e) || len(set.per) == 0 {
			continue
		}
		ids, err := fs.ResolveEvents([]string{e})
		if err != nil {
			return err
		}
		for _, id := range ids {
			f := set.forEvent(id)
			if f == global {
				continue
			}
			for i := range set.per {
				if set.per[i].ids[id] {
					set.per[i].used = true
				}
			}
			if err := s.AddTracepoint(id.String(), f); err != nil { // replaces the global one
				return err
			}
		}
	}
	for _, p := range set.per {
		if !p.used && strings.TrimSpace(p.expr) != "" {
			return &exitError{code: 2, err: fmt.Errorf("--filter %q: %s is not among the events traced; a per-event filter narrows events, it does not add them (name the event too)", p.arg, p.pat)}
		}
	}
	return nil
}

// eventFilters returns each session event's filter as addEvents set it.
func eventFilters(s *tracefs.Session, filters []string) (map[tracefs.EventID]string, error) {
	set := parseFilters(filters)
	if err := set.resolve(s.Instance().FS()); err != nil {
		return nil, err
	}
	out := map[tracefs.EventID]string{}
	for _, id := range s.Events() {
		out[id] = set.forEvent(id)
	}
	return out, nil
}
