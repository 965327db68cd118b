package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Reserve moves money from the device's account into its purse: it debits
// the account at once and returns a Load signed for the device's SE. A
// repeated RequestID with the same amount returns the same Load without a
// second debit; with another amount it is a conflict.
func (s *Service) Reserve(ctx context.Context, req *protocol.ReserveRequest) (*protocol.Load, error) {
	var r protocol.ReserveRequest
	if err := protocol.Unmarshal(req.Marshal(), &r); err != nil {
		return nil, invalid("reserve request: %v", err)
	}
	if r.Currency != s.opts.Currency {
		return nil, invalid("currency %s, ledger holds %s", r.Currency, s.opts.Currency)
	}
	amount := int64(r.Amount) // Unmarshal checked Amount <= MaxInt64
	var load *protocol.Load
	err := s.update(ctx, func(tx Tx) error {
		info, err := s.device(ctx, tx, r.Device)
		if err != nil {
			return err
		}
		if info == nil || isForeign(info.account) {
			return offpay.Errorf(offpay.EUNAUTHORIZED, "device %v is not enrolled", r.Device)
		}
		if err := r.Verify(info.cert); err != nil {
			return offpay.Errorf(offpay.EUNAUTHORIZED, "reserve request is not signed by device %v", r.Device)
		}
		if old, err := tx.LoadByRequest(ctx, r.Device, r.RequestID); err != nil {
			return err
		} else if old != nil {
			if old.Amount != amount {
				return offpay.Errorf(offpay.ECONFLICT, "request id was used for another amount")
			}
			load = new(protocol.Load)
			return protocol.Unmarshal(old.Data, load)
		}
		m, err := tx.Devices(ctx, []protocol.KeyID{r.Device})
		if err != nil {
			return err
		}
		d := m[r.Device]
		if d.Revoked {
			return revoked(d.ID)
		}
		cert, err := currentCert(d) // the cache may predate a renewal
		if err != nil {
			return err
		}
		if uint64(s.now().Unix()) >= cert.NotAfter {
			return offpay.Errorf(offpay.EFORBIDDEN, "device certificate expired: sync to renew it")
		}
		if cert.Limits.PerPayment == 0 {
			// A receive-only device (a merchant terminal): its SE pays
			// nothing, so a load would only strand money in its purse.
			return offpay.Errorf(offpay.ELIMIT, "device %v is receive-only (its certificate allows no payment): it cannot reserve", d.ID)
		}
		if hold := int64(cert.Limits.Holding); amount > hold-max(position(d), 0) {
			return offpay.Errorf(offpay.ELIMIT, "the purse would exceed its holding limit of %s", money(hold, s.opts.Currency))
		}
		a, err := mustAccount(ctx, tx, d.Account)
		if err != nil {
			return err
		}
		if a.Frozen {
			return offpay.Errorf(offpay.EFORBIDDEN, "account %q is frozen", a.Name)
		}
		if a.Balance < amount {
			return offpay.Errorf(offpay.ELIMIT, "insufficient funds: %s requested, %s in the account", money(amount, s.opts.Currency), money(a.Balance, s.opts.Currency))
		}
		if avail, _, err := free(ctx, tx, a); err != nil {
			return err
		} else if avail < amount {
			return heldError(a, amount, avail, s.opts.Currency)
		}
		d.LoadSeq++
		load = &protocol.Load{Version: protocol.Version, Device: d.ID, Seq: d.LoadSeq, Amount: r.Amount,
			Currency: s.opts.Currency, Time: uint64(s.now().Unix()), Signer: s.keys.Issuer.ID()}
		if err := load.Sign(s.keys.IssuerKey); err != nil {
			return offpay.Errorf(offpay.EINTERNAL, "signing load: %w", err)
		}
		if err := tx.InsertLoad(ctx, &LoadRow{Device: d.ID, Seq: d.LoadSeq, RequestID: r.RequestID, Amount: amount,
			Data: load.Marshal(), CreatedAt: s.now().UnixNano()}); err != nil {
			return err
		}
		if d.Loaded, err = offpay.AddMinor(d.Loaded, amount); err != nil {
			return err
		}
		if err := tx.UpdateDevice(ctx, d); err != nil {
			return err
		}
		if err := s.post(ctx, tx, a, LineReserve, -amount, fmt.Sprintf("load:%v:%d", d.ID, d.LoadSeq)); err != nil {
			return err
		}
		if err := s.cover(ctx, tx, a); err != nil {
			return err
		}
		return tx.UpdateAccount(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return load, nil
}
