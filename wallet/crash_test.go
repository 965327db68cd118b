package wallet_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/wallet"
)

// TestCrashAtEveryWritePoint kills the flow (request, pay, accept,
// confirm) at every durable write of both wallets (SE state and history),
// before and after the rename, then reopens both from disk. No value is
// created; value that left the payer is in the payee's purse or recorded
// as pending-receipt; and the flow can be completed.
func TestCrashAtEveryWritePoint(t *testing.T) {
	t.Parallel()
	const loaded, amount = 5000, 1200
	points, tornSeen, receivedSeen := 0, 0, 0
	for k := 1; ; k++ {
		for _, stage := range []atomicfile.Stage{atomicfile.BeforeRename, atomicfile.AfterRename} {
			e := newEnv(t)
			a, b := e.wallet("alice"), e.wallet("bob")
			if err := a.Reserve(ctx, loaded); err != nil {
				t.Fatal(err)
			}
			n := 0
			var crashedIn string
			e.hook = func(name string, s atomicfile.Stage) bool {
				if s == atomicfile.BeforeRename {
					n++
				}
				if n == k && s == stage {
					crashedIn = name
					return true
				}
				return false
			}
			var bundle []byte
			err := func() error {
				req, err := b.Request(amount, time.Minute)
				if err != nil {
					return err
				}
				if bundle, err = a.Pay(req, 0); err != nil {
					return err
				}
				rc, err := b.Accept(bundle)
				if err != nil {
					return err
				}
				return a.Confirm(rc)
			}()
			e.hook = nil
			if crashedIn == "" {
				if err != nil {
					t.Fatal(err)
				}
				if points < 8 || tornSeen == 0 || receivedSeen == 0 {
					t.Fatalf("%d crash points, %d torn, %d received: the test covers too little", points, tornSeen, receivedSeen)
				}
				t.Logf("%d crash points: %d left a pending-receipt, %d the value with the payee", points, tornSeen, receivedSeen)
				return
			}
			points++
			if !errors.Is(err, atomicfile.ErrCrash) {
				t.Fatalf("write %d %v in %s: flow error %v", k, stage, crashedIn, err)
			}
			a2, b2 := e.reopen("alice"), e.reopen("bob")
			sa, sb := st(t, a2), st(t, b2)
			received := sb.Available == amount
			if sb.Available != 0 && !received {
				t.Fatalf("payee holds %d", sb.Available)
			}
			inFlight := uint64(0)
			if sa.Pending > 0 && !received {
				inFlight = sa.Pending
			}
			if sa.Available+sb.Available+inFlight != loaded {
				t.Fatalf("write %d %v in %s: value not conserved: a=%d (+%d pending) b=%d", k, stage, crashedIn, sa.Available, sa.Pending, sb.Available)
			}
			if sa.Available == loaded-amount && !received && sa.Pending != amount {
				t.Fatalf("write %d: value left the payer and is nowhere", k)
			}
			if received {
				receivedSeen++
			}
			if sa.Pending > 0 {
				tornSeen++
				if got := state(a2.History(), wallet.KindPay); len(got) != 1 || got[0] != wallet.Pending {
					t.Fatalf("write %d: pending payment missing from history: %v", k, got)
				}
			}
			if received {
				if got := state(b2.History(), wallet.KindReceive); len(got) != 1 || got[0] != wallet.Confirmed {
					t.Fatalf("write %d: received payment missing from history: %v", k, got)
				}
			}
			finish(t, a2, b2)
			sa, sb = st(t, a2), st(t, b2)
			if sa.Pending != 0 || sa.Available+sb.Available != loaded {
				t.Fatalf("write %d: after recovery a=%d (+%d) b=%d", k, sa.Available, sa.Pending, sb.Available)
			}
		}
	}
}

// finish completes an interrupted flow: resend a pending payment; if the
// payee already has it, a sync of both settles it.
func finish(t *testing.T, a, b *wallet.Wallet) {
	t.Helper()
	ps, err := a.SE().Pending()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		bundle, err := a.Resend(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := b.Accept(bundle)
		switch {
		case err == nil:
			if err := a.Confirm(rc); err != nil {
				t.Fatal(err)
			}
		case errors.Is(err, se.ErrAlreadyAccepted):
			if err := b.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal(err)
		}
	}
}

// TestRollbackLeavesEquivocationEvidence restores a copy of the payer's
// files after a payment and pays someone else with the same money.
// Software cannot prevent this; the two payments carry the same SE key and
// counter with different content, which the ledger sees at settlement.
func TestRollbackLeavesEquivocationEvidence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b, c := e.wallet("alice"), e.wallet("bob"), e.wallet("carol")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	saved := copyDir(t, e.dir("alice"))
	b1 := payTo(t, a, b, 4000)
	restoreDir(t, e.dir("alice"), saved)
	a2 := e.reopen("alice")
	if s := st(t, a2); s.Available != 5000 {
		t.Fatalf("restored purse holds %d", s.Available)
	}
	b2 := payTo(t, a2, c, 4000)

	p1, p2 := b1.Payment, b2.Payment
	if p1.Payer != p2.Payer || p1.Counter != p2.Counter || p1.ID() == p2.ID() {
		t.Fatalf("want same payer and counter, different payments: %v/%d %v/%d", p1.Payer, p1.Counter, p2.Payer, p2.Counter)
	}
	cert := a2.SE().Certificate()
	if p1.Verify(cert) != nil || p2.Verify(cert) != nil {
		t.Fatal("both payments must verify under the payer's key: that is the proof")
	}
	// The payees' uploads are the proof: the ledger revokes the payer, and
	// refuses its sync.
	for _, w := range []*wallet.Wallet{b, c} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a2.Sync(ctx); !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("the cloned payer's sync: %v", err)
	}
	r := e.led.Check()
	if len(r.DoubleSpends) != 1 || len(r.RevokedDevices) != 1 || r.RevokedDevices[0] != p1.Payer.String() {
		t.Fatalf("ledger saw %d double spends, revoked %v", len(r.DoubleSpends), r.RevokedDevices)
	}
}

func payTo(t *testing.T, from, to *wallet.Wallet, amount uint64) protocol.PaymentBundle {
	t.Helper()
	req, _ := to.Request(amount, time.Minute)
	wire, err := from.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := to.Accept(wire)
	if err != nil {
		t.Fatal(err)
	}
	if err := from.Confirm(rc); err != nil {
		t.Fatal(err)
	}
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(wire, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func copyDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func restoreDir(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
