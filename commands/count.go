package commands

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/metrics"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var countCommand = &cli.Command{
	Name:      "count",
	Usage:     "count events per key (comm, pid, cpu, event or any field), like bpftrace's count()",
	ArgsUsage: "EVENT... [-- COMMAND ARGS...]",
	Description: `Counts are kept in user space from the decoded stream; the kernel filters
first (--filter), so only matching events are copied out. pid is the
kernel's common_pid, that is the thread id. With --in-kernel, where the
kernel has hist triggers (CONFIG_HIST_TRIGGERS), the counting is done by a
hist trigger in tracer's own instance and only the table is read at the
end (not with --interval).

   tracer count 'syscalls:sys_enter_*' --by comm,event --top 10
   tracer count sched:sched_switch --by prev_comm --interval 1s
   tracer count syscalls:sys_enter_openat --by pid -- make`,
	Flags: liveFlags(
		&cli.StringFlag{Name: "by", Usage: "comma-separated `KEYS`: comm, pid, cpu, event, or field names", Value: "event"},
		&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Usage: "print and reset the counts every `D`"},
		&cli.IntFlag{Name: "top", Aliases: []string{"n"}, Usage: "print only the `N` largest counts"},
		maxKeysFlag,
		inKernelFlag,
		metricsFlag,
		metricsMaxSeriesFlag,
	),
	Action: runCount,
}

// maxKeysFlag bounds the key table of count, hist and latency, so that a
// key with millions of values (fds, addresses) cannot grow memory.
var maxKeysFlag = &cli.IntFlag{Name: "max-keys", Usage: "keep the first `N` keys seen (per interval); the events of further keys are summed in one [other] row", Value: 10000}

// maxKeys returns --max-keys, refused when below 1.
func maxKeys(c *cli.Context) (int, error) {
	n := c.Int("max-keys")
	if n < 1 {
		return 0, &exitError{code: 2, err: fmt.Errorf("--max-keys %d: want at least 1", n)}
	}
	return n, nil
}

// otherNote is the footer note for events folded into [other].
func otherNote(events uint64, maxKeys int) string {
	return fmt.Sprintf("%d events of keys beyond the first %d (--max-keys) in [other]", events, maxKeys)
}

func runCount(c *cli.Context) error {
	events, command := splitArgs(c)
	if len(events) == 0 {
		return &exitError{code: 2, err: errors.New("count needs at least one event, e.g. tracer count 'syscalls:sys_enter_*' --by comm")}
	}
	k, err := aggregate.NewKeyer(strings.Split(c.String("by"), ","))
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--by: %w", err)}
	}
	ctr := aggregate.NewCounter(k)
	if ctr.MaxKeys, err = maxKeys(c); err != nil {
		return err
	}
	loss := &lossMeter{}
	jsonOut, top := c.Bool("json"), c.Int("top")
	inKernel := c.Bool("in-kernel")
	if inKernel {
		if err := checkInKernel(c); err != nil {
			return err
		}
	}
	lm, err := startMetrics(c)
	if err != nil {
		return err
	}
	defer lm.close()
	var mctr *metrics.Counter
	if lm != nil {
		mk, _ := aggregate.NewKeyer(strings.Split(c.String("by"), ","))
		mctr = lm.set.Counter("tracer_events_total", "Events counted per key (--by), since tracer started.", mk)
	}
	var kagg kernelAgg
	start := time.Now()
	spec := &liveSpec{
		events: events, globals: true, childArgs: command,
		open: func(s *tracefs.Session) error {
			k.Comm = commLookup(s)
			if mctr != nil {
				mctr.Keyer().Comm = k.Comm
			}
			if err := checkKeys(s, k); err != nil {
				return err
			}
			if inKernel {
				return kagg.install(c, s, k, "")
			}
			return nil
		},
		record: func(r *parse.Record) error {
			if !inKernel {
				ctr.Add(r)
			}
			if mctr != nil {
				lm.set.Lock()
				mctr.Add(r)
				lm.set.Unlock()
			}
			return nil
		},
		loss:     loss,
		interval: c.Duration("interval"),
		cleanup:  kagg.remove,
		tick: func(out *bufio.Writer, final bool) error {
			if final && c.Duration("interval") > 0 && ctr.Total == 0 {
				return nil // the last interval was printed already
			}
			lost := loss.take()
			if inKernel {
				dropped, err := kagg.fillCounter(ctr)
				if err != nil {
					return err
				}
				lost.Events += dropped
			}
			err := printCounts(out, ctr, k, top, jsonOut, lost, time.Since(start))
			ctr.Reset()
			start = time.Now()
			return err
		},
	}
	lm.attach(spec)
	return runLive(c, spec, bufio.NewWriterSize(c.App.Writer, 64<<10))
}

