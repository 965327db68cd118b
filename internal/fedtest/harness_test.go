package fedtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

var ctx = context.Background()

// provider is one provider's ledger on its own SQLite store.
type provider struct {
	name string
	svc  *ledger.Service
	keys *ledger.Keys
}

// fed is a scheme and its providers on one settable clock.
type fed struct {
	t     testing.TB
	dir   string
	node  *scheme.Node
	ps    map[string]*provider
	now   atomic.Int64
	walls map[string]*member
	// schemas are the PostgreSQL schemas of providers on PostgreSQL.
	schemas map[string]string
}

// member is a wallet and where it is enrolled.
type member struct {
	w    *wallet.Wallet
	p    *provider
	dir  string
	name string
}

func newFed(t testing.TB, names ...string) *fed {
	t.Helper()
	f := &fed{t: t, dir: t.TempDir(), ps: map[string]*provider{}, walls: map[string]*member{}}
	f.now.Store(time.Now().Unix())
	var err error
	if f.node, err = scheme.Init(filepath.Join(f.dir, "scheme"), "EUR", nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		keys, err := f.node.AddProvider(n, "", filepath.Join(f.dir, n, "keys"), nil)
		if err != nil {
			t.Fatal(err)
		}
		f.ps[n] = &provider{name: n, keys: keys}
	}
	for _, n := range names {
		f.start(n)
	}
	return f
}

func (f *fed) clock() time.Time { return time.Unix(f.now.Load(), 0) }

