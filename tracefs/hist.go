package tracefs

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNoHistTriggers is returned where the kernel has no hist triggers
// (built without CONFIG_HIST_TRIGGERS, or older than 4.7).
var ErrNoHistTriggers = &UnsupportedFeatureError{Name: "hist triggers", MinimumVersion: "4.7", Config: "CONFIG_HIST_TRIGGERS", Detail: "events/<system>/<event>/hist is missing"}

// HistTrigger is a hist trigger this process set on one event of its own
// instance. Remove it before the instance is removed.
type HistTrigger struct {
	in            *Instance
	System, Event string
	// Spec is what was written to the trigger file, e.g.
	// "hist:keys=common_pid:vals=hitcount:size=8192 if prev_pid > 0".
	Spec    string
	removed bool
}

// HasHist reports whether the event has a hist file in this instance.
func (in *Instance) HasHist(system, event string) bool {
	return in.fs.exists(in.file(path.Join("events", system, event, "hist")))
}

// AddHistTrigger sets "hist:keys=KEYS:vals=hitcount[:size=N] [if FILTER]"
// on an event of this instance (never the top level). The event itself
// need not be enabled: the trigger soft-enables it, so only the summary
// crosses to user space. A refused spec returns a *KernelError with the
// kernel's error_log explanation.
func (in *Instance) AddHistTrigger(system, event string, keys []string, size int, filter string) (*HistTrigger, error) {
	if err := checkEvent(system, event); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("hist trigger: no keys")
	}
	if !in.HasHist(system, event) {
		return nil, fmt.Errorf("%s:%s: %w", system, event, ErrNoHistTriggers)
	}
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, ":, \t\n") {
			return nil, fmt.Errorf("hist trigger: bad key %q", k)
		}
	}
	if err := checkFilter(filter); err != nil {
		return nil, err
	}
	spec := "hist:keys=" + strings.Join(keys, ",") + ":vals=hitcount"
	if size > 0 {
		spec += ":size=" + strconv.Itoa(size)
	}
	if strings.TrimSpace(filter) != "" {
		spec += " if " + filter
	}
	rel := path.Join("events", system, event, "trigger")
	if err := in.writeLogged(fmt.Sprintf("setting hist trigger on %s:%s", system, event), rel, spec); err != nil {
		return nil, err
	}
	return &HistTrigger{in: in, System: system, Event: event, Spec: spec}, nil
}

// Read returns the text of the event's hist file.
func (t *HistTrigger) Read() ([]byte, error) {
	return t.in.read(path.Join("events", t.System, t.Event, "hist"))
}

// Remove takes the trigger off ("!SPEC"); it is idempotent. If the kernel
// refuses the removal, opening the trigger file with O_TRUNC removes every
// trigger of that event, which in our own instance are only ours.
func (t *HistTrigger) Remove() error {
	if t == nil || t.removed {
		return nil
	}
	rel := t.in.file(path.Join("events", t.System, t.Event, "trigger"))
	err := t.in.fs.writeFile(rel, []byte("!"+t.Spec), unix.O_APPEND)
	if err != nil {
		if err2 := t.in.fs.writeFile(rel, nil, unix.O_TRUNC); err2 != nil {
			return fmt.Errorf("removing hist trigger on %s:%s: %w", t.System, t.Event, errors.Join(err, err2))
		}
	}
	t.removed = true
	return nil
}
