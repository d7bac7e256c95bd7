package commands

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var latencyCommand = &cli.Command{
	Name:      "latency",
	Usage:     "histogram of the time from a START event to its END event",
	ArgsUsage: "START END [-- COMMAND ARGS...]",
	Description: `STARTs and ENDs are paired by thread id, or by --key FIELD (a field both
events have, e.g. a request pointer). Pending STARTs live in a bounded table
(--max-pending): when it is full the oldest is evicted, and evictions and
ENDs without a START are reported.

   tracer latency syscalls:sys_enter_read syscalls:sys_exit_read --by comm
   tracer latency block:block_rq_issue block:block_rq_complete --key sector`,
	Flags: liveFlags(
		&cli.StringFlag{Name: "key", Usage: "pair by `FIELD` instead of the thread id"},
		&cli.StringFlag{Name: "by", Usage: "comma-separated `KEYS` (of the END event) for one histogram each"},
		&cli.StringFlag{Name: "unit", Usage: "`UNIT` of the histogram: ns, us or ms", Value: "us"},
		&cli.StringFlag{Name: "linear", Usage: "linear buckets `MIN,MAX,STEP` (in --unit)"},
		&cli.IntFlag{Name: "max-pending", Usage: "at most `N` STARTs waiting for their END", Value: 65536},
		&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Usage: "print and reset every `D`"},
		&cli.IntFlag{Name: "top", Aliases: []string{"n"}, Usage: "print only the `N` busiest keys"},
		maxKeysFlag,
		metricsFlag,
		metricsMaxSeriesFlag,
	),
	Action: runLatency,
}

func runLatency(c *cli.Context) error {
	events, command := splitArgs(c)
	if len(events) != 2 {
		return &exitError{code: 2, err: errors.New("latency needs a START and an END event, e.g. tracer latency syscalls:sys_enter_read syscalls:sys_exit_read")}
	}
	var div int64
	switch c.String("unit") {
	case "ns":
		div = 1
	case "us":
		div = 1000
	case "ms":
		div = 1000000
	default:
		return &exitError{code: 2, err: fmt.Errorf("--unit %q: want ns, us or ms", c.String("unit"))}
	}
	proto, err := histProto(c)
	if err != nil {
		return err
	}
	k, err := keyerFlag(c)
	if err != nil {
		return err
	}
	kh := aggregate.NewKeyedHist(proto, k, "")
	if kh.MaxKeys, err = maxKeys(c); err != nil {
		return err
	}
	p := aggregate.NewPairer(c.String("key"), c.Int("max-pending"))
	lm, err := startMetrics(c)
	if err != nil {
		return err
	}
	defer lm.close()
	var mh *aggregate.KeyedHist
	if lm != nil {
		mk, _ := keyerFlag(c)
		unit := map[string]string{"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds"}[c.String("unit")]
		mh = lm.set.Hist("tracer_latency_"+unit, "Time from START to END in "+unit+" per key (--by), since tracer started; the buckets are the printed histogram's.", proto, mk, "").Keyed()
		// The pairer's counters are read by scrapes under the lock,
		// which the record function below holds while it updates them.
		lm.set.Func("tracer_latency_paired_total", "ENDs paired with their START.", true, func() float64 { return float64(p.Matched) })
		lm.set.Func("tracer_latency_unmatched_end_total", "ENDs without a pending START (it was lost, evicted, or before tracer started).", true, func() float64 { return float64(p.UnmatchedEnd) })
		lm.set.Func("tracer_latency_evicted_total", "Pending STARTs evicted from the full table (--max-pending).", true, func() float64 { return float64(p.Evicted()) })
		lm.set.Func("tracer_latency_restarted_total", "STARTs that replaced a pending START of the same key.", true, func() float64 { return float64(p.Restarted()) })
		lm.set.Func("tracer_latency_pending", "STARTs waiting for their END.", false, func() float64 { return float64(p.Pending()) })
	}
	loss := &lossMeter{}
	var startS, endS *parse.Schema
	start := time.Now()
	spec := &liveSpec{
		events: events, globals: true, childArgs: command,
		open: func(s *tracefs.Session) error {
			var ids [2]tracefs.EventID
			var probes []tracefs.EventID // the probes' events, in the order given
			for _, id := range s.Events() {
				if strings.HasPrefix(id.System, "tracer_") {
					probes = append(probes, id)
				}
			}
			for i, pat := range events {
				if tracefs.IsProbeSpec(pat) && len(probes) > 0 {
					ids[i], probes = probes[0], probes[1:]
					continue
				}
				got, err := s.Instance().FS().ResolveEvents([]string{pat})
				if err != nil {
					return err
				}
				if len(got) != 1 {
					return &exitError{code: 2, err: fmt.Errorf("latency needs one START and one END event; %q matches %d events", pat, len(got))}
				}
				ids[i] = got[0]
			}
			if ids[0] == ids[1] {
				return &exitError{code: 2, err: fmt.Errorf("latency needs two different events; START %q and END %q are both %s", events[0], events[1], ids[0])}
			}
			dec := s.Decoder()
			startS = dec.SchemaByName(ids[0].String())
			endS = dec.SchemaByName(ids[1].String())
			if f := c.String("key"); f != "" && f != "pid" && f != "tid" {
				for _, sc := range []*parse.Schema{startS, endS} {
					if sc.FieldIndex(f) < 0 {
						return &exitError{code: 2, err: fmt.Errorf("--key %q: event %s has no such field", f, sc.FullName())}
					}
				}
			}
			if mh != nil && mh.Keyer != nil {
				mh.Keyer.Comm = commLookup(s)
			}
			if k != nil {
				k.Comm = commLookup(s)
				if err := k.Check(endS); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			return nil
		},
		record: func(r *parse.Record) error {
			if lm != nil {
				lm.set.Lock()
				defer lm.set.Unlock()
			}
			switch r.Schema {
			case startS:
				p.Start(r)
			case endS:
				if d, ok := p.End(r); ok {
					kh.AddValue(r, int64(d)/div)
					if mh != nil {
						mh.AddValue(r, int64(d)/div)
					}
				}
			}
			return nil
		},
		loss:     loss,
		interval: c.Duration("interval"),
		tick: func(out *bufio.Writer, final bool) error {
			extra := map[string]any{
				"paired":        p.Matched,
				"unmatched_end": p.UnmatchedEnd,
				"evicted":       p.Evicted(),
				"restarted":     p.Restarted(),
				"pending":       p.Pending(),
			}
			err := printHists(out, kh, c.Int("top"), c.Bool("json"), "@"+c.String("unit"), loss.take(), time.Since(start), extra)
			kh.Reset()
			start = time.Now()
			return err
		},
	}
	lm.attach(spec)
	return runLive(c, spec, bufio.NewWriterSize(c.App.Writer, 64<<10))
}
