// Package servertest is an in-memory ledger with real signatures for tests of the HTTP API and its clients; never used in production.
package servertest

import (
	"context"
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// Ledger implements server.Ledger in memory with real signatures, enough
// to exercise the HTTP layer and its clients: it verifies device
// signatures as the ledger does and answers with messages signed by a
// prototest PKI. Set Fail or PanicMsg (under Lock) to force failures.
type Ledger struct {
	sync.Mutex
	PKI      *prototest.PKI
	devices  map[protocol.KeyID]*protocol.Certificate
	accounts map[string]*ledger.Account
	loads    map[protocol.KeyID]uint64
	Calls    int   // methods called, Trust and DeviceCertificate excepted
	Lookups  int   // DeviceCertificate calls
	Fail     error // returned by every method when set
	PanicMsg string
}

// NewLedger returns an empty fake ledger over the PKI "servertest".
func NewLedger() *Ledger {
	return &Ledger{
		PKI:      prototest.NewPKI("servertest"),
		devices:  map[protocol.KeyID]*protocol.Certificate{},
		accounts: map[string]*ledger.Account{},
		loads:    map[protocol.KeyID]uint64{},
	}
}

// Fake methods lock f in enter and unlock when they return.
func (f *Ledger) enter() error {
	f.Lock()
	f.Calls++
	if f.PanicMsg != "" {
		msg := f.PanicMsg
		f.Unlock()
		panic(msg)
	}
	return f.Fail
}

func (f *Ledger) Enrol(_ context.Context, req *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
	if err := req.Verify(); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "enrolment: %w", err)
	}
	if _, ok := f.accounts[req.Account]; !ok {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no account %q", req.Account)
	}
	c := &protocol.Certificate{
		Version: protocol.Version, Role: protocol.RoleDevice, Serial: uint64(100 + len(f.devices)),
		Issuer: f.PKI.Issuer.ID(), KeyAlg: req.KeyAlg, Key: req.Key,
		NotBefore: f.PKI.NotBefore, NotAfter: f.PKI.NotAfter, Account: req.Account,
		Class: req.Class, Currency: f.PKI.Currency, Limits: f.PKI.Limits,
	}
	if err := c.Sign(f.PKI.IssuerKey); err != nil {
		return nil, err
	}
	f.devices[c.ID()] = c
	return &ledger.Enrolment{Device: c, Issuer: f.PKI.Issuer, Root: f.PKI.Root, RevList: f.PKI.RevList}, nil
}

func (f *Ledger) device(id protocol.KeyID) (*protocol.Certificate, error) {
	c, ok := f.devices[id]
	if !ok {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "unknown device")
	}
	return c, nil
}

// DeviceCertificate returns an enrolled device's certificate, as the
// ledger does; it counts in Lookups, not Calls.
func (f *Ledger) DeviceCertificate(_ context.Context, id protocol.KeyID) (*protocol.Certificate, error) {
	f.Lock()
	defer f.Unlock()
	f.Lookups++
	if f.Fail != nil {
		return nil, f.Fail
	}
	return f.device(id)
}

func (f *Ledger) Reserve(_ context.Context, req *protocol.ReserveRequest) (*protocol.Load, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
	c, err := f.device(req.Device)
	if err != nil {
		return nil, err
	}
	if err := req.Verify(c); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "reserve: %w", err)
	}
	f.loads[req.Device]++
	return f.PKI.Load(req.Device, f.loads[req.Device], req.Amount, prototest.Epoch), nil
}

// PayOnline answers a payment signed by an enrolled device with a
// receipt signed by the PKI's issuer; it keeps nothing.
func (f *Ledger) PayOnline(_ context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
	c, err := f.device(p.Payer)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(c); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "online payment: %w", err)
	}
	rc := &protocol.OnlineReceipt{Version: protocol.Version, Payment: p.ID(), Payer: p.Payer, Payee: p.Request.Payee.ID(),
		Nonce: p.Request.Nonce, Amount: p.Amount, Currency: p.Currency, Time: prototest.Epoch, Signer: f.PKI.Issuer.ID()}
	if err := rc.Sign(f.PKI.IssuerKey); err != nil {
		return nil, err
	}
	return rc, nil
}

// OnlineReceipt finds nothing: the fake keeps no online payments.
func (f *Ledger) OnlineReceipt(context.Context, protocol.KeyID, protocol.Nonce) (*protocol.OnlineReceipt, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
	return nil, offpay.Errorf(offpay.ENOTFOUND, "no online payment of that request")
}

