package storetest

import (
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// Federation (ledger/federation.go, forward.go): this ledger is provider
// "here"; "there" is another provider whose issuer the same root signed.

func otherIssuer() (*protocol.Certificate, protocol.Signer) {
	p := scenarioPKI()
	key := prototest.Ed25519Key("storetest/there/issuer")
	c := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleIssuer, Serial: 99, Issuer: p.Root.ID(), KeyAlg: key.Alg(),
		Key: key.PublicKey(), NotBefore: p.NotBefore, NotAfter: p.NotAfter}
	if err := c.Sign(p.RootKey); err != nil {
		panic(err)
	}
	return c, key
}

// foreignMerchant is a merchant's device of "there" (its certificate
// names the merchant).
func foreignMerchant(label string) *ledgertest.Device {
	d := foreignDevice(label)
	_, key := otherIssuer()
	d.Cert.Name, d.Cert.Sig = "There Shop", nil
	if err := d.Cert.Sign(key); err != nil {
		panic(err)
	}
	return d
}

// foreignDevice is a device of "there".
func foreignDevice(label string) *ledgertest.Device {
	p := scenarioPKI()
	iss, key := otherIssuer()
	d := ledgertest.NewDevice(label, "EUR")
	d.Cert = &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleDevice, Serial: 1, Issuer: iss.ID(), KeyAlg: d.Key.Alg(),
		Key: d.Key.PublicKey(), NotBefore: p.NotBefore, NotAfter: p.NotAfter, Account: label, Class: protocol.SEVirtual, Currency: "EUR", Limits: p.Limits}
	if err := d.Cert.Sign(key); err != nil {
		panic(err)
	}
	return d
}

func (e *Env) federate() {
	e.T.Helper()
	iss, _ := otherIssuer()
	err := e.Svc.SetFederation(ledger.Federation{Self: "here", Providers: []ledger.Provider{
		{Name: "here", Issuers: []*protocol.Certificate{scenarioPKI().Issuer}}, {Name: "there", Issuers: []*protocol.Certificate{iss}}}})
	if err != nil {
		e.T.Fatal(err)
	}
}

func (e *Env) obligations() []ledger.Obligation {
	e.T.Helper()
	o, err := e.Svc.Obligations(e.Ctx)
	if err != nil {
		e.T.Fatal(err)
	}
	return o
}

// testFederation: a payment from another provider's payer, uploaded by
// a local payee, is credited, owed by that provider and queued for it,
// once; a local payer's payment forwarded by the other provider is settled
// once and owed to it; the report counts both as clearing and balances.
func testFederation(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.federate()
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	alice, bob := e.Device("f-alice", "alice"), e.Device("f-bob", "bob")
	e.Load(alice, 500)
	x, y := foreignDevice("f-x"), foreignDevice("f-y")

	px := x.Pay(bob.ID, 40)
	bob.Receive(px)
	if r := e.SyncAll(bob); statusOf(r, px.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("bob's result: %+v", r)
	}
	// A payer of "there" colluding with bob: a payment above its
	// certificate's per-payment limit (no honest SE signs it; its key was
	// taken out) is credited to no one and forwarded nowhere.
	big := x.Pay(bob.ID, scenarioPKI().Limits.PerPayment+1)
	bob.Receive(big)
	if r := e.SyncAll(bob); statusOf(r, big.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("bob's result for a payment beyond its payer's limit: %+v", r)
	}
	rows, err := e.Svc.PendingForwards(e.Ctx, 10)
	if err != nil || len(rows) != 1 || rows[0].Provider != "there" || rows[0].ID != px.Payment.ID() {
		t.Fatalf("forwards %+v %v", rows, err)
	}
	if _, err := e.Svc.SettleForwarded(e.Ctx, rows[0].Data); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("evidence of a foreign payer settled here: %v", err) // it is "there"'s to settle
	}

	pa := alice.Pay(y.ID, 25)
	y.Receive(pa)
	fw := protocol.Forward{Version: protocol.Version, Payee: *y.Cert, Entry: y.Log[len(y.Log)-1]}
	for i, dup := range []bool{false, true} {
		res, err := e.Svc.SettleForwarded(e.Ctx, fw.Marshal())
		if err != nil || res.Duplicate != dup || res.Status != protocol.StatusSettled || res.Payment != pa.Payment.ID() {
			t.Fatalf("delivery %d: %+v %v", i, res, err)
		}
	}
	if r := e.SyncAll(alice); statusOf(r, pa.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("alice's result: %+v", r)
	}
	// The mirrored devices sign nothing here.
	if _, err := e.Svc.Sync(e.Ctx, y.UploadAll()); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("a mirror synced: %v", err)
	}
	if got := e.obligations(); len(got) != 1 || got[0] != (ledger.Obligation{Provider: "there", Owe: 25, Due: 40}) {
		t.Fatalf("obligations %+v", got)
	}
	if r := e.Conserved(); r.Clearing != 25-40 {
		t.Fatalf("clearing %d", r.Clearing)
	}
	if err := e.Svc.MarkForwarded(e.Ctx, []protocol.Hash{rows[0].ID}); err != nil {
		t.Fatal(err)
	}
	if rows, err := e.Svc.PendingForwards(e.Ctx, 10); err != nil || len(rows) != 0 {
		t.Fatalf("after marking: %+v %v", rows, err)
	}
}

