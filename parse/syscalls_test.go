package parse

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"
)

// The captured formats, read once: the tests here build many decoders,
// and reading every kernel's formats is slow under emulation (vmtest).
var (
	sysFormatsOnce sync.Once
	sysFormats     map[string][]formatFile
)

func cachedFormats(t *testing.T) map[string][]formatFile {
	sysFormatsOnce.Do(func() { sysFormats = fixtureFormats(t) })
	return sysFormats
}

// syscallDecoder returns a decoder with the syscall formats of a captured
// kernel (testdata/formats/<set>) and the given release.
func syscallDecoder(t *testing.T, set, release string, events ...string) *Decoder {
	t.Helper()
	l, err := ParseHeaderPage([]byte(testHeaderPage), false)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(l)
	d.SetKernelRelease(release)
	want := map[string]bool{}
	for _, e := range events {
		want["syscalls/"+e] = true
	}
	for _, ff := range cachedFormats(t)[set] {
		if want[ff.name] {
			if _, err := d.AddFormat("syscalls", ff.text); err != nil {
				t.Fatal(err)
			}
			delete(want, ff.name)
		}
	}
	if len(want) > 0 {
		t.Fatalf("%s lacks formats %v", set, want)
	}
	return d
}

// sysRecord builds a sys_enter record: __syscall_nr, the arguments, then
// one __data_loc word per user-space copy and the copies.
func sysRecord(d *Decoder, s *Schema, args []uint64, copies ...string) Record {
	rest := le64(0)
	rest = append(rest, le64(args...)...)
	off := 8 + len(rest) + 4*len(copies)
	for _, c := range copies {
		rest = binary.LittleEndian.AppendUint32(rest, uint32(off)|uint32(len(c))<<16)
		off += len(c)
	}
	for _, c := range copies {
		rest = append(rest, c...)
	}
	return rawRecord(d, s, 42, 0, 0, rest)
}

// TestSysEnterOpenat72 checks sys_enter_openat_print (7.x, chosen by the
// print fmt in the format file): decimal dfd and filename, flags by
// name, the mode only when the flags can create a file.
func TestSysEnterOpenat72(t *testing.T) {
	d := syscallDecoder(t, "7.2.txt.gz", "7.2.13+deb14-cloud-amd64", "sys_enter_openat")
	s := d.SchemaByName("syscalls:sys_enter_openat")
	if s.special != specialSysOpenat {
		t.Fatalf("7.2's sys_enter_openat uses printer %d, want the openat one", s.special)
	}
	const atFDCWD32, atFDCWD64 = 0xffffff9c, 0xffffffffffffff9c
	for _, c := range []struct {
		flags, mode uint64
		want        string
	}{
		{0, 0, `flags: O_RDONLY)`},
		{0x241, 0o666, `flags: O_WRONLY|O_CREAT|O_TRUNC, mode: 0666)`},
		{0x80000, 0o777, `flags: O_RDONLY|O_CLOEXEC)`},
		// O_DIRECTORY is part of O_TMPFILE's mask, so the mode shows.
		{0x90000, 0, `flags: O_RDONLY|O_DIRECTORY|O_CLOEXEC, mode: 0000)`},
		{0x410002, 0o600, `flags: O_TMPFILE|O_RDWR, mode: 0600)`},
		{0x80000001, 0, `flags: O_WRONLY|0xffffffff80000000)`},
		{0x4000000, 0, `flags: O_RDONLY|0x4000000)`},
		{0xc1, 0o12345, `flags: O_WRONLY|O_CREAT|O_EXCL, mode: 012345)`},
	} {
		r := sysRecord(d, s, []uint64{atFDCWD32, 140728646553498, c.flags, c.mode}, "/nonexist-q\x00")
		got := string(d.AppendText(nil, &r))
		want := `sys_openat(dfd: 4294967196, filename: 140728646553498 "/nonexist-q", ` + c.want + "\n"
		if !strings.HasSuffix(got, want) {
			t.Errorf("flags %#x mode %#o:\n got %q\nwant suffix %q", c.flags, c.mode, got, want)
		}
	}
	// A 64-bit AT_FDCWD (Go passes it sign-extended) and a failed copy.
	r := sysRecord(d, s, []uint64{atFDCWD64, 0x10, 1, 0}, "")
	want := `sys_openat(dfd: 18446744073709551516, filename: 16 "", flags: O_WRONLY)` + "\n"
	if got := string(d.AppendText(nil, &r)); !strings.HasSuffix(got, want) {
		t.Errorf("got %q\nwant suffix %q", got, want)
	}
}

