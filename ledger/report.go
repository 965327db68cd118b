package ledger

import (
	"context"
	"time"

	"github.com/offpay/offpay"
)

// Report reconciles the whole ledger. Money enters through deposits and
// leaves through withdrawals (Issued); the operator adds what it loses to
// unrecovered overspend (Losses). Every unit is on an account or in a
// purse or payment in flight (Outstanding: non-negative positions and
// payments awaiting their claim); a device's deficit is either proven debt
// (covered by recoveries and losses) or unassessed exposure, value it paid
// out that nothing explains yet. So
//
//	Issued + Losses + Unassessed == Accounts + Outstanding
//
// and a deficit is never netted against purse value. ConservationOK also
// requires every account's balance to equal the sum of its statement
// lines, every proven debt to be covered exactly, and no account to hold
// more than it has.
func (s *Service) Report(ctx context.Context) (*Report, error) {
	r := &Report{Currency: s.opts.Currency, RevokedDevices: []string{}, DoubleSpends: []DoubleSpend{}, Devices: []DeviceReport{}}
	ok := true
	var c checked
	err := s.view(ctx, func(tx Tx) error {
		sums, err := tx.LineSums(ctx)
		if err != nil {
			return err
		}
		c.add(&r.Issued, sums[LineDeposit])
		c.add(&r.Issued, sums[LineWithdraw])
		var lineTotal int64
		for _, v := range sums {
			c.add(&lineTotal, v)
		}
		accts, err := tx.Accounts(ctx)
		if err != nil {
			return err
		}
		var cover int64
		for _, a := range accts {
			c.add(&r.Accounts, a.Balance)
			c.add(&r.Losses, a.Lost)
			c.add(&r.Recovered, a.Recovered)
			c.add(&cover, a.Recovered)
			c.add(&cover, a.Lost)
		}
		if lineTotal != r.Accounts {
			ok = false
		}
		// Every online payment debited its payer here, or credited its
		// payee here, or both, by its amount (across providers, the other
		// side is a clearing position).
		ot, err := tx.OnlineTotals(ctx)
		if err != nil {
			return err
		}
		r.OnlinePayments, r.Online = ot.Count, ot.Value
		if sums[LineOnlineOut] != -ot.Paid || sums[LineOnlineIn] != ot.Received {
			ok = false
		}
		devs, err := tx.AllDevices(ctx)
		if err != nil {
			return err
		}
		var debt int64
		exposure := map[string]int64{} // account -> its devices' unassessed deficits
		for i := range devs {
			d := &devs[i]
			pos := position(d)
			un := unassessed(d)
			switch {
			case foreign(d):
				c.add(&r.Clearing, pos)
				un = 0
			case pos > 0:
				c.add(&r.Outstanding, pos)
			case un > 0:
				c.add(&r.Unassessed, un)
				exposure[d.Account] += un // at most Unassessed
			default:
				c.add(&debt, -pos)
			}
			status := "active"
			if d.Revoked {
				status = "revoked"
				r.RevokedDevices = append(r.RevokedDevices, d.ID.String())
			}
			dr := DeviceReport{Device: d.ID.String(), Account: d.Account, Loaded: d.Loaded, Sent: d.Sent, Received: d.Received,
				Redeemed: d.Redeemed, Swept: d.Swept, Drawn: d.Drawn, Restored: d.Restored, Forfeit: d.Forfeit, Position: pos, LastSeen: time.Unix(int64(d.LastSeen), 0).UTC(), Unassessed: un, Acked: d.Acked, Status: status, Reason: d.Reason}
			if un > 0 && d.AssessBy > 0 {
				t := time.Unix(int64(d.AssessBy), 0).UTC()
				dr.AssessBy = &t
			}
			r.Devices = append(r.Devices, dr)
		}
		if debt != cover {
			ok = false
		}
		refundable, err := tx.Refundable(ctx, nil)
		if err != nil {
			return err
		}
		if r.Released, err = tx.ReleasedSales(ctx); err != nil {
			return err
		}
		for _, a := range accts {
			c.add(&r.Refundable, refundable[a.Name])
			c.add(&r.Held, min(a.Balance, exposure[a.Name]+min(refundable[a.Name], a.Balance)))
		}
		// Payments awaiting their claim left their payer's purse but sit
		// in no other: they are outstanding too.
		var pending int64
		if r.Settled, pending, err = tx.PaymentTotals(ctx); err != nil {
			return err
		}
		c.add(&r.Outstanding, pending)
		if r.Outbox, err = outboxStats(ctx, tx); err != nil {
			return err
		}
		behind, err := tx.Behind(ctx)
		if err != nil {
			return err
		}
		if at, err := restoredAt(ctx, tx); err != nil {
			return err
		} else if at > 0 {
			t := time.Unix(int64(at), 0).UTC()
			r.RestoredAt = &t
		}
		for _, b := range behind {
			r.Behind = append(r.Behind, BehindDevice{Device: b.Device.String(), Acked: b.Acked, Held: b.Held,
				ResultTime: time.Unix(int64(b.ResultTime), 0).UTC()})
		}
		proofs, err := tx.Proofs(ctx)
		if err != nil {
			return err
		}
		for _, p := range proofs {
			r.DoubleSpends = append(r.DoubleSpends, DoubleSpend{Kind: p.Kind, Device: p.Device.String(), Counter: p.Counter,
				EntryA: p.EntryA, EntryB: p.EntryB, FoundAt: time.Unix(0, p.FoundAt).UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, offpay.Errorf(offpay.ELIMIT, "a reconciliation total leaves the int64 range: %v", c.err)
	}
	left, err1 := offpay.AddMinor(r.Issued, r.Losses)
	left, err2 := offpay.AddMinor(left, r.Unassessed)
	right, err3 := offpay.AddMinor(r.Accounts, r.Outstanding)
	if err3 == nil {
		right, err3 = offpay.AddMinor(right, r.Clearing)
	}
	// A ledger behind its devices has lost part of what it must account
	// for: its figures do not add up to the truth until they re-upload.
	r.ConservationOK = ok && err1 == nil && err2 == nil && err3 == nil && left == right && len(r.Behind) == 0
	return r, nil
}

// checked adds with overflow checks; the first overflow sticks in err.
type checked struct{ err error }

func (c *checked) add(x *int64, v int64) {
	if c.err != nil {
		return
	}
	var err error
	if *x, err = offpay.AddMinor(*x, v); err != nil {
		c.err = err
	}
}
