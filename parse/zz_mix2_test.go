package parse
import ("testing";"sort";"fmt";"time")
func TestZZPerEvent(t *testing.T) {
	f := loadFixture(t, "../testdata/kernels/6.18")
	f.dec.Compile()
	recs := f.records(t)
	by := map[string][]int{}
	for i := range recs { n := "nil"; if recs[i].Schema != nil { n = recs[i].Schema.FullName() }; by[n] = append(by[n], i) }
	type kv struct{k string; ns float64; n int}
	var l []kv
	buf := make([]byte, 0, 4096)
	var tot float64
	for k, idx := range by {
		best := 1e18
		for rep := 0; rep < 5; rep++ {
			st := time.Now()
			for it := 0; it < 200; it++ { for _, i := range idx { buf = f.dec.AppendText(buf[:0], &recs[i]) } }
			ns := float64(time.Since(st).Nanoseconds())/float64(200*len(idx))
			if ns < best { best = ns }
		}
		l = append(l, kv{k, best, len(idx)}); tot += best*float64(len(idx))
	}
	sort.Slice(l, func(i,j int) bool {return l[i].ns*float64(l[i].n)>l[j].ns*float64(l[j].n)})
	fmt.Printf("avg %.1f ns\n", tot/float64(len(recs)))
	for _, e := range l[:20] { fmt.Printf("%6.1f ns x %3d = %5.1f ns/rec  %s\n", e.ns, e.n, e.ns*float64(e.n)/float64(len(recs)), e.k) }
}
func TestZZShow(t *testing.T) {
	f := loadFixture(t, "../testdata/kernels/6.18")
	f.dec.Compile()
	recs := f.records(t)
	seen := map[string]int{}
	for i := range recs { n := "nil"; if recs[i].Schema != nil { n = recs[i].Schema.FullName() }; if seen[n] < 2 { seen[n]++; fmt.Print(string(f.dec.AppendText(nil, &recs[i]))) } }
	s := f.dec.SchemaByName("sched:sched_switch"); fmt.Println(s.PrintFmt)
}
