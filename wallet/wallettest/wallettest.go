// Package wallettest runs wallets against the real ledger: a ledger.Service
// on SQLite in a test's temporary folder, on a clock the test sets. Wallet
// tests so follow the ledger's own rules (claims and expiry, sweeps, holds
// and assessment deadlines, receipts as evidence, hop limits, recovery)
// instead of a copy of them that drifts.
package wallettest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/wallet"
)

// Policy is the ledger policy of New: prototest's generous fixture limits
// for people, the default merchant limits (receive-only).
func Policy() ledger.Policy {
	p := ledger.DefaultPolicy
	p.Person = prototest.DefaultLimits
	return p
}

// Ledger is a real ledger for wallet tests. It implements wallet.Ledger
// and wallet.Acknowledger; the Service's other methods (Report, Assess,
// Revoke, SetPolicy, ...) are there for the test to call.
type Ledger struct {
	*ledger.Service
	t testing.TB
}

var (
	_ wallet.Ledger       = (*Ledger)(nil)
	_ wallet.Acknowledger = (*Ledger)(nil)
	_ wallet.OnlineLedger = (*Ledger)(nil)
	_ wallet.TrustSource  = (*Ledger)(nil)
)

// New starts a ledger (currency EUR, policy Policy) in a temporary folder
// of t, on clock; t's cleanup closes it.
func New(t testing.TB, clock func() time.Time) *Ledger {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Ledger{Service: ledger.New(store, keys, ledger.Options{Clock: clock, Policy: Policy()}), t: t}
}

// Enrol implements wallet.Ledger.
func (l *Ledger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	e, err := l.Service.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

// Acknowledge implements wallet.Acknowledger.
func (l *Ledger) Acknowledge(ctx context.Context, res *protocol.SyncResult) (bool, error) {
	return l.Service.Acknowledged(ctx, res)
}

// Trust implements wallet.TrustSource (the Service's own Trust takes no
// context).
func (l *Ledger) Trust(context.Context) (root, issuer *protocol.Certificate, err error) {
	root, issuer = l.Service.Trust()
	return root, issuer, nil
}

// Open creates account name (a merchant's if merchant) with deposit in it.
func (l *Ledger) Open(name string, merchant bool, deposit int64) {
	l.t.Helper()
	ctx := context.Background()
	if _, err := l.CreateAccount(ctx, name, merchant); err != nil {
		l.t.Fatal(err)
	}
	if deposit > 0 {
		if _, err := l.Deposit(ctx, name, deposit, "open:"+name); err != nil {
			l.t.Fatal(err)
		}
	}
}

// Balance is the balance of account name.
func (l *Ledger) Balance(name string) int64 {
	l.t.Helper()
	a, err := l.Account(context.Background(), name)
	if err != nil {
		l.t.Fatal(err)
	}
	return a.Balance
}

// Check returns the reconciliation report, failing the test unless money
// is conserved.
func (l *Ledger) Check() *ledger.Report {
	l.t.Helper()
	r, err := l.Report(context.Background())
	if err != nil {
		l.t.Fatal(err)
	}
	if !r.ConservationOK {
		l.t.Fatalf("conservation broken: %+v", r)
	}
	return r
}
