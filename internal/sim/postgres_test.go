package sim

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// TestPostgresSameAsSQLite runs seeds on PostgreSQL (OFFPAY_TEST_POSTGRES)
// and on SQLite: the two stores must give the same report, byte for byte.
func TestPostgresSameAsSQLite(t *testing.T) {
	url := os.Getenv("OFFPAY_TEST_POSTGRES")
	if url == "" {
		t.Skip("OFFPAY_TEST_POSTGRES not set")
	}
	n := uint64(6)
	if testing.Short() || raceEnabled {
		n = 2
	}
	for seed := uint64(1); seed <= n; seed++ {
		cfg := Short()
		a, err := Run(context.Background(), seed, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Postgres = url
		b, err := Run(context.Background(), seed, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if ta, tb := text(t, a), text(t, b); !bytes.Equal(ta, tb) {
			t.Errorf("seed %d: SQLite and PostgreSQL differ:\n%s\n----\n%s", seed, ta, tb)
		}
	}
}
