package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
)

// Device is a simulated secure element that keeps only the head of its
// log (counter, last hash, clock), so that a benchmark can sign millions
// of entries without holding them all; the entries it signs are returned
// to the caller, who uploads and forgets them.
type Device struct {
	Key      protocol.Ed25519Signer
	ID       protocol.KeyID
	Cert     *protocol.Certificate
	Currency string
	Counter  uint64
	Prev     protocol.Hash
	Time     uint64
}

// Epoch is the devices' starting clock (2026-01-01), inside any
// certificate the ledger issues today.
const Epoch uint64 = 1767225600

// NewDevice makes a device with a fresh key.
func NewDevice(currency string) *Device {
	k := protocol.NewEd25519Signer()
	return &Device{Key: k, ID: protocol.ComputeKeyID(k.Alg(), k.PublicKey()), Currency: currency, Time: Epoch}
}

// Enrolment is the device's signed enrolment request for account, dated
// by the wall clock: the ledgers the bench runs keep real time and accept
// an enrolment within ledger.EnrolmentWindow of theirs.
func (d *Device) Enrolment(account string) *protocol.EnrolmentRequest {
	r := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: d.Key.Alg(), Key: d.Key.PublicKey(),
		Account: account, Class: protocol.SEVirtual, Time: uint64(time.Now().Unix())}
	must(r.Sign(d.Key))
	return r
}

// Reserve is a signed reserve request; n derives its request id, so the
// same n is the same (idempotent) request.
func (d *Device) Reserve(amount, n uint64) *protocol.ReserveRequest {
	r := &protocol.ReserveRequest{Version: protocol.Version, Device: d.ID, Amount: amount, Currency: d.Currency, Time: d.Time}
	h := sha256.Sum256(binary.BigEndian.AppendUint64(d.ID[:], n))
	copy(r.RequestID[:], h[:])
	must(r.Sign(d.Key))
	return r
}

// Append signs the next log entry.
func (d *Device) Append(kind protocol.EntryKind, body []byte) protocol.LogEntry {
	d.Time++
	d.Counter++
	e := protocol.LogEntry{Version: protocol.Version, Device: d.ID, Counter: d.Counter, Prev: d.Prev, Kind: kind, Time: d.Time, Body: body}
	must(e.Sign(d.Key))
	d.Prev = e.Hash()
	return e
}

// Load logs a Load from the ledger.
func (d *Device) Load(l *protocol.Load) protocol.LogEntry {
	return d.Append(protocol.EntryLoad, l.Marshal())
}

// Pay signs a payment to payee, logs it, and returns the entry and the
// bundle the payee receives.
func (d *Device) Pay(payee protocol.KeyID, amount uint64) (protocol.LogEntry, *protocol.PaymentBundle) {
	p := protocol.Payment{Version: protocol.Version, Payer: d.ID, Payee: payee, Amount: amount, Currency: d.Currency, Hops: 1,
		Counter: d.Counter + 1, Time: d.Time + 1}
	binary.BigEndian.PutUint64(p.Nonce[:], d.Counter+1)
	copy(p.Nonce[8:], payee[:8])
	must(p.Sign(d.Key))
	e := d.Append(protocol.EntryPay, p.Marshal())
	return e, &protocol.PaymentBundle{Payment: p, Cert: *d.Cert}
}

// Receipt is this device's receipt, as payee, of b's payment; counter is
// the payee's log counter it names.
func (d *Device) Receipt(b *protocol.PaymentBundle, counter uint64) *protocol.Receipt {
	r := &protocol.Receipt{Version: protocol.Version, Payment: b.Payment.ID(), Payee: d.ID, Counter: counter, Time: b.Payment.Time}
	must(r.Sign(d.Key))
	return r
}

// Confirm logs the payee's receipt of an earlier payment.
func (d *Device) Confirm(r *protocol.Receipt) protocol.LogEntry {
	return d.Append(protocol.EntryConfirm, r.Marshal())
}

// Receive logs a received payment.
func (d *Device) Receive(b *protocol.PaymentBundle) protocol.LogEntry {
	return d.Append(protocol.EntryReceive, b.Marshal())
}

