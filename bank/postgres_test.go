package bank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
)

// TestTwoProcessesPostgres is TestTwoProcessesOneStore on PostgreSQL
// (serializable claims from two processes): skipped without
// OFFPAY_TEST_POSTGRES.
func TestTwoProcessesPostgres(t *testing.T) {
	url := os.Getenv("OFFPAY_TEST_POSTGRES")
	if url == "" {
		t.Skip("OFFPAY_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "offpay_bank_" + hex.EncodeToString(b)
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	var svcs []*ledger.Service
	for range 2 {
		st, err := postgres.Open(ctx, url, schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svcs = append(svcs, ledger.New(st, keys, ledger.Options{Lease: 600 * time.Millisecond}))
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, url); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	twoProcesses(t, svcs[0], svcs[1])
}
