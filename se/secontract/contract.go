// Package secontract is what a user of an se.SE relies on, as tests
// written against the interface alone (and se.PINChanger, se.DataSealer):
// the virtual SE (se/vse, in process) and the smart card (se/card,
// through pcscd and the virtual reader) both run it, so that `go test
// ./se/...` holds every implementation to the same contract. Refusals are
// compared by their se.Code (and protocol class), never by their text.
package secontract

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// Device is one fresh SE under test: made with PIN setest.PIN, opened
// with it, not yet enrolled.
type Device struct {
	se.SE
	// Reopen opens the SE again with pin in a new session (a restart of
	// the wallet, the card put back) and returns it: a wrong PIN is
	// se.ErrBadPIN, a locked SE se.ErrLocked.
	Reopen func(pin string) (se.SE, error)
	// Unlock sets pin with the unlock code, ends a lockout and returns the
	// SE opened under pin.
	Unlock func(code, pin string) (se.SE, error)
	// UnlockCode is the code the SE was made with.
	UnlockCode string
	// MaxTries is how many wrong PINs in a row lock it.
	MaxTries int
}

// Factory makes a fresh Device. A test asks it for at most two (a card
// reader has two slots); more SEs, where a test needs them, are virtual
// SEs of the same PKI (setest).
type Factory func(t *testing.T) *Device

// Run runs the contract on the SEs f makes, one test after the other.
func Run(t *testing.T, f Factory) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"Enrol", testEnrol},
		{"LoadAndReserve", testLoadAndReserve},
		{"PayReceiveConfirm", testPayReceiveConfirm},
		{"PayAgain", testPayAgain},
		{"OpenRequest", testOpenRequest},
		{"PayerRefusals", testPayerRefusals},
		{"PayeeRefusals", testPayeeRefusals},
		{"ExpiredPayer", testExpiredPayer},
		{"Overflow", testOverflow},
		{"Redeem", testRedeem},
		{"PayOnline", testPayOnline},
		{"Sync", testSync},
		{"StandingRequest", testStanding},
		{"ReceiveOnly", testReceiveOnly},
		{"Refund", testRefund},
		{"PIN", testPIN},
		{"ChangePIN", testChangePIN},
		{"SealData", testSealData},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, f) })
	}
}

// now is the time of every test: the test PKI's epoch.
const now = prototest.Epoch

// serials numbers the certificates a test issues.
type pkiT struct {
	*prototest.PKI
	serial uint64
}

func newPKI(label string) *pkiT { return &pkiT{PKI: prototest.NewPKI(label), serial: 10} }

// enrol enrols s for account on p with limits lim (name: a merchant's).
func (p *pkiT) enrolNamed(t *testing.T, s se.SE, account, name string, lim protocol.Limits) {
	t.Helper()
	req, err := s.Enrol(account, now)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	if err := s.Install(setest.CertifyNamed(p.PKI, req, p.serial, lim, name), setest.Anchors(p.PKI), p.RevList); err != nil {
		t.Fatal(err)
	}
}

func (p *pkiT) enrol(t *testing.T, s se.SE, account string) {
	p.enrolNamed(t, s, account, "", p.Limits)
}

// device is a fresh Device from f enrolled for account.
func (p *pkiT) device(t *testing.T, f Factory, account string) se.SE {
	t.Helper()
	d := f(t)
	p.enrol(t, d.SE, account)
	return d.SE
}

// peer is a virtual SE enrolled on p: a third party where a test needs
// more SEs than a reader holds.
func (p *pkiT) peer(t *testing.T, account string) se.SE {
	t.Helper()
	p.serial++
	return setest.New(t, p.PKI, t.TempDir(), account, p.serial, nil)
}

// load credits amount to s with the next load sequence number.
func (p *pkiT) load(t *testing.T, s se.SE, amount uint64) {
	t.Helper()
	st := status(t, s)
	if err := s.ApplyLoad(p.Load(st.Device, st.LoadSeq+1, amount, now)); err != nil {
		t.Fatal(err)
	}
}

// result is an issuer-signed answer to a sync of dev acknowledging its
// log up to acked, at ledger time at.
func (p *pkiT) result(dev protocol.KeyID, acked, at uint64, loads ...protocol.Load) *protocol.SyncResult {
	r := &protocol.SyncResult{Version: protocol.Version, Device: dev, Acked: acked, Time: at, Loads: loads, RevList: *p.RevList, Signer: p.Issuer.ID()}
	if err := r.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return r
}

func status(t testing.TB, s se.SE) se.Status {
	t.Helper()
	st, err := s.Status(now)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func request(t *testing.T, s se.SE, amount uint64) *protocol.PaymentRequest {
	t.Helper()
	r, err := s.NewRequest(se.RequestParams{Amount: amount, Expiry: now + 300}, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pay runs request, pay, receive and confirm from payer to payee.
func pay(t *testing.T, payer, payee se.SE, amount uint64) *protocol.PaymentBundle {
	t.Helper()
	b, err := payer.Pay(request(t, payee, amount), 0, now)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := payee.Receive(b, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := payer.ConfirmReceipt(rc, now); err != nil {
		t.Fatal(err)
	}
	return b
}

// refused runs op, checks that it fails with want (an *se.Error sentinel
// compared by code and limit, or a protocol error compared by class) and
// that no SE's status moved.
func refused(t *testing.T, want error, op func() error, ses ...se.SE) {
	t.Helper()
	before := make([]se.Status, len(ses))
	for i, s := range ses {
		before[i] = status(t, s)
	}
	err := op()
	if !errors.Is(err, want) {
		t.Fatalf("got %v (code %q), want %v", err, se.CodeOf(err), want)
	}
	for i, s := range ses {
		if after := status(t, s); after != before[i] {
			t.Fatalf("the refusal changed SE %d:\nbefore %+v\nafter  %+v", i, before[i], after)
		}
	}
}

// payErr is Pay's error alone.
func payErr(s se.SE, r *protocol.PaymentRequest, amount, at uint64) func() error {
	return func() error { _, err := s.Pay(r, amount, at); return err }
}

// receiveErr is Receive's error alone.
func receiveErr(s se.SE, b *protocol.PaymentBundle, at uint64) func() error {
	return func() error { _, err := s.Receive(b, at); return err }
}
