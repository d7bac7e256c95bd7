package commands

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
	"github.com/tracer-dev/tracer/tracefs"
)

var histCommand = &cli.Command{
	Name:      "hist",
	Usage:     "histogram of a numeric field, drawn like bpftrace's hist()",
	ArgsUsage: "EVENT... --field F [-- COMMAND ARGS...]",
	Description: `Power-of-two buckets by default (--log2), or linear ones with
--linear MIN,MAX,STEP; one histogram per key with --by. With --in-kernel
(kernels with CONFIG_HIST_TRIGGERS), a hist trigger counts each value of
the field in the kernel and tracer buckets the counts the same way.

   tracer hist syscalls:sys_exit_read --field ret
   tracer hist syscalls:sys_enter_write --field count --by comm --top 3
   tracer hist kmem:kmalloc --field bytes_alloc --linear 0,1024,64`,
	Flags: liveFlags(
		&cli.StringFlag{Name: "field", Aliases: []string{"f"}, Usage: "the numeric `FIELD` to histogram", Required: true},
		&cli.StringFlag{Name: "by", Usage: "comma-separated `KEYS` for one histogram each: comm, pid, cpu, event, or field names"},
		&cli.BoolFlag{Name: "log2", Usage: "power-of-two buckets (the default)"},
		&cli.StringFlag{Name: "linear", Usage: "linear buckets `MIN,MAX,STEP`"},
		&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Usage: "print and reset every `D`"},
		&cli.IntFlag{Name: "top", Aliases: []string{"n"}, Usage: "print only the `N` busiest keys"},
		maxKeysFlag,
		inKernelFlag,
		metricsFlag,
		metricsMaxSeriesFlag,
	),
	Action: runHist,
}

// histProto builds the empty histogram from --log2/--linear.
func histProto(c *cli.Context) (*aggregate.Hist, error) {
	if lin := c.String("linear"); lin != "" {
		if c.Bool("log2") {
			return nil, &exitError{code: 2, err: errors.New("use either --log2 or --linear, not both")}
		}
		h, err := aggregate.ParseLinear(lin)
		if err != nil {
			return nil, &exitError{code: 2, err: err}
		}
		return h, nil
	}
	return aggregate.NewLog2(), nil
}

// keyerFlag parses --by, returning nil for none.
func keyerFlag(c *cli.Context) (*aggregate.Keyer, error) {
	by := strings.TrimSpace(c.String("by"))
	if by == "" {
		return nil, nil
	}
	k, err := aggregate.NewKeyer(strings.Split(by, ","))
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("--by: %w", err)}
	}
	return k, nil
}

func runHist(c *cli.Context) error {
	events, command := splitArgs(c)
	if len(events) == 0 {
		return &exitError{code: 2, err: errors.New("hist needs an event, e.g. tracer hist syscalls:sys_exit_read --field ret")}
	}
	proto, err := histProto(c)
	if err != nil {
		return err
	}
	k, err := keyerFlag(c)
	if err != nil {
		return err
	}
	field := c.String("field")
	kh := aggregate.NewKeyedHist(proto, k, field)
	if kh.MaxKeys, err = maxKeys(c); err != nil {
		return err
	}
	loss := &lossMeter{}
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
	var mh *aggregate.KeyedHist
	if lm != nil {
		mk, _ := keyerFlag(c)
		mh = lm.set.Hist("tracer_hist_"+metricName(field), "Values of the field "+field+" per key (--by), since tracer started; the buckets are the printed histogram's.", proto, mk, field).Keyed()
	}
	var kagg kernelAgg
	start := time.Now()
	spec := &liveSpec{
		events: events, globals: true, childArgs: command,
		open: func(s *tracefs.Session) error {
			if mh != nil && mh.Keyer != nil {
				mh.Keyer.Comm = commLookup(s)
			}
			fk, _ := aggregate.NewKeyer([]string{field})
			if err := checkKeys(s, fk); err != nil {
				return err
			}
			if err := checkNumeric(s, field); err != nil {
				return err
			}
			if k != nil {
				k.Comm = commLookup(s)
				if err := checkKeys(s, k); err != nil {
					return err
				}
			}
			if inKernel {
				return kagg.install(c, s, k, field)
			}
			return nil
		},
		record: func(r *parse.Record) error {
			if !inKernel {
				kh.AddRecord(r)
			}
			if mh != nil {
				lm.set.Lock()
				mh.AddRecord(r)
				lm.set.Unlock()
			}
			return nil
		},
		loss:     loss,
		interval: c.Duration("interval"),
		cleanup:  kagg.remove,
		tick: func(out *bufio.Writer, final bool) error {
			lost := loss.take()
			if inKernel {
				dropped, err := kagg.fillHist(kh)
				if err != nil {
					return err
				}
				lost.Events += dropped
			}
			err := printHists(out, kh, c.Int("top"), c.Bool("json"), "@"+field, lost, time.Since(start), nil)
			kh.Reset()
			start = time.Now()
			return err
		},
	}
	lm.attach(spec)
	return runLive(c, spec, bufio.NewWriterSize(c.App.Writer, 64<<10))
}

