// Package kerneltext holds what tests need to compare tracer's text with
// the kernel's own: the known ways a kernel's trace file is itself wrong.
package kerneltext

import "strings"

// DroppedStrings reports whether the kernel's line is ours with some
// "name=value" values printed empty. Debian's 6.1 kernel (6.1.0-5x) prints
// the first %s of many events as "" in its trace file (prev_comm=,
// workqueue=, [action=]) although the record holds the string; that is the
// only difference a comparison with the kernel's text may accept.
func DroppedStrings(kernel, ours string) bool {
	k, o := strings.Fields(kernel), strings.Fields(ours)
	if len(k) != len(o) {
		return false
	}
	for i := range k {
		if k[i] == o[i] {
			continue
		}
		j := strings.LastIndexByte(k[i], '=')
		if j < 0 || j != len(k[i])-1 && k[i][j+1:] != "]" {
			return false
		}
		if !strings.HasPrefix(o[i], k[i][:j+1]) || !strings.HasSuffix(o[i], k[i][j+1:]) {
			return false
		}
	}
	return true
}
