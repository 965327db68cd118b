package wallet_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

func state(h []wallet.Record, kind wallet.Kind) []wallet.State {
	var out []wallet.State
	for _, r := range h {
		if r.Kind == kind {
			out = append(out, r.State)
		}
	}
	return out
}

func TestConsecutiveOfflinePayments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b, c := e.wallet("alice"), e.wallet("bob"), e.wallet("carol")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	// Offline from here: A pays B, B pays C what it received, C pays A.
	transfer(t, a, b, 3000)
	transfer(t, b, c, 2500)
	transfer(t, c, a, 2000)
	for _, x := range []struct {
		w    *wallet.Wallet
		want uint64
	}{{a, 4000}, {b, 500}, {c, 500}} {
		if s := st(t, x.w); s.Available != x.want || s.Pending != 0 {
			t.Fatalf("available %d pending %d, want %d", s.Available, s.Pending, x.want)
		}
	}
	h := a.History()
	if got := state(h, wallet.KindPay); len(got) != 1 || got[0] != wallet.Confirmed {
		t.Fatalf("a's payments: %v", got)
	}
	// Online again: every payment settles once both sides have synced.
	for _, w := range []*wallet.Wallet{a, b, c, a, b, c} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []*wallet.Wallet{a, b, c} {
		for _, r := range w.History() {
			if r.State != wallet.Settled {
				t.Fatalf("%s %s is %s after sync", r.Kind, r.ID, r.State)
			}
		}
	}
	if e.led.Balance("alice") != startBalance-5000 {
		t.Fatal("reserve debited the account wrongly")
	}
}

func TestStatusShowsWhereMoneyStands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, _ := b.Request(1200, time.Minute)
	if _, err := a.Pay(req, 0); err != nil {
		t.Fatal(err)
	}
	s := st(t, a)
	lim := e.limits()
	if s.Available != 3800 || s.Pending != 1200 || s.PendingCount != 1 {
		t.Fatalf("available %d pending %d", s.Available, s.Pending)
	}
	if s.PaymentsLeft != lim.MaxOfflineCount-1 || s.ValueLeft != lim.MaxOfflineValue-1200 || s.HoldingLeft != lim.Holding-3800 {
		t.Fatalf("limits left: %+v", s)
	}
	if want := time.Unix(int64(e.start+lim.MaxOfflineDays*86400), 0).UTC(); !s.SyncBy.Equal(want) || !s.CanPay {
		t.Fatalf("sync by %v, want %v", s.SyncBy, want)
	}
	e.now.Store(uint64(s.SyncBy.Unix()))
	if st(t, a).CanPay {
		t.Fatal("past the deadline the wallet must say it cannot pay")
	}
}

func TestTornTransactionResolvedAtSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, _ := b.Request(700, time.Minute)
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(bundle); err != nil {
		t.Fatal(err)
	}
	// The receipt never comes back. A keeps it as pending-receipt.
	s := st(t, a)
	if s.Pending != 700 || state(a.History(), wallet.KindPay)[0] != wallet.Pending {
		t.Fatalf("torn payment not pending: %+v", s)
	}
	// Presenting the bundle again never pays twice.
	var p protocol.PaymentBundle
	_ = protocol.OpenAs(bundle, &p)
	again, err := a.Resend(p.Payment.ID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(again); !errors.Is(err, se.ErrAlreadyAccepted) {
		t.Fatalf("resent payment: %v", err)
	}
	// Either side's sync settles it; A learns at its next sync.
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if s := st(t, a); s.Pending != 0 || s.Available != 4300 {
		t.Fatalf("after sync: %+v", s)
	}
	if got := state(a.History(), wallet.KindPay); got[0] != wallet.Settled {
		t.Fatalf("torn payment is %v after sync", got)
	}
}

func TestRefusedPaymentIsRecordedAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b, c := e.wallet("alice"), e.wallet("bob"), e.wallet("carol")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, _ := b.Request(100, time.Minute)
	bundle, _ := a.Pay(req, 0)
	before := st(t, c)
	if _, err := c.Accept(bundle); !errors.Is(err, se.ErrWrongPayee) {
		t.Fatalf("wrong payee: %v", err)
	}
	if st(t, c) != before {
		t.Fatal("refusal moved carol's purse")
	}
	h := c.History()
	if len(h) != 1 || h[0].State != wallet.Rejected || h[0].Reason == "" {
		t.Fatalf("history %+v", h)
	}
	// Garbage never reaches the SE.
	if _, err := c.Accept([]byte{6, 0x80}); err == nil {
		t.Fatal("garbage accepted")
	}
	if _, err := a.Pay(append([]byte(nil), req[:len(req)-1]...), 0); err == nil {
		t.Fatal("truncated request paid")
	}
}

