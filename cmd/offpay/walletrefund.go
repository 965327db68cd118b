package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

func init() {
	register("wallet",
		command{"refund", "refund a sale this merchant device received, giving a refund QR code (offline)", walletRefund},
	)
}

// saleJSON is one line of wallet refund --list --json.
type saleJSON struct {
	Sale     string    `json:"sale"`
	Payer    string    `json:"payer"`
	Amount   uint64    `json:"amount_minor"`
	Time     time.Time `json:"time"`
	Until    time.Time `json:"refund_until"`
	Refunded uint64    `json:"refunded_minor"`
	Refund   string    `json:"refund,omitempty"`
}

func walletRefund(e *env, args []string) error {
	fs := newFlags(e, "wallet refund", "--dir DIR (--sale ID --out REFUND.png [--text FILE] [AMOUNT] | --list [--json])")
	dir := fs.String("dir", "", "the (merchant) wallet's folder")
	saleID := fs.String("sale", "", "the sale to refund: its payment ID, or its first characters (wallet history, or --list)")
	out := fs.String("out", "", "write the refund's QR code as PNG")
	text := fs.String("text", "", "write the refund's text form (- for stdout)")
	list := fs.Bool("list", false, "list the sales that can still be refunded offline")
	asJSON := fs.Bool("json", false, "with --list: print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *list && (*saleID != "" || len(pos) > 0):
		return usageErrorf("--list takes no sale and no amount")
	case !*list && *saleID == "":
		return usageErrorf("--sale ID is required (or --list): the payment ID of the sale, from wallet history")
	case len(pos) > 1:
		return usageErrorf("wallet refund takes at most one AMOUNT (none: the whole sale)")
	}
	if !*list {
		if err := checkOutputs("out", *out, *text); err != nil {
			return err
		}
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if *list {
		return listSales(e, w, *asJSON)
	}
	var amount uint64
	if len(pos) == 1 {
		if amount, err = w.amountArg(pos[0]); err != nil {
			return err
		}
	}
	sale, err := w.FindSale(*saleID)
	if err != nil {
		return err
	}
	bundle, repeat, err := w.Refund(sale.ID, amount)
	if err != nil {
		return err
	}
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &b); err != nil {
		return err
	}
	if err := writeMessage(e, bundle, *out, *text); err != nil {
		return fmt.Errorf("the refund is signed and kept, but its code could not be written (%w): run the same command again to write it; it will not refund twice", err)
	}
	what := fmt.Sprintf("%s of sale %s (%s from device %s)", w.fmt(b.Payment.Amount), short(sale.ID), w.fmt(sale.Amount), short(sale.Payer))
	if repeat {
		say(e, "this sale was refunded before, %s: the same refund code is written again to %s, nothing is refunded twice\n", what, outName(*out, *text))
		return nil
	}
	say(e, "refund %s written to %s: the customer accepts it with wallet accept; the merchant account pays it at settlement\n", what, outName(*out, *text))
	return nil
}

// listSales prints the sales the wallet's SE can still refund.
func listSales(e *env, w *openedWallet, asJSON bool) error {
	sales, err := w.Sales()
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]saleJSON, 0, len(sales))
		for _, s := range sales {
			j := saleJSON{Sale: s.ID.String(), Payer: s.Payer.String(), Amount: s.Amount, Time: unix(s.Time), Until: unix(s.Until), Refunded: s.Refunded}
			if s.Refunded > 0 {
				j.Refund = s.RefundID.String()
			}
			out = append(out, j)
		}
		return printJSON(e.stdout, out)
	}
	if len(sales) == 0 {
		fmt.Fprintln(e.stdout, "no sale can be refunded offline (none received in the refund window)")
	}
	for _, s := range sales {
		state := "refundable until " + unix(s.Until).Format(time.RFC3339)
		if s.Refunded > 0 {
			state = "refunded " + w.fmt(s.Refunded)
		}
		fmt.Fprintf(e.stdout, "%s  %s  %12s  from %s  %s\n", s.ID.String()[:16], unix(s.Time).Format("2006-01-02 15:04"), w.fmt(s.Amount), short(s.Payer), state)
	}
	return nil
}

func unix(t uint64) time.Time { return time.Unix(int64(min(t, 1<<62)), 0).UTC() }

// short is the first 12 hex characters of an ID.
func short(id fmt.Stringer) string {
	s := id.String()
	return s[:min(12, len(s))]
}

// refundError is the line and exit code of the refund refusals (exit.go).
func refundError(err error) (string, int, bool) {
	var sErr *se.Error
	switch {
	case errors.Is(err, wallet.ErrAmbiguousSale):
		return err.Error(), exitUsage, true
	case !errors.As(err, &sErr):
		return "", 0, false
	case sErr.Code == se.CodeUnknownSale:
		return prefixed("no such sale", seDetail(err, sErr)), exitWrongPayee, true
	case sErr.Code == se.CodeAlreadyRefunded:
		return prefixed("already refunded", seDetail(err, sErr)), exitSpent, true
	case sErr.Code == se.CodeLimit && sErr.Which == se.LimitRefund:
		return "refund above the sale: " + seDetail(err, sErr), exitLimit, true
	}
	return "", 0, false
}

// refundNote is what wallet history adds to a record about refunds: the
// sale a refund names, the refund of a sale.
// A payment's record starts it with the payment's short ID, which
// wallet refund --sale takes.
func refundNote(r wallet.Record) string {
	id := ""
	if len(r.ID) == 2*protocol.HashSize {
		id = "  id " + r.ID[:12]
	}
	switch {
	case r.Sale != "":
		return id + "  (refund of sale " + r.Sale[:min(12, len(r.Sale))] + ")"
	case r.Refund != "":
		return id + "  (refunded: " + r.Refund[:min(12, len(r.Refund))] + ")"
	}
	return id
}
