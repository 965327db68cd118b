package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// Online payments (ledger/online.go, SPEC.md 7.18): a payee's request
// paid from the payer's account at once. The honest flow, every refusal
// (typed, nothing moved), then the attacks: forged, tampered and replayed
// payments, another payee's request, and a payer and payee colluding.

// onlineWorld is alice (1000 in her account), bob (empty), a shop with a
// till, and their devices.
type onlineWorld struct {
	e       *Env
	a, b, m *ledgertest.Device
	n       uint64
}

func newOnlineWorld(t *testing.T, open Opener) *onlineWorld {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("shop", true, 0)
	w := &onlineWorld{e: e, a: e.Device("on-a", "alice"), b: e.Device("on-b", "bob"), m: e.Device("on-m", "shop")}
	for _, d := range []*ledgertest.Device{w.a, w.b, w.m} {
		d.Time = uint64(e.Now().Unix())
	}
	return w
}

// request is a fresh request of payee for amount, valid five minutes.
func (w *onlineWorld) request(payee *ledgertest.Device, amount uint64) *protocol.PaymentRequest {
	w.n++
	return payee.Request(amount, w.n, uint64(w.e.Now().Add(5*time.Minute).Unix()))
}

// pay pays p and checks the receipt's signature and fields.
func (w *onlineWorld) pay(p *protocol.OnlinePayment) *protocol.OnlineReceipt {
	w.e.T.Helper()
	rc, err := w.e.Svc.PayOnline(w.e.Ctx, p)
	if err != nil {
		w.e.T.Fatalf("pay online: %v", err)
	}
	_, iss := w.e.Svc.Trust()
	if err := rc.Verify(iss); err != nil {
		w.e.T.Fatalf("receipt signature: %v", err)
	}
	if !rc.Answers(&p.Request) || rc.Payer != p.Payer || rc.Amount != p.Amount {
		w.e.T.Fatalf("receipt %+v does not answer the payment", rc)
	}
	return rc
}

// refused fails unless p is refused with code, and checks that nothing
// moved: balances and the online payments made are as before.
func (w *onlineWorld) refused(p *protocol.OnlinePayment, code offpay.Code) error {
	w.e.T.Helper()
	before := w.balances()
	n := w.e.Conserved().OnlinePayments
	_, err := w.e.Svc.PayOnline(w.e.Ctx, p)
	Code(w.e.T, err, code)
	if after := w.balances(); after != before {
		w.e.T.Fatalf("a refused payment moved money: %v -> %v", before, after)
	}
	if got := w.e.Conserved().OnlinePayments; got != n {
		w.e.T.Fatalf("a refused payment was recorded: %d online payments, %d before", got, n)
	}
	return err
}

func (w *onlineWorld) balances() [3]int64 {
	return [3]int64{w.e.Balance("alice"), w.e.Balance("bob"), w.e.Balance("shop")}
}

