package ledger

import (
	"context"
	"time"

	"github.com/offpay/offpay"
)

// Report reconciles the whole ledger. Money enters through deposits and
// leaves through withdrawals (Issued); the operator adds what it loses to
// unrecovered overspend (Losses). Every unit is either on an account or
// in a purse (Outstanding: device positions with overspends covered), so
//
//	Issued + Losses == Accounts + Outstanding
//
// ConservationOK also requires every account's balance to equal the sum of
// its statement lines and every overspend to be exactly covered.
func (s *Service) Report(ctx context.Context) (*Report, error) {
	r := &Report{Currency: s.opts.Currency, RevokedDevices: []string{}, DoubleSpends: []DoubleSpend{}, Devices: []DeviceReport{}}
	ok := true
	err := s.view(ctx, func(tx Tx) error {
		sums, err := tx.LineSums(ctx)
		if err != nil {
			return err
		}
		r.Issued = sums[LineDeposit] + sums[LineWithdraw]
		var lineTotal int64
		for _, v := range sums {
			lineTotal += v
		}
		accts, err := tx.Accounts(ctx)
		if err != nil {
			return err
		}
		var cover int64
		for _, a := range accts {
			r.Accounts += a.Balance
			r.Losses += a.Lost
			r.Recovered += a.Recovered
			cover += a.Recovered + a.Lost
		}
		if lineTotal != r.Accounts {
			ok = false
		}
		devs, err := tx.AllDevices(ctx)
		if err != nil {
			return err
		}
		var debt int64
		for i := range devs {
			d := &devs[i]
			pos := position(d)
			r.Outstanding += pos
			if pos < 0 && assessable(d) {
				debt -= pos
			}
			status := "active"
			if d.Revoked {
				status = "revoked"
				r.RevokedDevices = append(r.RevokedDevices, d.ID.String())
			}
			r.Devices = append(r.Devices, DeviceReport{Device: d.ID.String(), Account: d.Account, Loaded: d.Loaded,
				Sent: d.Sent, Received: d.Received, Redeemed: d.Redeemed, Swept: d.Swept, Position: pos, Acked: d.Acked, Status: status})
		}
		if debt != cover {
			ok = false
		}
		// Payments to payees not yet enrolled left their payer's purse
		// but sit in no other: they are outstanding too.
		var pending int64
		if r.Settled, pending, err = tx.PaymentTotals(ctx); err != nil {
			return err
		}
		r.Outstanding += pending + cover
		proofs, err := tx.Proofs(ctx)
		if err != nil {
			return err
		}
		for _, p := range proofs {
			r.DoubleSpends = append(r.DoubleSpends, DoubleSpend{Device: p.Device.String(), Counter: p.Counter,
				EntryA: p.EntryA, EntryB: p.EntryB, FoundAt: time.Unix(0, p.FoundAt).UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	left, err1 := offpay.AddMinor(r.Issued, r.Losses)
	right, err2 := offpay.AddMinor(r.Accounts, r.Outstanding)
	r.ConservationOK = ok && err1 == nil && err2 == nil && left == right
	return r, nil
}