// checkNumeric refuses a --field that is not a number in an event that
// has it: a string or array would be histogrammed as its first bytes.
func checkNumeric(s *tracefs.Session, field string) error {
	dec := s.Decoder()
	for _, id := range s.Events() {
		sc := dec.SchemaByName(id.String())
		if sc == nil {
			continue
		}
		i := sc.FieldIndex(field)
		if i < 0 {
			continue
		}
		if f := &sc.Fields[i]; f.Kind != parse.KindScalar || f.IsString {
			return &exitError{code: 2, err: fmt.Errorf("--field %s: in %s it is %q, not a number; hist needs a numeric field (count --by %s counts its values)", field, id, f.Type, field)}
		}
	}
	return nil
}

type histJSON struct {
	Interval float64        `json:"interval_s"`
	Name     string         `json:"name"`
	Lost     uint64         `json:"lost"`         // every event the kernel reports lost
	Unknown  uint64         `json:"lost_unknown"` // loss reports without a size
	Extra    map[string]any `json:"stats,omitempty"`
	Hists    []histRowJSON  `json:"hists"`
	MaxKeys  int            `json:"max_keys"`
	// Other holds the values of keys beyond max_keys; absent when none.
	Other *histRowJSON `json:"other,omitempty"`
}

type histRowJSON struct {
	Key     map[string]aggregate.Value `json:"key,omitempty"`
	Count   uint64                     `json:"count"`
	Sum     int64                      `json:"sum"`
	Min     int64                      `json:"min"`
	Max     int64                      `json:"max"`
	Buckets []aggregate.Bucket         `json:"buckets"`
}

// printHists prints each key's histogram like bpftrace (@name[key]:), or
// one JSON object with the buckets. extra adds counters to the footer.
func printHists(out *bufio.Writer, kh *aggregate.KeyedHist, top int, jsonOut bool, name string, lost aggregate.Loss, d time.Duration, extra map[string]any) error {
	rows := kh.Rows(top)
	if jsonOut {
		j := histJSON{Interval: d.Seconds(), Name: name, Lost: lost.Events, Unknown: lost.Unknown, Extra: extra, Hists: make([]histRowJSON, len(rows))}
		for i, r := range rows {
			var key map[string]aggregate.Value
			if kh.Keyer != nil {
				key = map[string]aggregate.Value{}
				for ki, v := range r.Key {
					key[kh.Keyer.Names()[ki]] = v
				}
			}
			j.Hists[i] = histRowJSON{Key: key, Count: r.Hist.Count, Sum: r.Hist.Sum, Min: r.Hist.MinSeen, Max: r.Hist.MaxSeen, Buckets: r.Hist.Buckets()}
		}
		j.MaxKeys = kh.MaxKeys
		if o := kh.Other; o != nil {
			j.Other = &histRowJSON{Count: o.Count, Sum: o.Sum, Min: o.MinSeen, Max: o.MaxSeen, Buckets: o.Buckets()}
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		out.Write(b)
		return out.WriteByte('\n')
	}
	fmt.Fprintf(out, "%s\n", time.Now().Format("15:04:05"))
	if len(rows) == 0 {
		fmt.Fprintf(out, "%s: no values\n", name)
	}
	if kh.Other != nil {
		rows = append(rows, aggregate.HistRow{Key: []aggregate.Value{{IsStr: true, Str: "[other]"}}, Hist: kh.Other})
	}
	for _, r := range rows {
		out.WriteString(name)
		if len(r.Key) > 0 {
			parts := make([]string, len(r.Key))
			for i, v := range r.Key {
				parts[i] = v.String()
			}
			out.WriteString("[" + strings.Join(parts, ", ") + "]")
		}
		fmt.Fprintf(out, ":  count %d, avg %d, min %d, max %d\n", r.Hist.Count, r.Hist.Sum/int64(max(r.Hist.Count, 1)), r.Hist.MinSeen, r.Hist.MaxSeen)
		if err := r.Hist.Write(out); err != nil {
			return err
		}
		out.WriteString("\n")
	}
	var notes []string
	for k, v := range extra {
		notes = append(notes, fmt.Sprintf("%s %v", k, v))
	}
	if kh.Other != nil {
		notes = append(notes, otherNote(kh.Other.Count, kh.MaxKeys))
	}
	if kh.Missing > 0 {
		notes = append(notes, fmt.Sprintf("%d events without the field", kh.Missing))
	}
	if lost.Any() {
		notes = append(notes, lost.String()+": counts are lower bounds")
	}
	if len(notes) > 0 {
		sortStrings(notes)
		fmt.Fprintf(out, "%s\n", strings.Join(notes, "; "))
	}
	_, err := out.WriteString("")
	return err
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
