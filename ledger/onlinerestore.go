package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// PresentOnlineReceipt re-enters an online payment this ledger answered
// and then lost, because its database went back to a copy older than the
// payment (a restored backup, lost last commits). rc is the receipt this
// ledger's issuer signed (a current or retired issuer of its own); the
// payer's or the payee's wallet, which keep the receipt, present it (README
// "Online payments"). A receipt of a payment the ledger holds changes
// nothing (restored false); otherwise the payment is recorded again with
// that receipt, the payer's account debited and the payee's credited, as
// when it was made (restored true).
//
// Nothing else is checked again: the ledger checked the payment when it
// signed the receipt, and honours what it signed, even for a device revoked
// or a request expired since. Refusals change nothing: EUNAUTHORIZED (not
// signed by an issuer of this ledger), EINVALID (another currency, a
// standing request), ECONFLICT (the request is recorded as paid by another
// payment), EFORBIDDEN (a payment across providers: re-entered by neither
// side yet), ELIMIT (the payer's account no longer holds the amount free:
// its owner spent the money the restore gave back; the operator settles it,
// the receipt stays the payee's evidence).
func (s *Service) PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (restored bool, err error) {
	var r protocol.OnlineReceipt
	if err := protocol.Unmarshal(rc.Marshal(), &r); err != nil {
		return false, invalid("online receipt: %v", err)
	}
	iss, ok := s.trust.Issuer(r.Signer) // this ledger's issuers, current and retired (never another provider's)
	if !ok {
		return false, offpay.Errorf(offpay.EUNAUTHORIZED, "the receipt's signer %v is no issuer of this ledger", r.Signer)
	}
	if err := r.Verify(iss); err != nil {
		return false, offpay.Errorf(offpay.EUNAUTHORIZED, "online receipt: %w", err)
	}
	if r.Currency != s.opts.Currency {
		return false, offpay.Errorf(offpay.EINVALID, "receipt in %s, this ledger holds %s: %w", r.Currency, s.opts.Currency, protocol.ErrCurrency)
	}
	if r.Nonce == (protocol.Nonce{}) || r.Amount == 0 || r.Payer == r.Payee {
		return false, invalid("not a receipt of an online payment")
	}
	amount := int64(r.Amount) // Unmarshal checked Amount <= MaxAmount
	err = s.update(ctx, func(tx Tx) error {
		restored = false
		old, err := tx.OnlinePayment(ctx, r.Payee, r.Nonce)
		if err != nil {
			return err
		}
		if old != nil {
			if old.ID != r.Payment || old.Payer != r.Payer || old.Amount != amount {
				return offpay.Errorf(offpay.ECONFLICT, "the request is recorded as paid by another online payment")
			}
			return nil
		}
		m, err := tx.Devices(ctx, []protocol.KeyID{r.Payer, r.Payee})
		if err != nil {
			return err
		}
		d, pd := m[r.Payer], m[r.Payee]
		if d == nil || pd == nil {
			return offpay.Errorf(offpay.ENOTFOUND, "payer or payee device unknown to this ledger")
		}
		if foreign(d) || foreign(pd) {
			return offpay.Errorf(offpay.EFORBIDDEN, "an online payment across providers is not re-entered from a receipt yet")
		}
		a, err := mustAccount(ctx, tx, d.Account)
		if err != nil {
			return err
		}
		b, err := mustAccount(ctx, tx, pd.Account)
		if err != nil {
			return err
		}
		if avail, _, err := free(ctx, tx, a); err != nil {
			return err
		} else if avail < amount {
			return offpay.Errorf(offpay.ELIMIT, "%w: the receipt's %s cannot be re-entered, account %q holds %s free (the operator settles it)",
				ErrInsufficientFunds, money(amount, s.opts.Currency), a.Name, money(avail, s.opts.Currency))
		}
		row := &OnlineRow{Payee: r.Payee, Nonce: r.Nonce, ID: r.Payment, Payer: r.Payer,
			PayerAccount: a.Name, PayeeAccount: b.Name, Amount: amount, Receipt: r.Marshal(), CreatedAt: s.now().UnixNano()}
		ref := fmt.Sprintf("online:%v", r.Payment)
		if err := s.postFor(ctx, tx, a, LineOnlineOut, -amount, ref, []string{r.Payment.String()}); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if err := tx.InsertOnlinePayment(ctx, row); err != nil {
			return err
		}
		if err := s.postFor(ctx, tx, b, LineOnlineIn, amount, ref, []string{r.Payment.String()}); err != nil {
			return err
		}
		if err := s.cover(ctx, tx, b); err != nil {
			return err
		}
		restored = true
		return tx.UpdateAccount(ctx, b)
	})
	if err != nil {
		return false, err
	}
	return restored, nil
}
