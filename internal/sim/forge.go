package sim

import (
	"encoding/binary"
	"fmt"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// forger is a device whose key the attacker extracted: it signs whatever
// it likes, with no purse, limit or counter rules (ledger/ledgertest
// builds its log).
type forger struct {
	*ledgertest.Device
	acked uint64
}

func newForger(seed uint64, dev int) *forger {
	return &forger{Device: ledgertest.NewDevice(fmt.Sprintf("sim/%d/%d", seed, dev), currency)}
}

// pay signs a payment for req at counter c (0: its next counter); a
// payment at its next counter also goes into its log.
func (f *forger) pay(req *protocol.PaymentRequest, amount int64, c uint64, now int64) (*protocol.PaymentBundle, error) {
	next := f.Counter() + 1
	if c == 0 {
		c = next
	}
	p := protocol.Payment{Version: protocol.Version, Payer: f.ID, Payee: req.Payee.ID(), Amount: uint64(amount),
		Currency: currency, Counter: c, Nonce: req.Nonce, Time: uint64(now), Hops: 1}
	if err := p.Sign(f.Key); err != nil {
		return nil, err
	}
	if c == next {
		f.Time = uint64(now) - 1
		f.Append(protocol.EntryPay, p.Marshal())
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *f.Cert}, nil
}

// confirm logs a receipt for a payment in its log.
func (f *forger) confirm(r *protocol.Receipt, now int64) {
	f.Time = uint64(now) - 1
	f.Confirm(r)
}

func (f *forger) redeem(amount int64, now int64) {
	f.Time = uint64(now) - 1
	f.Redeem(uint64(amount))
}

// upload is its log from the first entry the ledger has not acked.
func (f *forger) upload(now int64) *protocol.SyncUpload {
	f.Time = uint64(now)
	return f.Upload(f.acked+1, f.Counter())
}

func (f *forger) apply(res *protocol.SyncResult, now int64) {
	f.acked = res.Acked // less than before when the ledger went back in time
	f.Time = uint64(now) - 1
	f.ApplySync(res)
}

// request is a payment request to this forger (a till whose key its owner
// took out), signed with its key as its SE would.
func (f *forger) request(amount uint64, now int64) (*protocol.PaymentRequest, error) {
	r := &protocol.PaymentRequest{Version: protocol.Version, Payee: *f.Cert, Amount: amount, Currency: currency,
		Expiry: uint64(now) + requestTTL}
	binary.BigEndian.PutUint64(r.Nonce[:], uint64(now))
	binary.BigEndian.PutUint64(r.Nonce[8:], f.Counter()+1)
	return r, r.Sign(f.Key)
}

// receive logs a received payment and returns its receipt.
func (f *forger) receive(b *protocol.PaymentBundle, now int64) *protocol.Receipt {
	f.Time = uint64(now) - 1
	f.Receive(b)
	return f.Receipt(b)
}

// refund signs and logs a refund of sale to a device, of any amount.
func (f *forger) refund(to protocol.KeyID, sale protocol.Hash, amount int64, now int64) *protocol.PaymentBundle {
	f.Time = uint64(now) - 1
	return f.RefundOf(to, sale, uint64(amount))
}