func TestWalletSurvivesWrongPIN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.wallet("alice")
	if _, err := vse.Open(e.dir("alice"), "999999", setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if s := st(t, e.reopen("alice")); !s.SE.Enrolled {
		t.Fatal("enrolment lost")
	}
}

func TestHistoryArchivesFinishedRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.keep = 10
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if i%8 == 7 {
			if err := a.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		req, _ := a.Request(1, time.Minute)
		bundle, err := b.Pay(req, 0)
		if err != nil {
			// b has nothing yet: give it something from a first.
			transfer(t, a, b, 1000)
			continue
		}
		if _, err := a.Accept(bundle); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []*wallet.Wallet{b, a, b, a} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h := a.History()
	arch, err := a.Archived()
	if err != nil {
		t.Fatal(err)
	}
	if len(h) > 12 || len(arch) == 0 {
		t.Fatalf("history %d records, archive %d", len(h), len(arch))
	}
	seen := map[string]bool{}
	for _, r := range append(arch, h...) {
		if seen[r.ID] {
			t.Fatalf("record %s twice", r.ID)
		}
		seen[r.ID] = true
	}
	for _, r := range arch {
		if r.State != wallet.Settled {
			t.Fatalf("archived a %s record", r.State)
		}
	}
}

func TestRequestValidityCountsFromTheSEClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	// The ledger's clock runs ten minutes ahead of the devices'.
	dev := e.now.Load()
	e.now.Store(dev + 600)
	if err := a.Reserve(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.now.Store(dev)
	req, err := b.Request(100, time.Minute)
	if err != nil {
		t.Fatalf("request from a device behind the ledger: %v", err)
	}
	wire, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(wire); err != nil {
		t.Fatal(err)
	}
}

func TestRefusalsDoNotGrowTheHistoryForEver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b, c := e.wallet("alice"), e.wallet("bob"), e.wallet("carol")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, _ := b.Request(1, time.Minute)
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A misaddressed bundle presented again and again makes one record.
	for i := 0; i < 5; i++ {
		if _, err := c.Accept(bundle); !errors.Is(err, se.ErrWrongPayee) {
			t.Fatal(err)
		}
	}
	if n := len(c.History()); n != 1 {
		t.Fatalf("%d records", n)
	}
	// A sync moves local refusals to the archive.
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	arch, _ := c.Archived()
	if len(c.History()) != 0 || len(arch) != 1 || arch[0].State != wallet.Rejected {
		t.Fatalf("history %d, archive %+v", len(c.History()), arch)
	}
}

// TestPayingTheSameRequestAgain: a request paid and confirmed, paid again,
// gives the same payment code and debits nothing; the history keeps one
// record, naming the payee's account.
func TestPayingTheSameRequestAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, _ := b.Request(700, time.Minute)
	first, repeat, err := a.PayRetry(req, 0, nil)
	if err != nil || repeat {
		t.Fatalf("first payment: repeat %v, %v", repeat, err)
	}
	rc, err := b.Accept(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Confirm(rc); err != nil {
		t.Fatal(err)
	}
	before := st(t, a)
	again, repeat, err := a.PayRetry(req, 0, nil)
	if err != nil || !repeat || !bytes.Equal(again, first) {
		t.Fatalf("paid again: repeat %v, same %v, %v", repeat, bytes.Equal(again, first), err)
	}
	if st(t, a) != before {
		t.Fatal("paying the request again moved the purse")
	}
	h := a.History()
	if n := len(state(h, wallet.KindPay)); n != 1 {
		t.Fatalf("%d pay records", n)
	}
	for _, r := range h {
		if r.Kind == wallet.KindPay && (r.CounterpartyAccount != "bob" || r.CounterpartyName != "") {
			t.Fatalf("pay record names %q %q", r.CounterpartyAccount, r.CounterpartyName)
		}
	}
	for _, r := range b.History() {
		if r.Kind == wallet.KindReceive && r.CounterpartyAccount != "alice" {
			t.Fatalf("receive record names %q", r.CounterpartyAccount)
		}
	}
}
