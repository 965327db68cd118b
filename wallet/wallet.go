package wallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// Ledger is the online side, as the wallet needs it: the HTTP client
// (ledgerclient, adapted in cmd/offpay) in the field; wallettest runs the
// real ledger in process for tests.
type Ledger interface {
	Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*Enrolment, error)
	// Reserve answers a repeated request ID with the same Load.
	Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error)
	Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error)
}

// TrustSource is a Ledger that can say which issuer it signs with now and
// hand over its current revocation list (the HTTP client does: GET
// /v1/trust and /v1/revocation-list). After the operator rotates the
// issuer (ledger.RotateIssuer), a wallet whose SE does not know the
// signer of a sync result or load fetches the new issuer's certificate
// and gives it to its SE, which takes it only if it chains to the root it
// pinned at enrolment.
type TrustSource interface {
	Trust(ctx context.Context) (root, issuer *protocol.Certificate, err error)
	RevocationList(ctx context.Context) (*protocol.RevocationList, error)
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
	// sealer seals the history and the archive (the SE's, if it offers
	// one): amounts, counterparties and times are for the PIN holder.
	sealer se.DataSealer
	// Recovered is set once a sync found the ledger behind this device
	// and gave it back what it had lost (recovery.go).
	Recovered bool
	// OnlineReentered counts the online payments a sync gave back to a
	// ledger that had lost them, from their receipts; OnlineReentry is the
	// last refusal of one (onlinerestore.go).
	OnlineReentered int
	OnlineReentry   error
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
	w.sealer, _ = s.(se.DataSealer)
	h, err := loadHistory(dir, w.sealer)
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
	if err := w.h.save(w.dir, w.hook, w.sealer); err != nil {
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
	retried := w.h.Reserve != nil && w.h.Reserve.Amount == amount
	if !retried {
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
	if retried && errors.Is(err, se.LimitErr(se.LimitHolding)) {
		return noRoom(err)
	}
	if err != nil {
		return err
	}
	l, err := w.led.Reserve(ctx, rr)
	if err != nil {
		return err
	}
	if err := w.learnIssuer(ctx, l.Signer, nil); err != nil {
		return err
	}
	// The SE takes the same load again as a no-op (a retry after a crash).
	err = w.se.ApplyLoad(l)
	if se.CodeOf(err) == se.CodeLoadConflict {
		// The ledger issued this number again: it lost data. A sync gives
		// it back its log and renumbers this load; then ask again.
		if err := w.sync(ctx); err != nil {
			return err
		}
		if l, err = w.led.Reserve(ctx, rr); err != nil {
			return err
		}
		err = w.se.ApplyLoad(l)
	}
	if errors.Is(err, se.LimitErr(se.LimitHolding)) {
		return noRoom(err)
	}
	if err != nil {
		return err
	}
	w.h.Reserve = nil
	if err := w.save(); err != nil {
		return err
	}
	return w.catchUp()
}

// noRoom explains a retried reserve the purse has no room for: value
// received since the interrupted attempt fills it. If that attempt reached
// the ledger, the amount has left the account and its load waits in every
// sync result until the purse has room (the SE applies it then).
func noRoom(err error) error {
	return fmt.Errorf("%w; an interrupted reserve of this amount may already have left the account: if so, it reaches the purse at a sync once the purse has room for it (pay or redeem some first)", err)
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
	return w.sync(ctx)
}

func (w *Wallet) sync(ctx context.Context) error {
	// Fold every entry before the SE may prune it.
	if err := w.catchUp(); err != nil {
		return err
	}
	var from uint64 // where the ledger wants the log from, once it is found behind
	for range 1000 {
		st, err := w.se.Status(w.clock())
		if err != nil {
			return err
		}
		since := st.Acked + 1
		if from > 0 {
			since = from
		}
		u, err := w.upload(since)
		if err != nil {
			return err
		}
		res, err := w.led.Sync(ctx, u)
		if acked, ok := behindAt(err); ok && acked+1 < since {
			w.showEvidence(ctx)
			from = acked + 1
			continue
		}
		if err != nil {
			return err
		}
		if res.Acked < st.Acked {
			// The ledger acknowledges less than it did before: it lost
			// data. Its answer rests on what it lost (statuses, loads it
			// reissued): not applied. Upload again from its counter.
			w.showEvidence(ctx)
			from = res.Acked + 1
			continue
		}
		// History first: if the SE write below is lost, the next sync
		// gets the same answer again.
		w.h.settle(res)
		if err := w.h.archive(w.dir, w.keep, w.sealer); err != nil {
			return err
		}
		if err := w.save(); err != nil {
			return err
		}
		if err := w.learnIssuer(ctx, res.Signer, &res.RevList); err != nil {
			return err
		}
		if err := w.se.ApplySyncResult(res); err != nil {
			return err
		}
		if err := w.catchUp(); err != nil {
			return err
		}
		if err := w.saveLastResult(res); err != nil {
			return err
		}
		from = 0
		if len(u.Entries) < protocol.MaxSyncEntries || res.Acked <= since-1 {
			w.reenterOnline(ctx)
			return nil
		}
	}
	return fmt.Errorf("wallet: sync did not converge")
}

// learnIssuer gives the SE the ledger's current issuer certificate when
// signer, the issuer of a sync result or load, is not the issuer of the
// device's certificate and is the ledger's current issuer: the ledger has
// rotated its issuer since this device last heard from it. rl, the
// revocation list to install with it, is fetched when nil. The SE checks
// the certificate against its pinned roots; a signer it still does not
// know is refused when the result or load is applied, as before.
func (w *Wallet) learnIssuer(ctx context.Context, signer protocol.KeyID, rl *protocol.RevocationList) error {
	cert := w.se.Certificate()
	ts, ok := w.led.(TrustSource)
	if !ok || cert == nil || cert.Issuer == signer {
		return nil
	}
	_, iss, err := ts.Trust(ctx)
	if err != nil {
		return err
	}
	if iss.ID() != signer {
		return nil
	}
	if rl == nil {
		if rl, err = ts.RevocationList(ctx); err != nil {
			return err
		}
	}
	return w.se.Install(cert, se.Anchors{Issuers: []*protocol.Certificate{iss}}, rl)
}

// History returns a copy of the history, oldest first.
func (w *Wallet) History() []Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Record(nil), w.h.Records...)
}
