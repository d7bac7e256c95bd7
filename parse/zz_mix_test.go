package parse
import ("testing";"sort";"fmt")
func TestZZMix(t *testing.T) {
	f := loadFixture(t, "../testdata/kernels/6.18")
	f.dec.Compile()
	recs := f.records(t)
	cnt := map[string]int{}
	tot := 0
	var buf []byte
	for i := range recs { n := "nil"; if recs[i].Schema != nil { n = recs[i].Schema.FullName() }; cnt[n]++; buf = f.dec.AppendText(buf[:0], &recs[i]); tot += len(buf) }
	type kv struct{k string; v int}
	var l []kv
	for k,v := range cnt { l = append(l, kv{k,v}) }
	sort.Slice(l, func(i,j int) bool {return l[i].v>l[j].v})
	fmt.Println(len(recs), "records, avg bytes", tot/len(recs), "syms", f.dec.Symbols.Len(), "comms", f.dec.Comms.Len())
	for _, e := range l[:min(40,len(l))] { s := f.dec.SchemaByName(e.k); pf := ""; if s != nil { pf = s.PrintFmt; if len(pf) > 150 {pf = pf[:150]} }; fmt.Println(e.v, e.k, pf) }
}