// checkKeys fails when a key field is in none of the session's events: a
// typo would otherwise give an empty table. A field that only some events
// have is fine (the others show "-").
func checkKeys(s *tracefs.Session, k *aggregate.Keyer) error {
	dec := s.Decoder()
	var firstErr error
	for _, name := range k.Names() {
		found := false
		for _, id := range s.Events() {
			sc := dec.SchemaByName(id.System + ":" + id.Name)
			if sc == nil {
				continue
			}
			one, _ := aggregate.NewKeyer([]string{name})
			if one.Check(sc) == nil {
				found = true
				break
			} else if firstErr == nil {
				firstErr = one.Check(sc)
			}
		}
		if !found {
			return &exitError{code: 2, err: firstErr}
		}
	}
	return nil
}

// countJSON is one line of count --json: one object per interval (or one
// at the end), with the rows sorted by count.
type countJSON struct {
	Interval float64        `json:"interval_s"`
	Total    uint64         `json:"total"`
	Lost     uint64         `json:"lost"`         // every event the kernel reports lost
	Unknown  uint64         `json:"lost_unknown"` // loss reports without a size
	Keys     []string       `json:"keys"`
	Counts   []countRowJSON `json:"counts"`
	MaxKeys  int            `json:"max_keys"`
	// Other sums the events of keys beyond max_keys; absent when none.
	Other *otherCountJSON `json:"other,omitempty"`
}

type otherCountJSON struct {
	Count uint64 `json:"count"`
}

type countRowJSON struct {
	Key   map[string]aggregate.Value `json:"key"`
	Count uint64                     `json:"count"`
}

func printCounts(out *bufio.Writer, ctr *aggregate.Counter, k *aggregate.Keyer, top int, jsonOut bool, lost aggregate.Loss, d time.Duration) error {
	rows := ctr.Rows(top)
	if jsonOut {
		j := countJSON{Interval: d.Seconds(), Total: ctr.Total, Lost: lost.Events, Unknown: lost.Unknown, Keys: k.Names(), Counts: make([]countRowJSON, len(rows))}
		for i, r := range rows {
			m := make(map[string]aggregate.Value, len(r.Key))
			for ki, v := range r.Key {
				m[k.Names()[ki]] = v
			}
			j.Counts[i] = countRowJSON{Key: m, Count: r.Count}
		}
		j.MaxKeys = ctr.MaxKeys
		if ctr.Other > 0 {
			j.Other = &otherCountJSON{Count: ctr.Other}
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		out.Write(b)
		return out.WriteByte('\n')
	}
	header := make([]string, 0, len(k.Names())+1)
	for _, n := range k.Names() {
		header = append(header, strings.ToUpper(n))
	}
	header = append(header, "COUNT")
	t := newTable(out, header)
	for _, r := range rows {
		line := make([]string, 0, len(header))
		for _, v := range r.Key {
			line = append(line, v.String())
		}
		for len(line) < len(header)-1 {
			line = append(line, "-")
		}
		t.Append(append(line, strconv.FormatUint(r.Count, 10)))
	}
	if ctr.Other > 0 {
		line := []string{"[other]"}
		for len(line) < len(header)-1 {
			line = append(line, "")
		}
		t.Append(append(line, strconv.FormatUint(ctr.Other, 10)))
	}
	fmt.Fprintf(out, "%s: %d events, %d keys", time.Now().Format("15:04:05"), ctr.Total, ctr.Len())
	if top > 0 && ctr.Len() > top {
		fmt.Fprintf(out, " (top %d shown)", top)
	}
	if ctr.Other > 0 {
		fmt.Fprintf(out, "; %s", otherNote(ctr.Other, ctr.MaxKeys))
	}
	if lost.Any() {
		fmt.Fprintf(out, "; %s: counts are lower bounds", lost)
	}
	out.WriteString("\n")
	t.Render()
	_, err := out.WriteString("\n")
	return err
}
