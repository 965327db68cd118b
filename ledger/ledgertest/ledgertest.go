// Package ledgertest builds valid (and deliberately invalid) device logs
// for ledger tests, the way a secure element would write them.
package ledgertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// Device is a simulated SE: a key, its log and its purse.
type Device struct {
	Key      protocol.Signer
	ID       protocol.KeyID
	Cert     *protocol.Certificate // set after enrolment
	Currency string
	Log      []protocol.LogEntry
	Purse    int64
	Time     uint64
	Swept    uint64 // cumulative sweep applied from sync results (merchants)
	Hops     uint64 // Payment.Hops of the next payments (0: 1)
}

// NewDevice returns a device whose Ed25519 key derives from label.
func NewDevice(label, currency string) *Device {
	k := prototest.Ed25519Key("ledgertest/" + label)
	return &Device{Key: k, ID: protocol.ComputeKeyID(k.Alg(), k.PublicKey()), Currency: currency, Time: prototest.Epoch}
}

// NewP256Device returns a device whose ECDSA P-256 key (the algorithm of
// smart cards and most hardware SEs) derives from label.
func NewP256Device(label, currency string) *Device {
	k := prototest.P256Key("ledgertest/" + label)
	return &Device{Key: k, ID: protocol.ComputeKeyID(k.Alg(), k.PublicKey()), Currency: currency, Time: prototest.Epoch}
}

// Counter is the counter of the last entry.
func (d *Device) Counter() uint64 { return uint64(len(d.Log)) }

// Clone copies the device's whole state, as an attacker restoring a copied
// SE would: both copies then sign different entries with the same counters.
func (d *Device) Clone() *Device {
	c := *d
	c.Log = append([]protocol.LogEntry(nil), d.Log...)
	return &c
}

// Enrolment returns the signed enrolment request for account, at the
// device's time.
func (d *Device) Enrolment(account string) *protocol.EnrolmentRequest {
	return d.EnrolmentAt(account, d.Time)
}

// EnrolmentAt returns the signed enrolment request for account at time
// now (Unix seconds): the ledger accepts one within
// ledger.EnrolmentWindow of its clock.
func (d *Device) EnrolmentAt(account string, now uint64) *protocol.EnrolmentRequest {
	r := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: d.Key.Alg(), Key: d.Key.PublicKey(),
		Account: account, Class: protocol.SEVirtual, Time: now}
	must(r.Sign(d.Key))
	return r
}

// Reserve returns a signed reserve request; n derives its request id.
func (d *Device) Reserve(amount uint64, n uint64) *protocol.ReserveRequest {
	r := &protocol.ReserveRequest{Version: protocol.Version, Device: d.ID, Amount: amount, Currency: d.Currency, Time: d.Time}
	h := sha256.Sum256(binary.BigEndian.AppendUint64(d.ID[:], n))
	copy(r.RequestID[:], h[:])
	must(r.Sign(d.Key))
	return r
}

// Append signs and appends an entry of kind with body.
func (d *Device) Append(kind protocol.EntryKind, body []byte) protocol.LogEntry {
	d.Time++
	e := protocol.LogEntry{Version: protocol.Version, Device: d.ID, Counter: d.Counter() + 1, Kind: kind, Time: d.Time, Body: body}
	if n := len(d.Log); n > 0 {
		e.Prev = d.Log[n-1].Hash()
	}
	must(e.Sign(d.Key))
	d.Log = append(d.Log, e)
	return e
}

// BreakSig replaces the signature of the entry at counter with garbage of
// the right size, as a broken SE would write it; its uploads still sign
// the entry as it is. The entry hash (which excludes the signature) and
// so the chain are unchanged.
func (d *Device) BreakSig(counter uint64) {
	d.Log[counter-1].Sig = bytes.Repeat([]byte{0x5a}, protocol.SigSize)
}

// ApplyLoad records a ledger Load in the log.
func (d *Device) ApplyLoad(l *protocol.Load) {
	d.Purse += int64(l.Amount)
	d.Append(protocol.EntryLoad, l.Marshal())
}

// Pay signs a payment to payee and logs it. It does not check the purse:
// tests use it to overspend too.
func (d *Device) Pay(payee protocol.KeyID, amount uint64) *protocol.PaymentBundle {
	p := protocol.Payment{Version: protocol.Version, Payer: d.ID, Payee: payee, Amount: amount, Currency: d.Currency,
		Counter: d.Counter() + 1, Time: d.Time + 1, Hops: max(d.Hops, 1)}
	binary.BigEndian.PutUint64(p.Nonce[:], d.Counter()+1)
	copy(p.Nonce[8:], payee[:8])
	must(p.Sign(d.Key))
	d.Purse -= int64(amount)
	d.Append(protocol.EntryPay, p.Marshal())
	return &protocol.PaymentBundle{Payment: p, Cert: *d.Cert}
}

// PayAt signs a payment with any counter and does not log it: what the
// owner of an SE can do once they have taken its key out of the state
// file. The payee's SE cannot tell it from a genuine payment.
func (d *Device) PayAt(payee protocol.KeyID, amount, counter uint64) *protocol.PaymentBundle {
	p := protocol.Payment{Version: protocol.Version, Payer: d.ID, Payee: payee, Amount: amount, Currency: d.Currency,
		Counter: counter, Time: d.Time + 1, Hops: max(d.Hops, 1)}
	binary.BigEndian.PutUint64(p.Nonce[:], counter)
	copy(p.Nonce[8:], payee[:8])
	must(p.Sign(d.Key))
	return &protocol.PaymentBundle{Payment: p, Cert: *d.Cert}
}

