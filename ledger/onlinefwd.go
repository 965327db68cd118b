package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Online payments across providers (README "Online payments", SPEC.md
// 20.1). The payer's provider debits its payer, books the amount as owed
// to the payee's provider (the payee mirrored under that provider's
// clearing account, as for an offline payment: Obligations, the clearing
// cycle) and forwards the payment with its receipt over the federation's
// forwarding transport, in the same transaction. The payee's provider
// checks them against the scheme's register and credits its payee once.

// owe records, in tx, that this ledger owes provider prov the amount of
// the online payment op it has just debited: the payee is mirrored under
// prov's clearing account and has received it, and the evidence is queued
// for prov.
func (s *Service) owe(ctx context.Context, tx Tx, op *protocol.OnlinePayment, rc *protocol.OnlineReceipt, payer *protocol.Certificate, prov string) error {
	payee := &op.Request.Payee
	if err := s.mirrorTx(ctx, tx, payee, prov); err != nil {
		return err
	}
	m, err := tx.Devices(ctx, []protocol.KeyID{payee.ID()})
	if err != nil {
		return err
	}
	d := m[payee.ID()]
	if d == nil || !foreign(d) {
		return offpay.Errorf(offpay.EINTERNAL, "mirror of payee %v missing", payee.ID())
	}
	if d.Received, err = offpay.AddMinor(d.Received, int64(op.Amount)); err != nil {
		return err
	}
	if err := tx.UpdateDevice(ctx, d); err != nil {
		return err
	}
	f := protocol.OnlineForward{Version: protocol.Version, Payer: *payer, Payment: *op, Receipt: *rc}
	return tx.InsertForwards(ctx, []ForwardRow{{ID: rc.Payment, Provider: prov, Data: f.Marshal(), CreatedAt: s.now().UnixNano()}})
}

// settleOnlineForward credits this ledger's payee with an online payment
// another provider's payer made, as the payee's provider: f is checked
// against the scheme's register (the payer's certificate and the
// receipt's signer both of one other provider), the payment against the
// payer's key and the request against the payee's; the payee must be
// enrolled here. The payer is mirrored under its provider's clearing
// account, which then owes this ledger the amount (Obligations). The same
// request again is a duplicate and changes nothing.
//
// Errors change nothing: EINVALID (malformed, inconsistent, a payer of
// this provider), EUNAUTHORIZED (a certificate or signer not of the
// scheme, a signature that does not verify), ENOTFOUND (payee not
// enrolled here), EFORBIDDEN (no scheme), ECONFLICT (the request was paid
// online by another payment).
func (s *Service) settleOnlineForward(ctx context.Context, f *protocol.OnlineForward) (*ForwardResult, error) {
	op, rc := &f.Payment, &f.Receipt
	prov, err := s.foreignProvider(&f.Payer)
	if err != nil {
		return nil, err
	}
	fed := s.fed.p.Load()
	iss, ok := fed.issuers[rc.Signer]
	if !ok || fed.owner[rc.Signer] != prov {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "online receipt signer %v is not an issuer of the payer's provider %s", rc.Signer, prov)
	}
	if err := rc.Verify(iss); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "online receipt: %w", err)
	}
	if err := op.Verify(&f.Payer); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "online payment not signed by its payer %v: %w", op.Payer, err)
	}
	req := &op.Request
	if err := req.Verify(); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "the payment request is not signed by its payee: %w", err)
	}
	if rc.Payment != op.ID() || rc.Payer != op.Payer || !rc.Answers(req) || rc.Amount != op.Amount || rc.Currency != s.opts.Currency {
		return nil, invalid("the online receipt is not the receipt of the payment it travels with")
	}
	payee, amount := req.Payee.ID(), int64(op.Amount)
	out := &ForwardResult{Payment: rc.Payment, Status: protocol.StatusSettled}
	err = s.update(ctx, func(tx Tx) error {
		out.Duplicate = false
		if old, err := tx.OnlinePayment(ctx, payee, req.Nonce); err != nil {
			return err
		} else if old != nil {
			if old.ID != rc.Payment {
				return offpay.Errorf(offpay.ECONFLICT, "the request was paid online by another payment")
			}
			out.Duplicate = true
			return nil
		}
		m, err := tx.Devices(ctx, []protocol.KeyID{payee})
		if err != nil {
			return err
		}
		pd := m[payee]
		if pd == nil || foreign(pd) {
			return offpay.Errorf(offpay.ENOTFOUND, "payee %v is not enrolled at this provider", payee)
		}
		b, err := mustAccount(ctx, tx, pd.Account)
		if err != nil {
			return err
		}
		if err := s.mirrorTx(ctx, tx, &f.Payer, prov); err != nil {
			return err
		}
		pm, err := tx.Devices(ctx, []protocol.KeyID{op.Payer})
		if err != nil {
			return err
		}
		pr := pm[op.Payer]
		if pr == nil || !foreign(pr) {
			return invalid("payer %v is not a device of another provider", op.Payer)
		}
		if pr.Sent, err = offpay.AddMinor(pr.Sent, amount); err != nil {
			return err
		}
		if err := tx.UpdateDevice(ctx, pr); err != nil {
			return err
		}
		// The payee is told by its own ledger: the receipt it looks up is
		// signed by this ledger's issuer, which its device trusts.
		mine := *rc
		mine.Time, mine.Signer = uint64(s.now().Unix()), s.keys.Issuer.ID()
		if err := mine.Sign(s.keys.IssuerKey); err != nil {
			return offpay.Errorf(offpay.EINTERNAL, "signing online receipt: %w", err)
		}
		if err := tx.InsertOnlinePayment(ctx, &OnlineRow{Payee: payee, Nonce: req.Nonce, ID: rc.Payment, Payer: op.Payer,
			PayerAccount: ForeignAccount(prov), PayeeAccount: b.Name, Amount: amount, Receipt: mine.Marshal(), CreatedAt: s.now().UnixNano()}); err != nil {
			return err
		}
		id := rc.Payment
		if err := s.postFor(ctx, tx, b, LineOnlineIn, amount, fmt.Sprintf("online:%v", id), []string{id.String()}); err != nil {
			return err
		}
		if err := s.cover(ctx, tx, b); err != nil {
			return err
		}
		return tx.UpdateAccount(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// onlineForward decodes data as an OnlineForward, or reports false: it is
// then a Forward (or nothing).
func onlineForward(data []byte) (*protocol.OnlineForward, bool) {
	f, err := protocol.UnmarshalOnlineForward(data)
	return f, err == nil
}
