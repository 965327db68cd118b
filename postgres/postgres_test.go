package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/storetest"
)

// dsn returns the test server's address or skips: on a fresh machine
// there is no PostgreSQL, in CI there must be one.
func dsn(t testing.TB) string {
	v := os.Getenv("OFFPAY_TEST_POSTGRES")
	if v == "" {
		t.Skip("OFFPAY_TEST_POSTGRES not set: skipping PostgreSQL tests")
	}
	return v
}

// open creates a schema of its own for one test and drops it afterwards.
func open(t testing.TB) ledger.Store {
	url := dsn(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "offpay_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("PostgreSQL at OFFPAY_TEST_POSTGRES unreachable: %v", err)
	}
	s, err := postgres.Open(ctx, url, schema) // creates the schema
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
		admin.Close(ctx)
	})
	return s
}

func TestContract(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) ledger.Store { return open(t) })
}

func BenchmarkSettle(b *testing.B) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	for _, mode := range []string{"payer", "payee", "claim"} {
		b.Run(mode, func(b *testing.B) { storetest.Bench(b, open, n, mode) })
	}
}

// TestReopen: a second Open of a migrated schema applies nothing twice and
// sees the data.
func TestReopen(t *testing.T) {
	url := dsn(t)
	ctx := context.Background()
	s := open(t).(*postgres.Store)
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := s.DB().QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.Open(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n int
	if err := s2.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != 3 { // 001, 002, 003
		t.Fatalf("schema_version rows %d: %v", n, err)
	}
	if err := s2.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM meta`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("meta rows %d: %v", n, err)
	}
}

// TestOutboxLZ4 checks that Open makes outbox payloads compress with lz4
// where the server has it (pglz cost ~2 ms per big upload), and that
// opening again keeps it.
func TestOutboxLZ4(t *testing.T) {
	s := open(t).(*postgres.Store)
	ctx := context.Background()
	var has bool
	if err := s.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_settings
		WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))`).Scan(&has); err != nil {
		t.Fatal(err)
	}
	if !has {
		t.Skip("server built without lz4")
	}
	var c string
	if err := s.DB().QueryRowContext(ctx, `SELECT attcompression::text FROM pg_attribute
		WHERE attrelid = 'outbox'::regclass AND attname = 'payload'`).Scan(&c); err != nil {
		t.Fatal(err)
	}
	if c != "l" {
		t.Fatalf("outbox.payload compression %q, want l (lz4)", c)
	}
}
