package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshDatabase creates a PostgreSQL database of its own for one test (the
// ledger's schema is always "offpay", so tests cannot share one) and drops
// it afterwards; it skips without OFFPAY_TEST_POSTGRES.
func freshDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresTestEnv)
	if base == "" {
		t.Skip(postgresTestEnv + " not set: skipping a PostgreSQL test")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s unreachable: %v", postgresTestEnv, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "offpay_cmd_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestRestoreRecoveredPostgres: `ledger restore --recovered --db URL`
// records a restore done by PostgreSQL's own means in the ledger's
// database (the report shows restored_at once it serves again), and
// refuses, recording nothing, a database that belongs to another ledger.
func TestRestoreRecoveredPostgres(t *testing.T) {
	db := freshDatabase(t)
	ctx := context.Background()
	serve := func(dir string) *hostedLedger {
		h, err := startLedger(ctx, hostOptions{dataDir: dir, dbURL: db, listen: "127.0.0.1:0",
			logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		return run(e, args), out.String()
	}
	dir := t.TempDir()
	if _, err := initLedgerData(dir, "EUR", nil, "", nil); err != nil {
		t.Fatal(err)
	}
	h := serve(dir) // binds the database to dir
	if r, err := h.svc.Report(ctx); err != nil || r.RestoredAt != nil {
		t.Fatalf("before: restored_at %v, %v", r.RestoredAt, err)
	}
	h.Close()
	if code, out := cli("ledger", "restore", "--data", dir, "--db", db, "--recovered"); code != 0 || !strings.Contains(out, "recorded the restore") {
		t.Fatalf("restore --recovered: exit %d: %s", code, out)
	}
	h = serve(dir)
	r, err := h.svc.Report(ctx)
	h.Close()
	if err != nil || r.RestoredAt == nil || time.Since(*r.RestoredAt) > time.Minute {
		t.Fatalf("after: restored_at %v, %v", r.RestoredAt, err)
	}
	first := *r.RestoredAt
	// Another ledger's data folder given the same database: refused.
	other := t.TempDir()
	if _, err := initLedgerData(other, "EUR", nil, "", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a second recording would show a later second
	code, out := cli("ledger", "restore", "--data", other, "--db", db, "--recovered")
	if code == 0 || !strings.Contains(out, "does not match its data folder") {
		t.Fatalf("another ledger's folder: exit %d: %s", code, out)
	}
	h = serve(dir)
	r, err = h.svc.Report(ctx)
	h.Close()
	if err != nil || r.RestoredAt == nil || !r.RestoredAt.Equal(first) {
		t.Fatalf("after the refusal: restored_at %v (was %v), %v", r.RestoredAt, first, err)
	}
}
