package commands

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracer-dev/tracer/metrics"
	"github.com/tracer-dev/tracer/tracefs"
)

// metricsFlag and metricsMaxSeriesFlag are --metrics and
// --metrics-max-series, for count, hist and latency.
var (
	metricsFlag          = &cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `ADDR` (host:port, :port for every interface) at /metrics while tracing; cumulative for the run"}
	metricsMaxSeriesFlag = &cli.IntFlag{Name: "metrics-max-series", Usage: "at most `N` series per metric; further keys are summed in one series labelled [other]", Value: 1000}
)

// liveMetrics is the Prometheus side of a live command: the set of
// metrics, its HTTP server, and the session it reads loss counters from.
// A nil *liveMetrics (no --metrics) does nothing.
type liveMetrics struct {
	set  *metrics.Set
	srv  *metrics.Server
	s    *tracefs.Session
	last time.Time
}

// startMetrics starts serving when --metrics is given (nil otherwise),
// before anything is traced: a busy port is a usage error, found before
// an instance is made. The caller closes it on every way out.
func startMetrics(c *cli.Context) (*liveMetrics, error) {
	addr := c.String("metrics")
	if addr == "" {
		return nil, nil
	}
	if c.Bool("in-kernel") {
		return nil, &exitError{code: 2, err: errors.New("--metrics counts in user space as events come; the kernel's table (--in-kernel) is only read at the end")}
	}
	n := c.Int("metrics-max-series")
	if n < 1 {
		return nil, &exitError{code: 2, err: fmt.Errorf("--metrics-max-series %d: want at least 1", n)}
	}
	set := metrics.NewSet(n)
	srv, err := set.Serve(addr)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return &liveMetrics{set: set, srv: srv}, nil
}

// attach hooks the metrics into a live spec: the session (for the loss
// counters) once it is open, a refresh of those counters while it runs,
// and a last refresh on the way out.
func (m *liveMetrics) attach(spec *liveSpec) {
	if m == nil {
		return
	}
	open, cleanup := spec.open, spec.cleanup
	spec.open = func(s *tracefs.Session) error {
		m.s = s
		if open != nil {
			return open(s)
		}
		return nil
	}
	spec.poll = func() { m.refreshLoss(false) }
	spec.cleanup = func() error {
		m.refreshLoss(true)
		if cleanup != nil {
			return cleanup()
		}
		return nil
	}
}

// refreshLoss copies the session's per-CPU loss into the metrics. The
// kernel's counters are files, so while tracing this reads them at most
// twice a second rather than at every wait.
func (m *liveMetrics) refreshLoss(force bool) {
	if m.s == nil || (!force && time.Since(m.last) < 500*time.Millisecond) {
		return
	}
	m.last = time.Now()
	stats := m.s.KernelStats()
	var cpus []metrics.CPULoss
	for _, c := range m.s.Counts() {
		// aggregate.CPULoss knows how the kernel's sources overlap.
		l := cpuLoss(c, stats[c.CPU])
		cpus = append(cpus, metrics.CPULoss{CPU: c.CPU, Events: l.Events(), Unknown: l.UnknownInPages})
	}
	m.set.SetLoss(cpus)
}

// close stops the server; safe on nil and more than once.
func (m *liveMetrics) close() {
	if m != nil {
		m.srv.Close()
	}
}

// metricName turns a field name into a metric name part: field names
// are C identifiers already, but a leading "__" is reserved.
func metricName(field string) string {
	return metrics.LabelNames([]string{field})[0]
}
