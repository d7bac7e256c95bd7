// Package metrics exports tracer's aggregations as Prometheus metrics,
// through client_golang: counts become counters with the keys as labels,
// histograms become Prometheus histograms with the same bucket bounds.
//
// The values are cumulative for the whole run, kept apart from the
// per-interval tables the commands print and reset. The tracing goroutine
// updates them under the Set's lock and scrapes read them under it, so the
// cost per event with --metrics is one uncontended lock and one more table
// update; without --metrics nothing changes.
//
// The package knows aggregate and Prometheus, and nothing of tracefs: the
// commands feed it records and loss counters.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
)

// OtherLabel is the label value of the series that folds every key
// beyond the series limit, as the tables' [other] row does.
const OtherLabel = "[other]"

// Set is the metrics of one run: the tables, the loss counters and the
// gauges, behind one lock.
type Set struct {
	mu        sync.Mutex
	maxSeries int
	reg       *prometheus.Registry
	counters  []*Counter
	hists     []*Hist
	funcs     []funcMetric
	lost      []CPULoss

	lostDesc, unknownDesc, seriesDesc, maxDesc *prometheus.Desc
}

// CPULoss is the loss of one CPU since the start, for
// tracer_events_lost_total.
type CPULoss struct {
	CPU     int
	Events  uint64 // every event lost (aggregate.CPULoss.Events)
	Unknown uint64 // loss reports without a size
}

// funcMetric is a counter or gauge read from the command's own state
// (latency's pairer) at scrape time, under the lock.
type funcMetric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	fn   func() float64
}

// NewSet returns an empty set whose tables hold at most maxSeries series
// each (at least 1); further keys are folded into one [other] series.
func NewSet(maxSeries int) *Set {
	s := &Set{maxSeries: max(maxSeries, 1), reg: prometheus.NewRegistry()}
	s.lostDesc = prometheus.NewDesc("tracer_events_lost_total", "Events the kernel reports lost, by CPU (lost-events items, overruns, dropped events).", []string{"cpu"}, nil)
	s.unknownDesc = prometheus.NewDesc("tracer_events_lost_reports_unknown_total", "Lost-events reports without a size, by CPU.", []string{"cpu"}, nil)
	s.seriesDesc = prometheus.NewDesc("tracer_metrics_series", "Series held by a metric, its [other] series not included.", []string{"metric"}, nil)
	s.maxDesc = prometheus.NewDesc("tracer_metrics_max_series", "The series limit per metric (--metrics-max-series); events of further keys are in the [other] series.", nil, nil)
	s.reg.MustRegister(collector{s})
	// The process and Go collectors cost nothing per event and tell an
	// operator what the tracer itself uses.
	s.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	return s
}

// Lock takes the set's lock: the tracing goroutine holds it while it
// updates the tables and any state a Func reads.
func (s *Set) Lock() { s.mu.Lock() }

// Unlock releases the lock.
func (s *Set) Unlock() { s.mu.Unlock() }

// SetLoss replaces the per-CPU loss (cumulative counters from the kernel).
func (s *Set) SetLoss(cpus []CPULoss) {
	s.mu.Lock()
	s.lost = append(s.lost[:0], cpus...)
	sort.Slice(s.lost, func(i, j int) bool { return s.lost[i].CPU < s.lost[j].CPU })
	s.mu.Unlock()
}

// Func adds a metric read by fn at scrape time, under the lock: a counter
// if counter is true, else a gauge.
func (s *Set) Func(name, help string, counter bool, fn func() float64) {
	typ := prometheus.GaugeValue
	if counter {
		typ = prometheus.CounterValue
	}
	s.funcs = append(s.funcs, funcMetric{desc: prometheus.NewDesc(name, help, nil, nil), typ: typ, fn: fn})
}

// Counter is a cumulative count per key, exported as one counter series
// per key.
type Counter struct {
	name string
	ctr  *aggregate.Counter
	desc *prometheus.Desc
}

// Counter adds a counter metric keyed by k; its label names are k's.
func (s *Set) Counter(name, help string, k *aggregate.Keyer) *Counter {
	ctr := aggregate.NewCounter(k)
	ctr.MaxKeys = s.maxSeries
	c := &Counter{name: name, ctr: ctr, desc: prometheus.NewDesc(name, help, LabelNames(k.Names()), nil)}
	s.counters = append(s.counters, c)
	return c
}

// Add counts a record; the caller holds the lock.
func (c *Counter) Add(r *parse.Record) { c.ctr.Add(r) }

// Keyer returns the counter's own keyer (set its Comm before tracing).
func (c *Counter) Keyer() *aggregate.Keyer { return c.ctr.Keyer }

// Hist is a cumulative histogram per key, exported as Prometheus
// histograms.
type Hist struct {
	name string
	kh   *aggregate.KeyedHist
	desc *prometheus.Desc
	// lo and hi are the lowest and highest bucket indexes ever non-empty
	// in any series: the exported bounds, which only grow, so that every
	// "le" series, once there, stays (rate() over it stays sound) while a
	// 66-bucket log2 shape costs only the buckets in use.
	lo, hi int
}

// Hist adds a histogram metric shaped like proto, keyed by k (nil: one
// series), of the named field (for AddRecord; "" when values are given).
func (s *Set) Hist(name, help string, proto *aggregate.Hist, k *aggregate.Keyer, field string) *Hist {
	kh := aggregate.NewKeyedHist(proto, k, field)
	kh.MaxKeys = s.maxSeries
	var labels []string
	if k != nil {
		labels = LabelNames(k.Names())
	}
	h := &Hist{name: name, kh: kh, desc: prometheus.NewDesc(name, help, labels, nil), lo: -1, hi: -1}
	s.hists = append(s.hists, h)
	return h
}

