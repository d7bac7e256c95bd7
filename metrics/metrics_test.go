package metrics

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/tracer-dev/tracer/aggregate"
	"github.com/tracer-dev/tracer/parse"
)

const testFormat = `name: ev
ID: 7
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long value;	offset:8;	size:8;	signed:1;
	field:__data_loc char[] name;	offset:16;	size:4;	signed:0;

print fmt: "value=%ld name=%s", REC->value, __get_str(name)
`

func schema(t *testing.T) *parse.Schema {
	t.Helper()
	s, err := parse.ParseFormat("test", []byte(testFormat), 8)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rec builds a record of the test event as the kernel lays it out.
func rec(s *parse.Schema, pid int, value int64, name string) *parse.Record {
	d := make([]byte, 20, 20+len(name)+1)
	binary.LittleEndian.PutUint16(d[0:], uint16(s.ID))
	binary.LittleEndian.PutUint32(d[4:], uint32(pid))
	binary.LittleEndian.PutUint64(d[8:], uint64(value))
	binary.LittleEndian.PutUint32(d[16:], uint32(20)|uint32(len(name)+1)<<16)
	d = append(append(d, name...), 0)
	return &parse.Record{Kind: parse.ItemEvent, Schema: s, Type: s.ID, Data: d}
}

// gather returns the set's families by name, as a scrape would see them.
func gather(t *testing.T, s *Set) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func TestCounterSeriesAndOther(t *testing.T) {
	sc := schema(t)
	s := NewSet(2)
	k, _ := aggregate.NewKeyer([]string{"name", "le"})
	c := s.Counter("tracer_events_total", "test", k)
	add := func(name string, n int) {
		for range n {
			c.Add(rec(sc, 1, 0, name))
		}
	}
	add("a", 3)
	add("b", 2)
	add("c", 4) // beyond 2 series: folded
	add("a", 1)
	// Labels come sorted by name; the event has no field "le", so "-".
	want := map[string]float64{"le_=-,name=a": 4, "le_=-,name=b": 2, "le_=[other],name=[other]": 4}
	for scrape := 0; scrape < 2; scrape++ {
		mf := gather(t, s)["tracer_events_total"]
		if mf.GetType() != dto.MetricType_COUNTER {
			t.Fatalf("type %v, want a counter", mf.GetType())
		}
		got := map[string]float64{}
		for _, m := range mf.GetMetric() {
			got[labels(m)] = m.GetCounter().GetValue()
		}
		if len(got) != len(want) {
			t.Fatalf("scrape %d: series %v, want %v", scrape, got, want)
		}
		for l, v := range want {
			if got[l] != v {
				t.Errorf("scrape %d: %s = %v, want %v", scrape, l, got[l], v)
			}
		}
		// Cumulative: a scrape resets nothing; more events add up.
		add("a", 1)
		want["le_=-,name=a"]++
	}
	series := gather(t, s)["tracer_metrics_series"].GetMetric()
	if len(series) != 1 || series[0].GetGauge().GetValue() != 2 {
		t.Errorf("tracer_metrics_series: %v", series)
	}
}

func TestHistBuckets(t *testing.T) {
	sc := schema(t)
	s := NewSet(10)
	k, _ := aggregate.NewKeyer([]string{"name"})
	h := s.Hist("tracer_hist_value", "test", aggregate.NewLog2(), k, "value")
	for _, v := range []int64{0, 1, 3, 5, 5, 100} {
		h.Keyed().AddRecord(rec(sc, 1, v, "x"))
	}
	h.Keyed().AddRecord(rec(sc, 1, 2, "y"))
	mf := gather(t, s)["tracer_hist_value"]
	if mf.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("type %v, want a histogram", mf.GetType())
	}
	for _, m := range mf.GetMetric() {
		hist := m.GetHistogram()
		got := map[float64]uint64{}
		var bounds []float64
		for _, b := range hist.GetBucket() {
			got[b.GetUpperBound()] = b.GetCumulativeCount()
			bounds = append(bounds, b.GetUpperBound())
		}
		// The printed buckets [0], [1], [2, 4), [4, 8) ... [64, 128):
		// integer values, so le is the exclusive bound minus one; every
		// series has the bounds in use by any series.
		wantBounds := []float64{0, 1, 3, 7, 15, 31, 63, 127}
		if len(bounds) != len(wantBounds) {
			t.Fatalf("%s: bounds %v, want %v", labels(m), bounds, wantBounds)
		}
		for i := range bounds {
			if bounds[i] != wantBounds[i] {
				t.Fatalf("%s: bounds %v, want %v", labels(m), bounds, wantBounds)
			}
		}
		switch labels(m) {
		case "name=x":
			want := map[float64]uint64{0: 1, 1: 2, 3: 3, 7: 5, 15: 5, 31: 5, 63: 5, 127: 6}
			for b, n := range want {
				if got[b] != n {
					t.Errorf("x: le=%v: %d, want %d", b, got[b], n)
				}
			}
			if hist.GetSampleCount() != 6 || hist.GetSampleSum() != 114 {
				t.Errorf("x: count %d sum %v, want 6 and 114", hist.GetSampleCount(), hist.GetSampleSum())
			}
		case "name=y":
			if got[1] != 0 || got[3] != 1 || got[127] != 1 {
				t.Errorf("y: buckets %v", got)
			}
		default:
			t.Errorf("unexpected series %s", labels(m))
		}
	}
}

