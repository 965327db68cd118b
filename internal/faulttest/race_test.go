//go:build race

package faulttest

// raceEnabled: the race detector slows signing about tenfold, so the
// storm is smaller.
const raceEnabled = true