// Upload signs an upload of entries (consecutive, in counter order).
func (d *Device) Upload(entries []protocol.LogEntry) *protocol.SyncUpload {
	u := &protocol.SyncUpload{Version: protocol.Version, Device: d.ID, Time: d.Time, Entries: entries}
	must(u.Sign(d.Key))
	return u
}

// Chunks cuts entries into uploads of at most size entries
// (protocol.MaxSyncEntries if size is 0), as a device uploads a long log.
func (d *Device) Chunks(entries []protocol.LogEntry, size int) []*protocol.SyncUpload {
	if size <= 0 || size > protocol.MaxSyncEntries {
		size = protocol.MaxSyncEntries
	}
	var ups []*protocol.SyncUpload
	for len(entries) > 0 {
		n := min(size, len(entries))
		ups = append(ups, d.Upload(entries[:n:n]))
		entries = entries[n:]
	}
	return ups
}

// Admin is the ledger's setup side, in-process or over HTTP.
type Admin interface {
	CreateAccount(ctx context.Context, name string, merchant bool, deposit int64) error
	Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*protocol.Certificate, error)
	Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error)
	Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error)
	Report(ctx context.Context) (*ledger.Report, error)
}

// ServiceAdmin adapts an in-process ledger.
type ServiceAdmin struct{ *ledger.Service }

// CreateAccount opens an account and deposits into it.
func (a ServiceAdmin) CreateAccount(ctx context.Context, name string, merchant bool, deposit int64) error {
	if _, err := a.Service.CreateAccount(ctx, name, merchant); err != nil {
		return err
	}
	if deposit > 0 {
		_, err := a.Deposit(ctx, name, deposit, "bench-open-"+name)
		return err
	}
	return nil
}

// Enrol certifies a device.
func (a ServiceAdmin) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*protocol.Certificate, error) {
	e, err := a.Service.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return e.Device, nil
}

// ClientAdmin adapts the HTTP client.
type ClientAdmin struct{ *ledgerclient.Client }

// CreateAccount opens an account and deposits into it.
func (a ClientAdmin) CreateAccount(ctx context.Context, name string, merchant bool, deposit int64) error {
	if _, err := a.Client.CreateAccount(ctx, name, merchant); err != nil {
		return err
	}
	if deposit > 0 {
		_, err := a.Deposit(ctx, name, deposit, "bench-open-"+name)
		return err
	}
	return nil
}

// Enrol certifies a device.
func (a ClientAdmin) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*protocol.Certificate, error) {
	e, err := a.Client.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return e.Device, nil
}

// NewEnrolled opens an account named name, deposits deposit, enrols a new
// device for it and, if load > 0, reserves load and logs the Load (the
// entry is returned; it is the device's first).
//
// A call the ledger answers unavailable (a database too busy, as when
// many enrol at once on PostgreSQL) changed nothing and is made again, as
// a device or an operator would.
func NewEnrolled(ctx context.Context, a Admin, currency, name string, merchant bool, deposit int64, load uint64) (*Device, []protocol.LogEntry, error) {
	if err := retryBusy(ctx, func() error { return a.CreateAccount(ctx, name, merchant, deposit) }); err != nil {
		return nil, nil, fmt.Errorf("account %s: %w", name, err)
	}
	d := NewDevice(currency)
	var cert *protocol.Certificate
	err := retryBusy(ctx, func() (err error) { cert, err = a.Enrol(ctx, d.Enrolment(name)); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("enrol %s: %w", name, err)
	}
	d.Cert = cert
	if load == 0 {
		return d, nil, nil
	}
	var l *protocol.Load
	err = retryBusy(ctx, func() (err error) { l, err = a.Reserve(ctx, d.Reserve(load, 1)); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("reserve %s: %w", name, err)
	}
	return d, []protocol.LogEntry{d.Load(l)}, nil
}

// retryBusy runs f until it succeeds, fails otherwise than unavailable,
// or has been tried five times.
func retryBusy(ctx context.Context, f func() error) error {
	var err error
	for i := range 5 {
		if err = f(); err == nil || offpay.ErrorCode(err) != offpay.EUNAVAILABLE {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 50 * time.Millisecond):
		}
	}
	return err
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
