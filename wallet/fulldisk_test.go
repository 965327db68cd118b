package wallet_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/wallet"
)

// TestAcceptOnAFullDisk (recovery finding 4): the payee's SE credits the
// purse and logs the payment in one write; the wallet's own write of the
// receipt then fails (a full disk). The retry is not a dead end: the
// payment is already accepted (nothing credited twice), and the receipt
// the SE issued is given again, byte for byte, so the payer can confirm.
func TestAcceptOnAFullDisk(t *testing.T) {
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, err := b.Request(1200, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.hook = func(name string, s atomicfile.Stage) bool {
		return name == wallet.HistoryFile && s == atomicfile.BeforeRename
	}
	if _, err := b.Accept(bundle); err == nil {
		t.Fatalf("the history write did not fail")
	}
	e.hook = nil
	b = e.reopen("bob") // the command is run again
	if st(t, b).Available != 1200 {
		t.Fatalf("the SE did not credit the purse")
	}
	if _, err := b.Accept(bundle); !errors.Is(err, se.ErrAlreadyAccepted) {
		t.Fatalf("a plain retry: %v", err)
	}
	rc, repeat, err := b.AcceptRetry(bundle)
	if err != nil || !repeat {
		t.Fatalf("retry: repeat %v, %v", repeat, err)
	}
	if st(t, b).Available != 1200 {
		t.Fatalf("credited twice")
	}
	if err := a.Confirm(rc); err != nil {
		t.Fatalf("the payer cannot confirm the receipt given again: %v", err)
	}
	rc2, _, _ := b.AcceptRetry(bundle)
	if !bytes.Equal(rc, rc2) {
		t.Fatalf("the receipt differs between retries")
	}
}

// TestReceiptGivenAgainIsTheSame: the receipt the SE signs again from its
// receive entry is the very receipt it first handed over.
func TestReceiptGivenAgainIsTheSame(t *testing.T) {
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
	first, err := b.Accept(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var p protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &p); err != nil {
		t.Fatal(err)
	}
	ri, ok := b.SE().(interface {
		IssuedReceipt(protocol.Hash) (*protocol.Receipt, error)
	})
	if !ok {
		t.Fatal("the virtual SE gives no receipt again")
	}
	again, err := ri.IssuedReceipt(p.Payment.ID())
	if err != nil || !bytes.Equal(protocol.Seal(again), first) {
		t.Fatalf("given again: %v\n%x\n%x", err, protocol.Seal(again), first)
	}
}
