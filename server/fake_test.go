package server

import (
	"context"
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// fakeLedger implements Ledger in memory with real signatures, enough to
// exercise the HTTP layer: it verifies device signatures as the ledger
// does and answers with messages signed by a prototest PKI.
type fakeLedger struct {
	mu       sync.Mutex
	pki      *prototest.PKI
	devices  map[protocol.KeyID]*protocol.Certificate
	accounts map[string]*ledger.Account
	loads    map[protocol.KeyID]uint64
	calls    int
	fail     error // returned by every method when set
	panicMsg string
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{
		pki:      prototest.NewPKI("server-test"),
		devices:  map[protocol.KeyID]*protocol.Certificate{},
		accounts: map[string]*ledger.Account{},
		loads:    map[protocol.KeyID]uint64{},
	}
}

func (f *fakeLedger) enter() error {
	f.mu.Lock()
	f.calls++
	if f.panicMsg != "" {
		msg := f.panicMsg
		f.mu.Unlock()
		panic(msg)
	}
	return f.fail
}

func (f *fakeLedger) Enrol(_ context.Context, req *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	if err := req.Verify(); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "enrolment: %w", err)
	}
	if _, ok := f.accounts[req.Account]; !ok {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no account %q", req.Account)
	}
	c := &protocol.Certificate{
		Version: protocol.Version, Role: protocol.RoleDevice, Serial: uint64(100 + len(f.devices)),
		Issuer: f.pki.Issuer.ID(), KeyAlg: req.KeyAlg, Key: req.Key,
		NotBefore: f.pki.NotBefore, NotAfter: f.pki.NotAfter, Account: req.Account,
		Class: req.Class, Currency: f.pki.Currency, Limits: f.pki.Limits,
	}
	if err := c.Sign(f.pki.IssuerKey); err != nil {
		return nil, err
	}
	f.devices[c.ID()] = c
	return &ledger.Enrolment{Device: c, Issuer: f.pki.Issuer, Root: f.pki.Root, RevList: f.pki.RevList}, nil
}

func (f *fakeLedger) device(id protocol.KeyID) (*protocol.Certificate, error) {
	c, ok := f.devices[id]
	if !ok {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "unknown device")
	}
	return c, nil
}

func (f *fakeLedger) Reserve(_ context.Context, req *protocol.ReserveRequest) (*protocol.Load, error) {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	c, err := f.device(req.Device)
	if err != nil {
		return nil, err
	}
	if err := req.Verify(c); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "reserve: %w", err)
	}
	f.loads[req.Device]++
	return f.pki.Load(req.Device, f.loads[req.Device], req.Amount, prototest.Epoch), nil
}

func (f *fakeLedger) Sync(_ context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error) {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	c, err := f.device(up.Device)
	if err != nil {
		return nil, err
	}
	if err := up.Verify(c); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "sync: %w", err)
	}
	res := &protocol.SyncResult{Version: protocol.Version, Device: up.Device, Acked: uint64(len(up.Entries)),
		Time: prototest.Epoch, RevList: *f.pki.RevList, Signer: f.pki.Issuer.ID()}
	if err := res.Sign(f.pki.IssuerKey); err != nil {
		return nil, err
	}
	return res, nil
}

func (f *fakeLedger) RevocationList(context.Context) (*protocol.RevocationList, error) {
	err := f.enter()
	defer f.mu.Unlock()
	return f.pki.RevList, err
}

func (f *fakeLedger) Trust() (root, issuer *protocol.Certificate) {
	return f.pki.Root, f.pki.Issuer
}

func (f *fakeLedger) CreateAccount(_ context.Context, name string, merchant bool) (*ledger.Account, error) {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	if name == "" || len(name) > protocol.MaxAccountLen {
		return nil, offpay.Errorf(offpay.EINVALID, "account name must be 1 to %d bytes", protocol.MaxAccountLen)
	}
	if _, ok := f.accounts[name]; ok {
		return nil, offpay.Errorf(offpay.ECONFLICT, "account %q exists", name)
	}
	a := &ledger.Account{Name: name, Merchant: merchant, Currency: "EUR", CreatedAt: time.Unix(int64(prototest.Epoch), 0).UTC()}
	f.accounts[name] = a
	return a, nil
}

func (f *fakeLedger) move(name string, amount int64) (*ledger.Account, error) {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	a, ok := f.accounts[name]
	if !ok {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no account %q", name)
	}
	if a.Balance+amount < 0 {
		return nil, offpay.Errorf(offpay.ELIMIT, "insufficient balance")
	}
	a.Balance += amount
	c := *a
	return &c, nil
}

func (f *fakeLedger) Deposit(_ context.Context, name string, amount int64, _ string) (*ledger.Account, error) {
	return f.move(name, amount)
}

func (f *fakeLedger) Withdraw(_ context.Context, name string, amount int64, _ string) (*ledger.Account, error) {
	return f.move(name, -amount)
}

func (f *fakeLedger) Account(_ context.Context, name string) (*ledger.Account, error) {
	return f.move(name, 0)
}

func (f *fakeLedger) Statement(ctx context.Context, name string) ([]ledger.StatementLine, error) {
	_, err := f.move(name, 0)
	return nil, err
}

func (f *fakeLedger) Revoke(_ context.Context, id protocol.KeyID, _ string) error {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return err
	}
	defer f.mu.Unlock()
	if _, ok := f.devices[id]; !ok {
		return offpay.Errorf(offpay.ENOTFOUND, "no device %s", id)
	}
	f.pki.Revoke(prototest.Epoch+1, append(f.pki.RevList.Revoked, id)...)
	return nil
}

func (f *fakeLedger) Report(context.Context) (*ledger.Report, error) {
	if err := f.enter(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	return &ledger.Report{Currency: "EUR", ConservationOK: true, RevokedDevices: []string{}, DoubleSpends: []ledger.DoubleSpend{}}, nil
}
