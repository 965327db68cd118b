package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"

	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Recovery from a ledger that went back in time (README.md "Operating
// the ledger"): a restored backup, or a power loss that took commits the
// ledger had acknowledged. Devices then hold logs the ledger acknowledged
// and no longer has. Their SEs keep acknowledged entries for the claim
// window (vse archive), so:
//
//   - An upload that starts beyond the ledger's counter for the device is
//     answered EBEHIND with that counter (BehindError); the device uploads
//     again from there, and the ledger settles that history as new:
//     payments, claims, redeems, expiries, exactly once as always.
//   - A load entry whose Load the ledger signed but no longer holds is
//     restored: its row again, the account debited again (the debit went
//     with the lost commits). If the ledger has meanwhile reissued that
//     sequence number for another reservation (which the device refuses
//     as a conflict, recognising loads by content), that load is given the
//     next free number and signed again, so it reaches the device at its
//     next sync.
//   - A device's last sync result, signed by this ledger and naming a
//     counter the ledger no longer holds, is evidence of the regression
//     (Acknowledged): the report says "ledger behind devices" and does not
//     call conservation HOLDS until each such device has uploaded again,
//     or is revoked (reported lost, or refused for an equivocation its
//     upload proves): its log comes back no further, and its payments
//     reach the ledger from their payees.

//   - A restored ledger lost the sync results that gave devices later
//     ledger times, and with them the start of their offline lives: a
//     payee uploading a payment a device made in such a life, before the
//     device gives back its log, found its deficit's deadline (counted from
//     the last ledger time the restored ledger knew) passed and revoked an
//     honest device. Restored records the moment of the restore; every
//     deadline counts from no earlier than it (deadline): the lost results
//     were all signed before it.

// metaRestoredAt is the meta key of the ledger time (Unix seconds) of the
// last restore.
const metaRestoredAt = "restored_at"

// Restored records that the ledger's database was just put back to an
// earlier state (a backup or a replica restored: offpay ledger restore):
// devices may have been given ledger times up to now in what it lost.
func (s *Service) Restored(ctx context.Context) error {
	return s.update(ctx, func(tx Tx) error { return MarkRestored(ctx, tx, s.now()) })
}

// MarkRestored is Restored inside tx, at ledger time at (the restore
// command, which runs no Service).
func MarkRestored(ctx context.Context, tx Tx, at time.Time) error {
	return tx.PutMeta(ctx, metaRestoredAt, []byte(strconv.FormatInt(at.Unix(), 10)))
}

// restoredAt is the ledger time of the last restore (0: none).
func restoredAt(ctx context.Context, tx Tx) (uint64, error) {
	v, err := tx.Meta(ctx, metaRestoredAt)
	if err != nil || v == nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, offpay.Errorf(offpay.EINTERNAL, "meta %s: %v", metaRestoredAt, err)
	}
	return n, nil
}

// BehindError is the answer to an upload that starts beyond the entries
// the ledger holds of its device.
type BehindError struct {
	Device protocol.KeyID
	Acked  uint64 // the last counter the ledger holds: upload from Acked+1
	First  uint64 // where the upload started
}

func (b *BehindError) Error() string {
	return fmt.Sprintf("the ledger holds device %v's log up to counter %d only, the upload starts at %d: upload again from %d",
		b.Device, b.Acked, b.First, b.Acked+1)
}

// LedgerHolds reports the last counter the ledger holds (wallet.Behind).
func (b *BehindError) LedgerHolds() (uint64, bool) { return b.Acked, true }

func behind(d *DeviceRow, first uint64) error {
	b := &BehindError{Device: d.ID, Acked: d.Acked, First: first}
	return &offpay.Error{Code: offpay.EBEHIND, Message: b.Error(), Err: b}
}

// checkLoads checks the load entries of the new entries against the loads
// the ledger issued. Every Load in an upload verified under the issuer key
// (verify.go), so it is one this ledger signed: if the ledger no longer
// holds it, or holds another load under its number, it lost data, and
// the load is restored (finish) rather than refused.
func (st *settlement) checkLoads(ctx context.Context, d *DeviceRow, news []upEntry) error {
	for i := range news {
		ue := &news[i]
		if ue.load == nil {
			continue
		}
		row, err := st.tx.Load(ctx, d.ID, ue.load.Seq)
		if err != nil {
			return err
		}
		if row != nil && string(row.Data) == string(ue.e.Body) {
			continue
		}
		if row != nil {
			// Reissued after the loss: that reservation moves to a number
			// the device has not used (restoreLoads).
			ue.reissued = row
		}
		st.lost = append(st.lost, ue)
	}
	return nil
}

