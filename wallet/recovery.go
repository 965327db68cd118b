package wallet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// A ledger that lost data (a restored backup, a power loss that took its
// last commits) holds less of this device's log than it acknowledged. The
// SE keeps acknowledged entries for the claim window (vse archive); at its
// next sync the wallet finds the ledger behind, either because its upload
// is answered "behind" with the ledger's counter, or because the result
// acknowledges less than the SE knows was acknowledged. It then shows the
// ledger its last sync result (the ledger's own signed acknowledgement:
// evidence of the loss, which the operator's report shows) and uploads
// again from the ledger's counter. A load whose number the ledger issued
// again is refused by the SE (it recognises loads by content); the wallet
// syncs, which gives the ledger its load back and renumbers the new one,
// and asks for the reservation again.

// LastResultFile holds the last sync result the wallet applied (an
// envelope signed by the ledger), sealed by the SE like the history: it
// shows the device's loads and when it last synced.
const LastResultFile = "last-result"

const lastResultLabel = "wallet/last-result"

// Acknowledger is the optional part of a Ledger that takes a device's last
// sync result as evidence that the ledger is behind it.
type Acknowledger interface {
	Acknowledge(ctx context.Context, res *protocol.SyncResult) (bool, error)
}

// Behind is an error that says how much of the device's log the ledger
// holds: the ledger's "behind" answer (ledger.BehindError in process,
// ledgerclient.APIError over HTTP).
type Behind interface {
	LedgerHolds() (acked uint64, ok bool)
}

// ErrLedgerLost is returned when the ledger lost entries the SE no longer
// keeps (acknowledged longer ago than the archive holds them): the wallet
// cannot give them back.
var ErrLedgerLost = errors.New("wallet: the ledger lost entries older than this wallet keeps")

// behindAt returns the ledger's counter if err says it is behind.
func behindAt(err error) (uint64, bool) {
	var b Behind
	if errors.As(err, &b) {
		return b.LedgerHolds()
	}
	return 0, false
}

// saveLastResult keeps res as the device's evidence of what the ledger
// acknowledged.
func (w *Wallet) saveLastResult(res *protocol.SyncResult) error {
	b := protocol.Seal(res)
	if w.sealer != nil {
		var err error
		if b, err = w.sealer.SealData(lastResultLabel, b); err != nil {
			return err
		}
	}
	return atomicfile.Write(w.dir, LastResultFile, b, w.hook)
}

// lastResult is the last result saved (sealed, or a plain envelope
// written before sealing), or nil.
func (w *Wallet) lastResult() *protocol.SyncResult {
	b, err := os.ReadFile(filepath.Join(w.dir, LastResultFile))
	if err != nil {
		return nil
	}
	var r protocol.SyncResult
	if protocol.OpenAs(b, &r) == nil {
		return &r
	}
	if w.sealer == nil {
		return nil
	}
	if b, err = w.sealer.OpenData(lastResultLabel, b); err != nil || protocol.OpenAs(b, &r) != nil {
		return nil
	}
	return &r
}

// showEvidence gives the ledger the last result as evidence it is behind
// (best effort: the re-upload heals the ledger either way).
func (w *Wallet) showEvidence(ctx context.Context) {
	a, ok := w.led.(Acknowledger)
	last := w.lastResult()
	if !ok || last == nil {
		return
	}
	_, _ = a.Acknowledge(ctx, last)
	w.Recovered = true
}

// upload asks the SE for its log from since, explaining a pruned archive.
func (w *Wallet) upload(since uint64) (*protocol.SyncUpload, error) {
	u, err := w.se.SyncUpload(since, w.clock())
	if se.CodeOf(err) == se.CodeLogPruned {
		return nil, fmt.Errorf("%w: it asks from counter %d: %v", ErrLedgerLost, since, err)
	}
	return u, err
}
