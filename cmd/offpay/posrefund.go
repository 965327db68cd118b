package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/transport/qr"
)

// posCommands reads the terminal operator's commands, one a line, from in
// until it ends or ctx does, while the terminal takes payments:
//
//	refund SALE [AMOUNT]   refund a sale (its payment ID, its first
//	                       characters, or "last": the latest sale); the
//	                       refund code is drawn (and written to refundOut,
//	                       %d: the number of the code shown) for the
//	                       customer to scan
//	sales                  list the sales that can still be refunded
//
// Each answer is one line starting REFUND, REFUSED or SALE. A refund
// refused changes nothing; a refund asked again shows the same code.
func posCommands(ctx context.Context, e *env, w *openedWallet, in io.Reader, refundOut string, quiet bool) {
	sc := bufio.NewScanner(in)
	n := 0
	for sc.Scan() && ctx.Err() == nil {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "sales" && len(f) == 1:
			sales, err := w.Sales()
			if err != nil {
				fmt.Fprintf(e.stdout, "REFUSED: %s\n", refusal(err))
				continue
			}
			if len(sales) == 0 {
				fmt.Fprintln(e.stdout, "SALE none can be refunded offline")
			}
			for _, s := range sales {
				fmt.Fprintf(e.stdout, "SALE %s %s from %s at %s, refunded %s\n", s.ID.String()[:16], w.fmt(s.Amount), short(s.Payer),
					unix(s.Time).Format("2006-01-02 15:04"), w.fmt(s.Refunded))
			}
		case f[0] == "refund" && (len(f) == 2 || len(f) == 3):
			if err := posRefund(e, w, f[1:], refundOut, &n, quiet); err != nil {
				fmt.Fprintf(e.stdout, "REFUSED: %s\n", refusal(err))
			}
		default:
			fmt.Fprintf(e.stdout, "REFUSED: unknown command %q (refund SALE [AMOUNT], refund last [AMOUNT], sales)\n", sc.Text())
		}
	}
}

// posRefund refunds the sale args[0] names (AMOUNT args[1], default the
// whole sale) and shows the code, the n-th shown.
func posRefund(e *env, w *openedWallet, args []string, refundOut string, n *int, quiet bool) error {
	var sale se.Sale
	if args[0] == "last" {
		sales, err := w.Sales()
		if err != nil {
			return err
		}
		if len(sales) == 0 {
			return se.Errorf(se.CodeUnknownSale, "no sale can be refunded offline")
		}
		sale = sales[len(sales)-1]
	} else {
		var err error
		if sale, err = w.FindSale(args[0]); err != nil {
			return err
		}
	}
	var amount uint64
	if len(args) == 2 {
		var err error
		if amount, err = w.amountArg(args[1]); err != nil {
			return err
		}
	}
	bundle, repeat, err := w.Refund(sale.ID, amount)
	if err != nil {
		return err
	}
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &b); err != nil {
		return err
	}
	*n++
	text := qr.EncodeText(bundle)
	if !quiet {
		if err := qr.Terminal(e.stdout, text, qr.M); err != nil {
			return err
		}
	}
	if refundOut != "" {
		path := refundOut
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, *n)
		}
		if err := writeMessage(e, bundle, path, ""); err != nil {
			return err
		}
	}
	again := ""
	if repeat {
		again = " (refunded before: the same refund again)"
	}
	fmt.Fprintf(e.stdout, "REFUND %s of sale %s (%s from device %s)%s: the customer scans the code and accepts it\n",
		w.fmt(b.Payment.Amount), short(sale.ID), w.fmt(sale.Amount), short(sale.Payer), again)
	return nil
}

// refusal is the one line an operator reads for err.
func refusal(err error) string {
	msg, _ := classify(err)
	return msg
}
