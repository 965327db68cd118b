package wallet_test

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

// TestRenewalEndToEnd: wallets on a real ledger (SQLite). The operator
// lowers the policy; at their next sync both wallets get renewed
// certificates whose limits bind at once, and the payment made under the
// old, higher limit still settles. Near expiry a sync renews the validity.
func TestRenewalEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Second).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	svc := wallettest.New(t, now)
	open := func(name string) *wallet.Wallet {
		if _, err := svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Deposit(ctx, name, 100000, "init:"+name); err != nil {
			t.Fatal(err)
		}
		v, err := vse.Create(filepath.Join(dir, name), setest.PIN, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		w, err := wallet.Open(v, filepath.Join(dir, name), &wallet.Options{Ledger: svc, Clock: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Enrol(ctx, name); err != nil {
			t.Fatal(err)
		}
		return w
	}
	alice, bob := open("alice"), open("bob")
	if err := alice.Reserve(ctx, 40000); err != nil {
		t.Fatal(err)
	}
	payOffline := func(amount uint64) error {
		req, err := bob.Request(amount, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := alice.Pay(req, 0)
		if err != nil {
			return err
		}
		rc, err := bob.Accept(b)
		if err != nil {
			t.Fatal(err)
		}
		return alice.Confirm(rc)
	}
	if err := payOffline(9000); err != nil { // under the policy's per-payment limit
		t.Fatal(err)
	}
	before, _ := alice.Status()

	lower := svc.Policy()
	lower.Person.PerPayment, lower.Person.Holding, lower.Person.MaxOfflineDays = 5000, 20000, 3
	if err := svc.SetPolicy(lower); err != nil {
		t.Fatal(err)
	}
	clock.Add(60)
	for _, w := range []*wallet.Wallet{alice, bob} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := w.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Limits != lower.Person || st.PerPayment != 5000 || !st.CertExpiry.Equal(now().Add(lower.Validity).UTC()) {
			t.Fatalf("after sync: limits %+v, expiry %v", st.Limits, st.CertExpiry)
		}
		if !st.SyncBy.Equal(st.LastSync.Add(3 * 24 * time.Hour)) {
			t.Fatalf("sync by %v, last sync %v", st.SyncBy, st.LastSync)
		}
	}
	if st, _ := alice.Status(); st.PendingCount != 0 || st.Available != before.Available {
		t.Fatalf("the 9000 payment did not settle: %+v", st)
	}
	if err := payOffline(6000); !errors.Is(err, se.ErrLimit) {
		t.Fatalf("payment above the lowered limit: %v", err)
	}
	if err := payOffline(5000); err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Report(ctx)
	if err != nil || !rep.ConservationOK {
		t.Fatalf("report: %v %+v", err, rep)
	}
	for _, d := range rep.Devices {
		if d.Account == "bob" && d.Received != 9000 {
			t.Fatalf("bob credited %d, want 9000", d.Received)
		}
	}

	// Near the end of its validity, a sync renews the certificate.
	st, _ := alice.Status()
	clock.Store(st.CertExpiry.Add(-10 * 24 * time.Hour).Unix())
	if err := alice.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st2, _ := alice.Status(); !st2.CertExpiry.After(st.CertExpiry) {
		t.Fatalf("expiry %v not renewed (was %v)", st2.CertExpiry, st.CertExpiry)
	}
}
