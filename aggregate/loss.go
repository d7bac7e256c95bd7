package aggregate

import (
	"strconv"
)

// CPULoss is what the kernel reports lost on one CPU, from each of its
// sources.
type CPULoss struct {
	// InPages sums the sizes of the lost-events items in the pages read.
	InPages uint64
	// UnknownInPages counts lost-events items without a size (the page
	// had no room to store it).
	UnknownInPages uint64
	// Overrun is per_cpu/cpuN/stats "overrun": events overwritten before
	// they were read (overwrite mode). The sizes in the pages come from
	// this counter, so they are part of it, not added to it.
	Overrun uint64
	// CommitOverrun is "commit overrun": events lost because writers
	// nested deeper than the buffer could hold.
	CommitOverrun uint64
	// Dropped is "dropped events": events refused because the buffer was
	// full (no-overwrite mode).
	Dropped uint64
}

// Events is the number of events lost on the CPU: the larger of the
// page reports and the overrun counter (the page reports count a part of
// the overruns, and none where they have no size), plus the events the
// kernel refused outright.
func (c CPULoss) Events() uint64 {
	return max(c.InPages, c.Overrun) + c.CommitOverrun + c.Dropped
}

// Loss is what a summary says was lost: every event the kernel reports
// lost, whatever the source, and how many loss reports had no size.
type Loss struct {
	// Events counts every event lost (see CPULoss.Events), plus any
	// added by the caller (events a kernel hist table had no room for).
	Events uint64
	// Unknown counts lost-events items in the pages without a size; the
	// kernel's counters in Events already cover them where it has them.
	Unknown uint64
}

// SumLoss adds up the CPUs' losses.
func SumLoss(cpus []CPULoss) Loss {
	var l Loss
	for _, c := range cpus {
		l.Events += c.Events()
		l.Unknown += c.UnknownInPages
	}
	return l
}

// Sub returns the loss since prev, an earlier sum of the same counters
// (for per-interval output); each counter only grows.
func (l Loss) Sub(prev Loss) Loss {
	return Loss{Events: l.Events - min(prev.Events, l.Events), Unknown: l.Unknown - min(prev.Unknown, l.Unknown)}
}

// Any reports whether anything was lost.
func (l Loss) Any() bool { return l.Events > 0 || l.Unknown > 0 }

// String is the loss for a footer: "63648 events lost" and, when some
// page reports had no size, how many.
func (l Loss) String() string {
	s := strconv.FormatUint(l.Events, 10) + " events lost"
	if l.Unknown > 0 {
		s += " (" + strconv.FormatUint(l.Unknown, 10) + " loss reports without a size)"
	}
	return s
}
