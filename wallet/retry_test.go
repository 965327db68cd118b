package wallet_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

// A payer that lost the receipt presents the same bundle again: the payee
// answers with the receipt it issued, byte for byte, also after a restart,
// and credits nothing more. Accept (the QR path) still says it was
// received before. A different payment under the same payer counter (a
// cloned SE) is refused.
func TestAcceptRetrySameReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	clone := copyDir(t, e.dir("alice")) // the payer's SE before it paid

	req, _ := b.Request(700, time.Minute)
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, repeat, err := b.AcceptRetry(bundle)
	if err != nil || repeat {
		t.Fatalf("first accept: repeat %v, %v", repeat, err)
	}
	before := st(t, b)
	// The receipt was saved with the record before it was handed out: a
	// payee restarted right after answers the same.
	b = e.reopen("bob")
	again, repeat, err := b.AcceptRetry(bundle)
	if err != nil || !repeat || !bytes.Equal(again, rc) {
		t.Fatalf("retry after restart: repeat %v, same %v, %v", repeat, bytes.Equal(again, rc), err)
	}
	again, repeat, err = b.AcceptRetry(bundle)
	if err != nil || !repeat || !bytes.Equal(again, rc) {
		t.Fatalf("second retry: repeat %v, same %v, %v", repeat, bytes.Equal(again, rc), err)
	}
	if _, err := b.Accept(bundle); !errors.Is(err, se.ErrAlreadyAccepted) {
		t.Fatalf("Accept of a repeat: %v", err)
	}
	if after := st(t, b); after != before {
		t.Fatalf("retries changed the payee: %+v, was %+v", after, before)
	}
	if err := a.Confirm(again); err != nil {
		t.Fatal(err)
	}
	if s := st(t, a); s.Pending != 0 || s.Available != 4300 {
		t.Fatalf("payer after the retried receipt: %+v", s)
	}

	// A clone of the payer's SE signs another payment with the same counter.
	dir := filepath.Join(t.TempDir(), "clone")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	restoreDir(t, dir, clone)
	v, err := vse.Open(dir, setest.PIN, setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := wallet.Open(v, dir, &wallet.Options{Ledger: e.led, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	req2, _ := b.Request(300, time.Minute)
	other, err := a2.Pay(req2, 0)
	if err != nil {
		t.Fatal(err)
	}
	var p1, p2 protocol.PaymentBundle
	_ = protocol.OpenAs(bundle, &p1)
	_ = protocol.OpenAs(other, &p2)
	if p1.Payment.Payer != p2.Payment.Payer || p1.Payment.Counter != p2.Payment.Counter || p1.Payment.ID() == p2.Payment.ID() {
		t.Fatal("test set-up: the clone's payment should share payer and counter")
	}
	got, repeat, err := b.AcceptRetry(other)
	if !errors.Is(err, se.ErrAlreadyAccepted) || repeat || got != nil {
		t.Fatalf("different payment, same counter: repeat %v, %v", repeat, err)
	}
	if after := st(t, b); after.Available != before.Available || after.SE.Counter != before.SE.Counter {
		t.Fatalf("refused payment changed the payee: %+v, was %+v", after, before)
	}
}
