package wallet_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// TestReserveWithoutRoomIsNotStranded: a reserve interrupted after the
// ledger issued its load (the account is debited) but before the SE
// applied it, then value received offline, so the load no longer fits
// under the holding limit. The retried reserve says the money is the
// wallet's already and waits; syncs keep working (the SE used to refuse
// every sync result carrying the load: the device stranded); once the
// purse has room a sync applies the load, and the account was debited
// once.
func TestReserveWithoutRoomIsNotStranded(t *testing.T) {
	t.Parallel()
	for k := 1; k < 20; k++ {
		e := newEnv(t)
		a, b := e.wallet("alice"), e.wallet("bob")
		hold := e.limits().Holding
		load := hold - 100
		if err := b.Reserve(ctx, 500); err != nil {
			t.Fatal(err)
		}
		n := 0
		e.hook = func(name string, s atomicfile.Stage) bool {
			if s == atomicfile.BeforeRename {
				n++
			}
			return n == k && s == atomicfile.BeforeRename
		}
		err := a.Reserve(ctx, load)
		e.hook = nil
		if err == nil {
			t.Fatalf("no crash point left the load issued and unapplied (tried %d)", k)
		}
		a = e.reopen("alice")
		if e.led.Balance("alice") != startBalance-int64(load) || st(t, a).Available != 0 {
			continue // the crash came before the ledger's load or after the SE's
		}
		payTo(t, b, a, 500) // no room left for the load
		err = a.Reserve(ctx, load)
		if !errors.Is(err, se.LimitErr(se.LimitHolding)) || !strings.Contains(err.Error(), "may already have left the account") {
			t.Fatalf("the retried reserve without room: %v", err)
		}
		if err := a.Sync(ctx); err != nil {
			t.Fatalf("a sync with the load waiting: %v", err)
		}
		if got := st(t, a).Available; got != 500 {
			t.Fatalf("available %d after the sync, want 500", got)
		}
		payTo(t, a, b, 450)
		if err := a.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if got := st(t, a).Available; got != 50+load {
			t.Fatalf("available %d once there was room, want %d", got, 50+load)
		}
		if got := e.led.Balance("alice"); got != startBalance-int64(load) {
			t.Fatalf("alice's account %d, want %d (debited once)", got, startBalance-int64(load))
		}
		if r := e.led.Check(); !r.ConservationOK {
			t.Fatalf("conservation: %+v", r)
		}
		return
	}
	t.Fatal("no crash point left the load issued and unapplied")
}
