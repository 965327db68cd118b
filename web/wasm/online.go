//go:build js && wasm

package main

import (
	"errors"
	"math"
	"strings"
	"syscall/js"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/wallet"
)

// Online payments (README "Online payments"): the same request paid from
// the account through the ledger, as `wallet pay --online` and `wallet
// paid` do.
func init() {
	functions["payOnline"] = payOnline
	functions["paidOnline"] = paidOnline
}

// onlineView is an online payment's receipt for the page.
type onlineView struct {
	Paid        bool   `json:"paid"`
	Repeat      bool   `json:"repeat,omitempty"`
	Amount      string `json:"amount,omitempty"`
	AmountMinor uint64 `json:"amount_minor,omitempty"`
	Currency    string `json:"currency,omitempty"`
	Name        string `json:"name,omitempty"`
	Account     string `json:"account,omitempty"`
	Payer       string `json:"payer,omitempty"`
	Receipt     string `json:"receipt,omitempty"`
	Time        string `json:"time,omitempty"`
}

func viewOf(rc *protocol.OnlineReceipt) onlineView {
	return onlineView{Paid: true, Amount: fmtMinor(rc.Amount, rc.Currency), AmountMinor: rc.Amount, Currency: rc.Currency,
		Payer: rc.Payer.String(), Receipt: rc.Payment.String(), Time: unixText(rc.Time)}
}

// unixText writes a ledger time (Unix seconds) in RFC 3339.
func unixText(t uint64) string {
	if t > math.MaxInt64 {
		return ""
	}
	return when(time.Unix(int64(t), 0))
}

// reachable turns the client's "unreachable" into the page's one line.
func reachable(err error) error {
	if errors.Is(err, ledgerclient.ErrUnreachable) {
		return offpay.Errorf(offpay.EUNAVAILABLE, "the ledger cannot be reached: try again when online")
	}
	var api *ledgerclient.APIError
	if errors.As(err, &api) && api.Code == offpay.ELIMIT {
		return offpay.Errorf(offpay.ELIMIT, "not enough money in the account: %s (nothing was paid)", api.Message)
	}
	return err
}

// payOnline(requestText, amount) pays a scanned request from the account
// at once, through the ledger; the purse is not touched. amount is for
// an open request only ("" otherwise). It resolves to the receipt (JSON:
// amount, currency, the certified payee's name and account, receipt ID);
// repeat is true when this wallet had paid the same request before: the
// same receipt, nothing paid twice.
func payOnline(args []js.Value) (any, error) {
	a, env, err := openWith(args)
	if err != nil {
		return nil, err
	}
	var v uint64
	if s := strings.TrimSpace(str(args, 1)); s != "" {
		if v, err = a.amount(s); err != nil {
			return nil, err
		}
	}
	p, _, err := wallet.DescribeRequest(env)
	if err != nil {
		return nil, err
	}
	c, cancel := ctx()
	defer cancel()
	rc, repeat, err := a.w.PayOnline(c, env, v, nil)
	if err != nil {
		return nil, reachable(err)
	}
	out := viewOf(rc)
	out.Repeat, out.Name, out.Account = repeat, p.Name, p.Account
	return asJSON(out)
}

// paidOnline(requestText) is the payee's question about a request this
// wallet made: did a payer pay it online? It resolves to the receipt
// (paid: true, amount, payer device, receipt ID), recorded in the history
// as received, or to {paid: false} while nobody has paid it.
func paidOnline(args []js.Value) (any, error) {
	a, env, err := openWith(args)
	if err != nil {
		return nil, err
	}
	c, cancel := ctx()
	defer cancel()
	rc, err := a.w.OnlineReceipt(c, env)
	var api *ledgerclient.APIError
	if errors.As(err, &api) && api.Code == offpay.ENOTFOUND {
		return asJSON(onlineView{Paid: false})
	}
	if err != nil {
		return nil, reachable(err)
	}
	return asJSON(viewOf(rc))
}
