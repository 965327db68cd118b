package bench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used. On a
// shared machine, wall-clock rates move with other people's load; CPU
// time per operation moves much less, so the table gives both.
func cpuTime() time.Duration { return CPUTime() }

// CPUTime is the CPU time (user and system) this process has used.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
