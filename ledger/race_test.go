//go:build race

package ledger_test

// raceEnabled: the race detector slows signing, verification and SQLite
// about tenfold; long sequential tests run part of their cases under it.
const raceEnabled = true
