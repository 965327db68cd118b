// Package pgtest opens PostgreSQL ledger stores for tests, each in a
// schema of its own that is dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/postgres"
)

// Env names the test server's URL.
const Env = "OFFPAY_TEST_POSTGRES"

// URL returns the test server's address, or skips the test: on a fresh
// machine there is no PostgreSQL; in CI there must be one.
func URL(t testing.TB) string {
	t.Helper()
	v := os.Getenv(Env)
	if v == "" {
		t.Skip(Env + " not set: skipping PostgreSQL tests")
	}
	return v
}

// Open opens a store in a new schema (skipping without a server) and
// drops the schema when t ends.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	url := URL(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "offpay_test_" + hex.EncodeToString(b)
	s, err := postgres.Open(ctx, url, schema) // creates the schema
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	return s
}
