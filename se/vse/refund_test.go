package vse_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// refundFixture: alice (a person's SE, loaded) and a shop's receive-only
// till (a merchant's SE: certified name, per-payment 0). Alice has paid
// the till 1000 on its standing card.
type refundFixture struct {
	*fixture
	till *vse.VSE
	sale *protocol.PaymentBundle
}

func newRefundFixture(t *testing.T) *refundFixture {
	t.Helper()
	f := newFixture(t, nil)
	lim := f.pki.Limits
	lim.PerPayment, lim.MaxHops = 0, 0
	till := setest.NewMerchant(t, f.pki, t.TempDir(), "shop", "Corner Shop", 20, lim, nil)
	f.load(t, f.a, 5000)
	card, err := till.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	sale, err := f.a.Pay(card, 1000, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := till.Receive(sale, now); err != nil {
		t.Fatal(err)
	}
	return &refundFixture{fixture: f, till: till, sale: sale}
}

func sales(t *testing.T, v *vse.VSE) []se.Sale {
	t.Helper()
	ss, err := v.Sales()
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestRefund: the till refunds part of a sale to its payer, from no
// purse (the ledger takes it from the merchant account); alice's SE
// accepts it like a payment and the till records her receipt.
func TestRefund(t *testing.T) {
	t.Parallel()
	f := newRefundFixture(t)
	sid := f.sale.Payment.ID()
	if ss := sales(t, f.till); len(ss) != 1 || ss[0].ID != sid || ss[0].Payer != f.a.ID() || ss[0].Amount != 1000 ||
		ss[0].Until != now+protocol.RefundWindow || ss[0].Refunded != 0 {
		t.Fatalf("sales %+v", ss)
	}
	tillBefore := status(t, f.till)
	r, err := f.till.Refund(sid, 400, now+60)
	if err != nil {
		t.Fatal(err)
	}
	p := r.Payment
	if !p.IsRefund() || p.Sale != sid || p.Payer != f.till.ID() || p.Payee != f.a.ID() || p.Amount != 400 || p.Hops != 1 ||
		p.Counter != tillBefore.Counter+1 || p.Verify(f.till.Certificate()) != nil || r.Cert.Name != "Corner Shop" {
		t.Fatalf("refund %+v", p)
	}
	st := status(t, f.till)
	if st.Balance != tillBefore.Balance || st.PendingCount != 0 || st.PendingValue != 0 || st.OfflineCount != 1 || st.OfflineValue != 400 {
		t.Fatalf("till after refunding: %+v", st)
	}
	if ss := sales(t, f.till); ss[0].Refunded != 400 || ss[0].RefundID != p.ID() {
		t.Fatalf("sales %+v", ss)
	}
	// Over the wire and back, as a QR code would carry it.
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(protocol.Seal(r), &b); err != nil {
		t.Fatal(err)
	}
	before := status(t, f.a)
	rc, err := f.a.Receive(&b, now+120)
	if err != nil {
		t.Fatal(err)
	}
	after := status(t, f.a)
	if after.Balance != before.Balance+400 || after.Counter != before.Counter+1 || rc.Payment != p.ID() || rc.Payee != f.a.ID() {
		t.Fatalf("alice after the refund: %+v, receipt %+v", after, rc)
	}
	// Received offline with hops 1: alice may pay it on (max_hops 3).
	if after.AfterSync != 0 {
		t.Fatalf("refund value not spendable: %+v", after)
	}
	if err := f.till.ConfirmReceipt(rc, now+180); err != nil {
		t.Fatal(err)
	}
	if ps, _ := f.till.Pending(); len(ps) != 0 {
		t.Fatalf("refund still pending after its receipt: %+v", ps)
	}
	// The refund went into alice's log as a receive entry.
	es, err := f.a.Log(after.Counter)
	if err != nil || len(es) != 1 || es[0].Kind != protocol.EntryReceive {
		t.Fatalf("alice's log: %v %+v", err, es)
	}
}

// TestRefundRefusals: what the till refuses, changing nothing.
func TestRefundRefusals(t *testing.T) {
	t.Parallel()
	f := newRefundFixture(t)
	sid := f.sale.Payment.ID()
	refused(t, se.ErrUnknownSale, func() error { _, err := f.till.Refund(protocol.Hash{1}, 0, now); return err }, f.till)
	refused(t, se.LimitErr(se.LimitRefund), func() error { _, err := f.till.Refund(sid, 1001, now); return err }, f.till)
	// A person's SE does not refund (alice paid bob: bob pays back).
	b := pay(t, f.a, f.b, 100)
	refused(t, se.ErrBadRequest, func() error { _, err := f.b.Refund(b.Payment.ID(), 0, now); return err }, f.b)
	// Past its offline deadline, nothing is signed (the SE's clock floor
	// keeps the time it saw, as when paying).
	before := status(t, f.till)
	if _, err := f.till.Refund(sid, 0, now+30*day); !errors.Is(err, se.ErrOfflineTooLong) {
		t.Fatalf("past the deadline: %v", err)
	}
	if after := status(t, f.till); after.Counter != before.Counter || after.Head != before.Head || after.OfflineCount != 0 {
		t.Fatalf("a refusal signed something: %+v", after)
	}
	if ss := sales(t, f.till); ss[0].Refunded != 0 {
		t.Fatalf("a refused refund marked the sale: %+v", ss)
	}
	// Once the till has applied a ledger time at the sale's time + the
	// refund window, the sale is forgotten: too old to refund offline.
	if err := f.till.ApplySyncResult(syncResult(f.pki, f.till.ID(), 0, now+protocol.RefundWindow)); err != nil {
		t.Fatal(err)
	}
	if ss := sales(t, f.till); len(ss) != 0 {
		t.Fatalf("sales kept past the window: %+v", ss)
	}
	refused(t, se.ErrUnknownSale, func() error { _, err := f.till.Refund(sid, 0, now+protocol.RefundWindow); return err }, f.till)
}

// TestRefundOfflineLimits: refunds count against the till's offline count
// and value since its last sync, like payments.
func TestRefundOfflineLimits(t *testing.T) {
	t.Parallel()
	f := newRefundFixture(t)
	lim := f.pki.Limits
	lim.PerPayment, lim.MaxOfflineValue = 0, 500
	till := setest.NewMerchant(t, f.pki, t.TempDir(), "shop", "Corner Shop", 21, lim, nil)
	card, err := till.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	sale, err := f.a.Pay(card, 800, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := till.Receive(sale, now); err != nil {
		t.Fatal(err)
	}
	refused(t, se.LimitErr(se.LimitOfflineValue), func() error { _, err := till.Refund(sale.Payment.ID(), 0, now); return err }, till)
	if _, err := till.Refund(sale.Payment.ID(), 500, now); err != nil {
		t.Fatal(err)
	}
}

// forgedTill is a merchant device whose key the test holds, as an owner
// who took the key out of the SE would: it signs any refund.
type forgedTill struct {
	key  protocol.Signer
	cert *protocol.Certificate
}

func newForgedTill(p *prototest.PKI, label string) *forgedTill {
	lim := p.Limits
	lim.PerPayment = 0
	saved := p.Limits
	p.Limits = lim
	defer func() { p.Limits = saved }()
	k := prototest.Ed25519Key(label)
	return &forgedTill{key: k, cert: p.Merchant(k, "shop", "Corner Shop")}
}

func (m *forgedTill) card(t *testing.T) *protocol.PaymentRequest {
	t.Helper()
	r := &protocol.PaymentRequest{Version: protocol.Version, Payee: *m.cert, Currency: m.cert.Currency, Expiry: m.cert.NotAfter}
	if err := r.Sign(m.key); err != nil {
		t.Fatal(err)
	}
	return r
}

func (m *forgedTill) refund(t *testing.T, to protocol.KeyID, sale protocol.Hash, amount, counter uint64) *protocol.PaymentBundle {
	t.Helper()
	p := protocol.Payment{Version: protocol.Version, Payer: m.cert.ID(), Payee: to, Amount: amount, Currency: m.cert.Currency,
		Counter: counter, Sale: sale, Time: now + 60, Hops: 1}
	if err := p.Sign(m.key); err != nil {
		t.Fatal(err)
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *m.cert}
}

// TestRefundReceiveRefusals: what the payer's SE refuses of refunds a
// till with a stolen key signs, changing nothing: a refund of a sale it
// did not make, of a sale to another device, above the sale, a second
// refund of one sale, the same refund twice.
func TestRefundReceiveRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	m, other := newForgedTill(f.pki, "till-1"), newForgedTill(f.pki, "till-2")
	sale, err := f.a.Pay(m.card(t), 1000, now)
	if err != nil {
		t.Fatal(err)
	}
	sid := sale.Payment.ID()
	b := pay(t, f.a, f.b, 100) // a payment to a person: never refunded
	for _, c := range []struct {
		name string
		r    *protocol.PaymentBundle
		want error
	}{
		{"a sale alice did not make", m.refund(t, f.a.ID(), protocol.Hash{7}, 100, 2), se.ErrUnknownSale},
		{"a payment to a person", m.refund(t, f.a.ID(), b.Payment.ID(), 100, 3), se.ErrUnknownSale},
		{"from another till than the one paid", other.refund(t, f.a.ID(), sid, 100, 2), se.ErrUnknownSale},
		{"above the sale", m.refund(t, f.a.ID(), sid, 1001, 4), se.LimitErr(se.LimitRefund)},
		{"to another device", m.refund(t, f.b.ID(), sid, 100, 5), se.ErrWrongPayee},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, c.want, func() error { _, err := f.a.Receive(c.r, now+60); return err }, f.a)
		})
	}
	first := m.refund(t, f.a.ID(), sid, 1000, 6)
	if _, err := f.a.Receive(first, now+60); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrAlreadyAccepted, func() error { _, err := f.a.Receive(first, now+60); return err }, f.a)
	refused(t, se.ErrAlreadyRefunded, func() error { _, err := f.a.Receive(m.refund(t, f.a.ID(), sid, 1, 7), now+60); return err }, f.a)
	// A refund from a person's device does not even decode.
	bad := m.refund(t, f.a.ID(), sid, 1, 8)
	bad.Cert = *f.b.Certificate()
	if err := protocol.OpenAs(protocol.Seal(bad), new(protocol.PaymentBundle)); protocol.ClassOf(err) != protocol.ClassBadField {
		t.Fatalf("a refund under a person's certificate: %v", err)
	}
	st := status(t, f.a)
	if _, err := f.a.Receive(bad, now+60); protocol.ClassOf(err) != protocol.ClassBadField || status(t, f.a) != st {
		t.Fatalf("alice took a refund under a person's certificate: %v", err)
	}
}

// TestRefundMemoryIsBounded: alice forgets her purchases, and the till its
// sales, once their ledger floor passes the refund window; a refund that
// arrives later is refused as of an unknown sale.
func TestRefundMemoryIsBounded(t *testing.T) {
	t.Parallel()
	f := newRefundFixture(t)
	// The refund is an hour younger than the sale: its own claim window
	// is still open when the sale's refund window closes.
	r, err := f.till.Refund(f.sale.Payment.ID(), 0, now+3600)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now+protocol.RefundWindow-1)); err != nil {
		t.Fatal(err)
	}
	saved := snapshot(t, f.dirA)
	if _, err := f.a.Receive(r, now+protocol.RefundWindow-1); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	restore(t, f.dirA, saved)
	f.a = setest.Open(t, f.dirA, nil)
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now+protocol.RefundWindow)); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrUnknownSale, func() error { _, err := f.a.Receive(r, now+protocol.RefundWindow); return err }, f.a)
}