func testOnline(t *testing.T, open Opener) {
	w := newOnlineWorld(t, open)
	e := w.e
	req := w.request(w.m, 250)
	p := w.a.PayOnline(req, 250)
	rc := w.pay(p)
	if rc.Payment != p.ID() || e.Balance("alice") != 750 || e.Balance("shop") != 250 {
		t.Fatalf("after paying 250: alice %d, shop %d", e.Balance("alice"), e.Balance("shop"))
	}
	if out, in := e.lines("alice", ledger.LineOnlineOut), e.lines("shop", ledger.LineOnlineIn); len(out) != 1 || len(in) != 1 || out[0].Amount != -250 || in[0].Amount != 250 {
		t.Fatalf("statement lines: %+v %+v", out, in)
	}
	// The same bytes again, and the same request signed again later (a
	// retry after a lost answer): the same receipt, nothing moves.
	again := w.pay(p)
	e.Advance(time.Minute)
	w.a.Time += 60
	resigned := w.pay(w.a.PayOnline(req, 250))
	if !bytes.Equal(again.Marshal(), rc.Marshal()) || !bytes.Equal(resigned.Marshal(), rc.Marshal()) {
		t.Fatal("a retried online payment got another receipt")
	}
	if e.Balance("alice") != 750 || e.Balance("shop") != 250 {
		t.Fatalf("a retry moved money: alice %d, shop %d", e.Balance("alice"), e.Balance("shop"))
	}
	// The payee looks its request up.
	got, err := e.Svc.OnlineReceipt(e.Ctx, w.m.ID, req.Nonce)
	if err != nil || !bytes.Equal(got.Marshal(), rc.Marshal()) {
		t.Fatalf("lookup: %v", err)
	}
	open2 := w.request(w.b, 0)
	_, err = e.Svc.OnlineReceipt(e.Ctx, w.b.ID, open2.Nonce)
	Code(t, err, offpay.ENOTFOUND)
	// An open request: the payer says how much. A retry after the request
	// expired still gets its receipt.
	w.pay(w.a.PayOnline(open2, 40))
	e.Advance(10 * time.Minute)
	w.pay(w.a.PayOnline(open2, 40))
	if e.Balance("alice") != 710 || e.Balance("bob") != 40 {
		t.Fatalf("after the open request: alice %d, bob %d", e.Balance("alice"), e.Balance("bob"))
	}
	r := e.Conserved()
	if r.OnlinePayments != 2 || r.Online != 290 || r.Issued != 1000 {
		t.Fatalf("report: %d online payments of %d, issued %d", r.OnlinePayments, r.Online, r.Issued)
	}
	// Money paid in online is the payee's: bob reserves it into his purse.
	e.Load(w.b, 40)
}

func testOnlineRefusals(t *testing.T, open Opener) {
	w := newOnlineWorld(t, open)
	e := w.e
	now := uint64(e.Now().Unix())
	// Insufficient funds.
	err := w.refused(w.a.PayOnline(w.request(w.m, 1001), 1001), offpay.ELIMIT)
	if !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Fatalf("insufficient funds: %v does not say so", err)
	}
	// An unknown payee: certified by this ledger's issuer, never enrolled.
	ghost := e.newDev("on-ghost")
	ghost.Cert = scenarioPKI().Device(ghost.Key, "ghost")
	err = w.refused(w.a.PayOnline(ghost.Request(10, 1, now+300), 10), offpay.ENOTFOUND)
	if !errors.Is(err, protocol.ErrWrongPayee) {
		t.Fatalf("unknown payee: %v", err)
	}
	// An expired request.
	err = w.refused(w.a.PayOnline(w.m.Request(10, 99, now), 10), offpay.EFORBIDDEN)
	if !errors.Is(err, protocol.ErrExpired) {
		t.Fatalf("expired request: %v", err)
	}
	// Wrong currency: of the payment, and of the request.
	p := w.a.PayOnline(w.request(w.m, 10), 10)
	p.Currency = "USD"
	if err := p.Sign(w.a.Key); err != nil {
		t.Fatal(err)
	}
	if err := w.refused(p, offpay.EINVALID); !errors.Is(err, protocol.ErrCurrency) {
		t.Fatalf("wrong currency: %v", err)
	}
	usd := w.request(w.m, 10)
	usd.Currency = "USD"
	if err := usd.Sign(w.m.Key); err != nil {
		t.Fatal(err)
	}
	w.refused(w.a.PayOnline(usd, 10), offpay.EINVALID)
	// Another amount than the request asks.
	w.refused(w.a.PayOnline(w.request(w.m, 100), 50), offpay.EINVALID)
	// The standing request: no nonce to pay it once.
	standing := w.m.Request(0, 0, now+300)
	standing.Nonce = protocol.Nonce{}
	if err := standing.Sign(w.m.Key); err != nil {
		t.Fatal(err)
	}
	w.refused(w.a.PayOnline(standing, 10), offpay.EINVALID)
	// Paying itself, or its own account.
	w.refused(w.a.PayOnline(w.request(w.a, 10), 10), offpay.EINVALID)
	a2 := e.Device("on-a2", "alice")
	w.refused(w.a.PayOnline(w.request(a2, 10), 10), offpay.EINVALID)
	// A receive-only till pays nothing online.
	w.refused(w.m.PayOnline(w.request(w.b, 10), 10), offpay.ELIMIT)
	// A revoked payee, then a revoked payer.
	if err := e.Svc.Revoke(e.Ctx, a2.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	w.refused(w.b.PayOnline(w.request(a2, 10), 10), offpay.EFORBIDDEN)
	req := w.request(w.m, 10)
	if err := e.Svc.Revoke(e.Ctx, w.a.ID, "stolen"); err != nil {
		t.Fatal(err)
	}
	if err := w.refused(w.a.PayOnline(req, 10), offpay.EFORBIDDEN); !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("revoked payer: %v", err)
	}
	// A malformed payment: its request's signature field emptied.
	bad := w.b.PayOnline(w.request(w.m, 10), 10)
	bad.Request.Sig = nil
	if _, err := e.Svc.PayOnline(e.Ctx, bad); err == nil {
		t.Fatal("a malformed online payment was accepted")
	}
}

