package tracefs

import (
	"errors"
	"os"
	"sort"
	"testing"
)

// liveFS returns the host's tracefs, skipping only when the test cannot
// possibly run here (not root, or no tracefs at all).
func liveFS(t *testing.T) *FS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: live tracefs tests create instances")
	}
	fs, err := Open()
	if errors.Is(err, ErrNotMounted) {
		t.Skipf("tracefs not available: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if fs.Mounted {
		t.Log(fs.Notice)
	}
	return fs
}

// newTestInstance creates an instance that is removed even if the test fails.
func newTestInstance(t *testing.T, fs *FS) *Instance {
	t.Helper()
	in, err := fs.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.Remove(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return in
}

func instanceNames(t *testing.T, fs *FS) []string {
	t.Helper()
	ents, err := os.ReadDir(fs.path("instances"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
