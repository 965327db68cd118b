package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
	"github.com/offpay/offpay/scheme/schemehttp"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/wallet"
)

// The demo's second provider (README "Federation"): the demo's ledger is
// provider bankA of a scheme whose root is in D/scheme; at the end a
// second provider, bankB, joins on its own SQLite database and HTTP API,
// a customer of bankA pays a merchant of bankB offline, both settle, the
// evidence goes from bankB to bankA, and the scheme clears.

// demoFed is the scheme's side of the demo.
type demoFed struct {
	node  *scheme.Node
	token string
	url   string // the scheme's HTTP API, on loopback
	srv   *http.Server
	hostB *hostedLedger
	admB  *ledgerclient.Client
}

const (
	demoStallName = "Market Stall"
	demoStallPay  = 800
)

// initSchemeLedger makes the scheme's root in D/scheme and admits the
// demo's ledger (D/ledger) as provider bankA: its issuer key certified by
// the scheme's root instead of a root of its own.
func (d *demo) initSchemeLedger() error {
	n, err := scheme.Init(filepath.Join(d.dir, "scheme"), "EUR", nil)
	if err != nil {
		return err
	}
	d.fed = &demoFed{node: n}
	_, err = initLedgerDataWith(filepath.Join(d.dir, "ledger"), func(keysDir string) error {
		_, err := n.AddProvider("bankA", "", keysDir, nil)
		return err
	})
	return err
}

// closeFed stops what federation started.
func (d *demo) closeFed() {
	if f := d.fed; f != nil {
		if f.srv != nil {
			f.srv.Close()
		}
		if f.hostB != nil {
			f.hostB.Close()
		}
	}
}