// start opens provider n's ledger on its store and gives it the register.
func (f *fed) start(n string) *provider {
	f.t.Helper()
	p := f.ps[n]
	store := f.store(n)
	p.svc = ledger.New(store, p.keys, ledger.Options{Clock: f.clock, Policy: wallettest.Policy()})
	reg, err := f.node.Register().Federation(n)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := p.svc.SetFederation(reg); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// pgProvider is the provider that runs on PostgreSQL when
// OFFPAY_TEST_POSTGRES names a server (the others on SQLite).
const pgProvider = "bankC"

// store opens provider n's store: its own SQLite file, or for pgProvider
// its own PostgreSQL schema (dropped at the end) if a server is given.
func (f *fed) store(n string) ledger.Store {
	f.t.Helper()
	if url := os.Getenv("OFFPAY_TEST_POSTGRES"); url != "" && n == pgProvider {
		if f.schemas == nil {
			f.schemas = map[string]string{}
		}
		schema, ok := f.schemas[n]
		if !ok {
			b := make([]byte, 6)
			rand.Read(b)
			schema = "offpay_fed_" + hex.EncodeToString(b)
			f.schemas[n] = schema
			f.t.Cleanup(func() {
				admin, err := pgx.Connect(ctx, url)
				if err == nil {
					_, err = admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
					admin.Close(ctx)
				}
				if err != nil {
					f.t.Errorf("dropping %s: %v", schema, err)
				}
			})
		}
		st, err := postgres.Open(ctx, url, schema)
		if err != nil {
			f.t.Fatal(err)
		}
		f.t.Cleanup(func() { st.Close() })
		return st
	}
	st, err := sqlite.Open(ctx, filepath.Join(f.dir, n, "ledger.db"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	return st
}

// walletLedger adapts a provider's Service to wallet.Ledger.
type walletLedger struct{ *ledger.Service }

func (l walletLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	e, err := l.Service.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

// Trust makes walletLedger a wallet.TrustSource (online receipts are
// checked against the issuer it names).
func (l walletLedger) Trust(context.Context) (root, issuer *protocol.Certificate, err error) {
	root, issuer = l.Service.Trust()
	return root, issuer, nil
}

// wallet enrols name at provider p (an account with deposit), installs
// every provider's issuer from the register in its SE and reserves load.
func (f *fed) wallet(p, name string, merchant bool, deposit int64, load uint64) *member {
	f.t.Helper()
	pr := f.ps[p]
	if _, err := pr.svc.CreateAccount(ctx, name, merchant); err != nil {
		f.t.Fatal(err)
	}
	if deposit > 0 {
		if _, err := pr.svc.Deposit(ctx, name, deposit, "open:"+name); err != nil {
			f.t.Fatal(err)
		}
	}
	dir := filepath.Join(f.dir, "wallets", name)
	m := &member{p: pr, dir: dir, name: name}
	v, err := vse.Create(dir, setest.PIN, setest.Options(nil))
	if err != nil {
		f.t.Fatal(err)
	}
	if m.w, err = wallet.Open(v, dir, &wallet.Options{Ledger: walletLedger{pr.svc}, Clock: f.clock}); err != nil {
		f.t.Fatal(err)
	}
	if err := m.w.Enrol(ctx, name); err != nil {
		f.t.Fatal(err)
	}
	f.learn(m)
	if load > 0 {
		if err := m.w.Reserve(ctx, load); err != nil {
			f.t.Fatal(err)
		}
	}
	f.walls[name] = m
	return m
}

// learn installs the register's issuers in m's SE: what a wallet needs to
// verify payers of every provider offline, through the root it pinned.
func (f *fed) learn(m *member) {
	f.t.Helper()
	iss, err := f.node.Register().Issuers()
	if err != nil {
		f.t.Fatal(err)
	}
	rl, err := m.p.svc.RevocationList(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := m.w.SE().Install(m.w.SE().Certificate(), se.Anchors{Issuers: iss}, rl); err != nil {
		f.t.Fatal(err)
	}
}

// reopen opens m's SE and wallet from disk again.
func (f *fed) reopen(m *member) {
	f.t.Helper()
	v, err := vse.Open(m.dir, setest.PIN, setest.Options(nil))
	if err != nil {
		f.t.Fatal(err)
	}
	if m.w, err = wallet.Open(v, m.dir, &wallet.Options{Ledger: walletLedger{m.p.svc}, Clock: f.clock}); err != nil {
		f.t.Fatal(err)
	}
}

// pay runs an offline payment: request, pay, accept, confirm.
func pay(t *testing.T, from, to *member, amount uint64) {
	t.Helper()
	req, err := to.w.Request(amount, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := from.w.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := to.w.Accept(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := from.w.Confirm(rc); err != nil {
		t.Fatal(err)
	}
}

func (m *member) sync(t *testing.T) {
	t.Helper()
	if err := m.w.Sync(ctx); err != nil {
		t.Fatalf("%s sync: %v", m.name, err)
	}
}

// deliver hands every provider's pending evidence to its payer's
// provider in process, as a transport would, and marks it sent; it
// returns how many it delivered.
func (f *fed) deliver() int {
	f.t.Helper()
	n := 0
	for _, p := range f.ps {
		rows, err := p.svc.PendingForwards(ctx, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		var ids []protocol.Hash
		for _, r := range rows {
			if _, err := f.ps[r.Provider].svc.SettleForwarded(ctx, r.Data); err != nil {
				f.t.Fatalf("%s settling evidence from %s: %v", r.Provider, p.name, err)
			}
			ids = append(ids, r.ID)
			n++
		}
		if err := p.svc.MarkForwarded(ctx, ids); err != nil {
			f.t.Fatal(err)
		}
	}
	return n
}

// statements are every provider's clearing statement.
func (f *fed) statements() []scheme.Statement {
	f.t.Helper()
	var out []scheme.Statement
	for n, p := range f.ps {
		ob, err := p.svc.Obligations(ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		r, err := p.svc.Report(ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, scheme.Statement{Provider: n, Obligations: ob, Report: r})
	}
	return out
}

func (f *fed) report(p string) *ledger.Report {
	f.t.Helper()
	r, err := f.ps[p].svc.Report(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fed) balance(p, account string) int64 {
	f.t.Helper()
	a, err := f.ps[p].svc.Account(ctx, account)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Balance
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func restore(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
