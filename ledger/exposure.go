package ledger

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Exposure, holds and deadlines (README.md "Exposure"). A device's
// position (loaded + received - sent - redeemed - swept) goes below zero
// when the ledger knows payments it made but not yet everything that
// funded them: its payees uploaded first. Whether that deficit is an
// overspend is known only once its own log has been seen up to every
// payment it is known to have made (assessable). Until then the deficit
// is unassessed exposure:
//
//   - it is reported on its own line, never netted against purse value;
//   - the device's account is held for it: its balance cannot be withdrawn
//     or reserved below the sum of its devices' unassessed deficits;
//   - it becomes final at the device's assessment deadline, fixed when
//     the deficit first appears: the last ledger time the device was given
//     (LastSeen), plus the longest offline life any of its certificates
//     allowed, plus the claim window. By then an honest SE has stopped
//     paying and every honest payee has stopped accepting its payments, so
//     syncing (or never syncing) cannot postpone it. At the deadline the
//     device is revoked, its account frozen, and the deficit becomes debt:
//     recovered from the account, the rest a loss (cover). Receipts that
//     surface later still explain it: the recovery is refunded as the
//     debt shrinks.
//
// A deficit that the device's own log proves (assessable, and not only
// the value of received payments the ledger had already returned to
// their payers) is an overspend by a broken or cloned SE: the device is
// revoked and its account frozen at once.

// unassessed is a device's deficit while nothing proves it an overspend.
func unassessed(d *DeviceRow) int64 {
	if p := position(d); p < 0 && !assessable(d) && !foreign(d) {
		return -p
	}
	return 0
}

// held is the part of an account's balance that backs its devices'
// unassessed deficits and its refundable sales (refunds.go).
func held(a *AccountRow, devs []DeviceRow, refundable int64) int64 {
	sum := min(refundable, a.Balance)
	for i := range devs {
		sum += unassessed(&devs[i]) // positions are bounded by int64 sums already checked
		if sum >= a.Balance {
			return a.Balance
		}
	}
	return sum
}

// free returns how much of a's balance may leave it (withdrawal,
// reservation): what is not held for its devices' unassessed deficits or
// the refunds of its sales; and the refundable sales.
func free(ctx context.Context, tx Tx, a *AccountRow) (avail, refundable int64, err error) {
	devs, err := tx.DevicesOf(ctx, a.Name)
	if err != nil {
		return 0, 0, err
	}
	if a.Merchant {
		r, err := tx.Refundable(ctx, []string{a.Name})
		if err != nil {
			return 0, 0, err
		}
		refundable = r[a.Name]
	}
	return a.Balance - held(a, devs, refundable), refundable, nil
}

// heldError is the error for money that is held.
func heldError(a *AccountRow, amount, avail int64, cur string) error {
	why := "until its devices' payments are explained: sync them"
	if a.Merchant {
		why = "for its devices' refundable sales, and until their payments are explained: sync them"
	}
	return offpay.Errorf(offpay.ELIMIT, "account %q: %s requested, %s free (%s held %s)",
		a.Name, money(amount, cur), money(max(avail, 0), cur), money(a.Balance-max(avail, 0), cur), why)
}

// deadline is the ledger time at which d's unexplained deficit becomes
// final: by then an honest SE has stopped paying (MaxOfflineDays after the
// last ledger time it was given) and honest payees have stopped accepting
// its payments (the claim window).
//
// floor is the ledger time of the last restore (recovery.go): the ledger
// may have given d any ledger time up to it in what the restore lost.
func deadline(d *DeviceRow, floor uint64) (uint64, error) {
	c, err := currentCert(d)
	if err != nil {
		return 0, err
	}
	days := max(c.Limits.MaxOfflineDays, d.MaxDays)
	t := max(d.LastSeen, floor)
	for _, add := range []uint64{min(days, 1<<32) * 24 * 3600, protocol.ClaimWindow} {
		if t > ^uint64(0)-add {
			return ^uint64(0), nil
		}
		t += add
	}
	return t, nil
}

// restoreFloor raises d's deadline, if set, to one counted from the last
// restore when it is earlier: a deadline stored before the restore was
// counted from what the ledger knew then, and the restore lost the sync
// results that may have given d a later offline life (storetest
// AttackRestoredOldDeadline). It reports whether it raised it.
func restoreFloor(d *DeviceRow, restored uint64) (bool, error) {
	if restored == 0 || d.AssessBy == 0 {
		return false, nil
	}
	from := *d
	from.LastSeen = 0 // counted from the restore alone
	t, err := deadline(&from, restored)
	if err != nil || t <= d.AssessBy {
		return false, err
	}
	d.AssessBy = t
	return true, nil
}

