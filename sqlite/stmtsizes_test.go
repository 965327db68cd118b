package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// TestMultiRowStatementsStayFew: group commits write every row count
// from 1 to a few hundred of device updates, payment resolutions and
// notification streams; each statement comes in a few texts (powers of
// two), so the writer's statement cache keeps them prepared instead of
// filling with a text for every count, parsed once and never run again.
func TestMultiRowStatementsStayFew(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const most = 130
	ds := make([]*ledger.DeviceRow, most)
	ps := make([]ledger.PaymentRow, most)
	for i := range most {
		ds[i] = &ledger.DeviceRow{ID: protocol.KeyID{byte(i), byte(i >> 8), 1}}
		ps[i] = ledger.PaymentRow{Payer: protocol.KeyID{byte(i), byte(i >> 8), 2}, Counter: uint64(i), Status: protocol.StatusSettled, Resolved: 1}
	}
	for n := 1; n <= most; n++ {
		os := make([]ledger.OutboxRow, n)
		for i := range os {
			os[i] = ledger.OutboxRow{ID: int64(n*1000 + i + 1), Kind: "test", Key: fmt.Sprintf("k%d-%d", n, i), Stream: fmt.Sprintf("s%d", i), Payload: []byte("{}"), CreatedAt: int64(n)}
		}
		if err := s.Update(ctx, func(tx ledger.Tx) error {
			if err := tx.UpdateDevices(ctx, ds[:n]); err != nil {
				return err
			}
			if err := tx.ResolvePayments(ctx, ps[:n]); err != nil {
				return err
			}
			return tx.InsertOutbox(ctx, os)
		}); err != nil {
			t.Fatal(n, err)
		}
	}
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	for _, head := range []string{"UPDATE devices SET", "UPDATE payments SET", "INSERT INTO outbox_streams", "INSERT INTO outbox ("} {
		texts := 0
		for q := range s.ws.stmts {
			if strings.HasPrefix(q, head) {
				texts++
			}
		}
		if texts == 0 || texts > 9 {
			t.Errorf("%q: %d texts prepared for row counts 1 to %d, want 1 to 9 (powers of two)", head, texts, most)
		}
	}
}
