package bank

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
)

// TestDeliveryFromRealOutbox drains the outbox of a ledger.Service on
// SQLite through a receiver that fails at first: every notification the
// ledger wrote arrives, signed, and none is claimed again once delivered.
func TestDeliveryFromRealOutbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &clock{t: time.Now()}
	svc := ledger.New(st, keys, ledger.Options{Clock: c.Now})
	for _, name := range []string{"alice", "bob"} {
		if _, err := svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Deposit(ctx, name, 1000, "dep-"+name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Withdraw(ctx, "bob", 300, "wd-bob"); err != nil {
		t.Fatal(err)
	}

	r := newReceiver(t, c, func(call int) bool { return call <= 2 })
	w := newTestWorker(t, svc, c, r.srv.URL)
	total := 0
	for round := 0; round < 10; round++ {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n == 0 {
			break
		}
		c.Advance(2 * time.Minute) // past the backoff and the lease
	}
	if len(r.seen) == 0 || r.calls != len(r.seen)+2 {
		t.Fatalf("receiver saw %d distinct notifications in %d calls; want all of them after 2 failures", len(r.seen), r.calls)
	}
	if total != r.calls {
		t.Fatalf("claimed %d times for %d deliveries", total, r.calls)
	}
	kinds := map[string]int{}
	for _, body := range r.seen {
		var ev struct {
			Kind string          `json:"kind"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &ev); err != nil || !json.Valid(ev.Data) {
			t.Fatalf("body %s: %v", body, err)
		}
		kinds[ev.Kind]++
	}
	if kinds[ledger.NoteAccountChanged] < 3 {
		t.Fatalf("notifications by kind %v, want one account_changed per deposit and withdrawal", kinds)
	}
	ns, err := svc.ClaimNotifications(ctx, 100)
	if err != nil || len(ns) != 0 {
		t.Fatalf("%d notifications still claimable after delivery: %v", len(ns), err)
	}
}