// startSchemeAndB serves the scheme's API and bankB's ledger on loopback.
func (d *demo) startSchemeAndB() error {
	f := d.fed
	tok := make([]byte, 16)
	rand.Read(tok)
	f.token = hex.EncodeToString(tok)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	f.srv = &http.Server{Handler: schemehttp.New(f.node, f.token).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	f.url = "http://" + ln.Addr().String()
	dataB := filepath.Join(d.dir, "bankB")
	if _, err := initLedgerDataWith(dataB, func(keysDir string) error {
		_, err := f.node.AddProvider("bankB", "", keysDir, nil)
		return err
	}); err != nil {
		return err
	}
	if f.hostB, err = startLedger(d.ctx, hostOptions{dataDir: dataB, listen: "127.0.0.1:0",
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: d.now, deviceRate: server.RateLimit{PerSecond: 1000, Burst: 1000}}); err != nil {
		return err
	}
	if f.admB, err = ledgerclient.New(f.hostB.url, ledgerclient.Options{AdminToken: f.hostB.token}); err != nil {
		return err
	}
	// What ledger serve --scheme does at start: install the register.
	for name, svc := range map[string]*ledger.Service{"bankA": d.host.svc, "bankB": f.hostB.svc} {
		reg, err := f.node.Register().Federation(name)
		if err != nil {
			return err
		}
		if err := svc.SetFederation(reg); err != nil {
			return err
		}
	}
	d.detail("scheme API on %s; bankB's ledger on %s", f.url, f.hostB.url)
	return nil
}

// learnScheme installs the register's issuers in w's SE (wallet scheme):
// it takes them only because they chain to the root it pinned.
func (d *demo) learnScheme(w *wallet.Wallet, svc *ledger.Service) error {
	reg, err := schemehttp.NewClient(d.fed.url).Register(d.ctx)
	if err != nil {
		return err
	}
	iss, err := reg.Issuers()
	if err != nil {
		return err
	}
	rl, err := svc.RevocationList(d.ctx)
	if err != nil {
		return err
	}
	return w.SE().Install(w.SE().Certificate(), se.Anchors{Issuers: iss}, rl)
}

func (d *demo) federation() error {
	d.say("A second payment provider, bankB, joins the scheme: the scheme's root (in %s) certifies its issuer key; it runs its own ledger, SQLite database and HTTP API. A market stall opens a merchant account there.",
		filepath.Join(d.dir, "scheme"))
	if err := d.startSchemeAndB(); err != nil {
		return err
	}
	f := d.fed
	if _, err := f.admB.CreateMerchant(d.ctx, "stall", demoStallName); err != nil {
		return err
	}
	if err := d.newWalletAt("stall", f.admB); err != nil {
		return err
	}
	alice, stall := d.wallets["alice"], d.wallets["stall"]

	d.say("Offline, Alice (a customer of bankA) pays the stall (bankB) %s.", fmtMinor(demoStallPay, "EUR"))
	req, err := stall.Request(demoStallPay, 5*time.Minute)
	if err != nil {
		return err
	}
	_, err = alice.Pay(req, 0)
	d.check(errors.Is(err, protocol.ErrUntrusted), "before it knows bankB's issuer, Alice's phone refuses the stall ("+errText(err)+")")
	if err := d.learnScheme(alice, d.host.svc); err != nil {
		return err
	}
	if err := d.learnScheme(stall, f.hostB.svc); err != nil {
		return err
	}
	d.detail("both phones learn the scheme's register: every provider's issuer, verified through the root they pinned at enrolment")
	bundle, err := alice.PayTo(req, 0, d.shows("Alice", demoStallName))
	if err != nil {
		return err
	}
	receipt, err := stall.Accept(bundle)
	if err != nil {
		return err
	}
	if err := alice.Confirm(receipt); err != nil {
		return err
	}

	d.say("Online again: the stall syncs with bankB, which credits it and queues the evidence for bankA; the evidence crosses (here by a call; ledger serve --nats sends it over NATS JetStream) and bankA settles Alice's side.")
	if err := stall.Sync(d.ctx); err != nil {
		return err
	}
	rows, err := f.hostB.svc.PendingForwards(d.ctx, 100)
	if err != nil {
		return err
	}
	var ids []protocol.Hash
	for _, r := range rows {
		res, err := d.host.svc.SettleForwarded(d.ctx, r.Data)
		if err != nil {
			return err
		}
		status := "settled"
		if res.Status != protocol.StatusSettled {
			status = fmt.Sprintf("status %d", res.Status)
		}
		d.detail("evidence of %d bytes (the stall's signed entry and certificate) to %s: %s", len(r.Data), r.Provider, status)
		ids = append(ids, r.ID)
	}
	if err := f.hostB.svc.MarkForwarded(d.ctx, ids); err != nil {
		return err
	}
	if err := alice.Sync(d.ctx); err != nil {
		return err
	}
	acct, err := f.admB.Account(d.ctx, "stall")
	d.check(err == nil && acct.Balance == demoStallPay, fmt.Sprintf("the stall's account at bankB is credited %s", fmtMinor(demoStallPay, "EUR")))
	settled := false
	for _, r := range alice.History() {
		settled = settled || r.Kind == wallet.KindPay && r.Amount == demoStallPay && r.State == wallet.Settled
	}
	d.check(len(rows) == 1 && settled, "bankA settled Alice's side from bankB's evidence, once")

	d.say("Clearing: each provider sends the scheme its statement, signed with its issuer key; the scheme runs a cycle.")
	cl := schemehttp.NewClient(f.url)
	for name, svc := range map[string]*ledger.Service{"bankA": d.host.svc, "bankB": f.hostB.svc} {
		if err := pushStatement(d.ctx, cl, svc, name); err != nil {
			return err
		}
	}
	c, err := cl.Clear(d.ctx, f.token)
	if err != nil {
		return err
	}
	var sum, owed int64
	for _, t := range c.Transfers {
		d.detail("transfer  %s pays %s %s", t.From, t.To, fmtMinor(t.Amount, c.Currency))
		if t.From == "bankA" && t.To == "bankB" {
			owed += t.Amount
		}
	}
	for _, p := range c.Positions {
		sign := "+"
		if p.Net < 0 {
			sign = ""
		}
		d.detail("position  %-6s %s%s", p.Provider, sign, fmtMinor(p.Net, c.Currency))
		sum += p.Net
	}
	d.check(owed == demoStallPay && len(c.Mismatches) == 0, fmt.Sprintf("cycle %d: bankA owes bankB %s, both sides agree", c.Number, fmtMinor(demoStallPay, "EUR")))
	d.check(sum == 0, "the net positions sum to zero")
	d.check(c.Federation.Holds && c.Federation.Providers["bankA"] && c.Federation.Providers["bankB"],
		fmt.Sprintf("federation-wide: issued + losses + unassessed = balances + outstanding + clearing (%s): HOLDS", fmtMinor(c.Federation.Issued, c.Currency)))
	return nil
}

// newWalletAt is newWallet at another provider's ledger.
func (d *demo) newWalletAt(name string, admin *ledgerclient.Client) error {
	prev := d.admin
	d.admin = admin
	defer func() { d.admin = prev }()
	return d.newWallet(name)
}