func testOnlineAttacks(t *testing.T, open Opener) {
	w := newOnlineWorld(t, open)
	e := w.e
	req := w.request(w.m, 100)
	// A thief who knows alice's account name and device ID but not her
	// key: a payment in her device's name signed by another key.
	thief := e.newDev("on-thief")
	forged := thief.PayOnline(req, 100)
	forged.Payer = w.a.ID
	if err := forged.Sign(thief.Key); err != nil {
		t.Fatal(err)
	}
	w.refused(forged, offpay.EUNAUTHORIZED)
	// Nor with its own, unenrolled key.
	w.refused(thief.PayOnline(req, 100), offpay.EUNAUTHORIZED)
	// A payment tampered with after the SE signed it: the amount of an
	// open request, the payee (another request put in), the nonce.
	open2 := w.request(w.b, 0)
	p := w.a.PayOnline(open2, 5)
	p.Amount = 500
	w.refused(p, offpay.EUNAUTHORIZED)
	p = w.a.PayOnline(req, 100)
	p.Request = *w.request(w.b, 100)
	w.refused(p, offpay.EUNAUTHORIZED)
	p = w.a.PayOnline(req, 100)
	p.Request.Nonce[0] ^= 1
	w.refused(p, offpay.EUNAUTHORIZED)
	// Wrong payee: bob rewrites the shop's request to name himself (his
	// certificate, the shop's nonce and amount): the shop's signature no
	// longer verifies, and he cannot make his own request look like the
	// shop's. The payer's SE signed what it was shown, and nothing moves.
	stolen := *req
	stolen.Payee = *w.b.Cert
	w.refused(w.a.PayOnline(&stolen, 100), offpay.EUNAUTHORIZED)
	// Replays: the paid payment again moves nothing; the paid request by
	// another payer, or again for another amount, is a conflict.
	good := w.a.PayOnline(req, 100)
	w.pay(good)
	for range 3 {
		w.pay(good)
	}
	if e.Balance("alice") != 900 || e.Balance("shop") != 100 {
		t.Fatalf("replays moved money: alice %d, shop %d", e.Balance("alice"), e.Balance("shop"))
	}
	e.Load(w.a, 50) // value in a purse is outstanding, not in accounts
	_, err := e.Svc.PayOnline(e.Ctx, w.b.PayOnline(req, 100))
	Code(t, err, offpay.ECONFLICT)
	w.pay(w.a.PayOnline(open2, 5))
	w.refused(w.a.PayOnline(open2, 6), offpay.ECONFLICT)
	// Payer and payee colluding cannot create money: alice and bob race
	// the same request from many goroutines, and two requests that
	// together ask more than alice has; every payment is debited once,
	// never below zero, and the total across accounts is what was issued.
	race := w.request(w.b, 300)
	other := w.request(w.b, 600)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := race
			amount := uint64(300)
			if i%2 == 1 {
				r, amount = other, 600
			}
			_, err := e.Svc.PayOnline(e.Ctx, w.a.PayOnline(r, amount))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && offpay.ErrorCode(err) != offpay.ELIMIT {
			t.Fatalf("racing online payments: %v", err)
		}
	}
	rep := e.Conserved()
	total := e.Balance("alice") + e.Balance("bob") + e.Balance("shop")
	if total+rep.Outstanding != rep.Issued || e.Balance("alice") < 0 {
		t.Fatalf("money created or lost: accounts %d + purses %d, issued %d", total, rep.Outstanding, rep.Issued)
	}
	// alice had 845 (1000 - 100 - 5 - 50): both requests together (900)
	// are more, so exactly one of them was paid.
	if a := e.Balance("alice"); a != 845-300 && a != 845-600 {
		t.Fatalf("alice %d after racing 300 and 600 against 845", a)
	}
	if rep.OnlinePayments != 3 {
		t.Fatalf("%d online payments recorded, want 3", rep.OnlinePayments)
	}
}

