package threadcpu_test

import (
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/threadcpu"
)

// TestNowCountsWorkNotSleep: on a thread, work advances the clock and
// sleeping does not.
func TestNowCountsWorkNotSleep(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0, ok := threadcpu.Now()
	if !ok {
		t.Skip("no thread CPU clock on " + runtime.GOOS)
	}
	time.Sleep(50 * time.Millisecond)
	c1, _ := threadcpu.Now()
	if slept := c1 - c0; slept > 20*time.Millisecond {
		t.Fatalf("sleeping 50 ms cost %v of CPU", slept)
	}
	var h [32]byte
	for range 100_000 { // about 15 ms of CPU
		h = sha256.Sum256(h[:])
	}
	c2, _ := threadcpu.Now()
	if worked := c2 - c1; worked < 2*time.Millisecond {
		t.Fatalf("100,000 hashes cost %v of CPU", worked)
	}
}
