//go:build race

package loadtest_test

// raceEnabled: the race detector slows signing and verification about
// tenfold, so the test simulates fewer devices.
const raceEnabled = true