// testForwards: the store keeps one row per payment ID (the first),
// lists unsent rows oldest first within a limit, and marks rows sent
// once; a rolled back transaction leaves none.
func testForwards(t *testing.T, open Opener) {
	st := open(t)
	ctx := t.Context()
	row := func(b byte, at int64, data string) ledger.ForwardRow {
		return ledger.ForwardRow{ID: protocol.Hash{b}, Provider: "p", Data: []byte(data), CreatedAt: at}
	}
	err := st.Update(ctx, func(tx ledger.Tx) error {
		return tx.InsertForwards(ctx, []ledger.ForwardRow{row(1, 30, "one"), row(2, 10, "two"), row(3, 20, "three")})
	})
	if err == nil {
		err = st.Update(ctx, func(tx ledger.Tx) error { return tx.InsertForwards(ctx, []ledger.ForwardRow{row(1, 5, "again")}) })
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Update(ctx, func(tx ledger.Tx) error {
		if err := tx.InsertForwards(ctx, []ledger.ForwardRow{row(4, 1, "rolled back")}); err != nil {
			return err
		}
		return offpay.Errorf(offpay.EINVALID, "roll back")
	})
	list := func(limit int) (out []string) {
		t.Helper()
		if err := st.View(ctx, func(tx ledger.Tx) error {
			rows, err := tx.Forwards(ctx, limit)
			for _, r := range rows {
				out = append(out, string(r.Data))
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(10); len(got) != 3 || got[0] != "two" || got[1] != "three" || got[2] != "one" {
		t.Fatalf("unsent %q", got)
	}
	if got := list(2); len(got) != 2 {
		t.Fatalf("limit 2: %q", got)
	}
	for i := 0; i < 2; i++ {
		if err := st.Update(ctx, func(tx ledger.Tx) error { return tx.MarkForwarded(ctx, []protocol.Hash{{2}, {3}, {9}}, 50) }); err != nil {
			t.Fatal(err)
		}
	}
	if got := list(10); len(got) != 1 || got[0] != "one" {
		t.Fatalf("after marking %q", got)
	}
}

// testFederationRefunds: refunds across providers. A local shop refunds
// a customer of "there": the customer's provider forwards the refund and
// the shop's account funds it here, as for a local customer. A merchant
// of "there" refunds a local customer: credited here (the mirror is a
// merchant's device by its certificate), forwarded, and the refund rules
// (its sale, its account) left to the merchant's provider.
func testFederationRefunds(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.federate()
	e.Account("shop", true, 0)
	e.Account("alice", false, 0)
	shop, alice := e.Device("fr-shop", "shop"), e.Device("fr-alice", "alice")
	y, mz := foreignDevice("fr-y"), foreignMerchant("fr-mz")

	sale := y.Pay(shop.ID, 30)
	shop.Receive(sale)
	e.SyncAll(shop)
	refund := shop.Refund(sale, 10)
	y.Receive(refund)
	fw := protocol.Forward{Version: protocol.Version, Payee: *y.Cert, Entry: y.Log[len(y.Log)-1]}
	res, err := e.Svc.SettleForwarded(e.Ctx, fw.Marshal())
	if err != nil || res.Status != protocol.StatusSettled {
		t.Fatalf("the refund forwarded: %+v %v", res, err)
	}
	if got := e.Balance("shop"); got != 20 {
		t.Fatalf("shop's account %d, want 20 (30 swept, 10 refunded)", got)
	}
	e.SyncAll(shop)

	r := mz.RefundOf(alice.ID, protocol.Hash{1, 2, 3}, 5) // a sale of "there"'s books
	alice.Receive(r)
	if res := e.SyncAll(alice); statusOf(res, r.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("alice's result for a foreign merchant's refund: %+v", res)
	}
	if got := e.obligations(); len(got) != 1 || got[0] != (ledger.Obligation{Provider: "there", Owe: 10, Due: 35}) {
		t.Fatalf("obligations %+v", got)
	}
	rows, err := e.Svc.PendingForwards(e.Ctx, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("forwards %d %v", len(rows), err)
	}
	if rep := e.Conserved(); rep.Clearing != 10-35 || len(rep.DoubleSpends) != 0 || len(rep.RevokedDevices) != 0 {
		t.Fatalf("report: clearing %d, proofs %d, revoked %v", rep.Clearing, len(rep.DoubleSpends), rep.RevokedDevices)
	}
}
