//go:build race

package soundtest_test

// raceEnabled: under the race detector, which slows signal processing tenfold and
// finds nothing in it, TestFER's short sweep sends one code a point.
const raceEnabled = true
