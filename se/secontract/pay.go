package secontract

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// Enrol: the request is signed by the SE's key for the account; before
// Install there is no certificate and no purse; Install takes only a
// certificate for the SE's own key; once installed, enrolling again is
// refused.
func testEnrol(t *testing.T, f Factory) {
	p := newPKI("contract")
	d := f(t)
	if d.Certificate() != nil || status(t, d).Enrolled {
		t.Fatal("a certificate before Install")
	}
	refused(t, se.ErrNotEnrolled, func() error { _, err := d.Redeem(1, now); return err }, d)
	req, err := d.Enrol("alice", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Verify(); err != nil || req.Account != "alice" {
		t.Fatalf("enrolment request: %v, account %q", err, req.Account)
	}
	// A certificate for another key is refused.
	stranger := p.Device(prototest.Ed25519Key("stranger"), "alice")
	if err := d.Install(stranger, anchors(p), p.RevList); se.CodeOf(err) != se.CodeBadRequest {
		t.Fatalf("another key's certificate: %v", err)
	}
	p.serial++
	cert := setest.Certify(p.PKI, req, p.serial, p.Limits)
	if err := d.Install(cert, anchors(p), p.RevList); err != nil {
		t.Fatal(err)
	}
	got := d.Certificate()
	if got == nil || !bytes.Equal(got.Marshal(), cert.Marshal()) {
		t.Fatal("Certificate is not the installed one")
	}
	st := status(t, d)
	if !st.Enrolled || st.Device != cert.ID() || st.Limits != p.Limits || st.Currency != p.Currency || st.Balance != 0 {
		t.Fatalf("status after Install: %+v", st)
	}
	refused(t, se.ErrEnrolled, func() error { _, err := d.Enrol("alice", now); return err }, d)
}

// LoadAndReserve: Reserve signs a request for the ledger and changes
// nothing; the issuer's load credits the purse once, in order, for this
// device only, within the holding limit.
func testLoadAndReserve(t *testing.T, f Factory) {
	p := newPKI("contract")
	a := p.device(t, f, "alice")
	id := protocol.Nonce{1, 2, 3}
	before := status(t, a)
	r, err := a.Reserve(5000, id, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(a.Certificate()); err != nil || r.Amount != 5000 || r.RequestID != id || r.Device != before.Device {
		t.Fatalf("reserve request: %v %+v", err, r)
	}
	if status(t, a) != before {
		t.Fatal("Reserve changed the SE")
	}
	refused(t, se.ErrBadRequest, func() error { _, err := a.Reserve(0, id, now); return err }, a)
	refused(t, se.LimitErr(se.LimitHolding), func() error { _, err := a.Reserve(p.Limits.Holding+1, id, now); return err }, a)

	l1 := p.Load(before.Device, 1, 5000, now)
	if err := a.ApplyLoad(l1); err != nil {
		t.Fatal(err)
	}
	st := status(t, a)
	if st.Balance != 5000 || st.LoadSeq != 1 {
		t.Fatalf("after the load: balance %d seq %d", st.Balance, st.LoadSeq)
	}
	// The same load again (a retry) credits nothing.
	if err := a.ApplyLoad(l1); err != nil || status(t, a) != st {
		t.Fatalf("the load applied again: %v", err)
	}
	refused(t, se.ErrLoadConflict, func() error { return a.ApplyLoad(p.Load(st.Device, 1, 6000, now)) }, a)
	refused(t, se.ErrBadLoad, func() error { return a.ApplyLoad(p.Load(st.Device, 3, 1, now)) }, a)
	refused(t, se.ErrBadLoad, func() error { return a.ApplyLoad(p.Load(protocol.KeyID{9}, 2, 1, now)) }, a)
	rogue := newPKI("rogue")
	refused(t, se.ErrBadLoad, func() error { return a.ApplyLoad(rogue.Load(st.Device, 2, 1, now)) }, a)
	refused(t, se.LimitErr(se.LimitHolding), func() error { return a.ApplyLoad(p.Load(st.Device, 2, p.Limits.Holding-4999, now)) }, a)
	if st := status(t, a); st.HoldingLeft != p.Limits.Holding-5000 {
		t.Fatalf("holding left %d", st.HoldingLeft)
	}
}

// PayReceiveConfirm: the payer's purse is debited and the payment pending
// until the payee's receipt; the payee's purse is credited; both logs are
// chains signed by the device key; value received offline pays on.
func testPayReceiveConfirm(t *testing.T, f Factory) {
	p := newPKI("contract")
	a, b := p.device(t, f, "alice"), p.device(t, f, "bob")
	p.load(t, a, 5000)
	req := request(t, b, 1200)
	if err := req.Verify(); err != nil || req.Payee.ID() != b.Certificate().ID() || req.Amount != 1200 {
		t.Fatalf("request: %v", err)
	}
	bundle, err := a.Pay(req, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	pm := bundle.Payment
	if err := pm.Verify(a.Certificate()); err != nil || pm.Amount != 1200 || pm.Payee != req.Payee.ID() || pm.Nonce != req.Nonce {
		t.Fatalf("payment: %v %+v", err, pm)
	}
	st := status(t, a)
	if st.Balance != 3800 || st.PendingCount != 1 || st.PendingValue != 1200 || st.OfflineCount != 1 || st.OfflineValue != 1200 {
		t.Fatalf("payer after Pay: %+v", st)
	}
	ps, err := a.Pending()
	if err != nil || len(ps) != 1 || ps[0].ID != pm.ID() || ps[0].Amount != 1200 || ps[0].Payee != pm.Payee || ps[0].Counter != pm.Counter {
		t.Fatalf("pending: %v %+v", err, ps)
	}
	rc, err := b.Receive(bundle, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Verify(b.Certificate()); err != nil || rc.Payment != pm.ID() {
		t.Fatalf("receipt: %v", err)
	}
	if got := status(t, b).Balance; got != 1200 {
		t.Fatalf("payee balance %d", got)
	}
	if err := a.ConfirmReceipt(rc, now); err != nil {
		t.Fatal(err)
	}
	if st := status(t, a); st.PendingCount != 0 || st.PendingValue != 0 || st.Balance != 3800 {
		t.Fatalf("payer after the receipt: %+v", st)
	}
	// Confirming again changes nothing.
	before := status(t, a)
	_ = a.ConfirmReceipt(rc, now)
	if status(t, a) != before {
		t.Fatal("a second confirmation changed the payer")
	}
	pay(t, b, a, 1000)
	if sa, sb := status(t, a), status(t, b); sa.Balance != 4800 || sb.Balance != 200 {
		t.Fatalf("balances %d %d", sa.Balance, sb.Balance)
	}
	for _, s := range []se.SE{a, b} {
		checkChain(t, s)
	}
	// The payer's log: load, pay, confirm, receive.
	es, err := a.Log(1)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []protocol.EntryKind{protocol.EntryLoad, protocol.EntryPay, protocol.EntryConfirm, protocol.EntryReceive}
	if len(es) != len(kinds) {
		t.Fatalf("%d entries in the payer's log", len(es))
	}
	for i, k := range kinds {
		if es[i].Kind != k {
			t.Fatalf("entry %d kind %d, want %d", i+1, es[i].Kind, k)
		}
	}
	if pm.Counter != 2 {
		t.Fatalf("the payment's counter %d: not its log entry's", pm.Counter)
	}
}

// checkChain checks s's log from counter 1: consecutive counters, each
// entry chained to the one before and signed by the device key, the last
// one the status's head.
func checkChain(t *testing.T, s se.SE) {
	t.Helper()
	es, err := s.Log(1)
	if err != nil {
		t.Fatal(err)
	}
	var prev protocol.Hash
	for i, e := range es {
		if e.Counter != uint64(i+1) || e.Prev != prev {
			t.Fatalf("entry %d breaks the chain", e.Counter)
		}
		if err := e.Verify(s.Certificate()); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash()
	}
	if st := status(t, s); st.Head != prev || st.Counter != uint64(len(es)) {
		t.Fatalf("head %x counter %d, log of %d", st.Head, st.Counter, len(es))
	}
}

// PayAgain: a request paid before, pending or confirmed, or after a new
// session, paid again gives the same payment byte for byte and debits
// nothing; the payee takes it once.
func testPayAgain(t *testing.T, f Factory) {
	p := newPKI("contract")
	d := f(t)
	p.enrol(t, d.SE, "alice")
	a, b := d.SE, p.device(t, f, "bob")
	p.load(t, a, 5000)
	r := request(t, b, 1200)
	first, err := a.Pay(r, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, amount uint64) {
		t.Helper()
		before := status(t, a)
		again, err := a.Pay(r, amount, now)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !bytes.Equal(again.Marshal(), first.Marshal()) {
			t.Fatalf("%s: another payment (counter %d, first %d)", what, again.Payment.Counter, first.Payment.Counter)
		}
		if after := status(t, a); after != before {
			t.Fatalf("%s changed the SE:\nbefore %+v\nafter  %+v", what, before, after)
		}
	}
	same("pending", 0)
	same("pending, the amount named", 1200)
	rc, err := b.Receive(first, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ConfirmReceipt(rc, now); err != nil {
		t.Fatal(err)
	}
	same("confirmed", 0)
	if a, err = d.Reopen(setest.PIN); err != nil {
		t.Fatal(err)
	}
	same("in a new session", 0)
	if st := status(t, a); st.Balance != 3800 || st.PendingCount != 0 {
		t.Fatalf("balance %d, %d pending", st.Balance, st.PendingCount)
	}
	refused(t, se.ErrAlreadyAccepted, receiveErr(b, first, now), a, b)
	// Once the request has expired, paying it again is refused as expired.
	if _, err := a.Pay(r, 0, r.Expiry+2*3600); se.CodeOf(err) != se.CodeExpired {
		t.Fatalf("expired request: %v", err)
	}
}

// OpenRequest: an open request (amount 0) is paid with the amount the
// payer names, and shown again only with that amount; a fixed request
// only with its own.
func testOpenRequest(t *testing.T, f Factory) {
	p := newPKI("contract")
	a, b := p.device(t, f, "alice"), p.device(t, f, "bob")
	p.load(t, a, 5000)
	open := request(t, b, 0)
	refused(t, se.ErrBadRequest, payErr(a, open, 0, now), a, b)
	o1, err := a.Pay(open, 700, now)
	if err != nil || o1.Payment.Amount != 700 {
		t.Fatalf("open request: %v", err)
	}
	for _, amt := range []uint64{0, 700} {
		o2, err := a.Pay(open, amt, now)
		if err != nil || !bytes.Equal(o2.Marshal(), o1.Marshal()) {
			t.Fatalf("open request again with %d: %v", amt, err)
		}
	}
	refused(t, se.ErrNonceUsed, payErr(a, open, 800, now), a)
	if _, err := b.Receive(o1, now); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrAmountMismatch, payErr(a, request(t, b, 300), 200, now), a, b)
}

// PayerRefusals: each limit and check of Pay refuses and changes nothing.
func testPayerRefusals(t *testing.T, f Factory) {
	p := newPKI("contract")
	p.Limits.PerPayment = 800
	p.Limits.MaxOfflineCount = 3
	p.Limits.MaxOfflineValue = 1000
	a, b := p.device(t, f, "alice"), p.peer(t, "bob")
	p.load(t, a, 500)
	refused(t, se.ErrInsufficientFunds, payErr(a, request(t, b, 600), 0, now), a, b)
	p.load(t, a, 29500)
	r := request(t, b, 100)
	refused(t, se.ErrExpired, payErr(a, r, 0, r.Expiry), a, b)
	tampered := *r
	tampered.Amount = 1
	refused(t, protocol.ErrBadSignature, payErr(a, &tampered, 0, now), a, b)
	rogue := newPKI("rogue")
	refused(t, protocol.ErrUntrusted, payErr(a, request(t, rogue.peer(t, "mallory"), 100), 0, now), a)
	refused(t, se.LimitErr(se.LimitPerPayment), payErr(a, request(t, b, 801), 0, now), a, b)
	pay(t, a, b, 600)
	refused(t, se.LimitErr(se.LimitOfflineValue), payErr(a, request(t, b, 401), 0, now), a, b)
	pay(t, a, b, 10)
	pay(t, a, b, 10)
	refused(t, se.LimitErr(se.LimitOfflineCount), payErr(a, request(t, b, 10), 0, now), a, b)
	if st := status(t, a); st.CountLeft != 0 || st.ValueLeft != 1000-620 || st.Balance != 30000-620 {
		t.Fatalf("count left %d, value left %d, balance %d", st.CountLeft, st.ValueLeft, st.Balance)
	}
	// At the offline deadline it pays nothing (the clock floor it saw
	// moves on: nothing else).
	late := now + p.Limits.MaxOfflineDays*86400
	lr, err := b.NewRequest(se.RequestParams{Amount: 100, Expiry: late + 3600}, now)
	if err != nil {
		t.Fatal(err)
	}
	before := status(t, a)
	if _, err := a.Pay(lr, 0, late); !errors.Is(err, se.ErrOfflineTooLong) {
		t.Fatalf("paying at the offline deadline: %v", err)
	}
	if st := status(t, a); st.Balance != before.Balance || st.Counter != before.Counter || st.OfflineCount != before.OfflineCount {
		t.Fatalf("a refusal at the deadline changed the purse: %+v", st)
	}
}

// PayeeRefusals: Receive verifies the payment and refuses, changing
// nothing, what is not a fresh payment to itself from a trusted,
// unrevoked payer.
func testPayeeRefusals(t *testing.T, f Factory) {
	p := newPKI("contract")
	a := p.device(t, f, "alice") // the SE under test as payer, then revoked
	p.load(t, a, 5000)
	p.Revoke(now, a.Certificate().ID())
	b := p.device(t, f, "bob") // the SE under test as payee: it knows a is revoked
	c := p.peer(t, "carol")    // a payer it trusts
	p.load(t, c, 5000)

	r := request(t, b, 100)
	revoked, err := a.Pay(r, 0, now)
	if err != nil {
		t.Fatal(err) // a has not heard of its own revocation
	}
	refused(t, se.ErrRevoked, receiveErr(b, revoked, now), b)

	good := pay(t, c, b, 100)
	refused(t, se.ErrAlreadyAccepted, receiveErr(b, good, now), b)

	// A payment to b shown to another SE (its revoked payer a).
	toB, err := c.Pay(request(t, b, 50), 0, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrWrongPayee, receiveErr(a, toB, now), a)

	// Tampered payments: a changed field, a changed signature, another
	// payer's certificate.
	for name, mut := range map[string]func(*protocol.PaymentBundle){
		"amount":      func(x *protocol.PaymentBundle) { x.Payment.Amount++ },
		"counter":     func(x *protocol.PaymentBundle) { x.Payment.Counter += 7 },
		"signature":   func(x *protocol.PaymentBundle) { x.Payment.Sig = flip(x.Payment.Sig, 3) },
		"certificate": func(x *protocol.PaymentBundle) { x.Cert = *a.Certificate() },
	} {
		bad := clone(t, toB)
		mut(bad)
		before := status(t, b)
		if _, err := b.Receive(bad, now); err == nil {
			t.Fatalf("a payment with its %s changed was accepted", name)
		}
		if status(t, b) != before {
			t.Fatalf("a payment with its %s changed moved the payee", name)
		}
	}
	// The genuine one still goes through.
	if _, err := b.Receive(toB, now); err != nil {
		t.Fatal(err)
	}

	// A request's nonce is taken once: another payer's payment of a
	// request paid before is refused.
	nr := request(t, b, 30)
	if _, err := b.Receive(mustPay(t, c, nr), now); err != nil {
		t.Fatal(err)
	}
	e := p.peer(t, "erin")
	p.load(t, e, 500)
	refused(t, se.ErrNonceUsed, receiveErr(b, mustPay(t, e, nr), now), b)

	// An issuer b does not trust: a payer certified by another PKI.
	rogue := newPKI("rogue")
	key := prototest.Ed25519Key("mallory")
	mc := rogue.Device(key, "mallory")
	rr := request(t, b, 100)
	pm := protocol.Payment{Version: protocol.Version, Payer: mc.ID(), Payee: rr.Payee.ID(), Amount: 100, Currency: mc.Currency, Counter: 1, Nonce: rr.Nonce, Time: now, Hops: 1}
	if err := pm.Sign(key); err != nil {
		t.Fatal(err)
	}
	refused(t, protocol.ErrUntrusted, receiveErr(b, &protocol.PaymentBundle{Payment: pm, Cert: *mc}, now), b)

	// Expired request, stale revocation list, holding limit.
	er := request(t, b, 100)
	eb, err := c.Pay(er, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrExpired, receiveErr(b, eb, er.Expiry), b)
	later := now + p.Limits.MaxRevListAge + 1
	sr, err := b.NewRequest(se.RequestParams{Amount: 100, Expiry: later + 60}, now)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := c.Pay(sr, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrStaleRevList, receiveErr(b, sb, later), b)
	p.load(t, b, p.Limits.Holding-status(t, b).Balance-50)
	hb, err := c.Pay(request(t, b, 100), 0, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.LimitErr(se.LimitHolding), receiveErr(b, hb, now), b)

	// A forged receipt, a receipt for no payment of c's.
	fr := request(t, b, 10)
	fb, err := c.Pay(fr, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	// b is at its holding limit less 50: 10 fits.
	rcpt, err := b.Receive(fb, now)
	if err != nil {
		t.Fatal(err)
	}
	bad := *rcpt
	bad.Sig = flip(rcpt.Sig, 5)
	refused(t, protocol.ErrBadSignature, func() error { return c.ConfirmReceipt(&bad, now) }, c)
	other := *rcpt
	other.Payment[0] ^= 1
	refused(t, se.ErrUnknownPayment, func() error { return c.ConfirmReceipt(&other, now) }, c)
}

// Overflow: amounts near the top of uint64 are refused, never wrapped.
func testOverflow(t *testing.T, f Factory) {
	p := newPKI("contract")
	p.Limits.Holding = protocol.MaxAmount
	p.Limits.PerPayment = protocol.MaxAmount
	p.Limits.MaxOfflineValue = protocol.MaxAmount
	a, b := p.device(t, f, "alice"), p.device(t, f, "bob")
	p.load(t, a, protocol.MaxAmount)
	p.load(t, b, 1)
	dev := status(t, a).Device
	refused(t, se.LimitErr(se.LimitHolding), func() error { return a.ApplyLoad(p.Load(dev, 2, protocol.MaxAmount, now)) }, a)
	refused(t, se.LimitErr(se.LimitHolding), func() error { return a.ApplyLoad(p.Load(dev, 2, 1, now)) }, a)
	refused(t, se.LimitErr(se.LimitHolding), func() error { _, err := a.Reserve(1, protocol.Nonce{1}, now); return err }, a)
	// The whole purse to b, who holds 1 already: b's purse would pass
	// the holding limit.
	bundle, err := a.Pay(request(t, b, protocol.MaxAmount), 0, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.LimitErr(se.LimitHolding), receiveErr(b, bundle, now), b)
	// An open request paid with more than any amount can be.
	refused(t, se.ErrBadRequest, payErr(b, request(t, a, 0), 1<<63, now), a, b)
}

// Redeem debits the purse and signs a redeem for the ledger; above the
// balance it is refused.
func testRedeem(t *testing.T, f Factory) {
	p := newPKI("contract")
	a := p.device(t, f, "alice")
	p.load(t, a, 500)
	refused(t, se.ErrInsufficientFunds, func() error { _, err := a.Redeem(501, now); return err }, a)
	r, err := a.Redeem(200, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(a.Certificate()); err != nil || r.Amount != 200 {
		t.Fatalf("redeem: %v", err)
	}
	if st := status(t, a); st.Balance != 300 || st.Counter != r.Counter {
		t.Fatalf("after the redeem: %+v", st)
	}
}

func anchors(p *pkiT) se.Anchors {
	return se.Anchors{Roots: []*protocol.Certificate{p.Root}, Issuers: []*protocol.Certificate{p.Issuer}}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i%len(out)] ^= 1
	return out
}

func clone(t *testing.T, b *protocol.PaymentBundle) *protocol.PaymentBundle {
	t.Helper()
	var out protocol.PaymentBundle
	if err := protocol.Unmarshal(b.Marshal(), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func mustPay(t *testing.T, s se.SE, r *protocol.PaymentRequest) *protocol.PaymentBundle {
	t.Helper()
	b, err := s.Pay(r, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ExpiredPayer: a payer whose certificate has expired is refused by the
// payee, and pays nothing itself.
func testExpiredPayer(t *testing.T, f Factory) {
	p := newPKI("contract")
	p.NotAfter = now + 100
	a := p.device(t, f, "alice")
	p.NotAfter = now + prototest.Year
	b := p.device(t, f, "bob")
	p.load(t, a, 500)
	bundle := mustPay(t, a, request(t, b, 100))
	refused(t, se.ErrExpired, receiveErr(b, bundle, now+150), b)
	refused(t, se.ErrExpired, payErr(a, request(t, b, 50), 0, now+150), a)
}