// testOnlineAcross: online payments across providers of a scheme. As the
// payer's provider, this ledger debits its payer, owes the payee's
// provider the amount (a clearing position, Obligations) and queues the
// payment with its receipt for that provider, once. As the payee's
// provider, it credits its payee from another provider's forwarded
// payment once, checking the payer's certificate and the receipt's signer
// against the register, and refuses what does not add up.
func testOnlineAcross(t *testing.T, open Opener) {
	w := newOnlineWorld(t, open)
	e := w.e
	e.federate()
	now := uint64(e.Now().Unix())

	// This ledger pays "there": z is a device of the other provider, not
	// known here yet.
	z := foreignDevice("on-z")
	z.Time = now
	zreq := w.request(z, 70)
	p := w.a.PayOnline(zreq, 70)
	rc := w.pay(p)
	w.pay(p) // a retry: no second debit, no second forward
	if e.Balance("alice") != 930 {
		t.Fatalf("alice %d after paying 70 across", e.Balance("alice"))
	}
	r := e.Conserved()
	if r.Clearing != 70 || r.OnlinePayments != 1 {
		t.Fatalf("clearing %d, %d online payments", r.Clearing, r.OnlinePayments)
	}
	if o := e.obligations(); len(o) != 1 || o[0].Provider != "there" || o[0].Owe != 70 || o[0].Due != 0 {
		t.Fatalf("obligations %+v", o)
	}
	rows, err := e.Svc.PendingForwards(e.Ctx, 10)
	if err != nil || len(rows) != 1 || rows[0].Provider != "there" || rows[0].ID != rc.Payment {
		t.Fatalf("forwards %+v %v", rows, err)
	}
	of, err := protocol.UnmarshalOnlineForward(rows[0].Data)
	if err != nil || !bytes.Equal(of.Receipt.Marshal(), rc.Marshal()) || of.Payer.ID() != w.a.ID {
		t.Fatalf("forwarded %+v %v", of, err)
	}
	// Evidence of a payer of this provider is not this provider's to
	// credit from (it is "there"'s): refused.
	if _, err := e.Svc.SettleForwarded(e.Ctx, rows[0].Data); err == nil {
		t.Fatal("this ledger credited its own payer's forwarded online payment")
	}

	// "there" pays this ledger's bob: x is its payer, its issuer signs
	// the receipt.
	iss, issKey := otherIssuer()
	x := foreignDevice("on-x")
	x.Time = now
	forward := func(op *protocol.OnlinePayment, f func(rc *protocol.OnlineReceipt), signer protocol.Signer, payer *protocol.Certificate) []byte {
		rc := &protocol.OnlineReceipt{Version: protocol.Version, Payment: op.ID(), Payer: op.Payer, Payee: op.Request.Payee.ID(),
			Nonce: op.Request.Nonce, Amount: op.Amount, Currency: "EUR", Time: now, Signer: iss.ID()}
		if f != nil {
			f(rc)
		}
		if err := rc.Sign(signer); err != nil {
			t.Fatal(err)
		}
		return (&protocol.OnlineForward{Version: protocol.Version, Payer: *payer, Payment: *op, Receipt: *rc}).Marshal()
	}
	breq := w.request(w.b, 30)
	xop := x.PayOnline(breq, 30)
	good := forward(xop, nil, issKey, x.Cert)
	before := w.balances()
	refuse := func(data []byte, code offpay.Code) {
		t.Helper()
		_, err := e.Svc.SettleForwarded(e.Ctx, data)
		Code(t, err, code)
		if w.balances() != before {
			t.Fatal("a refused forward moved money")
		}
	}
	// Truncated; the receipt raised after "there" signed it; signed by
	// this ledger's own issuer; a payment its payer did not sign ("there"
	// inventing one); a receipt of another amount, signed.
	refuse(forward(xop, nil, issKey, x.Cert)[:40], offpay.EINVALID) // truncated
	tampered := forward(xop, nil, issKey, x.Cert)
	of2, _ := protocol.UnmarshalOnlineForward(tampered)
	of2.Receipt.Amount = 3000
	refuse(of2.Marshal(), offpay.EUNAUTHORIZED)
	own := forward(xop, func(rc *protocol.OnlineReceipt) { _, i := e.Svc.Trust(); rc.Signer = i.ID() }, scenarioPKI().IssuerKey, x.Cert)
	refuse(own, offpay.EUNAUTHORIZED)
	invented := *xop
	invented.Amount = 3000
	refuse(forward(&invented, nil, issKey, x.Cert), offpay.EUNAUTHORIZED)
	refuse(forward(xop, func(rc *protocol.OnlineReceipt) { rc.Amount = 31 }, issKey, x.Cert), offpay.EINVALID)
	// A payee not enrolled here.
	ghost := e.newDev("on-ghost2")
	ghost.Cert = scenarioPKI().Device(ghost.Key, "ghost")
	refuse(forward(x.PayOnline(ghost.Request(5, 1, now+300), 5), nil, issKey, x.Cert), offpay.ENOTFOUND)

	for i, dup := range []bool{false, true} {
		res, err := e.Svc.SettleForwarded(e.Ctx, good)
		if err != nil || res.Duplicate != dup || res.Payment != xop.ID() {
			t.Fatalf("delivery %d: %+v %v", i, res, err)
		}
	}
	if e.Balance("bob") != 30 {
		t.Fatalf("bob %d after 30 from there", e.Balance("bob"))
	}
	// The same request paid again by another payment of x: a conflict.
	x.Time += 5
	before = w.balances()
	refuse(forward(x.PayOnline(breq, 30), nil, issKey, x.Cert), offpay.ECONFLICT)
	// Bob's wallet asks its own ledger, and gets this ledger's receipt.
	got, err := e.Svc.OnlineReceipt(e.Ctx, w.b.ID, breq.Nonce)
	if _, mine := e.Svc.Trust(); err != nil || got.Verify(mine) != nil || got.Payment != xop.ID() || got.Amount != 30 {
		t.Fatalf("bob's receipt %+v %v", got, err)
	}
	r = e.Conserved()
	if r.Clearing != 70-30 || r.OnlinePayments != 2 {
		t.Fatalf("clearing %d, %d online payments", r.Clearing, r.OnlinePayments)
	}
	if o := e.obligations(); len(o) != 1 || o[0].Owe != 70 || o[0].Due != 30 {
		t.Fatalf("obligations %+v", o)
	}
	// The scheme suspends "there": its payees are paid online no more.
	if err := e.Svc.SetFederation(ledger.Federation{Self: "here", Providers: []ledger.Provider{
		{Name: "here", Issuers: []*protocol.Certificate{scenarioPKI().Issuer}},
		{Name: "there", Issuers: []*protocol.Certificate{iss}, Suspended: true}}}); err != nil {
		t.Fatal(err)
	}
	before = w.balances()
	w.refused(w.a.PayOnline(w.request(z, 5), 5), offpay.EFORBIDDEN)
}
