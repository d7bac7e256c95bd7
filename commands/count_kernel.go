package commands

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/tracefs"
)

// inKernelFlag makes count and hist use the kernel's hist triggers.
var inKernelFlag = &cli.BoolFlag{Name: "in-kernel", Usage: "aggregate in the kernel with hist triggers (CONFIG_HIST_TRIGGERS), so only the summary crosses to user space"}

// kernelHistSize is the size of each trigger's table (the kernel's
// default is 2048); entries beyond it are dropped and reported as lost.
const kernelHistSize = 16384

// kernelAgg is the set of hist triggers of one count or hist run, set in
// the session's own instance and removed before it is.
type kernelAgg struct {
	trigs []*tracefs.HistTrigger
	plans []*aggregate.KernelPlan
	// missing marks triggers on events without the histogrammed field:
	// their hits count as "events without the field", as in user space.
	missing []bool
}

// checkInKernel refuses early, before anything is created, on a kernel
// without hist triggers or with options the kernel path cannot honour.
func checkInKernel(c *cli.Context) error {
	if c.Duration("interval") > 0 {
		return &exitError{code: 2, err: errors.New("--in-kernel does not support --interval yet; drop one of them")}
	}
	fs, err := openFS(c)
	if err != nil {
		return err
	}
	if !fs.Features().HistTriggers {
		return fmt.Errorf("--in-kernel: %w; drop --in-kernel to aggregate in user space (the default)", tracefs.ErrNoHistTriggers)
	}
	return nil
}

// install sets one trigger per event of the session, keyed as k (nil:
// none) plus field (hist), and disables the events in the instance so no
// record is copied out: the triggers keep them soft-enabled. On error the
// triggers set so far stay in a for remove.
func (a *kernelAgg) install(c *cli.Context, s *tracefs.Session, k *aggregate.Keyer, field string) error {
	in := s.Instance()
	filters, err := eventFilters(s, c.StringSlice("filter"))
	if err != nil {
		return err
	}
	dec := s.Decoder()
	for _, id := range s.Events() {
		if !in.HasHist(id.System, id.Name) {
			return fmt.Errorf("--in-kernel: %s:%s: %w; drop --in-kernel to aggregate in user space (the default)", id.System, id.Name, tracefs.ErrNoHistTriggers)
		}
		sc := dec.SchemaByName(id.System + ":" + id.Name)
		if sc == nil {
			return fmt.Errorf("--in-kernel: no format for %s:%s", id.System, id.Name)
		}
		missing := field != "" && sc.FieldIndex(field) < 0
		f := field
		if missing {
			f = ""
		}
		plan, err := k.KernelPlan(sc, f)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		t, err := in.AddHistTrigger(id.System, id.Name, plan.Keys, kernelHistSize, filters[id])
		if err != nil {
			return err
		}
		a.trigs = append(a.trigs, t)
		a.plans = append(a.plans, plan)
		a.missing = append(a.missing, missing)
		if err := in.DisableEvent(id.System, id.Name); err != nil {
			return err
		}
	}
	return nil
}

// remove takes every trigger off; it runs on every way out, before the
// instance is removed.
func (a *kernelAgg) remove() error {
	var errs []error
	for _, t := range a.trigs {
		if err := t.Remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// each reads every trigger's hist and calls fn per entry; it returns the
// events the kernel dropped for lack of room.
func (a *kernelAgg) each(fn func(i int, e *aggregate.KernelEntry) error) (dropped uint64, err error) {
	for i, t := range a.trigs {
		b, err := t.Read()
		if err != nil {
			return dropped, err
		}
		h, err := aggregate.ParseKernelHist(b)
		if err != nil {
			return dropped, fmt.Errorf("%s:%s: %w", t.System, t.Event, err)
		}
		dropped += h.Dropped
		for j := range h.Entries {
			if err := fn(i, &h.Entries[j]); err != nil {
				return dropped, fmt.Errorf("%s:%s: %w", t.System, t.Event, err)
			}
		}
	}
	return dropped, nil
}

// fillCounter adds the kernel's counts to ctr and returns the events its
// tables had no room for.
func (a *kernelAgg) fillCounter(ctr *aggregate.Counter) (dropped uint64, err error) {
	var key []aggregate.Value
	return a.each(func(i int, e *aggregate.KernelEntry) error {
		var err error
		key, err = a.plans[i].Key(e, key)
		if err != nil {
			return err
		}
		ctr.AddKey(key, e.Hitcount())
		return nil
	})
}

// fillHist adds the kernel's per-value counts to kh, bucketing in user
// space exactly as for records, and returns the events its tables had no
// room for.
func (a *kernelAgg) fillHist(kh *aggregate.KeyedHist) (dropped uint64, err error) {
	var key []aggregate.Value
	return a.each(func(i int, e *aggregate.KernelEntry) error {
		if a.missing[i] {
			kh.Missing += e.Hitcount()
			return nil
		}
		var err error
		key, err = a.plans[i].Key(e, key)
		if err != nil {
			return err
		}
		v, err := a.plans[i].Value(e)
		if err != nil {
			return err
		}
		kh.AddValueN(key, v, e.Hitcount())
		return nil
	})
}
