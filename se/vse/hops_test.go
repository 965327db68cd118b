package vse_test

import (
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// hopsOf returns the Hops of a bundle's payment.
func hopsOf(b *protocol.PaymentBundle) uint64 { return b.Payment.Hops }

// TestHopLimit: value received offline may be paid on at most MaxHops
// times before a ledger has seen it. Loaded value pays with Hops 1; a
// payment of received value carries its Hops + 1; past the limit the SE
// refuses (limit hops) and changes nothing; a sync result acknowledging
// the receive entry makes the value payable with Hops 1 again.
func TestHopLimit(t *testing.T) {
	t.Parallel()
	f := withLimits(t, func(l *protocol.Limits) { l.MaxHops = 1 })
	c := setest.New(t, f.pki, filepath.Join(t.TempDir(), "c"), "carol", 12, nil)
	d := setest.New(t, f.pki, filepath.Join(t.TempDir(), "d"), "dave", 13, nil)
	f.load(t, f.a, 500)
	if h := hopsOf(pay(t, f.a, f.b, 100)); h != 1 {
		t.Fatalf("a payment of loaded value: hops %d", h)
	}
	if h := hopsOf(pay(t, f.b, c, 60)); h != 2 {
		t.Fatalf("paying on value received at hop 1: hops %d", h)
	}
	if st := status(t, c); st.AfterSync != 60 || st.Balance != 60 {
		t.Fatalf("carol's status %+v", st)
	}
	r := request(t, d, 10)
	refused(t, se.LimitErr(se.LimitHops), func() error { _, err := c.Pay(r, 0, now); return err }, c, d)
	// Carol syncs: the ledger acknowledges her receive entry.
	if err := c.ApplySyncResult(syncResult(f.pki, c.ID(), status(t, c).Counter, now)); err != nil {
		t.Fatal(err)
	}
	if st := status(t, c); st.AfterSync != 0 {
		t.Fatalf("after the sync %+v", st)
	}
	if h := hopsOf(pay(t, c, d, 10)); h != 1 {
		t.Fatalf("acknowledged value: hops %d", h)
	}
}

// TestStagedMode: with MaxHops 0 received value is spendable only after
// the payee syncs. A purse holding both pays from its loaded value first,
// with Hops 1, and refuses the rest; a redeem takes the received value
// first, keeping what can still be paid.
func TestStagedMode(t *testing.T) {
	t.Parallel()
	f := withLimits(t, func(l *protocol.Limits) { l.MaxHops = 0 })
	c := setest.New(t, f.pki, filepath.Join(t.TempDir(), "c"), "carol", 12, nil)
	f.load(t, f.a, 500)
	f.load(t, f.b, 20)
	pay(t, f.a, f.b, 30)
	if h := hopsOf(pay(t, f.b, c, 15)); h != 1 {
		t.Fatalf("loaded value first: hops %d", h)
	}
	r := request(t, c, 10) // 5 loaded left, 30 received: 10 needs received value
	refused(t, se.LimitErr(se.LimitHops), func() error { _, err := f.b.Pay(r, 0, now); return err }, f.b, c)
	if _, err := f.b.Redeem(30, now); err != nil {
		t.Fatal(err)
	}
	if st := status(t, f.b); st.Balance != 5 || st.AfterSync != 0 {
		t.Fatalf("a redeem did not take the received value first: %+v", st)
	}
	if h := hopsOf(pay(t, f.b, c, 5)); h != 1 {
		t.Fatalf("hops %d", h)
	}
}

// TestHopsSurviveReopen: the received value's hops are part of the sealed
// state.
func TestHopsSurviveReopen(t *testing.T) {
	t.Parallel()
	f := withLimits(t, func(l *protocol.Limits) { l.MaxHops = 0 })
	f.load(t, f.a, 500)
	pay(t, f.a, f.b, 30)
	v := setest.Open(t, f.dirB, nil)
	if st := status(t, v); st.AfterSync != 30 {
		t.Fatalf("after reopening: %+v", st)
	}
}
