//go:build !amd64 && !arm64

package run

// sysNames is empty where tracer has no table: syscall_name() then
// prints the number.
var sysNames = map[int64]string{}
