package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// Ledger is the online side, as the wallet needs it. server/ implements
// it over HTTP; wallettest has an in-memory fake.
type Ledger interface {
	Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*Enrolment, error)
	// Reserve answers a repeated request ID with the same Load.
	Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error)
	Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error)
}

// Enrolment is what the ledger returns for an enrolment request.
type Enrolment struct {
	Device  *protocol.Certificate
	Issuer  *protocol.Certificate
	Root    *protocol.Certificate
	RevList *protocol.RevocationList
}

// Options configure a wallet.
type Options struct {
	Ledger Ledger           // nil: offline only
	Clock  func() time.Time // nil: time.Now
	Hook   atomicfile.Hook  // tests: simulated crashes in history writes
	// KeepRecords bounds the history; 0 means DefaultKeepRecords.
	KeepRecords int
}

// ErrOffline is returned by online operations when no ledger is set.
var ErrOffline = errors.New("wallet: no ledger configured")

// Wallet is a payer and payee over one SE. Its methods are safe for
// concurrent use.
type Wallet struct {
	mu    sync.Mutex
	se    se.SE
	dir   string
	led   Ledger
	now   func() time.Time
	hook  atomicfile.Hook
	keep  int
	h     *history
	saved uint64 // h.Seen when the history was last saved
}

// Open opens the wallet whose history lives in dir, over s. It folds in
// any SE log entries the history missed (a crash between the SE's write
// and the history's), so the history never lags the purse for long.
func Open(s se.SE, dir string, o *Options) (*Wallet, error) {
	w := &Wallet{se: s, dir: dir, now: time.Now, keep: DefaultKeepRecords}
	if o != nil {
		w.led, w.hook = o.Ledger, o.Hook
		if o.KeepRecords > 0 {
			w.keep = o.KeepRecords
		}
		if o.Clock != nil {
			w.now = o.Clock
		}
	}
	h, err := loadHistory(dir)
	if err != nil {
		return nil, err
	}
	w.h, w.saved = h, h.Seen
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.catchUp(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Wallet) clock() uint64 { return uint64(w.now().Unix()) }

// fold brings the in-memory history up to date with the SE's log. It
// does not write: the log is the source of truth and keeps every entry
// until a sync, and Sync saves the history before the SE may prune, so a
// history lost in a crash is rebuilt by Open. That keeps the payment path
// to the SE's own writes.
func (w *Wallet) fold() error {
	es, err := w.se.Log(w.h.Seen + 1)
	if err != nil {
		return err
	}
	return w.h.fold(es)
}

// catchUp folds and saves, if the log moved on since the last save.
func (w *Wallet) catchUp() error {
	if err := w.fold(); err != nil {
		return err
	}
	if w.h.Seen == w.saved {
		return nil
	}
	return w.save()
}

func (w *Wallet) save() error {
	if err := w.h.save(w.dir, w.hook); err != nil {
		return err
	}
	w.saved = w.h.Seen
	return nil
}

// Flush saves the history; call it before closing the wallet.
func (w *Wallet) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.fold(); err != nil {
		return err
	}
	return w.save()
}

// SE returns the wallet's secure element.
func (w *Wallet) SE() se.SE { return w.se }

// Enrol creates the SE's enrolment request for account, has the ledger
// certify it and installs the certificate and trust anchors.
func (w *Wallet) Enrol(ctx context.Context, account string) error {
	if w.led == nil {
		return ErrOffline
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	req, err := w.se.Enrol(account, w.clock())
	if err != nil {
		return err
	}
	e, err := w.led.Enrol(ctx, req)
	if err != nil {
		return err
	}
	a := se.Anchors{Roots: []*protocol.Certificate{e.Root}, Issuers: []*protocol.Certificate{e.Issuer}}
	return w.se.Install(e.Device, a, e.RevList)
}

// Reserve moves amount from the account into the purse. An interrupted
// reserve is retried with the same request ID, so the ledger debits once.
func (w *Wallet) Reserve(ctx context.Context, amount uint64) error {
	if w.led == nil {
		return ErrOffline
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h.Reserve == nil || w.h.Reserve.Amount != amount {
		pr := &pendingReserve{Amount: amount}
		if _, err := rand.Read(pr.ID[:]); err != nil {
			return err
		}
		w.h.Reserve = pr
		if err := w.save(); err != nil {
			return err
		}
	}
	rr, err := w.se.Reserve(amount, w.h.Reserve.ID, w.clock())
	if err != nil {
		return err
	}
	l, err := w.led.Reserve(ctx, rr)
	if err != nil {
		return err
	}
	if err := w.se.ApplyLoad(l); err != nil {
		st, serr := w.se.Status(w.clock())
		if serr != nil || l.Seq > st.LoadSeq {
			return err
		}
		// Applied before a crash: the retry got the same load back.
	}
	w.h.Reserve = nil
	if err := w.save(); err != nil {
		return err
	}
	return w.catchUp()
}

// Redeem moves amount from the purse back to the account: the SE debits
// and signs, and the next sync carries it to the ledger.
func (w *Wallet) Redeem(amount uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.se.Redeem(amount, w.clock()); err != nil {
		return err
	}
	return w.fold()
}

// Sync uploads the log the ledger has not acked and applies its answer:
// statuses, loads, revocation list, and a fresh offline allowance.
func (w *Wallet) Sync(ctx context.Context) error {
	if w.led == nil {
		return ErrOffline
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Fold every entry before the SE may prune it.
	if err := w.catchUp(); err != nil {
		return err
	}
	for {
		st, err := w.se.Status(w.clock())
		if err != nil {
			return err
		}
		u, err := w.se.SyncUpload(st.Acked+1, w.clock())
		if err != nil {
			return err
		}
		res, err := w.led.Sync(ctx, u)
		if err != nil {
			return err
		}
		// History first: if the SE write below is lost, the next sync
		// gets the same answer again.
		w.h.settle(res)
		if err := w.h.archive(w.dir, w.keep); err != nil {
			return err
		}
		if err := w.save(); err != nil {
			return err
		}
		if err := w.se.ApplySyncResult(res); err != nil {
			return err
		}
		if err := w.catchUp(); err != nil {
			return err
		}
		if len(u.Entries) < protocol.MaxSyncEntries || res.Acked <= st.Acked {
			return nil
		}
	}
}

// History returns a copy of the history, oldest first.
func (w *Wallet) History() []Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Record(nil), w.h.Records...)
}
