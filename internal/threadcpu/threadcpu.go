// Package threadcpu reads the CPU time of the calling OS thread, to
// measure a piece of work that runs on one goroutine locked to its thread
// (runtime.LockOSThread): what it costs in CPU, apart from the time it
// waited for a core on a shared machine.
package threadcpu
