package parse

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decodeJSON checks that line is one valid JSON object ending in a newline
// and decodes it with numbers kept exact.
func decodeJSON(t *testing.T, line []byte) map[string]any {
	t.Helper()
	if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", line)
	}
	if !json.Valid(line) {
		t.Fatalf("invalid JSON: %s", line)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJSONCaptured(t *testing.T) {
	d := capDecoder(t)
	for _, set := range [][]capRec{capSyscalls, capSched, capUserStack} {
		recs, _ := replay(t, d, set)
		for i := range recs {
			m := decodeJSON(t, d.AppendJSON(nil, &recs[i]))
			if m["event"] != recs[i].Name() {
				t.Errorf("event %v, want %s", m["event"], recs[i].Name())
			}
			fields, ok := m["fields"].(map[string]any)
			if !ok {
				t.Fatalf("no fields: %v", m)
			}
			for _, f := range recs[i].Schema.Fields {
				if _, ok := fields[f.Name]; ok == f.IsCommon {
					t.Errorf("%s: field %s present=%v", recs[i].Name(), f.Name, ok)
				}
			}
		}
	}
}

func TestJSONValues(t *testing.T) {
	d := capDecoder(t)
	exec := findCap(t, d, capSyscalls, "sched:sched_process_exec")
	got := string(d.AppendJSON(nil, &exec))
	want := `{"ts":575011719022,"time":"575.011719","cpu":0,"pid":19327,"comm":"true","flags":".....",` +
		`"event":"sched:sched_process_exec","fields":{"filename":"/bin/true","pid":19327,"old_pid":19327}}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// Unsigned 64-bit values past 2^53 stay exact; signed ones are signed.
	km := findCap(t, d, capSched, "kmem:kmalloc")
	m := decodeJSON(t, d.AppendJSON(nil, &km))
	f := m["fields"].(map[string]any)
	if ptr := f["ptr"].(json.Number).String(); !strings.HasPrefix(ptr, "1844") || len(ptr) != 20 {
		t.Errorf("ptr = %s, want an exact u64", ptr)
	}
	if node := f["node"].(json.Number).String(); node != "-1" {
		t.Errorf("node = %s, want -1", node)
	}
	sw := findCap(t, d, capSched, "sched:sched_switch")
	m = decodeJSON(t, d.AppendJSON(nil, &sw))
	if c, ok := m["fields"].(map[string]any)["prev_comm"].(string); !ok || c == "" {
		t.Errorf("prev_comm = %v", m["fields"].(map[string]any)["prev_comm"])
	}

	// A kernel stack lists the recorded entries only.
	ks := findCap(t, d, capSyscalls, "ftrace:kernel_stack")
	m = decodeJSON(t, d.AppendJSON(nil, &ks))
	if c := m["fields"].(map[string]any)["caller"].([]any); len(c) != 4 {
		t.Errorf("caller = %v, want 4 entries", c)
	}
}

func TestJSONItems(t *testing.T) {
	d := capDecoder(t)
	pr := d.SchemaByName("ftrace:print")
	weird := rawRecord(d, pr, 0, 0x81, 0x12, append(le64(1<<63), "a\x01\xff\"\\\n\tz\x00"...))
	weird.TS, weird.CPU = 1999999999500, 1
	for _, c := range []struct {
		rec  Record
		want string
	}{
		{Record{Kind: ItemLost, CPU: 1, TS: 260246510944, Lost: 308, LostKnown: true},
			`{"ts":260246510944,"time":"260.246511","cpu":1,"event":"lost","lost":308}` + "\n"},
		{Record{Kind: ItemLost, CPU: 0, TS: 5}, `{"ts":5,"time":"0.000000","cpu":0,"event":"lost","lost":null}` + "\n"},
		{Record{Kind: ItemEvent, CPU: 1, TS: 7, Type: 9999, Data: []byte{0x0f, 0x27, 0, 0, 0x39, 0x30, 0, 0}, longSize: 8},
			`{"ts":7,"time":"0.000000","cpu":1,"pid":12345,"comm":null,"flags":".....","event":null,"id":9999}` + "\n"},
		{weird, `{"ts":1999999999500,"time":"2000.000000","cpu":1,"pid":0,"comm":"<idle>","flags":"D..21",` +
			`"event":"ftrace:print","fields":{"ip":9223372036854775808,"buf":"a\u0001\ufffd\"\\\n\tz"}}` + "\n"},
	} {
		got := d.AppendJSON(nil, &c.rec)
		decodeJSON(t, got)
		if string(got) != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
	var s struct {
		Fields struct{ Buf string }
	}
	if err := json.Unmarshal(d.AppendJSON(nil, &weird), &s); err != nil || s.Fields.Buf != "a\x01\uFFFD\"\\\n\tz" {
		t.Errorf("buf = %q, %v", s.Fields.Buf, err)
	}
	d.SetClock("counter")
	lost := Record{Kind: ItemLost, TS: 123}
	if got := string(d.AppendJSON(nil, &lost)); !strings.Contains(got, `"time":"123"`) {
		t.Errorf("counter clock: %s", got)
	}
}
