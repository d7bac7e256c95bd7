package parse

import "fmt"

// Decoder holds what is needed to decode and print the records of one
// kernel (or one trace.dat): the page layout, the event schemas by ID, and
// the symbol and command tables used by the text renderer. Build it once;
// it is read-only while decoding, so page iterators on several goroutines
// may share it once all schemas are added and compiled (see Compile).
type Decoder struct {
	Layout   Layout
	Clock    string         // trace_clock in use; "" means a nanosecond clock
	Symbols  *Symbols       // kallsyms, for %pS and ip fields; may be nil
	Comms    *Comms         // saved_cmdlines, for the comm in the text prefix; may be nil
	Printk   *PrintkFormats // printk_formats, for bprint and %s of kernel pointers; may be nil
	schemas  []*Schema      // by ID
	byName   map[string]*Schema
	nsClock  bool
	latStyle latStyle
	// sysStyle: how print_syscall_enter prints arguments, by release.
	sysStyle sysStyle
}

// NewDecoder returns a decoder for pages of the given layout.
func NewDecoder(l Layout) *Decoder {
	return &Decoder{Layout: l, byName: map[string]*Schema{}, nsClock: true}
}

// SetClock records the trace clock, which decides how timestamps print:
// nanosecond clocks as seconds.microseconds, counters as plain integers.
func (d *Decoder) SetClock(clock string) {
	d.Clock = clock
	d.nsClock = NanosecondClock(clock)
}

// NanosecondClock reports whether the trace clock counts nanoseconds (and
// timestamps print as seconds.microseconds) rather than cycles or ticks
// (counter, uptime, x86-tsc, printed as plain integers).
func NanosecondClock(clock string) bool {
	switch clock {
	case "counter", "uptime", "x86-tsc":
		return false
	}
	return true
}

// AddFormat parses a format file of the given system and registers it.
func (d *Decoder) AddFormat(system string, format []byte) (*Schema, error) {
	s, err := ParseFormat(system, format, d.Layout.LongSize)
	if err != nil {
		return nil, err
	}
	d.Add(s)
	return s, nil
}

// Add registers a parsed schema under its ID and name, replacing any
// previous one with the same ID.
func (d *Decoder) Add(s *Schema) {
	if s.ID >= len(d.schemas) {
		n := make([]*Schema, s.ID+1)
		copy(n, d.schemas)
		d.schemas = n
	}
	d.schemas[s.ID] = s
	d.byName[s.FullName()] = s
}

// Schema returns the schema for an event ID, or nil.
func (d *Decoder) Schema(id int) *Schema {
	if uint(id) < uint(len(d.schemas)) {
		return d.schemas[id]
	}
	return nil
}

// SchemaByName returns the schema for "system:event", or nil.
func (d *Decoder) SchemaByName(name string) *Schema { return d.byName[name] }

// Schemas returns every registered schema in ID order.
func (d *Decoder) Schemas() []*Schema {
	var out []*Schema
	for _, s := range d.schemas {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// String describes the decoder for debugging.
func (d *Decoder) String() string {
	return fmt.Sprintf("decoder{long=%d be=%v subbuf=%d events=%d}", d.Layout.LongSize, d.Layout.BigEndian, d.Layout.SubbufSize(), len(d.byName))
}