func (f *Ledger) Sync(_ context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
	c, err := f.device(up.Device)
	if err != nil {
		return nil, err
	}
	if err := up.Verify(c); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "sync: %w", err)
	}
	res := &protocol.SyncResult{Version: protocol.Version, Device: up.Device, Acked: uint64(len(up.Entries)),
		Time: prototest.Epoch, RevList: *f.PKI.RevList, Signer: f.PKI.Issuer.ID()}
	if err := res.Sign(f.PKI.IssuerKey); err != nil {
		return nil, err
	}
	return res, nil
}

func (f *Ledger) RevocationList(context.Context) (*protocol.RevocationList, error) {
	err := f.enter()
	defer f.Unlock()
	return f.PKI.RevList, err
}

func (f *Ledger) Trust() (root, issuer *protocol.Certificate) {
	return f.PKI.Root, f.PKI.Issuer
}

func (f *Ledger) CreateAccount(_ context.Context, name string, merchant bool) (*ledger.Account, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
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

func (f *Ledger) move(name string, amount int64) (*ledger.Account, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
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

// Deposit and Withdraw require a ref, as the ledger does, but do not
// remember refs.
func (f *Ledger) Deposit(_ context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	if ref == "" {
		return nil, offpay.Errorf(offpay.EINVALID, "ref must be 1 to 128 bytes")
	}
	return f.move(name, amount)
}

func (f *Ledger) Withdraw(_ context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	if ref == "" {
		return nil, offpay.Errorf(offpay.EINVALID, "ref must be 1 to 128 bytes")
	}
	return f.move(name, -amount)
}

// ReenterWithdrawal is Withdraw here: the fake has no freeze or holds.
func (f *Ledger) ReenterWithdrawal(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	return f.Withdraw(ctx, name, amount, ref)
}

func (f *Ledger) Account(_ context.Context, name string) (*ledger.Account, error) {
	return f.move(name, 0)
}

func (f *Ledger) Statement(ctx context.Context, name string) ([]ledger.StatementLine, error) {
	_, err := f.move(name, 0)
	return nil, err
}

func (f *Ledger) Revoke(_ context.Context, id protocol.KeyID, _ string) error {
	if err := f.enter(); err != nil {
		f.Unlock()
		return err
	}
	defer f.Unlock()
	if _, ok := f.devices[id]; !ok {
		return offpay.Errorf(offpay.ENOTFOUND, "no device %s", id)
	}
	f.PKI.Revoke(prototest.Epoch+1, append(f.PKI.RevList.Revoked, id)...)
	return nil
}

func (f *Ledger) Report(context.Context) (*ledger.Report, error) {
	if err := f.enter(); err != nil {
		f.Unlock()
		return nil, err
	}
	defer f.Unlock()
	return &ledger.Report{Currency: "EUR", ConservationOK: true, RevokedDevices: []string{}, DoubleSpends: []ledger.DoubleSpend{}}, nil
}

// Acknowledged implements server.Ledger: the fake never loses data.
func (f *Ledger) Acknowledged(context.Context, *protocol.SyncResult) (bool, error) { return false, nil }

// Ready implements server.Ledger: the fake is always ready.
func (f *Ledger) Ready(context.Context) error { return nil }

// EnrolWithCode implements server.Ledger: the fake takes the code "good".
func (f *Ledger) EnrolWithCode(ctx context.Context, req *protocol.EnrolmentRequest, code string) (*ledger.Enrolment, error) {
	if code != "good" {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "enrolment code unknown, expired, used or cancelled")
	}
	return f.Enrol(ctx, req)
}

// IssueCode implements server.Ledger.
func (f *Ledger) IssueCode(_ context.Context, account string, _ time.Duration) (*ledger.EnrolCode, error) {
	return &ledger.EnrolCode{Code: "good", ID: "000000000000", Account: account, Status: "open"}, nil
}

// Codes implements server.Ledger.
func (f *Ledger) Codes(context.Context) ([]ledger.EnrolCode, error) { return nil, nil }

// CancelCode implements server.Ledger.
func (f *Ledger) CancelCode(context.Context, string) error { return nil }

// AccountList implements server.Ledger.
func (f *Ledger) AccountList(context.Context) ([]ledger.AccountSummary, error) { return nil, nil }

// DeviceList implements server.Ledger.
func (f *Ledger) DeviceList(context.Context, string) ([]ledger.DeviceSummary, error) {
	return nil, nil
}

// Lost implements server.Ledger.
func (f *Ledger) Lost(ctx context.Context, device protocol.KeyID) error {
	return f.Revoke(ctx, device, "lost")
}
