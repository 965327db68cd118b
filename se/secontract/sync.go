package secontract

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Sync: the upload is the log from a counter on, signed by the device
// key; an issuer-signed result acknowledges it (the offline limits come
// back), applies its loads once and in order, and moves the ledger floor;
// a result that fails a check is refused whole and changes nothing.
func testSync(t *testing.T, f Factory) {
	p := newPKI("contract")
	a, b := p.device(t, f, "alice"), p.peer(t, "bob")
	p.load(t, a, 5000)
	pay(t, a, b, 100)
	pay(t, a, b, 200)
	up, err := a.SyncUpload(1, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Verify(a.Certificate()); err != nil || len(up.Entries) != 5 || up.Entries[0].Counter != 1 {
		t.Fatalf("upload: %v, %d entries", err, len(up.Entries))
	}
	if up2, err := a.SyncUpload(4, now); err != nil || len(up2.Entries) != 2 || up2.Entries[0].Counter != 4 {
		t.Fatalf("upload from 4: %v", err)
	}
	dev := status(t, a).Device
	// Acknowledging the first payment only (load, pay, confirm: 3), with
	// two loads out of order.
	l2, l3 := *p.Load(dev, 2, 100, now), *p.Load(dev, 3, 200, now)
	if err := a.ApplySyncResult(p.result(dev, 3, now+60, l3, l2)); err != nil {
		t.Fatal(err)
	}
	st := status(t, a)
	if st.OfflineCount != 1 || st.OfflineValue != 200 || st.Acked != 3 || st.LastSync != now+60 || st.LedgerFloor != now+60 ||
		st.Balance != 5000-300+300 || st.LoadSeq != 3 || st.Deadline != now+60+p.Limits.MaxOfflineDays*86400 {
		t.Fatalf("after the result: %+v", st)
	}
	es, err := a.Log(st.Counter)
	if err != nil || len(es) != 1 || es[0].Kind != protocol.EntrySync {
		t.Fatalf("the result's sync entry: %v %+v", err, es)
	}
	// The same result again (a retried sync) changes nothing.
	if err := a.ApplySyncResult(p.result(dev, 3, now+60, l2, l3)); err != nil || status(t, a) != st {
		t.Fatalf("the result applied again: %v", err)
	}
	// Results that ack beyond the log, are for another device, are older
	// than the last sync or signed by an untrusted issuer are refused.
	other := status(t, b).Device
	for name, r := range map[string]*protocol.SyncResult{
		"beyond the log": p.result(dev, 99, now+120),
		"another device": p.result(other, 3, now+120),
		"older":          p.result(dev, 3, now),
		"untrusted":      newPKI("rogue").result(dev, 3, now+120),
	} {
		before := status(t, a)
		if err := a.ApplySyncResult(r); err == nil {
			t.Fatalf("a result %s was applied", name)
		}
		if status(t, a) != before {
			t.Fatalf("a refused result (%s) changed the SE", name)
		}
	}
	checkChain(t, a)

	// A revocation list in a result binds: the payee refuses a payer it
	// now knows is revoked.
	c := p.peer(t, "carol")
	p.load(t, c, 500)
	rb, err := c.Pay(request(t, a, 50), 0, now+60)
	if err != nil {
		t.Fatal(err)
	}
	p.Revoke(now+100, status(t, c).Device)
	if err := a.ApplySyncResult(p.result(dev, st.Counter, now+120)); err != nil {
		t.Fatal(err)
	}
	if s := status(t, a); s.RevListNum != p.RevList.Number {
		t.Fatalf("revocation list %d, want %d", s.RevListNum, p.RevList.Number)
	}
	refused(t, se.ErrRevoked, receiveErr(a, rb, now+120), a)
}

// StandingRequest: the payee's standing request (amount 0, zero nonce) is
// paid as often as the payer likes; each payment is taken once.
func testStanding(t *testing.T, f Factory) {
	p := newPKI("contract")
	a, b := p.device(t, f, "alice"), p.device(t, f, "bob")
	p.load(t, a, 5000)
	refused(t, se.ErrBadRequest, func() error { _, err := b.StandingRequest(se.RequestParams{Amount: 5}, now); return err }, b)
	card, err := b.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if card.Nonce != (protocol.Nonce{}) || card.Amount != 0 || card.Expiry != b.Certificate().NotAfter || card.Verify() != nil {
		t.Fatalf("standing request %+v", card)
	}
	if !status(t, b).Standing {
		t.Fatal("status does not show the standing request")
	}
	refused(t, se.ErrBadRequest, payErr(a, card, 0, now), a)
	p1, err := a.Pay(card, 120, now)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := a.Pay(card, 80, now)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Payment.Counter == p2.Payment.Counter {
		t.Fatal("two payments of a standing request share a counter")
	}
	for _, x := range []*protocol.PaymentBundle{p1, p2} {
		rc, err := b.Receive(x, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ConfirmReceipt(rc, now); err != nil {
			t.Fatal(err)
		}
	}
	if st := status(t, b); st.Balance != 200 {
		t.Fatalf("payee balance %d", st.Balance)
	}
	refused(t, se.ErrAlreadyAccepted, receiveErr(b, p1, now), b)
	// Once the ledger floor passes the claim window, the payment is too
	// old to claim.
	if err := b.ApplySyncResult(p.result(status(t, b).Device, 0, now+protocol.ClaimWindow)); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrClaimExpired, receiveErr(b, p2, now), b)
}

// ReceiveOnly: a device whose certificate's per-payment limit is 0
// receives, but neither pays, redeems nor reserves.
func testReceiveOnly(t *testing.T, f Factory) {
	p := newPKI("contract")
	a := p.peer(t, "alice")
	lim := p.Limits
	lim.PerPayment = 0
	d := f(t)
	p.enrolNamed(t, d.SE, "shop", "", lim)
	m := d.SE
	p.load(t, a, 5000)
	card, err := m.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	pay1, err := a.Pay(card, 300, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Receive(pay1, now); err != nil {
		t.Fatal(err)
	}
	if st := status(t, m); st.Balance != 300 || !st.ReceiveOnly {
		t.Fatalf("merchant %+v", st)
	}
	refused(t, se.ErrReceiveOnly, payErr(m, request(t, a, 100), 0, now), m)
	refused(t, se.ErrReceiveOnly, func() error { _, err := m.Redeem(100, now); return err }, m)
	refused(t, se.ErrReceiveOnly, func() error { _, err := m.Reserve(100, protocol.Nonce{1}, now); return err }, m)
	// Even past its offline deadline the refusal changes nothing (no
	// clock floor raised).
	refused(t, se.ErrReceiveOnly, payErr(m, request(t, a, 100), 0, now+30*86400), m)
}

// Refund: a merchant device refunds a sale it received, once (asking
// again gives the same refund), at most the sale; the payer's SE takes
// the refund like a payment.
func testRefund(t *testing.T, f Factory) {
	p := newPKI("contract")
	lim := p.Limits
	lim.PerPayment, lim.MaxHops = 0, 0
	d := f(t)
	p.enrolNamed(t, d.SE, "shop", "Corner Shop", lim)
	till := d.SE
	a := p.device(t, f, "alice")
	p.load(t, a, 5000)
	card, err := till.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	sale, err := a.Pay(card, 1000, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := till.Receive(sale, now); err != nil {
		t.Fatal(err)
	}
	sid := sale.Payment.ID()
	ss, err := till.Sales()
	if err != nil || len(ss) != 1 || ss[0].ID != sid || ss[0].Amount != 1000 || ss[0].Until != now+protocol.RefundWindow || ss[0].Refunded != 0 {
		t.Fatalf("sales: %v %+v", err, ss)
	}
	refused(t, se.ErrUnknownSale, func() error { _, err := till.Refund(protocol.Hash{1}, 0, now); return err }, till)
	refused(t, se.LimitErr(se.LimitRefund), func() error { _, err := till.Refund(sid, 1001, now); return err }, till)
	before := status(t, till)
	r, err := till.Refund(sid, 400, now+60)
	if err != nil {
		t.Fatal(err)
	}
	pm := r.Payment
	if !pm.IsRefund() || pm.Sale != sid || pm.Amount != 400 || pm.Payee != sale.Payment.Payer || pm.Verify(till.Certificate()) != nil {
		t.Fatalf("refund %+v", pm)
	}
	if st := status(t, till); st.Balance != before.Balance {
		t.Fatal("a refund debited the till's purse")
	}
	for _, amount := range []uint64{0, 400} {
		again, err := till.Refund(sid, amount, now+120)
		if err != nil || !bytes.Equal(again.Marshal(), r.Marshal()) {
			t.Fatalf("refund again with %d: %v", amount, err)
		}
	}
	refused(t, se.ErrAlreadyRefunded, func() error { _, err := till.Refund(sid, 300, now); return err }, till)
	ab := status(t, a).Balance
	rc, err := a.Receive(r, now+120)
	if err != nil {
		t.Fatal(err)
	}
	if got := status(t, a).Balance; got != ab+400 {
		t.Fatalf("payer balance after the refund %d, want %d", got, ab+400)
	}
	if err := till.ConfirmReceipt(rc, now+180); err != nil {
		t.Fatal(err)
	}
}
