//go:build race

package sound_test

// raceEnabled: under the race detector, which slows this single-threaded signal
// processing tenfold and finds nothing in it, the channel tests run fewer seeds.
const raceEnabled = true