// Refund signs a refund of sale (a payment this device received) to the
// sale's payer and logs it as its pay entry. A refund takes nothing from
// the purse: the ledger takes it from the merchant account.
func (d *Device) Refund(sale *protocol.PaymentBundle, amount uint64) *protocol.PaymentBundle {
	return d.RefundOf(sale.Payment.Payer, sale.Payment.ID(), amount)
}

// RefundOf signs and logs a refund to anyone naming any sale, of any
// amount: what the owner of a merchant SE can sign once they have taken
// its key out (an honest SE refunds only its own sales, once, at most
// their amount, to their payer).
func (d *Device) RefundOf(to protocol.KeyID, sale protocol.Hash, amount uint64) *protocol.PaymentBundle {
	b := d.RefundAt(to, sale, amount, d.Counter()+1)
	d.Append(protocol.EntryPay, b.Payment.Marshal())
	return b
}

// RefundAt signs a refund with any counter and does not log it.
func (d *Device) RefundAt(to protocol.KeyID, sale protocol.Hash, amount, counter uint64) *protocol.PaymentBundle {
	p := protocol.Payment{Version: protocol.Version, Payer: d.ID, Payee: to, Amount: amount, Currency: d.Currency,
		Counter: counter, Sale: sale, Time: d.Time + 1, Hops: 1}
	must(p.Sign(d.Key))
	return &protocol.PaymentBundle{Payment: p, Cert: *d.Cert}
}

// Receive logs a received payment bundle.
func (d *Device) Receive(b *protocol.PaymentBundle) {
	d.Purse += int64(b.Payment.Amount)
	d.Append(protocol.EntryReceive, b.Marshal())
}

// Redeem logs a redeem of amount back to the account.
func (d *Device) Redeem(amount uint64) {
	r := protocol.Redeem{Version: protocol.Version, Device: d.ID, Counter: d.Counter() + 1, Amount: amount, Currency: d.Currency, Time: d.Time + 1}
	must(r.Sign(d.Key))
	d.Purse -= int64(amount)
	d.Append(protocol.EntryRedeem, r.Marshal())
}

// Receipt returns the receipt this device (the payee) signs for b: it
// names the counter of its receive entry of b, or its last counter.
func (d *Device) Receipt(b *protocol.PaymentBundle) *protocol.Receipt {
	pid := b.Payment.ID()
	r := &protocol.Receipt{Version: protocol.Version, Payment: pid, Payee: d.ID, Counter: max(d.Counter(), 1), Time: d.Time}
	for _, e := range d.Log {
		var got protocol.PaymentBundle
		if e.Kind == protocol.EntryReceive && protocol.Unmarshal(e.Body, &got) == nil && got.Payment.ID() == pid {
			r.Counter = e.Counter
		}
	}
	must(r.Sign(d.Key))
	return r
}

// Confirm logs a receipt from a payee (the payer's confirm entry).
func (d *Device) Confirm(r *protocol.Receipt) {
	d.Append(protocol.EntryConfirm, r.Marshal())
}

// ApplySync applies a sync result the way an SE does: it debits the purse
// by the sweep the result newly reports and logs a sync entry naming it.
// It does not apply the result's loads (ApplyLoad does).
func (d *Device) ApplySync(res *protocol.SyncResult) {
	d.Purse -= int64(res.Swept - d.Swept)
	d.Swept = res.Swept
	a := protocol.SyncApplied{Version: protocol.Version, Device: d.ID, Result: res.ID(), Time: res.Time, Swept: res.Swept}
	d.Append(protocol.EntrySync, a.Marshal())
}

// Upload returns the signed upload of entries from..to (counters, inclusive).
func (d *Device) Upload(from, to uint64) *protocol.SyncUpload {
	u := &protocol.SyncUpload{Version: protocol.Version, Device: d.ID, Time: d.Time}
	if from >= 1 && to >= from && to <= d.Counter() {
		// Deep copies: tests tamper with uploads, never with the log.
		for _, e := range d.Log[from-1 : to] {
			e.Body, e.Sig = bytes.Clone(e.Body), bytes.Clone(e.Sig)
			u.Entries = append(u.Entries, e)
		}
	}
	must(u.Sign(d.Key))
	return u
}

// UploadAll uploads the whole log.
func (d *Device) UploadAll() *protocol.SyncUpload { return d.Upload(1, d.Counter()) }

// Sign re-signs an upload, e.g. after a test tampered with it.
func (d *Device) Sign(u *protocol.SyncUpload) *protocol.SyncUpload {
	must(u.Sign(d.Key))
	return u
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Request returns a payment request of the device (its certificate must
// be set) for amount (0: open) with nonce derived from n, valid until
// expiry, signed by its key as its SE would.
func (d *Device) Request(amount uint64, n uint64, expiry uint64) *protocol.PaymentRequest {
	r := &protocol.PaymentRequest{Version: protocol.Version, Payee: *d.Cert, Amount: amount, Currency: d.Currency, Expiry: expiry}
	h := sha256.Sum256(binary.BigEndian.AppendUint64(append([]byte("request"), d.ID[:]...), n))
	copy(r.Nonce[:], h[:])
	must(r.Sign(d.Key))
	return r
}

// PayOnline returns the device's signed online payment of req for amount,
// at the device's time. It checks nothing, as a broken SE would not.
func (d *Device) PayOnline(req *protocol.PaymentRequest, amount uint64) *protocol.OnlinePayment {
	p := &protocol.OnlinePayment{Version: protocol.Version, Payer: d.ID, Request: *req, Amount: amount, Currency: d.Currency, Time: d.Time}
	must(p.Sign(d.Key))
	return p
}
