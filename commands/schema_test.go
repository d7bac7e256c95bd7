package commands

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFile is the versioned JSON Schema of tracer's JSON output.
var schemaFile = filepath.Join("..", "schema", "tracer-json-v1.schema.json")

// compileSchema compiles one definition of the schema file ("" for the
// whole: any of tracer's objects).
func compileSchema(t *testing.T, def string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	const url = "tracer-json-v1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	ref := url
	if def != "" {
		ref += "#/$defs/" + def
	}
	s, err := c.Compile(ref)
	if err != nil {
		t.Fatalf("compiling %s: %v", ref, err)
	}
	return s
}

// validateLines checks every line of out (JSON lines) against the
// definition, and that there is at least one; it returns the count.
func validateLines(t *testing.T, what, def, out string) int {
	t.Helper()
	s, all := compileSchema(t, def), compileSchema(t, "")
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(sc.Text()))
		if err != nil {
			t.Fatalf("%s: not JSON: %v: %.200s", what, err, sc.Text())
		}
		for _, sch := range []*jsonschema.Schema{s, all} {
			if err := sch.Validate(v); err != nil {
				t.Errorf("%s: line %d against %q: %v\n%.300s", what, n+1, def, err, sc.Text())
			}
		}
		n++
	}
	if n == 0 {
		t.Errorf("%s: no JSON lines to validate", what)
	}
	return n
}

// TestSchemaRejects proves the schema is not vacuous: broken objects of
// each kind fail.
func TestSchemaRejects(t *testing.T) {
	for _, tc := range []struct{ def, line string }{
		{"event", `{"time":"1.000000","cpu":0,"pid":1,"comm":"x","flags":".....","event":"a:b","fields":{}}`},
		{"event", `{"ts":1,"time":"1.000000","cpu":0,"pid":1,"comm":"x","flags":".....","event":"a:b","fields":{"f":1.5}}`},
		{"event", `{"ts":1,"time":"1.000000","cpu":0,"pid":1,"comm":"x","flags":".....","event":null,"id":7,"fields":{}}`},
		{"lost", `{"ts":1,"time":"1.000000","cpu":0,"event":"lost","lost":-1}`},
		{"count", `{"interval_s":1,"total":1,"lost":0,"lost_unknown":0,"keys":["comm"],"counts":[{"key":{"comm":"x"}}],"max_keys":1}`},
		{"hist", `{"interval_s":1,"name":"ret","lost":0,"lost_unknown":0,"hists":[],"max_keys":1}`},
		{"opensnoop", `{"ts":1,"time_s":0,"pid":1,"tid":1,"comm":"x","ret":0,"fd":0,"flags":"","syscall":"openat","path":"/","path_from":"guess"}`},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		if compileSchema(t, tc.def).Validate(v) == nil {
			t.Errorf("%s accepts %s", tc.def, tc.line)
		}
	}
}

// TestSchemaReport validates report --json of the committed trace.dat
// fixture, and the lost-events items as parse/json.go documents them
// (a fixture with a loss in its pages is not committed).
func TestSchemaReport(t *testing.T) {
	out, errs, code := run("report", "--json", "-i", fixtureFile(t, "v6"))
	if code != 0 {
		t.Fatalf("report --json: %s", errs)
	}
	t.Logf("report --json: %d lines valid", validateLines(t, "report --json", "event", out))
	validateLines(t, "documented lost items", "lost", `{"ts":260246510944,"time":"260.246511","cpu":1,"event":"lost","lost":308}
{"ts":260246510944,"time":"260.246511","cpu":1,"event":"lost","lost":null}`)
	validateLines(t, "documented unknown ID", "event", `{"ts":1,"time":"0.000000","cpu":0,"pid":1,"comm":null,"flags":".....","event":null,"id":4242}`)
}

// TestSchemaLive validates the live output of every command that prints
// JSON.
func TestSchemaLive(t *testing.T) {
	needTracefs(t)
	for _, tc := range []struct {
		name string
		def  string
		args []string
		list bool // one JSON document, not lines
	}{
		{"record", "event", []string{"record", "--json", "sched:sched_process_exec", "syscalls:sys_enter_openat", "--", "/bin/sh", "-c", "/bin/true; exec /bin/cat /nonexistent"}, false},
		{"count", "count", []string{"count", "--json", "--by", "comm,pid", "syscalls:sys_enter_openat", "--", "/bin/cat", "/etc/hostname"}, false},
		{"count other", "count", []string{"count", "--json", "--by", "filename", "--max-keys", "1", "syscalls:sys_enter_openat", "--", "/bin/cat", "/etc/hostname"}, false},
		{"hist", "hist", []string{"hist", "--json", "--field", "ret", "--by", "comm", "syscalls:sys_exit_openat", "--", "/bin/cat", "/etc/hostname"}, false},
		{"hist linear", "hist", []string{"hist", "--json", "--field", "ret", "--linear", "-10,10,5", "syscalls:sys_exit_openat", "--", "/bin/cat", "/etc/hostname"}, false},
		{"latency", "hist", []string{"latency", "--json", "syscalls:sys_enter_openat", "syscalls:sys_exit_openat", "--", "/bin/cat", "/etc/hostname"}, false},
		{"execsnoop", "execsnoop", []string{"execsnoop", "--json", "--", "/bin/sh", "-c", "/bin/true a 'b c'"}, false},
		{"opensnoop", "opensnoop", []string{"opensnoop", "--json", "--", "/bin/cat", "/etc/hostname", "/nonexistent"}, false},
		{"list", "list_events", []string{"list", "--json", "sched:*"}, true},
		{"list fields", "list_fields", []string{"list", "--json", "-f", "sched:sched_switch"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, _ := run(tc.args...)
			if tc.name == "latency" && strings.Contains(errs, "latency needs exactly two events") {
				t.Skipf("tracer latency is broken on this base (fixed on main by 4b380c4): %s", strings.TrimSpace(errs))
			}
			if tc.list {
				// One indented document: validate it whole.
				var v any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("not JSON: %v (%s)", err, errs)
				}
				out = string(must(json.Marshal(v)))
			}
			n := validateLines(t, strings.Join(tc.args, " "), tc.def, out)
			t.Logf("%d lines valid", n)
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
