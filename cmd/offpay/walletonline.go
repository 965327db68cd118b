package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
)

// Online payments (README "Online payments"): wallet pay --online pays a
// request from the account through the ledger; wallet paid is the payee's
// lookup of its request.

// payOnline is wallet pay --online: the request req paid from the account
// at once, its receipt written where asked (optional).
func payOnline(e *env, w *openedWallet, req []byte, amount uint64, expect, out, text string) error {
	rc, repeat, err := w.PayOnline(context.Background(), req, amount, showPayee(e, w, amount, expect))
	if err != nil {
		return accountFunds(err)
	}
	var r protocol.PaymentRequest
	_ = protocol.OpenAs(req, &r)
	if out != "" || text != "" {
		if err := writeMessage(e, protocol.Seal(rc), out, text); err != nil {
			return fmt.Errorf("paid, but the receipt could not be written (%w): pay the same request again to get it; it will not pay twice", err)
		}
	}
	if repeat {
		say(e, "this request was paid online before (%s to %s, receipt %s): nothing is paid twice\n",
			w.fmt(rc.Amount), certified(&r.Payee), rc.Payment.String()[:16])
		return nil
	}
	say(e, "paid %s to %s online, from the account; receipt %s signed by the ledger\n",
		w.fmt(rc.Amount), certified(&r.Payee), rc.Payment.String()[:16])
	return nil
}

// fundsError is the ledger's refusal of an online payment above the
// account's free balance.
type fundsError struct{ api *ledgerclient.APIError }

func (e *fundsError) Error() string {
	return "not enough money in the account: " + e.api.Message + " (nothing was paid)"
}

func (e *fundsError) Unwrap() error { return e.api }

// accountFunds gives the ledger's "limit" refusal of an online payment
// (the account's free balance) its own exit code, as for the purse.
func accountFunds(err error) error {
	var api *ledgerclient.APIError
	if errors.As(err, &api) && api.Code == offpay.ELIMIT {
		return &fundsError{api}
	}
	return err
}

// walletPaid is the payee's side: did a payer pay this request online?
func walletPaid(e *env, args []string) error {
	fs := newFlags(e, "wallet paid", "--dir DIR --request REQUEST [--ledger URL]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("request", "", "the request this wallet made (wallet request --text or --out): PNG or JPEG of its code, its text form, or - for stdin")
	url := fs.String("ledger", "", "the ledger to ask (default: the wallet's)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet paid", pos); err != nil {
		return err
	}
	if *in == "" {
		return usageErrorf("--request is required")
	}
	req, err := readMessage(e, *in)
	if err != nil {
		return err
	}
	w, err := openWalletAt(e, *dir, *url)
	if err != nil {
		return err
	}
	rc, err := w.OnlineReceipt(context.Background(), req)
	var api *ledgerclient.APIError
	if errors.As(err, &api) && api.Code == offpay.ENOTFOUND {
		return &notPaidOnline{}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "paid: %s online into the account, by device %s; receipt %s\n", w.fmt(rc.Amount), rc.Payer, rc.Payment)
	return nil
}

// notPaidOnline: nobody paid the request online (yet).
type notPaidOnline struct{}

func (*notPaidOnline) Error() string {
	return "not paid online (yet): no payer paid this request through the ledger"
}
