package tracefs_test

import (
	"fmt"
	"os/exec"

	"github.com/tracer-dev/tracer/tracefs"
)

// An exec watcher: open a session, add a tracepoint with a filter, read
// events and get fields by name. (Run as root.)
func Example_execWatcher() {
	fs, err := tracefs.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	s := tracefs.NewSession(fs, tracefs.SessionOptions{})
	if err := s.AddTracepoint("sched:sched_process_exec", `filename == "/bin/true"`); err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Open(); err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	go exec.Command("/bin/true").Run() // something to see

	ev, err := s.ReadEvent()
	if err != nil {
		fmt.Println(err)
		return
	}
	pid, _ := ev.GetInt("pid")
	fmt.Println(ev.Name(), ev.GetString("filename"), pid > 0)
	// Output: sched:sched_process_exec /bin/true true
}
