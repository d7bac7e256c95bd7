package tracefs

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fakeAvailable = `sched:sched_switch
sched:sched_wakeup
sched:sched_process_exec
sched:sched_process_exit
syscalls:sys_enter_open
syscalls:sys_enter_openat
syscalls:sys_exit_openat
syscalls:sys_enter_execve
raw_syscalls:sys_enter
ftrace:print
`

func fakeFS(t *testing.T) *FS {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "available_events"), []byte(fakeAvailable), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "instances"), 0o755); err != nil {
		t.Fatal(err)
	}
	return NewFS(root)
}

func TestResolveEvents(t *testing.T) {
	fs := fakeFS(t)
	tests := []struct {
		patterns []string
		want     []string
		err      error
	}{
		{[]string{"sched:sched_switch"}, []string{"sched:sched_switch"}, nil},
		{[]string{"sched:*"}, []string{"sched:sched_switch", "sched:sched_wakeup", "sched:sched_process_exec", "sched:sched_process_exit"}, nil},
		{[]string{"sched"}, []string{"sched:sched_switch", "sched:sched_wakeup", "sched:sched_process_exec", "sched:sched_process_exit"}, nil},
		{[]string{"syscalls:sys_enter_open*"}, []string{"syscalls:sys_enter_open", "syscalls:sys_enter_openat"}, nil},
		{[]string{"*:*exec*"}, []string{"sched:sched_process_exec", "syscalls:sys_enter_execve"}, nil},
		{[]string{"sys_enter"}, []string{"raw_syscalls:sys_enter"}, nil},
		{[]string{"sched_switch", "sched:sched_switch"}, []string{"sched:sched_switch"}, nil}, // deduplicated
		{[]string{"sched:"}, []string{"sched:sched_switch", "sched:sched_wakeup", "sched:sched_process_exec", "sched:sched_process_exit"}, nil},
		{[]string{"sched:sched_s?itch"}, []string{"sched:sched_switch"}, nil},
		// bpftrace's spelling names the same events.
		{[]string{"tracepoint:syscalls:sys_enter_open*"}, []string{"syscalls:sys_enter_open", "syscalls:sys_enter_openat"}, nil},
		{[]string{"t:sched:sched_switch"}, []string{"sched:sched_switch"}, nil},
		{[]string{"tracepoint:a:b:c"}, nil, ErrInvalidName},
		{[]string{"sched:sched_switch", "sched:nope"}, nil, ErrNoEvent}, // all or nothing
		{[]string{"sched:["}, nil, ErrInvalidName},
		{[]string{"a:b:c"}, nil, ErrInvalidName},
		{[]string{"sched:sched_switch;echo"}, nil, ErrInvalidName},
		{[]string{"../sched"}, nil, ErrInvalidName},
	}
	for _, tt := range tests {
		got, err := fs.ResolveEvents(tt.patterns)
		if tt.err != nil {
			if !errors.Is(err, tt.err) || got != nil {
				t.Errorf("%q: got %v, %v; want error %v", tt.patterns, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.patterns, err)
			continue
		}
		var names []string
		for _, e := range got {
			names = append(names, e.String())
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.patterns, names, tt.want)
		}
	}
}

func TestResolveEventsSuggests(t *testing.T) {
	fs := fakeFS(t)
	for _, tt := range []struct{ pattern, want string }{
		{"sched:sched_swich", "sched:sched_switch"},
		{"sched_wakup", "sched:sched_wakeup"},
		{"schde", "sched"},
		{"syscalls:sys_enter_opne", "syscalls:sys_enter_open"},
	} {
		_, err := fs.ResolveEvents([]string{tt.pattern})
		if !errors.Is(err, ErrNoEvent) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want a suggestion of %s", tt.pattern, err, tt.want)
		}
	}
}

func TestUnknownEventSuggestsLive(t *testing.T) {
	fs := liveFS(t)
	_, err := fs.ResolveEvents([]string{"sched:sched_swich"})
	if !errors.Is(err, ErrNoEvent) || !strings.Contains(err.Error(), "sched:sched_switch") {
		t.Fatalf("got %v", err)
	}
	t.Log(err)
	evs, err := fs.ListEvents()
	if err != nil || len(evs) < 100 {
		t.Fatalf("ListEvents: %d events, %v", len(evs), err)
	}
	f, err := fs.Format("sched", "sched_switch")
	if err != nil || !strings.Contains(string(f), "prev_pid") {
		t.Fatalf("Format: %v", err)
	}
	if _, err := fs.Format("sched", "nope"); !errors.Is(err, ErrNoEvent) {
		t.Fatalf("Format(nope) = %v", err)
	}
	for name, get := range map[string]func() ([]byte, error){
		"kallsyms": fs.Kallsyms, "printk_formats": fs.PrintkFormats,
		"saved_cmdlines": fs.SavedCmdlines, "header_event": fs.HeaderEvent, "header_page": fs.HeaderPage,
	} {
		if b, err := get(); err != nil || (len(b) == 0 && name != "printk_formats") {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
}

// TestInjectionRejected runs against a fake root: any write that got
// through validation would leave a file behind.
func TestInjectionRejected(t *testing.T) {
	fs := fakeFS(t)
	in, err := fs.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"a\nb", "a;b", "../sched", "..", ".", "a/b", "a\x00b", strings.Repeat("a", 200), "", "a b", "a*"}
	var errs []error
	for _, b := range bad {
		errs = append(errs,
			in.EnableEvent(b, "sched_switch"),
			in.EnableEvent("sched", b),
			in.SetFilter(b, "x", "pid == 1"),
			in.SetFilter("sched", b, "pid == 1"),
			in.SetOption(b, true),
		)
		_, err := fs.Format(b, "x")
		errs = append(errs, err)
		_, err = in.Option(b)
		errs = append(errs, err)
	}
	for _, f := range []string{"pid == 1\nprev_pid == 2", "pid == 1\x00", strings.Repeat("a", maxFilterLen+1)} {
		errs = append(errs, in.SetFilter("sched", "sched_switch", f))
	}
	for i, err := range errs {
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("case %d: got %v, want ErrInvalidName", i, err)
		}
	}
	// Nothing but the instance directory itself may exist.
	filepath.WalkDir(fs.Root(), func(p string, d iofs.DirEntry, err error) error {
		rel, _ := filepath.Rel(fs.Root(), p)
		switch rel {
		case ".", "available_events", "instances", filepath.Join("instances", in.Name()):
		default:
			t.Errorf("unexpected file after rejected writes: %s", rel)
		}
		return nil
	})
}
