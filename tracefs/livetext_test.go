package tracefs

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tracer-dev/tracer/internal/kerneltext"
	"github.com/tracer-dev/tracer/parse"
)

// TestLiveTextMatchesKernel: the text tracer makes from this instance's raw
// pages equals what the kernel's own `trace` file prints for the same
// events, line for line.
func TestLiveTextMatchesKernel(t *testing.T) {
	fs := liveFS(t)
	in := newTestInstance(t, fs)
	if err := in.SetBufferSizeKB(256); err != nil {
		t.Fatal(err)
	}
	in.SetOption("hash-ptr", false) // absent before 6.x: %p is then unhashed anyway
	events := []EventID{
		{"sched", "sched_process_exec"}, {"sched", "sched_process_exit"}, {"sched", "sched_process_fork"},
		{"syscalls", "sys_enter_openat"}, {"syscalls", "sys_exit_openat"}, {"ftrace", "print"},
	}
	var enabled []EventID
	for _, e := range events {
		if !fs.exists("events/" + e.System + "/" + e.Name) {
			continue
		}
		enabled = append(enabled, e)
		if e.System == "ftrace" {
			continue // always on: markers are recorded when written
		}
		if err := in.EnableEvent(e.System, e.Name); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		exec.Command("/bin/sh", "-c", "cat /nonexistent-tracer-file 2>/dev/null; true").Run()
		os.WriteFile(in.Path()+"/trace_marker", []byte("tracer live text check\n"), 0)
	}
	if err := in.SetTracingOn(false); err != nil {
		t.Fatal(err)
	}
	kernelText, err := in.read("trace")
	if err != nil {
		t.Fatal(err)
	}
	cmdlines, _ := fs.SavedCmdlines()

	hp, err := in.HeaderPage()
	if err != nil {
		t.Fatal(err)
	}
	layout, err := parse.ParseHeaderPage(hp, nativeBigEndian())
	if err != nil {
		t.Fatal(err)
	}
	d := parse.NewDecoder(layout)
	if c, err := in.Clock(); err == nil {
		d.SetClock(c)
	}
	d.SetKernelRelease(fs.Features().KernelRelease)
	for _, e := range enabled {
		b, err := fs.Format(e.System, e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.AddFormat(e.System, b); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := fs.Kallsyms(); err == nil {
		d.Symbols = parse.ParseKallsyms(b)
	}
	d.Comms = parse.ParseSavedCmdlines(cmdlines)

	readers, _, err := in.OpenReaders(&ReaderOptions{FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var srcs []parse.RecordSource
	for _, r := range readers {
		r := r
		defer r.Close()
		r.Stop() // tracing is off: drain what is there
		buf := make([]byte, r.SubbufSize())
		srcs = append(srcs, &parse.PageStream{Dec: d, CPU: r.CPU(), NextPage: func() ([]byte, error) {
			n, err := r.ReadPage(buf)
			if err != nil {
				return nil, err
			}
			return buf[:n], nil
		}})
	}
	m := parse.NewMerger(srcs...)
	var got []string
	var rec parse.Record
	for {
		ok, err := m.Next(&rec)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if rec.Kind == parse.ItemEvent {
			got = append(got, string(d.AppendText(nil, &rec)))
		}
	}
	var want []string
	for _, line := range strings.SplitAfter(string(kernelText), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want = append(want, line)
	}
	if len(got) == 0 {
		t.Fatal("no events decoded")
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d events, the kernel's trace has %d", len(got), len(want))
	}
	same := 0
	for i := range want {
		switch {
		case got[i] == want[i]:
			same++
		case !kerneltext.DroppedStrings(want[i], got[i]):
			t.Errorf("line %d:\nkernel: %sours:   %s", i, want[i], got[i])
		}
	}
	t.Logf("%d lines, %d identical to the kernel's trace, the rest differ only where this kernel printed %%s empty", len(want), same)
}
