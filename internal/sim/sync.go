package sim

import (
	"errors"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// sync uploads a device's log and applies the answer, in chunks as long
// as the log needs.
func (w *world) sync(d int) error {
	if !w.usable(d) {
		return nil
	}
	dv := w.devs[d]
	if dv.f != nil {
		return w.forgerSync(d)
	}
	var from uint64 // where the ledger wants the log from, once it is found behind (regress.go)
	for range 100 {
		st, err := dv.se.Status(uint64(w.now))
		if err != nil {
			return err
		}
		since := st.Acked + 1
		if from > 0 {
			since = from
		}
		up, err := dv.se.SyncUpload(since, uint64(w.now))
		if se.CodeOf(err) == se.CodeLogPruned {
			if w.honest(d) {
				w.violate("honest-stranded", "the ledger lost %s's log from counter %d, which its SE no longer keeps: %v", w.name(d), since, err)
			}
			w.count("sync: ledger lost entries the SE no longer keeps")
			return nil
		}
		if err != nil {
			return err
		}
		res, err := w.svc.Sync(w.ctx, up)
		if acked, ok := behindAt(err); ok && acked+1 < since {
			// The ledger went back in time: show it the evidence and
			// upload again from its counter.
			w.count("sync: ledger behind")
			w.evidence(d)
			from = acked + 1
			continue
		}
		if err != nil {
			if w.honest(d) && !dv.reported {
				w.violate("honest-refused", "the ledger refused %s's upload: %s (%v)", w.name(d), code(err), err)
			}
			w.count("sync: refused " + code(err))
			return nil
		}
		if res.Acked < st.Acked {
			// It acknowledges less than it did: its answer rests on what
			// it lost, so it is not applied.
			w.count("sync: ledger acknowledges less")
			w.evidence(d)
			from = res.Acked + 1
			continue
		}
		w.synced(d, up, res)
		if err := dv.se.ApplySyncResult(res); err != nil {
			if w.honest(d) {
				w.violate("honest-refused", "%s's SE refused the ledger's answer: %s", w.name(d), code(err))
			}
			return nil
		}
		w.lastResult(d, res)
		from = 0
		if len(up.Entries) < protocol.MaxSyncEntries || res.Acked <= since-1 {
			break
		}
	}
	return nil
}

// forgerSync uploads a forger's log. A ledger found behind gets the
// forger's evidence and its log again from its counter, once.
func (w *world) forgerSync(d int) error {
	dv := w.devs[d]
	for try := 0; try < 2; try++ {
		up := dv.f.upload(w.now)
		res, err := w.svc.Sync(w.ctx, up)
		if acked, ok := behindAt(err); ok && acked < dv.f.acked && try == 0 {
			w.count("sync: ledger behind")
			w.evidence(d)
			dv.f.acked = acked
			continue
		}
		if err != nil {
			w.count("sync: refused " + code(err))
			return nil
		}
		w.synced(d, up, res)
		dv.f.apply(res, w.now)
		w.lastResult(d, res)
		return nil
	}
	return nil
}

// synced records an applied upload (for replays) and checks the answer:
// a payment whose payer's SE recorded the payee's receipt was accepted by
// the payee's SE, so it must never come back expired (refunded).
func (w *world) synced(d int, up *protocol.SyncUpload, res *protocol.SyncResult) {
	w.count("sync")
	if len(w.uploads) == maxReplay {
		w.uploads = w.uploads[1:]
	}
	w.uploads = append(w.uploads, up)
	for _, st := range res.Statuses {
		i, ok := w.payIdx[st.Payment]
		if !ok || st.Status != protocol.StatusExpired {
			continue
		}
		p := w.pays[i]
		if p.confirmed && w.honest(p.payer) {
			w.violate("receipt-ignored", "%s's payment of %s to %s came back expired (refunded), though %s holds %s's receipt",
				w.name(p.payer), money(p.amount), w.name(p.payee), w.name(p.payer), w.name(p.payee))
		}
	}
}

// replayUpload sends an upload the ledger applied before once more: the
// ledger's figures must not move.
func (w *world) replayUpload(sel int64) error {
	if len(w.uploads) == 0 {
		return nil
	}
	up := w.uploads[sel%int64(len(w.uploads))]
	before, err := w.svc.Report(w.ctx)
	if err != nil {
		return err
	}
	_, err = w.svc.Sync(w.ctx, up)
	if err != nil && errors.Is(err, protocol.ErrRevoked) {
		w.count("replay-upload: revoked")
	} else {
		w.count("replay-upload")
	}
	after, err := w.svc.Report(w.ctx)
	if err != nil {
		return err
	}
	b, a := figures(before), figures(after)
	if a != b {
		w.violate("replay-changed", "replaying an applied upload of %s moved the ledger: %v -> %v", w.name(w.byKey[up.Device]), b, a)
	}
	return nil
}