// restoreLoads gives back the loads the ledger lost: each reissued number
// moves to the next free one, each lost load is recorded again and its
// reservation debited from the account again (as far as the balance goes:
// the rest is forfeit, value the SE holds that the position does not
// count). It returns the debits to post, by account.
func (st *settlement) restoreLoads(ctx context.Context, d *DeviceRow) (map[string]int64, error) {
	if len(st.lost) == 0 {
		return nil, nil
	}
	s := st.s
	top := d.LoadSeq
	for _, ue := range st.lost {
		top = max(top, ue.load.Seq)
	}
	for _, ue := range st.lost {
		r := ue.reissued
		if r == nil {
			continue
		}
		var l protocol.Load
		if err := protocol.Unmarshal(r.Data, &l); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "stored load: %w", err)
		}
		top++
		l.Seq, l.Time, l.Sig = top, uint64(st.nowSec), nil
		if err := l.Sign(s.keys.IssuerKey); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "signing load: %w", err)
		}
		moved := *r
		moved.Seq, moved.Data = top, l.Marshal()
		if err := st.tx.MoveLoad(ctx, r.Seq, &moved); err != nil {
			return nil, err
		}
	}
	d.LoadSeq = top
	debits := map[string]int64{}
	for _, ue := range st.lost {
		var id protocol.Nonce
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("offpay restored load "+d.ID.String()), ue.load.Seq))
		copy(id[:], h[:])
		row := &LoadRow{Device: d.ID, Seq: ue.load.Seq, RequestID: id, Amount: int64(ue.load.Amount), Data: ue.e.Body, CreatedAt: st.now}
		if err := st.tx.InsertLoad(ctx, row); err != nil {
			return nil, err
		}
		var err error
		if debits[d.Account], err = offpay.AddMinor(debits[d.Account], row.Amount); err != nil {
			return nil, err
		}
	}
	return debits, nil
}

// debitRestored posts the debit of restored loads on a (the account of
// d), as far as its balance goes; the device's Loaded grows by what was
// debited and its Forfeit by the rest.
func (st *settlement) debitRestored(ctx context.Context, tx Tx, a *AccountRow, d *DeviceRow, amount int64) error {
	take := min(a.Balance, amount)
	var err error
	if d.Loaded, err = offpay.AddMinor(d.Loaded, take); err != nil {
		return err
	}
	if d.Forfeit, err = offpay.AddMinor(d.Forfeit, amount-take); err != nil {
		return err
	}
	if take == 0 {
		return nil
	}
	return st.s.post(ctx, tx, a, LineReserve, -take, fmt.Sprintf("restored:%v:%d", d.ID, d.LoadSeq))
}

// Acknowledged takes a device's last sync result, which this ledger
// signed, as evidence: if it acknowledges more of the device's log than
// the ledger holds, the ledger lost data, and the report says so (and
// does not call conservation HOLDS) until the device has uploaded that
// part again. It reports whether the ledger is behind the device. A
// result not signed by this ledger's issuer is refused (EUNAUTHORIZED);
// an old one changes nothing.
func (s *Service) Acknowledged(ctx context.Context, res *protocol.SyncResult) (bool, error) {
	var r protocol.SyncResult
	if err := protocol.Unmarshal(res.Marshal(), &r); err != nil {
		return false, invalid("sync result: %v", err)
	}
	if r.Signer != s.keys.Issuer.ID() || r.Verify(s.keys.Issuer) != nil {
		return false, offpay.Errorf(offpay.EUNAUTHORIZED, "the sync result is not signed by this ledger")
	}
	ahead := false
	err := s.update(ctx, func(tx Tx) error {
		m, err := tx.Devices(ctx, []protocol.KeyID{r.Device})
		if err != nil {
			return err
		}
		d := m[r.Device]
		if d == nil {
			// The ledger signed a result for a device it does not know:
			// its enrolment is among what it lost.
			return offpay.Errorf(offpay.ENOTFOUND, "device %v is not enrolled here, though this ledger acknowledged its log: restore the backup that holds it", r.Device)
		}
		if ahead = r.Acked > d.Acked; !ahead {
			return nil
		}
		return tx.PutBehind(ctx, d.ID, r.Acked, r.Time, s.now().UnixNano())
	})
	return ahead, err
}
