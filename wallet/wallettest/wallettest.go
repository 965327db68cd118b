// Package wallettest is an in-memory fake ledger for tests of the wallet only; the real ledger lives in ledger/.
package wallettest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/wallet"
)

// Ledger is a fake: it certifies, reserves against account balances, and
// settles a payment when the payee's receive entry or the payer's confirm
// entry (the payee's receipt) arrives. A payment never claimed expires
// once the payee's log shows a sync entry ClaimWindow or more past the
// payment's time, and its value goes back to the payer's account. Devices
// of Merchants accounts are receive-only (PerPayment 0) and their takings
// are swept to the account (SyncResult.Swept). It checks each device's
// chain and keeps any equivocation it sees.
type Ledger struct {
	mu       sync.Mutex
	PKI      *prototest.PKI
	Now      func() uint64
	Accounts map[string]uint64
	Redeemed uint64
	// Merchants names accounts whose devices are receive-only.
	Merchants map[string]bool
	// Swept and Expired total the value moved to accounts by sweeps and
	// by expiries.
	Swept, Expired uint64
	devices        map[protocol.KeyID]*device
	payments       map[[24]byte]*payment
	received       map[protocol.Hash]bool
	serial         uint64
	// Equivocations holds pairs of entries with one device and counter.
	Equivocations [][2]protocol.LogEntry
	// Conflicts holds pairs of payment IDs with one payer and counter:
	// double spending by a cloned or rolled-back SE.
	Conflicts [][2]protocol.Hash
}

type device struct {
	cert     *protocol.Certificate
	loads    []protocol.Load
	reserves map[protocol.Nonce]int // request ID -> index in loads
	acked    uint64
	head     protocol.Hash
	entries  map[uint64]protocol.LogEntry
	loadSeen uint64
	mine     []protocol.Hash // payments this device made or received
	synced   uint64          // latest SyncApplied time in its log
	takings  uint64          // value received (merchant devices)
	swept    uint64
}

type payment struct {
	id      protocol.Hash
	amount  uint64
	payer   protocol.KeyID
	payee   protocol.KeyID
	time    uint64
	expired bool
}

// New returns a fake ledger on p whose clock is now.
func New(p *prototest.PKI, now func() uint64) *Ledger {
	return &Ledger{
		PKI: p, Now: now, Accounts: map[string]uint64{},
		devices: map[protocol.KeyID]*device{}, payments: map[[24]byte]*payment{}, received: map[protocol.Hash]bool{},
		Merchants: map[string]bool{},
	}
}

var _ wallet.Ledger = (*Ledger)(nil)

// Enrol implements wallet.Ledger.
func (l *Ledger) Enrol(_ context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := r.Verify(); err != nil {
		return nil, err
	}
	if _, ok := l.Accounts[r.Account]; !ok {
		return nil, fmt.Errorf("fake ledger: no account %q", r.Account)
	}
	l.serial++
	lim := l.PKI.Limits
	if l.Merchants[r.Account] {
		lim.PerPayment = 0
	}
	c := setest.Certify(l.PKI, r, 1000+l.serial, lim)
	l.devices[c.ID()] = &device{cert: c, reserves: map[protocol.Nonce]int{}, entries: map[uint64]protocol.LogEntry{}}
	return &wallet.Enrolment{Device: c, Issuer: l.PKI.Issuer, Root: l.PKI.Root, RevList: l.PKI.RevList}, nil
}

// Reserve implements wallet.Ledger.
func (l *Ledger) Reserve(_ context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.devices[r.Device]
	if !ok {
		return nil, errors.New("fake ledger: unknown device")
	}
	if err := r.Verify(d.cert); err != nil {
		return nil, err
	}
	if i, ok := d.reserves[r.RequestID]; ok {
		return &d.loads[i], nil
	}
	if l.Accounts[d.cert.Account] < r.Amount {
		return nil, errors.New("fake ledger: insufficient account balance")
	}
	l.Accounts[d.cert.Account] -= r.Amount
	ld := l.PKI.Load(r.Device, uint64(len(d.loads)+1), r.Amount, l.Now())
	d.loads = append(d.loads, *ld)
	d.reserves[r.RequestID] = len(d.loads) - 1
	return ld, nil
}

func pkey(payer protocol.KeyID, counter uint64) (k [24]byte) {
	copy(k[:], payer[:])
	binary.BigEndian.PutUint64(k[16:], counter)
	return k
}

