package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Lost devices. The operator reports a device lost or stolen: it is
// revoked at once (payees refuse it once their revocation list names it),
// its account is not frozen (its owner is the victim). Its purse's value
// cannot be taken back from the device, but once the device can no longer
// pay (its offline deadline: the last ledger time it was given plus its
// longest offline life) and no payee can still accept its payments (the
// claim window), the ledger returns the value the device still holds by
// its position to the account (Assess), on a statement line "restored".
// Payments it made that surface later (payees that stayed offline) are
// settled as always: they lower its position below zero, a debt its
// revoked device owes, recovered from the same account (cover).

// LineRestored is the statement line of a lost device's value returned.
const LineRestored = "restored"

// Lost reports device lost: revoked now, its value returned to its
// account after its deadline. Reporting it again changes nothing.
func (s *Service) Lost(ctx context.Context, device protocol.KeyID) error {
	return s.update(ctx, func(tx Tx) error {
		m, err := tx.Devices(ctx, []protocol.KeyID{device})
		if err != nil {
			return err
		}
		d := m[device]
		if d == nil {
			return offpay.Errorf(offpay.ENOTFOUND, "device %v not found", device)
		}
		if d.RestoreBy != 0 || d.Restored != 0 {
			return nil
		}
		floor, err := restoredAt(ctx, tx)
		if err != nil {
			return err
		}
		t, err := deadline(d, floor)
		if err != nil {
			return err
		}
		d.RestoreBy = max(t, 1)
		if !d.Revoked {
			if err := s.revoke(ctx, tx, d, "lost or stolen: reported by the operator", false); err != nil {
				return err
			}
		}
		return tx.UpdateDevice(ctx, d)
	})
}

// restoreLost returns to their accounts the value of up to assessBatch
// lost devices whose deadline has passed.
func (s *Service) restoreLost(ctx context.Context, tx Tx) (int, error) {
	devs, err := tx.DevicesToRestore(ctx, s.now().Unix(), assessBatch)
	if err != nil || len(devs) == 0 {
		return 0, err
	}
	for i := range devs {
		d := &devs[i]
		pos := position(d)
		d.RestoreBy = 1<<63 - 1 // done: never again (0 would allow a second report)
		if pos > 0 {
			a, err := mustAccount(ctx, tx, d.Account)
			if err != nil {
				return 0, err
			}
			d.Restored += pos
			if err := s.post(ctx, tx, a, LineRestored, pos, fmt.Sprintf("lost:%v", d.ID)); err != nil {
				return 0, err
			}
			if a.Lost > 0 {
				if err := s.cover(ctx, tx, a); err != nil {
					return 0, err
				}
			}
			if err := tx.UpdateAccount(ctx, a); err != nil {
				return 0, err
			}
		}
		if err := tx.UpdateDevice(ctx, d); err != nil {
			return 0, err
		}
	}
	return len(devs), nil
}
