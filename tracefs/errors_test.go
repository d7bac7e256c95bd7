package tracefs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Every "this kernel lacks X" error is an ErrNotSupported that names the
// version where X appeared and the config option that turns it on.
func TestUnsupportedFeatureErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want []string
	}{
		{ErrNoHistTriggers, []string{"hist triggers", "4.7", "CONFIG_HIST_TRIGGERS"}},
		{ErrNoKprobes, []string{"kprobe", "2.6.33", "CONFIG_KPROBE_EVENTS"}},
		{ErrNoUprobes, []string{"uprobe", "3.5", "CONFIG_UPROBE_EVENTS"}},
		{errNoInstances("/t/instances"), []string{"instances", "3.10", "/t/instances"}},
		{errNoSubbufSize, []string{"buffer_subbuf_size_kb", "6.8"}},
		{errNoBufferPercent, []string{"buffer_percent", "5.1"}},
	} {
		wrapped := fmt.Errorf("doing something: %w", tt.err)
		if !errors.Is(wrapped, ErrNotSupported) || !errors.Is(wrapped, tt.err) {
			t.Errorf("%v: not an ErrNotSupported", tt.err)
		}
		var fe *UnsupportedFeatureError
		if !errors.As(wrapped, &fe) || fe.MinimumVersion == "" {
			t.Errorf("%v: no UnsupportedFeatureError with a MinimumVersion", tt.err)
		}
		for _, w := range tt.want {
			if !strings.Contains(tt.err.Error(), w) {
				t.Errorf("%q does not say %q", tt.err, w)
			}
		}
	}
	if errors.Is(ErrNoKprobes, ErrNoUprobes) {
		t.Error("ErrNoKprobes is ErrNoUprobes")
	}
	if got, want := ErrNoHistTriggers.Error(), "hist triggers not supported by this kernel (needs Linux 4.7+ with CONFIG_HIST_TRIGGERS): events/<system>/<event>/hist is missing"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
