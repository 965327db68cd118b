package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Statement line kinds of online payments: the payer's account pays
// (negative), the payee's receives (positive), in the same transaction.
const (
	LineOnlineOut = "online_out"
	LineOnlineIn  = "online_in"
)

// ErrInsufficientFunds is wrapped by the refusal (ELIMIT) of an online
// payment larger than the payer account's balance.
var ErrInsufficientFunds = errors.New("insufficient funds")

// PayOnline pays a payee's request from the payer device's account at
// once (README "Online payments"): p is signed by the payer's SE and
// carries the request as the payee's SE signed it. The ledger checks the
// payer (enrolled here, its signature, not revoked, certificate valid), the
// request (signed by its payee, not expired, a request with a nonce, in
// the ledger's currency, the amount it asks), the payee (a device enrolled
// here, not revoked, another account; or a device of another provider of
// the scheme, onlinefwd.go) and the payer account's free balance; then it
// debits the payer's account, credits the payee's (or owes the payee's
// provider and forwards the payment to it) and returns an OnlineReceipt
// signed by its issuer key.
//
// The request's (payee, nonce) is the payment's idempotency key: the same
// payment again returns the same receipt and moves nothing; the request
// paid by another payer or for another amount is ECONFLICT. Refusals
// change nothing: EUNAUTHORIZED (unknown payer, bad signature), EFORBIDDEN
// (revoked payer or payee, expired request or certificate, frozen
// account), ENOTFOUND (unknown payee), EINVALID (currency, amount,
// standing request, payer pays itself), ELIMIT (insufficient free funds,
// wrapping ErrInsufficientFunds, or a receive-only payer).
func (s *Service) PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error) {
	var op protocol.OnlinePayment
	if err := protocol.Unmarshal(p.Marshal(), &op); err != nil {
		return nil, invalid("online payment: %v", err)
	}
	req := &op.Request
	if op.Currency != s.opts.Currency || req.Currency != op.Currency || req.Payee.Currency != op.Currency {
		return nil, offpay.Errorf(offpay.EINVALID, "payment in %s, request in %s, payee's purse in %s: this ledger holds %s: %w",
			op.Currency, req.Currency, req.Payee.Currency, s.opts.Currency, protocol.ErrCurrency)
	}
	if req.Nonce == (protocol.Nonce{}) {
		return nil, invalid("a standing request has no nonce to pay it once: ask the payee for a request")
	}
	if req.Amount != 0 && op.Amount != req.Amount {
		return nil, offpay.Errorf(offpay.EINVALID, "the request asks %s, the payment is for %s: %w",
			money(int64(req.Amount), s.opts.Currency), money(int64(op.Amount), s.opts.Currency), protocol.ErrAmount)
	}
	payee := req.Payee.ID()
	if payee == op.Payer {
		return nil, invalid("a device cannot pay itself")
	}
	amount := int64(op.Amount) // Unmarshal checked Amount <= MaxInt64
	id := op.ID()
	var rc *protocol.OnlineReceipt
	err := s.update(ctx, func(tx Tx) error {
		rc = nil
		info, err := s.device(ctx, tx, op.Payer)
		if err != nil {
			return err
		}
		if info == nil || isForeign(info.account) {
			return offpay.Errorf(offpay.EUNAUTHORIZED, "device %v is not enrolled", op.Payer)
		}
		if err := op.Verify(info.cert); err != nil {
			return offpay.Errorf(offpay.EUNAUTHORIZED, "online payment is not signed by device %v: %w", op.Payer, protocol.ErrBadSignature)
		}
		// A retry of a payment made gets its receipt, even if the request
		// has expired or the payer was revoked since: it moves nothing.
		if old, err := tx.OnlinePayment(ctx, payee, req.Nonce); err != nil {
			return err
		} else if old != nil {
			if old.Payer != op.Payer || old.Amount != amount {
				return offpay.Errorf(offpay.ECONFLICT, "the request was paid online already, by another payer or for another amount")
			}
			rc = new(protocol.OnlineReceipt)
			return protocol.Unmarshal(old.Receipt, rc)
		}
		now := uint64(s.now().Unix())
		if err := req.Verify(); err != nil {
			return offpay.Errorf(offpay.EUNAUTHORIZED, "the payment request is not signed by its payee: %w", protocol.ErrBadSignature)
		}
		if now >= req.Expiry {
			return offpay.Errorf(offpay.EFORBIDDEN, "the request expired at %s: %w", time.Unix(int64(req.Expiry), 0).UTC().Format(time.RFC3339), protocol.ErrExpired)
		}
		m, err := tx.Devices(ctx, []protocol.KeyID{op.Payer, payee})
		if err != nil {
			return err
		}
		d, pd := m[op.Payer], m[payee]
		if d == nil {
			return offpay.Errorf(offpay.EUNAUTHORIZED, "device %v is not enrolled", op.Payer)
		}
		if d.Revoked {
			return revoked(d.ID)
		}
		cert, err := currentCert(d)
		if err != nil {
			return err
		}
		if now >= cert.NotAfter {
			return offpay.Errorf(offpay.EFORBIDDEN, "device certificate expired: sync to renew it")
		}
		if cert.Limits.PerPayment == 0 {
			// A device that may not pay offline (a till) does not pay
			// online either: its SE refuses, and so does the ledger.
			return offpay.Errorf(offpay.ELIMIT, "device %v is receive-only (its certificate allows no payment)", d.ID)
		}
		// The payee: a device enrolled here, or (in a scheme) a device of
		// another provider, paid through clearing.
		prov := ""
		if pd == nil || foreign(pd) {
			other, err := s.foreignProvider(&req.Payee)
			if err != nil {
				if pd == nil {
					return offpay.Errorf(offpay.ENOTFOUND, "payee %v is not a device of this ledger nor of the scheme: %w", payee, protocol.ErrWrongPayee)
				}
				return err
			}
			if pd != nil && pd.Revoked {
				return revoked(pd.ID)
			}
			if s.fed.p.Load().suspended[other] {
				return offpay.Errorf(offpay.EFORBIDDEN, "payee %v: its provider %s is suspended from the scheme", payee, other)
			}
			if now < req.Payee.NotBefore || now >= req.Payee.NotAfter {
				return offpay.Errorf(offpay.EFORBIDDEN, "the payee's certificate is not valid now: %w", protocol.ErrExpired)
			}
			prov = other
		} else {
			if pd.Revoked {
				return revoked(pd.ID)
			}
			// The request's certificate must chain to this ledger's issuers
			// (the stored one may be a renewal of it, for the same key).
			if err := s.trust.VerifyDevice(&req.Payee, now, nil); err != nil {
				return offpay.Errorf(offpay.EFORBIDDEN, "the payee's certificate: %w", err)
			}
			if pd.Account == d.Account {
				return invalid("payer and payee share the account %q: nothing to move", d.Account)
			}
		}
		a, err := mustAccount(ctx, tx, d.Account)
		if err != nil {
			return err
		}
		var b *AccountRow // the payee's account; nil across providers
		if prov == "" {
			if b, err = mustAccount(ctx, tx, pd.Account); err != nil {
				return err
			}
		}
		for _, x := range []*AccountRow{a, b} {
			if x != nil && x.Frozen {
				return offpay.Errorf(offpay.EFORBIDDEN, "account %q is frozen", x.Name)
			}
		}
		if a.Balance < amount {
			return offpay.Errorf(offpay.ELIMIT, "%w: %s to pay, %s in the account",
				ErrInsufficientFunds, money(amount, s.opts.Currency), money(a.Balance, s.opts.Currency))
		}
		if avail, _, err := free(ctx, tx, a); err != nil {
			return err
		} else if avail < amount {
			return heldError(a, amount, avail, s.opts.Currency)
		}
		rc = &protocol.OnlineReceipt{Version: protocol.Version, Payment: id, Payer: op.Payer, Payee: payee, Nonce: req.Nonce,
			Amount: op.Amount, Currency: s.opts.Currency, Time: now, Signer: s.keys.Issuer.ID()}
		if err := rc.Sign(s.keys.IssuerKey); err != nil {
			return offpay.Errorf(offpay.EINTERNAL, "signing online receipt: %w", err)
		}
		row := &OnlineRow{Payee: payee, Nonce: req.Nonce, ID: id, Payer: op.Payer,
			PayerAccount: a.Name, Amount: amount, Receipt: rc.Marshal(), CreatedAt: s.now().UnixNano()}
		ref := fmt.Sprintf("online:%v", id)
		if err := s.postFor(ctx, tx, a, LineOnlineOut, -amount, ref, []string{id.String()}); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if prov != "" {
			row.PayeeAccount = ForeignAccount(prov)
			if err := tx.InsertOnlinePayment(ctx, row); err != nil {
				return err
			}
			return s.owe(ctx, tx, &op, rc, cert, prov)
		}
		row.PayeeAccount = b.Name
		if err := tx.InsertOnlinePayment(ctx, row); err != nil {
			return err
		}
		if err := s.postFor(ctx, tx, b, LineOnlineIn, amount, ref, []string{id.String()}); err != nil {
			return err
		}
		// Money in may cover the payee's devices' proven debt.
		if err := s.cover(ctx, tx, b); err != nil {
			return err
		}
		return tx.UpdateAccount(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// OnlineReceipt returns the receipt of the online payment of payee's
// request nonce (ENOTFOUND if it was not paid online). Knowing the nonce
// is the right to ask: only the payee's SE and those it showed the
// request to know it.
func (s *Service) OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error) {
	var rc *protocol.OnlineReceipt
	err := s.view(ctx, func(tx Tx) error {
		row, err := tx.OnlinePayment(ctx, payee, nonce)
		if err != nil {
			return err
		}
		if row == nil {
			return offpay.Errorf(offpay.ENOTFOUND, "no online payment of that request")
		}
		rc = new(protocol.OnlineReceipt)
		return protocol.Unmarshal(row.Receipt, rc)
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}
