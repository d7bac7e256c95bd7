package tracefs

import "path"

// The files below are what the decoder needs besides the pages. They are
// handed out as bytes; package parse gives them meaning, so a trace.dat
// writer can store them unparsed.

// Kallsyms returns /proc/kallsyms, to resolve kernel addresses in events.
// Without root (or with kptr_restrict) the addresses read as zeros.
func (fs *FS) Kallsyms() ([]byte, error) { return readAbs(path.Join(fs.procRoot, "kallsyms")) }

// kallsymsOnce is Kallsyms read once per FS: reading it costs the kernel
// hundreds of milliseconds on some machines, and the fetch ladder asks
// several questions of it.
func (fs *FS) kallsymsOnce() ([]byte, error) {
	c := &fs.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.syms == nil && c.symsErr == nil {
		c.syms, c.symsErr = fs.Kallsyms()
	}
	return c.syms, c.symsErr
}

// PrintkFormats returns printk_formats, to resolve %s pointers to
// constant kernel strings (trace_printk, bprint events).
func (fs *FS) PrintkFormats() ([]byte, error) { return fs.readFile("printk_formats") }

// SavedCmdlines returns saved_cmdlines (pid → comm), to name tasks that
// exited before the trace was decoded.
func (fs *FS) SavedCmdlines() ([]byte, error) { return fs.readFile("saved_cmdlines") }

// HeaderEvent returns the top-level events/header_event (record header
// bitfields); instances have their own copy via Instance.HeaderEvent.
func (fs *FS) HeaderEvent() ([]byte, error) { return fs.readFile("events/header_event") }

// HeaderPage returns the top-level events/header_page. Readers of an
// instance must use Instance.HeaderPage: the sub-buffer size is per instance.
func (fs *FS) HeaderPage() ([]byte, error) { return fs.readFile("events/header_page") }
