package tracefs

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tracer-dev/tracer/parse"
)

// EventID names a tracepoint (or dynamic event) as system and event.
type EventID struct {
	System string
	Name   string
}

// String gives the system:event spelling users type and tools print.
func (e EventID) String() string { return e.System + ":" + e.Name }

// ListEvents reads available_events: the whole catalog in one small read,
// without opening thousands of format files.
func (fs *FS) ListEvents() ([]EventID, error) {
	b, err := fs.readFile("available_events")
	if err != nil {
		return nil, err
	}
	return parseAvailableEvents(b), nil
}

func parseAvailableEvents(b []byte) []EventID {
	var out []EventID
	for _, line := range strings.Split(string(b), "\n") {
		sys, ev, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || checkEvent(sys, ev) != nil {
			continue
		}
		out = append(out, EventID{System: sys, Name: ev})
	}
	return out
}

// Format returns events/<system>/<event>/format for the decoder.
func (fs *FS) Format(system, event string) ([]byte, error) {
	if err := checkEvent(system, event); err != nil {
		return nil, err
	}
	rel := path.Join("events", system, event, "format")
	if !fs.exists(rel) {
		return nil, fmt.Errorf("reading format of %s:%s: %w", system, event, ErrNoEvent)
	}
	return fs.readFile(rel)
}

// ResolveEvents expands user patterns the way trace-cmd -e does, so users
// can bring their habits: "system:event" with globs on either side
// ("sched:*", "*:*exec*"), a bare "system" meaning all its events, and a
// bare "event" matching that event in any system. Every pattern must match
// something; otherwise nothing is returned (so nothing gets enabled) and
// the error suggests up to three close names.
func (fs *FS) ResolveEvents(patterns []string) ([]EventID, error) {
	all, err := fs.ListEvents()
	if err != nil {
		return nil, err
	}
	return resolveEvents(all, patterns)
}

func resolveEvents(all []EventID, patterns []string) ([]EventID, error) {
	seen := make(map[EventID]bool)
	var out []EventID
	for _, p := range patterns {
		// The matcher is parse's, shared with report and list; the
		// characters are checked here, as they are for every name that
		// may reach a control file.
		q := parse.TrimTracepointPrefix(p)
		if err := checkPattern(q); err != nil {
			return nil, err
		}
		ep, err := parse.ParseEventPattern(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidName, err)
		}
		n := 0
		for _, e := range all {
			if ep.Match(e.System, e.Name) {
				n++
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
		if n == 0 {
			if s := suggest(all, q, 3); len(s) > 0 {
				return nil, fmt.Errorf("event %q: %w; did you mean %s?", p, ErrNoEvent, strings.Join(s, ", "))
			}
			return nil, fmt.Errorf("event %q: %w (see `tracer list`)", p, ErrNoEvent)
		}
	}
	return out, nil
}

func glob(pattern, s string) bool {
	ok, _ := path.Match(pattern, s)
	return ok
}

// suggest returns up to n names closest to p by edit distance. For
// "system:event" patterns it compares full names, for bare ones it also
// compares system names and bare event names.
func suggest(all []EventID, p string, n int) []string {
	p = strings.Map(func(r rune) rune {
		if strings.ContainsRune("*?[]", r) {
			return -1
		}
		return r
	}, p)
	if p == "" || p == ":" {
		return nil
	}
	type cand struct {
		s string
		d int
	}
	best := map[string]int{}
	add := func(s, against string) {
		d := levenshtein(p, against)
		if old, ok := best[s]; !ok || d < old {
			best[s] = d
		}
	}
	withColon := strings.Contains(p, ":")
	for _, e := range all {
		if withColon {
			add(e.String(), e.String())
		} else {
			add(e.String(), e.Name)
			add(e.System, e.System)
		}
	}
	limit := len(p)/2 + 1
	var cs []cand
	for s, d := range best {
		if d <= limit {
			cs = append(cs, cand{s, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
