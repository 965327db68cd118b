package fedtest

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

// A provider that joins several schemes (README "Currencies") runs one
// ledger per scheme: its own store, its own issuer key certified by that
// scheme's root, its own currency and limits. A wallet holds one purse
// (one SE) per scheme. These tests check that the purses and ledgers of
// two schemes never mix, whatever a payee or a payer sends.

// schemeLedger is one scheme and the ledger "bank" runs in it.
type schemeLedger struct {
	node *scheme.Node
	svc  *ledger.Service
	keys *ledger.Keys
}

// community is the community currency of the tests: not ISO 4217, so
// registered (as every component does at start-up).
const community = "BRISTOL"

func newSchemeLedger(t *testing.T, dir, currency string, clock func() time.Time) *schemeLedger {
	t.Helper()
	node, err := scheme.Init(filepath.Join(dir, "scheme"), currency, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := node.AddProvider("bank", "", filepath.Join(dir, "bank", "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bank", "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := ledger.New(st, keys, ledger.Options{Clock: clock, Policy: wallettest.Policy()})
	reg, err := node.Register().Federation("bank")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetFederation(reg); err != nil {
		t.Fatal(err)
	}
	return &schemeLedger{node: node, svc: svc, keys: keys}
}

// purse enrols a purse (its own SE in dir) at l for account name.
func (l *schemeLedger) purse(t *testing.T, dir, name string, merchant bool, load uint64, clock func() time.Time) *member {
	t.Helper()
	if _, err := l.svc.Account(ctx, name); err != nil {
		if _, err := l.svc.CreateAccount(ctx, name, merchant); err != nil {
			t.Fatal(err)
		}
		if _, err := l.svc.Deposit(ctx, name, 100000, "open:"+name); err != nil {
			t.Fatal(err)
		}
	}
	v, err := vse.Create(dir, setest.PIN, setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	m := &member{dir: dir, name: name}
	if m.w, err = wallet.Open(v, dir, &wallet.Options{Ledger: walletLedger{l.svc}, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	if err := m.w.Enrol(ctx, name); err != nil {
		t.Fatal(err)
	}
	if load > 0 {
		if err := m.w.Reserve(ctx, load); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// purseState is what a refused payment must leave unchanged.
func purseState(t *testing.T, m *member) wallet.Status {
	t.Helper()
	st, err := m.w.Status()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCurrenciesNeverMix(t *testing.T) {
	if err := offpay.RegisterCurrency(offpay.Currency{Code: community, Exponent: 2}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }
	eur := newSchemeLedger(t, filepath.Join(dir, "eur"), "EUR", clock)
	brs := newSchemeLedger(t, filepath.Join(dir, "brs"), community, clock)
	// A second EUR scheme (a stablecoin): same currency, another root.
	coin := newSchemeLedger(t, filepath.Join(dir, "coin"), "EUR", clock)

	aliceEUR := eur.purse(t, filepath.Join(dir, "alice", "eur"), "alice", false, 20000, clock)
	aliceBRS := brs.purse(t, filepath.Join(dir, "alice", "brs"), "alice", false, 20000, clock)
	shopEUR := eur.purse(t, filepath.Join(dir, "shop", "eur"), "shop", true, 0, clock)
	shopBRS := brs.purse(t, filepath.Join(dir, "shop", "brs"), "shop", true, 0, clock)
	shopCoin := coin.purse(t, filepath.Join(dir, "shop", "coin"), "shop", true, 0, clock)

	const untrusted = se.Code(protocol.ClassUntrusted)
	refusedPay := func(t *testing.T, payer *member, req []byte, want se.Code) {
		t.Helper()
		before := purseState(t, payer)
		_, err := payer.w.Pay(req, 0)
		if err == nil {
			t.Fatal("paid")
		}
		if want == untrusted && !errors.Is(err, protocol.ErrUntrusted) || want != "" && want != untrusted && se.CodeOf(err) != want {
			t.Fatalf("got %v (%s), want %s", err, se.CodeOf(err), want)
		}
		if after := purseState(t, payer); after.Available != before.Available || after.SE.Counter != before.SE.Counter {
			t.Fatalf("a refused payment changed the purse: %+v -> %+v", before, after)
		}
	}

	t.Run("EURRequestNotPaidFromCommunityPurse", func(t *testing.T) {
		// The first guard: the EUR payee's certificate does not chain
		// to the community purse's root.
		req, err := shopEUR.w.Request(1000, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		refusedPay(t, aliceBRS, req, untrusted)
		// The EUR purse pays it.
		if _, err := aliceEUR.w.Pay(req, 0); err != nil {
			t.Fatal(err)
		}
		req, err = shopBRS.w.Request(700, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		refusedPay(t, aliceEUR, req, untrusted)
	})

	t.Run("ForgedRequestInAnotherCurrency", func(t *testing.T) {
		// The second guard: a dishonest provider of the EUR scheme (its
		// issuer key) certifies a payee device in the community currency,
		// which signs requests naming either currency.
		c, key := mint(t, eur.keys.Issuer, eur.keys.IssuerKey, "forger")
		c.Currency = community
		if err := c.Sign(eur.keys.IssuerKey); err != nil {
			t.Fatal(err)
		}
		for _, cur := range []string{community, "EUR"} {
			r := protocol.PaymentRequest{Version: protocol.Version, Payee: *c, Amount: 1000, Currency: cur, Expiry: uint64(now.Unix()) + 60}
			r.Nonce[0] = 1
			if err := r.Sign(key); err != nil {
				t.Fatal(err)
			}
			refusedPay(t, aliceEUR, protocol.Seal(&r), se.CodeCurrency)
		}
		// An honest request whose currency is changed on the way: the
		// payee's signature breaks.
		raw, err := shopEUR.w.Request(1000, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var r protocol.PaymentRequest
		if err := protocol.OpenAs(raw, &r); err != nil {
			t.Fatal(err)
		}
		r.Currency = community
		refusedPay(t, aliceBRS, protocol.Seal(&r), "")
	})

	t.Run("OtherSchemeSameCurrency", func(t *testing.T) {
		// The stablecoin's merchant asks EUR, but its certificate chains
		// to a root alice's EUR purse never pinned.
		req, err := shopCoin.w.Request(500, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		refusedPay(t, aliceEUR, req, untrusted)
		// Its issuers cannot be installed in the purse either: they do
		// not chain to the root pinned at enrolment.
		iss, err := coin.node.Register().Issuers()
		if err != nil {
			t.Fatal(err)
		}
		rl, err := eur.svc.RevocationList(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := aliceEUR.w.SE().Install(aliceEUR.w.SE().Certificate(), se.Anchors{Issuers: iss}, rl); err == nil {
			t.Fatal("the purse took another scheme's issuer")
		}
		refusedPay(t, aliceEUR, req, untrusted)
	})

	t.Run("LedgerRefusesMixedUpload", func(t *testing.T) {
		// A device whose key is out of its SE (what ledgertest models)
		// logs a EUR payment and then one in the community currency.
		d := ledgertest.NewDevice("mixed", "EUR")
		d.Time = uint64(now.Unix())
		if _, err := eur.svc.CreateAccount(ctx, "mixer", false); err != nil {
			t.Fatal(err)
		}
		if _, err := eur.svc.Deposit(ctx, "mixer", 10000, "open:mixer"); err != nil {
			t.Fatal(err)
		}
		en, err := eur.svc.Enrol(ctx, d.Enrolment("mixer"))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert = en.Device
		l, err := eur.svc.Reserve(ctx, d.Reserve(5000, 1))
		if err != nil {
			t.Fatal(err)
		}
		d.ApplyLoad(l)
		shop := shopEUR.w.SE().Certificate().ID()
		d.Pay(shop, 100)
		d.Currency = community
		d.Pay(shop, 100)
		before, err := eur.svc.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = eur.svc.Sync(ctx, d.UploadAll())
		if offpay.ErrorCode(err) != offpay.EINVALID {
			t.Fatalf("mixed upload: %v, want EINVALID", err)
		}
		after, err := eur.svc.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Settled != before.Settled || after.Outstanding != before.Outstanding {
			t.Fatalf("a refused upload changed the ledger: settled %d -> %d, outstanding %d -> %d",
				before.Settled, after.Settled, before.Outstanding, after.Outstanding)
		}
		// A payee's receive entry of a community payment credits nothing
		// at the EUR ledger.
		payee := ledgertest.NewDevice("eur-payee", "EUR")
		payee.Time = uint64(now.Unix())
		if _, err := eur.svc.CreateAccount(ctx, "payee", false); err != nil {
			t.Fatal(err)
		}
		en, err = eur.svc.Enrol(ctx, payee.Enrolment("payee"))
		if err != nil {
			t.Fatal(err)
		}
		payee.Cert = en.Device
		payee.Receive(d.Clone().Pay(payee.ID, 100)) // d pays in the community currency
		res, err := eur.svc.Sync(ctx, payee.UploadAll())
		if err != nil {
			t.Fatal(err)
		}
		got, err := eur.svc.Account(ctx, "payee")
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != 0 {
			t.Fatalf("a community payment credited %d at the EUR ledger (%+v)", got.Balance, res)
		}
	})

	t.Run("RolledBackPurseCaught", func(t *testing.T) {
		// alice restores an old copy of her community purse and pays
		// again with the same money: caught at the community ledger; her
		// EUR purse and the EUR ledger are untouched.
		eurBefore, err := eur.svc.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bobBRS := brs.purse(t, filepath.Join(dir, "bob", "brs"), "bob", false, 0, clock)
		snap := snapshot(t, aliceBRS.dir)
		pay(t, aliceBRS, shopBRS, 3000)
		aliceBRS.sync(t)
		restore(t, aliceBRS.dir, snap)
		v, err := vse.Open(aliceBRS.dir, setest.PIN, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		if aliceBRS.w, err = wallet.Open(v, aliceBRS.dir, &wallet.Options{Ledger: walletLedger{brs.svc}, Clock: clock}); err != nil {
			t.Fatal(err)
		}
		pay(t, aliceBRS, bobBRS, 3000)
		shopBRS.sync(t)
		bobBRS.sync(t)
		_ = aliceBRS.w.Sync(ctx) // may be refused: the device is revoked
		rep, err := brs.svc.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := aliceBRS.w.SE().Certificate().ID().String()
		caught := false
		for _, ds := range rep.DoubleSpends {
			caught = caught || ds.Device == id
		}
		if !caught || !rep.ConservationOK {
			t.Fatalf("double spend in the community purse not caught: %+v", rep.DoubleSpends)
		}
		eurAfter, err := eur.svc.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(eurAfter.DoubleSpends) != 0 || len(eurAfter.RevokedDevices) != len(eurBefore.RevokedDevices) {
			t.Fatalf("the EUR ledger saw the community purse's double spend: %+v", eurAfter.DoubleSpends)
		}
		if _, err := aliceEUR.w.Request(100, time.Minute); err != nil {
			t.Fatalf("alice's EUR purse: %v", err)
		}
	})
}
