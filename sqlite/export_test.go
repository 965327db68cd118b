package sqlite

import "testing"

// TightDisk makes the stores opened until t ends see a disk without room:
// their writers checkpoint as SQLite does by default and the checkpointer
// copies nothing (checkpoint.go), for tests that count a WAL's frames.
// Not for parallel tests.
func TightDisk(t testing.TB) {
	was := diskFree
	diskFree = func(string) (uint64, error) { return 0, nil }
	t.Cleanup(func() { diskFree = was })
}
