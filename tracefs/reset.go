package tracefs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// InstanceInfo describes one instance directory, for `tracer doctor` and
// `tracer reset`.
type InstanceInfo struct {
	Name string
	// Ours is true for names of the form tracer-<pid>-<hex>.
	Ours bool
	// OwnerPID is the pid in an owned name, 0 otherwise.
	OwnerPID int
	// OwnerAlive is false when the owner has exited (or its pid now belongs
	// to a process started after the instance was created).
	OwnerAlive bool
	Created    time.Time
}

// ListInstances lists every instance, ours and other tools', so doctor can
// show who else is tracing.
func (fs *FS) ListInstances() ([]InstanceInfo, error) {
	dir := fs.path("instances")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("listing instances: %w", errNoInstances(dir))
	}
	if err != nil {
		return nil, fileErr("listing", dir, err)
	}
	var out []InstanceInfo
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		info := InstanceInfo{Name: e.Name()}
		if fi, err := e.Info(); err == nil {
			info.Created = fi.ModTime()
		}
		if pid, ok := ownerPID(e.Name()); ok {
			info.Ours = true
			info.OwnerPID = pid
			info.OwnerAlive = fs.alive(pid, info.Created)
		}
		out = append(out, info)
	}
	return out, nil
}

// ownerPID parses tracer-<pid>-<4 hex digits>; anything else is not ours.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, instancePrefix)
	if !ok {
		return 0, false
	}
	p, tag, ok := strings.Cut(rest, "-")
	if !ok || len(tag) != 4 {
		return 0, false
	}
	if _, err := strconv.ParseUint(tag, 16, 16); err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != p {
		return 0, false
	}
	return pid, true
}

// alive reports whether pid still runs and started before created, so a
// recycled pid does not keep a dead run's instance forever. Any doubt
// counts as alive: removing a live run's instance would break it.
//
// Pids are per namespace: an instance made by tracer in another pid
// namespace (a container) looks dead from here. Run reset in the
// namespace that ran tracer.
func (fs *FS) alive(pid int, created time.Time) bool {
	if err := unix.Kill(pid, 0); err == unix.ESRCH {
		return false
	}
	if created.IsZero() {
		return true
	}
	start, ok := fs.processStart(pid)
	if !ok {
		return true
	}
	return !start.After(created.Add(2 * time.Second))
}

// processStart is boot time (/proc/stat btime) plus starttime from
// /proc/<pid>/stat in USER_HZ ticks (100 on every Linux architecture).
func (fs *FS) processStart(pid int) (time.Time, bool) {
	st, err := readAbs(path.Join(fs.procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return time.Time{}, false
	}
	s := string(st)
	i := strings.LastIndexByte(s, ')') // comm may contain spaces and ')'
	if i < 0 {
		return time.Time{}, false
	}
	f := strings.Fields(s[i+1:])
	// After ")": state is field 3, starttime field 22 → index 19.
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	ps, err := readAbs(path.Join(fs.procRoot, "stat"))
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(ps), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			bt, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(bt, 0).Add(time.Duration(ticks) * 10 * time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// Reset removes the instances that tracer runs left behind when they were
// killed: names tracer-<pid>-* whose pid is gone. Live runs and other
// tools' instances are never touched. It returns the names removed.
//
// It also removes the probes of dead sessions (groups tracer_<pid>_<hex>,
// listed as group:event), after their instances, since the kernel keeps
// enabled probes. Other tools' probes and tracer_named are never touched.
func Reset(fs *FS) ([]string, error) {
	deadProbes := fs.deadProbeGroups() // judged before their instances go
	list, err := fs.ListInstances()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, info := range list {
		if !info.Ours || info.OwnerAlive {
			continue
		}
		in := &Instance{fs: fs, name: info.Name, rel: path.Join("instances", info.Name)}
		if err := in.Remove(); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, info.Name)
	}
	probes, err := fs.removeProbes(deadProbes)
	removed = append(removed, probes...)
	errs = append(errs, err)
	return removed, errors.Join(errs...)
}