// Revocation reasons of the money-safety rules.
func reasonOwnLog(pos int64) string {
	return fmt.Sprintf("broken SE: its own log shows an overspend of %d", -pos)
}

func reasonDeadline(deficit int64, at uint64) string {
	return fmt.Sprintf("unexplained deficit of %d at its assessment deadline %s", deficit, time.Unix(int64(at), 0).UTC().Format(time.RFC3339))
}

func reasonImplausible(counter, acked uint64) string {
	return fmt.Sprintf("broken SE: payment counter %d beyond what it could reach since counter %d", counter, acked)
}

// exposure applies the money-safety rules to every device the settlement
// changed, before they are saved: an overspend its own log proves revokes
// it; an unexplained deficit gets its deadline (once) and is assessed if
// the deadline has passed; a device in no deficit loses its deadline.
func (st *settlement) exposure(ctx context.Context) error {
	ids := make([]protocol.KeyID, 0, len(st.dirty))
	for id := range st.dirty {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs) // revocations in a fixed order
	for _, id := range ids {
		d := st.devs[id]
		if d == nil || d.Revoked || foreign(d) {
			continue
		}
		pos := position(d)
		switch {
		case pos >= 0:
			d.AssessBy = 0
		case assessable(d):
			if pos+d.Forfeit < 0 {
				if err := st.s.revoke(ctx, st.tx, d, reasonOwnLog(pos+d.Forfeit), true); err != nil {
					return err
				}
			}
			d.AssessBy = 0
		default:
			if reason, err := st.beyondLimits(ctx, d); err != nil {
				return err
			} else if reason != "" {
				if err := st.s.revoke(ctx, st.tx, d, reason, true); err != nil {
					return err
				}
				continue
			}
			if d.AssessBy == 0 {
				if !st.restoredRead {
					r, err := restoredAt(ctx, st.tx)
					if err != nil {
						return err
					}
					st.restored, st.restoredRead = r, true
				}
				t, err := deadline(d, st.restored)
				if err != nil {
					return err
				}
				d.AssessBy = max(t, 1)
			}
			if d.AssessBy <= uint64(st.nowSec) {
				if !st.restoredRead {
					r, err := restoredAt(ctx, st.tx)
					if err != nil {
						return err
					}
					st.restored, st.restoredRead = r, true
				}
				if _, err := restoreFloor(d, st.restored); err != nil {
					return err
				}
			}
			if d.AssessBy <= uint64(st.nowSec) {
				if err := st.s.revoke(ctx, st.tx, d, reasonDeadline(-pos, d.AssessBy), true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// beyondLimits returns a revocation reason if the payments d is known to
// have made since the last counter the ledger acknowledged are more, or
// worth more, than its offline limits allow: an honest SE frees its
// offline count and value only when a sync result acknowledges its
// payments, so no honest SE can sign them. This catches a key taken out
// of an SE (which the SE's own limits no longer bind) as soon as its
// payees' uploads reach the ledger, long before its deadline. "" if not.
func (st *settlement) beyondLimits(ctx context.Context, d *DeviceRow) (string, error) {
	c, err := currentCert(d)
	if err != nil {
		return "", err
	}
	maxCount, maxValue := max(c.Limits.MaxOfflineCount, d.MaxCount), max(c.Limits.MaxOfflineValue, d.MaxValue)
	if d.Sent <= int64(min(maxValue, protocol.MaxAmount)) && d.MaxSent-d.Acked <= maxCount {
		// Even if every payment it ever made were unacknowledged, no limit
		// would be broken: no need to read them.
		return "", nil
	}
	ps, err := st.tx.PaymentsOf(ctx, d.ID, d.Acked+1, min(d.MaxSent, 1<<63-1))
	if err != nil {
		return "", err
	}
	var n, v uint64
	for _, p := range ps {
		n, v = n+1, v+uint64(p.Amount)
	}
	if n > maxCount || v > maxValue {
		return fmt.Sprintf("broken SE: %d payments worth %d after its acknowledged counter %d, beyond its offline limits (%d, %d)",
			n, v, d.Acked, maxCount, maxValue), nil
	}
	return "", nil
}

// Assessment says what one run of Assess did.
type Assessment struct {
	Revoked  int `json:"revoked"`  // devices whose unexplained deficit reached its deadline
	Expired  int `json:"expired"`  // payments returned to their payers because their payee can no longer claim them
	Restored int `json:"restored"` // lost devices whose value returned to their accounts (lost.go)
	Released int `json:"released"` // sales no longer held for refunds: their device stopped paying (refunds.go)
}

// assessBatch bounds the rows one Assess transaction handles.
const assessBatch = 500

// Assess does the ledger's deadline work at its clock's time; the server
// runs it periodically, and running it again is harmless.
//
//   - A device whose unexplained deficit has reached its deadline is
//     revoked, its account frozen, and the deficit recovered from the
//     account or recorded as a loss.
//   - A payment still awaiting its claim whose payee can no longer claim
//     it (revoked, or its certificate expired) returns to its payer's
//     account once the claim window after its time has passed.
//   - A sale whose merchant device never synced past its refund window is
//     no longer held for a refund once that device has stopped paying
//     (OpenSaleRow.Stale); it is released, not forgotten: a refund the
//     device signed before, uploaded later, is still funded as far as the
//     account goes.
func (s *Service) Assess(ctx context.Context) (*Assessment, error) {
	out := &Assessment{}
	for {
		n, moved := 0, 0
		err := s.update(ctx, func(tx Tx) error {
			n, moved = 0, 0
			now := s.now().Unix()
			devs, err := tx.DevicesToAssess(ctx, now, assessBatch)
			if err != nil {
				return err
			}
			restored, err := restoredAt(ctx, tx)
			if err != nil {
				return err
			}
			for i := range devs {
				d := &devs[i]
				if p := position(d); p < 0 && !assessable(d) && !foreign(d) {
					if raised, err := restoreFloor(d, restored); err != nil {
						return err
					} else if raised && d.AssessBy > uint64(now) {
						if err := tx.UpdateDevice(ctx, d); err != nil {
							return err
						}
						moved++
						continue
					}
					if err := s.revoke(ctx, tx, d, reasonDeadline(-p, d.AssessBy), true); err != nil {
						return err
					}
					n++
					continue
				}
				d.AssessBy = 0
				if err := tx.UpdateDevice(ctx, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		out.Revoked += n
		if n == 0 && moved == 0 {
			break
		}
	}
	for {
		n := 0
		err := s.update(ctx, func(tx Tx) (err error) {
			n, err = tx.CloseStaleSales(ctx, s.now().Unix(), assessBatch)
			return err
		})
		if err != nil {
			return out, err
		}
		out.Released += n
		if n < assessBatch {
			break
		}
	}
	for {
		n := 0
		err := s.update(ctx, func(tx Tx) (err error) {
			n, err = s.restoreLost(ctx, tx)
			return err
		})
		if err != nil {
			return out, err
		}
		out.Restored += n
		if n < assessBatch {
			break
		}
	}
	for {
		n := 0
		err := s.update(ctx, func(tx Tx) (err error) {
			n, err = s.expireOrphans(ctx, tx)
			return err
		})
		if err != nil {
			return out, err
		}
		out.Expired += n
		if n < assessBatch {
			break
		}
	}
	return out, nil
}

// expireOrphans returns to their payers up to assessBatch pending
// payments whose payees can no longer claim them, once their claim window
// has passed.
func (s *Service) expireOrphans(ctx context.Context, tx Tx) (int, error) {
	now := s.now().Unix()
	before := now - int64(protocol.ClaimWindow)
	ps, err := tx.PendingExpirable(ctx, before, now, assessBatch)
	if err != nil || len(ps) == 0 {
		return 0, err
	}
	st := &settlement{s: s, tx: tx, devs: map[protocol.KeyID]*DeviceRow{}, dirty: map[protocol.KeyID]bool{},
		debt0: map[protocol.KeyID]int64{}, now: s.now().UnixNano()}
	st.claimState = newClaimState(now)
	st.expReason = ExpiredNoPayee
	ids := make([]protocol.KeyID, len(ps))
	for i := range ps {
		ids[i] = ps[i].Payer
	}
	if st.devs, err = tx.Devices(ctx, ids); err != nil {
		return 0, err
	}
	for i := range ps {
		p := &ps[i]
		if err := st.expire(p); err != nil {
			return 0, err
		}
		if err := tx.SetPaymentStatus(ctx, p.Key(), p.ID, p.Status, p.Resolved); err != nil {
			return 0, err
		}
	}
	names := map[string]bool{}
	st.refundAccounts(names)
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	accts, err := tx.AccountsNamed(ctx, list)
	if err != nil {
		return 0, err
	}
	if err := st.refunds(ctx, tx, accts); err != nil {
		return 0, err
	}
	for _, a := range accts {
		if a.Lost > 0 {
			if err := s.cover(ctx, tx, a); err != nil {
				return 0, err
			}
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return 0, err
		}
	}
	return len(ps), nil
}