// Keyed returns the histogram table, for AddRecord and AddValue under the
// lock, and for Missing.
func (h *Hist) Keyed() *aggregate.KeyedHist { return h.kh }

// LabelNames turns key names into Prometheus label names: field names
// are C identifiers, so only the names Prometheus reserves need a change
// ("le" of histograms, and a leading "__").
func LabelNames(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		switch {
		case k == "le" || k == "quantile":
			k += "_"
		case strings.HasPrefix(k, "__"):
			k = "f" + k
		}
		out[i] = k
	}
	return out
}

// collector is the Set as a prometheus.Collector: every scrape builds
// constant metrics from the tables, under the lock.
type collector struct{ s *Set }

// Describe sends nothing: the collector is unchecked, since the metrics
// are added after it is registered (each command adds its own).
func (c collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lost {
		cpu := strconv.Itoa(l.CPU)
		ch <- prometheus.MustNewConstMetric(s.lostDesc, prometheus.CounterValue, float64(l.Events), cpu)
		ch <- prometheus.MustNewConstMetric(s.unknownDesc, prometheus.CounterValue, float64(l.Unknown), cpu)
	}
	ch <- prometheus.MustNewConstMetric(s.maxDesc, prometheus.GaugeValue, float64(s.maxSeries))
	for _, m := range s.counters {
		m.collect(ch)
		ch <- prometheus.MustNewConstMetric(s.seriesDesc, prometheus.GaugeValue, float64(m.ctr.Len()), m.name)
	}
	for _, m := range s.hists {
		m.collect(ch)
		ch <- prometheus.MustNewConstMetric(s.seriesDesc, prometheus.GaugeValue, float64(m.kh.Len()), m.name)
	}
	for _, f := range s.funcs {
		ch <- prometheus.MustNewConstMetric(f.desc, f.typ, f.fn())
	}
}

// labelValues renders a key as n label values; a field that the record's
// event lacks is "-", as in the tables.
func labelValues(key []aggregate.Value, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "-"
		if i < len(key) {
			out[i] = key[i].String()
		}
	}
	return out
}

func otherValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = OtherLabel
	}
	return out
}

func (m *Counter) collect(ch chan<- prometheus.Metric) {
	for _, r := range m.ctr.Rows(0) {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(r.Count), labelValues(r.Key, len(m.ctr.Keyer.Names()))...)
	}
	if m.ctr.Other > 0 {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.ctr.Other), otherValues(len(m.ctr.Keyer.Names()))...)
	}
}

func (m *Hist) collect(ch chan<- prometheus.Metric) {
	rows := m.kh.Rows(0)
	n := 0
	if m.kh.Keyer != nil {
		n = len(m.kh.Keyer.Names())
	}
	if m.kh.Other != nil {
		key := make([]aggregate.Value, n)
		for i := range key {
			key[i] = aggregate.Value{IsStr: true, Str: OtherLabel}
		}
		rows = append(rows, aggregate.HistRow{Key: key, Hist: m.kh.Other})
	}
	for _, r := range rows {
		for i := 0; i < r.Hist.NumBuckets(); i++ {
			if r.Hist.BucketCount(i) == 0 {
				continue
			}
			if m.lo < 0 || i < m.lo {
				m.lo = i
			}
			if i > m.hi {
				m.hi = i
			}
		}
	}
	for _, r := range rows {
		ch <- prometheus.MustNewConstHistogram(m.desc, r.Hist.Count, float64(r.Hist.Sum), Buckets(r.Hist, m.lo, m.hi), labelValues(r.Key, n)...)
	}
}

// Buckets returns the cumulative Prometheus buckets of h's buckets lo to
// hi. The values are integers, so a bucket [LO, HI) holds exactly the
// values <= HI-1: its "le" bound is HI-1, the same partition as the
// printed histogram's. The open top bucket is +Inf, which Prometheus adds
// from the count. Buckets below lo are empty in every series, so
// starting the cumulative sum at lo loses nothing.
func Buckets(h *aggregate.Hist, lo, hi int) map[float64]uint64 {
	out := map[float64]uint64{}
	if lo < 0 {
		return out
	}
	var cum uint64
	for i := lo; i <= hi && i < h.NumBuckets(); i++ {
		cum += h.BucketCount(i)
		if b, ok := h.BucketHi(i); ok {
			out[float64(b-1)] = cum
		}
	}
	return out
}

// Server serves a Set on /metrics until Close.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
	once sync.Once
}

// Serve listens on addr (host:port; ":port" is every interface, as
// Prometheus exporters do) and serves the set on /metrics. The listener
// is bound before Serve returns, so a busy port fails the command before
// any tracing is set up.
func (s *Set) Serve(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "tracer: metrics at /metrics")
	})
	srv := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln, done: make(chan error, 1)}
	go func() { srv.done <- srv.srv.Serve(noSigpipeListener{ln}) }()
	return srv, nil
}

// Addr returns the address the server listens on (the port chosen for
// ":0").
func (srv *Server) Addr() string { return srv.ln.Addr().String() }

// Close stops the server, letting scrapes in progress finish for up to a
// second. It may be called more than once.
func (srv *Server) Close() error {
	var err error
	srv.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err = srv.srv.Shutdown(ctx)
		if e := <-srv.done; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	})
	return err
}