// Sync implements wallet.Ledger.
func (l *Ledger) Sync(_ context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.devices[u.Device]
	if !ok {
		return nil, errors.New("fake ledger: unknown device")
	}
	if err := u.Verify(d.cert); err != nil {
		return nil, err
	}
	for _, e := range u.Entries {
		if err := e.Verify(d.cert); err != nil {
			return nil, err
		}
		if old, ok := d.entries[e.Counter]; ok {
			if old.Hash() != e.Hash() {
				l.Equivocations = append(l.Equivocations, [2]protocol.LogEntry{old, e})
			}
			continue
		}
		if e.Counter != d.acked+1 || e.Prev != d.head {
			return nil, fmt.Errorf("fake ledger: entry %d does not follow %d", e.Counter, d.acked)
		}
		if err := l.record(d, &e); err != nil {
			return nil, err
		}
		d.entries[e.Counter], d.acked, d.head = e, e.Counter, e.Hash()
	}
	res := &protocol.SyncResult{
		Version: protocol.Version, Device: u.Device, Acked: d.acked, Time: l.Now(),
		RevList: *l.PKI.RevList, Signer: l.PKI.Issuer.ID(),
	}
	l.expire()
	for _, id := range d.mine {
		st := protocol.StatusPending
		switch p := l.byID(id); {
		case l.received[id]:
			st = protocol.StatusSettled
		case p != nil && p.expired:
			st = protocol.StatusExpired
		}
		res.Statuses = append(res.Statuses, protocol.PaymentStatus{Payment: id, Status: st})
	}
	if d.cert.Limits.PerPayment == 0 && d.takings > d.swept {
		l.Accounts[d.cert.Account] += d.takings - d.swept
		l.Swept += d.takings - d.swept
		d.swept = d.takings
	}
	res.Swept = d.swept
	for _, ld := range d.loads {
		if ld.Seq > d.loadSeen {
			res.Loads = append(res.Loads, ld)
		}
	}
	if err := res.Sign(l.PKI.IssuerKey); err != nil {
		return nil, err
	}
	return res, nil
}

func (l *Ledger) record(d *device, e *protocol.LogEntry) error {
	switch e.Kind {
	case protocol.EntryLoad:
		var ld protocol.Load
		if err := protocol.Unmarshal(e.Body, &ld); err != nil {
			return err
		}
		d.loadSeen = max(d.loadSeen, ld.Seq)
	case protocol.EntryPay:
		var p protocol.Payment
		if err := protocol.Unmarshal(e.Body, &p); err != nil {
			return err
		}
		l.notePayment(&p)
		d.mine = append(d.mine, p.ID())
	case protocol.EntryReceive:
		var b protocol.PaymentBundle
		if err := protocol.Unmarshal(e.Body, &b); err != nil {
			return err
		}
		l.notePayment(&b.Payment)
		if p := l.payments[pkey(b.Payment.Payer, b.Payment.Counter)]; p.expired {
			return fmt.Errorf("fake ledger: payment %v received after it expired", p.id)
		}
		l.received[b.Payment.ID()] = true
		d.mine = append(d.mine, b.Payment.ID())
		d.takings += b.Payment.Amount
	case protocol.EntryConfirm:
		var rc protocol.Receipt
		if err := protocol.Unmarshal(e.Body, &rc); err != nil {
			return err
		}
		l.received[rc.Payment] = true // the payee's receipt is its claim
	case protocol.EntrySync:
		var a protocol.SyncApplied
		if err := protocol.Unmarshal(e.Body, &a); err != nil {
			return err
		}
		if a.Device != d.cert.ID() || a.Swept > d.swept {
			return fmt.Errorf("fake ledger: sync entry %+v does not match the device", a)
		}
		d.synced = max(d.synced, a.Time)
	case protocol.EntryRedeem:
		var rd protocol.Redeem
		if err := protocol.Unmarshal(e.Body, &rd); err != nil {
			return err
		}
		l.Accounts[d.cert.Account] += rd.Amount
		l.Redeemed += rd.Amount
	}
	return nil
}

func (l *Ledger) notePayment(p *protocol.Payment) {
	k := pkey(p.Payer, p.Counter)
	old, ok := l.payments[k]
	if !ok {
		l.payments[k] = &payment{id: p.ID(), amount: p.Amount, payer: p.Payer, payee: p.Payee, time: p.Time}
		return
	}
	for _, c := range l.Conflicts {
		if c[0] == old.id && c[1] == p.ID() {
			return
		}
	}
	if old.id != p.ID() {
		l.Conflicts = append(l.Conflicts, [2]protocol.Hash{old.id, p.ID()})
	}
}

func (l *Ledger) byID(id protocol.Hash) *payment {
	for _, p := range l.payments {
		if p.id == id {
			return p
		}
	}
	return nil
}

// expire returns to its payer's account every payment its payee can no
// longer claim: not received, and the payee's log shows a sync at least
// ClaimWindow past the payment's time.
func (l *Ledger) expire() {
	for _, p := range l.payments {
		payee, ok := l.devices[p.payee]
		if p.expired || l.received[p.id] || !ok || payee.synced < p.time+protocol.ClaimWindow {
			continue
		}
		p.expired = true
		if payer, ok := l.devices[p.payer]; ok {
			l.Accounts[payer.cert.Account] += p.amount
		}
		l.Expired += p.amount
	}
}