// TestSysEnterUserCopies checks the user-space copies of the generic
// printer: strings in quotes, arrays as hex bytes (cut ones with ", ...")
// and, from 7.x, their printable text.
func TestSysEnterUserCopies(t *testing.T) {
	for _, c := range []struct {
		release string
		args    []uint64
		copy    string
		want    string
	}{
		{"7.2.13", []uint64{1, 0x53f952, 2}, "x\n", `sys_write(fd: 1, buf: 0x53f952 (78:0a) "x.", count: 2)`},
		{"7.2.13", []uint64{3, 0x10, 0x1000}, "abcd", `sys_write(fd: 3, buf: 0x10 (61:62:63:64, ...) "abcd"..., count: 0x1000)`},
		{"7.2.13", []uint64{3, 0x10, 2}, "\x00\xff", `sys_write(fd: 3, buf: 0x10 (00:ff), count: 2)`},
		{"7.2.13", []uint64{3, 0x10, 0}, "", `sys_write(fd: 3, buf: 0x10 (), count: 0)`},
		// A size above INT_MAX is negative to the kernel's int: no "...".
		{"7.2.13", []uint64{3, 0x10, 0xffffffff}, "ab", `sys_write(fd: 3, buf: 0x10 (61:62) "ab", count: 0xffffffff)`},
		{"6.19.2", []uint64{1, 0x53f952, 2}, "x\n", `sys_write(fd: 1, buf: 0x53f952 (78:0a), count: 2)`},
	} {
		d := syscallDecoder(t, "7.2.txt.gz", c.release, "sys_enter_write")
		s := d.SchemaByName("syscalls:sys_enter_write")
		r := sysRecord(d, s, c.args, c.copy)
		if got := string(d.AppendText(nil, &r)); !strings.HasSuffix(got, c.want+"\n") {
			t.Errorf("%s %q:\n got %q\nwant suffix %q", c.release, c.copy, got, c.want)
		}
	}
	d := syscallDecoder(t, "7.2.txt.gz", "7.2.13", "sys_enter_renameat2")
	s := d.SchemaByName("syscalls:sys_enter_renameat2")
	r := sysRecord(d, s, []uint64{0xffffff9c, 0x20, 0xffffff9c, 0x30, 1}, "a\x00", "bc\x00")
	want := `sys_renameat2(olddfd: 0xffffff9c, oldname: 0x20 "a", newdfd: 0xffffff9c, newname: 0x30 "bc", flags: 1)` + "\n"
	if got := string(d.AppendText(nil, &r)); !strings.HasSuffix(got, want) {
		t.Errorf("two strings:\n got %q\nwant suffix %q", got, want)
	}
}

// TestSysEnterAllocs72: the 7.x syscall printers allocate nothing.
func TestSysEnterAllocs72(t *testing.T) {
	d := syscallDecoder(t, "7.2.txt.gz", "7.2.13", "sys_enter_openat", "sys_enter_write")
	d.Compile()
	buf := make([]byte, 0, 512)
	for _, r := range []Record{
		sysRecord(d, d.SchemaByName("syscalls:sys_enter_openat"), []uint64{0xffffff9c, 0x10, 0x241, 0o644}, "/tmp/x\x00"),
		sysRecord(d, d.SchemaByName("syscalls:sys_enter_write"), []uint64{1, 0x10, 9}, "hello\n"),
	} {
		if n := testing.AllocsPerRun(100, func() { buf = d.AppendText(buf[:0], &r) }); n != 0 {
			t.Errorf("%s: %v allocations per record", r.Schema.Name, n)
		}
	}
}

// TestSysEnterShortRecords: every syscall event of every captured kernel
// prints records that are cut short or hold garbage without panicking.
func TestSysEnterShortRecords(t *testing.T) {
	l, err := ParseHeaderPage([]byte(testHeaderPage), false)
	if err != nil {
		t.Fatal(err)
	}
	for set, list := range cachedFormats(t) {
		for _, release := range []string{"6.1", "7.2"} { // bare hex; the 7.x printers
			d := NewDecoder(l)
			d.SetKernelRelease(release)
			for _, ff := range list {
				if !strings.HasPrefix(ff.name, "syscalls/sys_enter_") {
					continue
				}
				s, err := d.AddFormat("syscalls", ff.text)
				if err != nil {
					t.Fatalf("%s %s: %v", set, ff.name, err)
				}
				full := make([]byte, 128)
				for i := range full {
					full[i] = byte(i*37 + 11)
				}
				for n := 8; n <= len(full); n += 5 {
					r := rawRecord(d, s, 1, 0, 0, full[8:n])
					_ = d.AppendText(nil, &r)
				}
			}
		}
	}
}
