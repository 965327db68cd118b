package sqlite

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/ledger"
)

// TestOutboxPayloadStoredSmaller: a notification's JSON is stored
// compressed in the database file and read back as written; Sizes
// counts the outbox table's bytes.
func TestOutboxPayloadStoredSmaller(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	payload := []byte(`{"kind":"payment_settled","payments":[` + strings.Repeat(`{"id":"9c0d1e2f3a4b5c6d","amount":300},`, 400) + `{}]}`)
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		return tx.InsertOutbox(ctx, []ledger.OutboxRow{{ID: 7, Kind: "payment_settled", Key: "k1", Stream: "shop", Payload: payload, CreatedAt: 1}})
	}); err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := s.r.QueryRowContext(ctx, `SELECT length(payload) FROM outbox WHERE id = 7`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored >= len(payload)/3 {
		t.Fatalf("payload of %d bytes stored in %d", len(payload), stored)
	}
	var rows []ledger.OutboxRow
	if err := s.View(ctx, func(tx ledger.Tx) error {
		rows, err = tx.OutboxRows(ctx, ledger.OutboxFilter{}, 10)
		return err
	}); err != nil || len(rows) != 1 || !bytes.Equal(rows[0].Payload, payload) {
		t.Fatalf("read back: %d rows, %v", len(rows), err)
	}
	sz, err := s.Sizes(ctx)
	if err != nil || sz.Tables["outbox"] == 0 || sz.Disk < sz.Hot() {
		t.Fatalf("sizes %+v: %v", sz, err)
	}
}

// TestWriterCache: the writer runs with its 64 MiB page cache (what keeps
// settlement's cost flat up to 10^6 payments, offpay bench --storage).
func TestWriterCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var kib int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&kib); err != nil || kib != -writerCacheKiB {
		t.Fatalf("writer cache_size %d (%v), want -%d (KiB)", kib, err, writerCacheKiB)
	}
}