func TestLinearBucketsAndFuncs(t *testing.T) {
	s := NewSet(10)
	proto, err := aggregate.NewLinear(0, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Hist("tracer_latency_microseconds", "test", proto, nil, "")
	for _, v := range []int64{-5, 5, 15, 15, 250} {
		h.Keyed().AddValue(nil, v)
	}
	pending := 3.0
	s.Func("tracer_latency_pending", "test", false, func() float64 { return pending })
	s.SetLoss([]CPULoss{{CPU: 1, Events: 7}, {CPU: 0, Events: 2, Unknown: 1}})
	fams := gather(t, s)
	m := fams["tracer_latency_microseconds"].GetMetric()
	if len(m) != 1 {
		t.Fatalf("series: %v", m)
	}
	got := map[float64]uint64{}
	for _, b := range m[0].GetHistogram().GetBucket() {
		got[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	// (..., 0) is le=-1; [0, 10) le=9; [10, 20) le=19; [100, ...) is +Inf.
	want := map[float64]uint64{-1: 1, 9: 2, 19: 4, 29: 4, 99: 4}
	for b, n := range want {
		if got[b] != n {
			t.Errorf("le=%v: %d, want %d (all: %v)", b, got[b], n, got)
		}
	}
	if m[0].GetHistogram().GetSampleCount() != 5 {
		t.Errorf("count %d, want 5", m[0].GetHistogram().GetSampleCount())
	}
	if v := fams["tracer_latency_pending"].GetMetric()[0].GetGauge().GetValue(); v != 3 {
		t.Errorf("pending %v, want 3", v)
	}
	lost := fams["tracer_events_lost_total"].GetMetric()
	if len(lost) != 2 || labels(lost[0]) != "cpu=0" || lost[0].GetCounter().GetValue() != 2 || lost[1].GetCounter().GetValue() != 7 {
		t.Errorf("lost: %v", lost)
	}
}

func TestServe(t *testing.T) {
	s := NewSet(10)
	k, _ := aggregate.NewKeyer([]string{"name"})
	c := s.Counter("tracer_events_total", "test", k)
	c.Add(rec(schema(t), 1, 0, `we"ird`))
	srv, err := s.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := s.Serve(srv.Addr()); err == nil || !strings.Contains(err.Error(), "--metrics") {
		t.Errorf("second listener on %s: %v, want an error naming --metrics", srv.Addr(), err)
	}
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `tracer_events_total{name="we\"ird"} 1`) {
		t.Errorf("exposition lacks the escaped series:\n%s", b)
	}
	if err := srv.Close(); err != nil {
		t.Error(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestScraperHangsUp checks that a scraper resetting its connection in
// the middle of a large response raises no SIGPIPE in a process that
// catches it (tracer does, and stops tracing on it).
func TestScraperHangsUp(t *testing.T) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGPIPE)
	defer signal.Stop(sigs)
	sc := schema(t)
	s := NewSet(100000)
	k, _ := aggregate.NewKeyer([]string{"value"})
	c := s.Counter("tracer_events_total", "test", k)
	for i := range 50000 {
		c.Add(rec(sc, 1, int64(i), "x"))
	}
	srv, err := s.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for range 5 {
		conn, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
		conn.Read(make([]byte, 10))
		conn.(*net.TCPConn).SetLinger(0) // a reset, not a polite close
		conn.Close()
	}
	select {
	case sig := <-sigs:
		t.Fatalf("a scraper hanging up raised %v", sig)
	case <-time.After(time.Second):
	}
	// The server still serves whole responses afterwards.
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `tracer_events_total{value="49999"} 1`) {
		t.Errorf("response after the hang-ups is incomplete (%d bytes)", len(b))
	}
}
