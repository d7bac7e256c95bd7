// Command loadgen fires the syscalls:sys_enter_getppid tracepoint at a set
// rate on one CPU, for scripts/bench.
//
//	loadgen [-cpu 1] [-rate N] [-duration 5s] [-batch K] [-wait=true]
//
// It pins its main thread (whose tid is the pid, so set_event_pid=PID
// matches it) to -cpu and calls getppid(2) by raw system call, -rate times
// a second (0: as fast as it can) for -duration. Calls are made in batches
// of K, each batch started when the monotonic clock says it is due; between
// batches it spins. The CPU time of every batch is taken from
// CLOCK_THREAD_CPUTIME_ID before and after it, so the cost per call excludes
// the spinning: cpu_ns_per_call is what one call (and any tracing it
// triggers in the task's context) costs. The brackets cost the same with or
// without tracing; compare against an untraced run at the same rate.
//
// It prints {"pid":N} first, then waits for a line on stdin or SIGUSR1
// before starting (with -wait); an EOF on stdin keeps it waiting for the
// signal, so it can run in the background with stdin from /dev/null. At the
// end it prints one JSON line with the counts.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	// Locking in init keeps the main goroutine on the main thread, whose
	// tid equals the pid: set_event_pid=PID then sees every call.
	runtime.LockOSThread()
}

type result struct {
	PID            int     `json:"pid"`
	TID            int     `json:"tid"`
	CPU            int     `json:"cpu"`
	Rate           int     `json:"rate"`
	Batch          int     `json:"batch"`
	Calls          int64   `json:"calls"`
	WallNS         int64   `json:"wall_ns"`
	CallsPerSec    float64 `json:"calls_per_sec"`
	ThreadCPUNS    int64   `json:"thread_cpu_ns"`   // whole run, spinning included
	BatchCPUNS     int64   `json:"batch_cpu_ns"`    // inside the batches only
	CPUNSPerCall   float64 `json:"cpu_ns_per_call"` // batch_cpu_ns / calls
	RusageUserNS   int64   `json:"rusage_user_ns"`  // RUSAGE_THREAD, whole run
	RusageSysNS    int64   `json:"rusage_sys_ns"`
	VolCtxSwitch   int64   `json:"nvcsw"`
	InvolCtxSwitch int64   `json:"nivcsw"`
	Late           int64   `json:"late_batches"` // batches started over 1 ms late
}

func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		fatal("clock_gettime(CLOCK_THREAD_CPUTIME_ID): %v", err)
	}
	return ts.Nano()
}

func rusage() unix.Rusage {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		fatal("getrusage(RUSAGE_THREAD): %v", err)
	}
	return ru
}

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+f+"\n", a...)
	os.Exit(1)
}

func main() {
	cpu := flag.Int("cpu", 1, "CPU to pin the calling thread to (-1: don't pin)")
	rate := flag.Int("rate", 0, "getppid calls per second (0: as fast as possible)")
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	batch := flag.Int("batch", 0, "calls per batch (0: about one batch every 100µs, 256 at max rate)")
	wait := flag.Bool("wait", true, "wait for a line on stdin or SIGUSR1 before starting")
	flag.Parse()
	if *rate < 0 || *duration <= 0 {
		fatal("-rate must be >= 0 and -duration > 0")
	}
	k := *batch
	if k <= 0 {
		if *rate == 0 {
			k = 256
		} else {
			k = max(1, *rate/10000)
		}
	}

	pid, tid := unix.Getpid(), unix.Gettid()
	if pid != tid {
		fatal("main goroutine runs on thread %d, not the main thread %d", tid, pid)
	}
	if *cpu >= 0 {
		var set unix.CPUSet
		set.Set(*cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			fatal("pinning to CPU %d: %v", *cpu, err)
		}
	}

	start := make(chan struct{}, 2)
	if *wait {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, unix.SIGUSR1)
		go func() { <-sig; start <- struct{}{} }()
		go func() {
			if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err == nil {
				start <- struct{}{}
			} // EOF: wait for the signal
		}()
	}
	fmt.Printf("{\"pid\":%d}\n", pid)
	os.Stdout.Sync()
	if *wait {
		<-start
	}

	ru0 := rusage()
	cpu0 := threadCPU()
	t0 := time.Now()
	end := t0.Add(*duration)
	var calls, batchCPU, late int64
	var interval time.Duration
	if *rate > 0 {
		interval = time.Duration(float64(k) * float64(time.Second) / float64(*rate))
	}
	next := t0
	for {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		if interval > 0 {
			for now.Before(next) {
				now = time.Now()
			}
			if now.Sub(next) > time.Millisecond {
				late++
			}
			next = next.Add(interval)
		}
		c0 := threadCPU()
		for i := 0; i < k; i++ {
			unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		}
		batchCPU += threadCPU() - c0
		calls += int64(k)
	}
	wall := time.Since(t0)
	cpu1 := threadCPU()
	ru1 := rusage()

	r := result{
		PID: pid, TID: tid, CPU: *cpu, Rate: *rate, Batch: k,
		Calls:          calls,
		WallNS:         wall.Nanoseconds(),
		CallsPerSec:    float64(calls) / wall.Seconds(),
		ThreadCPUNS:    cpu1 - cpu0,
		BatchCPUNS:     batchCPU,
		RusageUserNS:   unix.TimevalToNsec(ru1.Utime) - unix.TimevalToNsec(ru0.Utime),
		RusageSysNS:    unix.TimevalToNsec(ru1.Stime) - unix.TimevalToNsec(ru0.Stime),
		VolCtxSwitch:   int64(ru1.Nvcsw - ru0.Nvcsw), // int32 on 32-bit arm
		InvolCtxSwitch: int64(ru1.Nivcsw - ru0.Nivcsw),
		Late:           late,
	}
	if calls > 0 {
		r.CPUNSPerCall = float64(batchCPU) / float64(calls)
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}
