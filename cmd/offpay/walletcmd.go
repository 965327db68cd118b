package main

import (
	"context"
	"fmt"
	"time"

	"github.com/offpay/offpay/wallet"
)

func init() {
	register("wallet",
		command{"init", "create a wallet's secure element and enrol it with the ledger", walletInit},
		command{"reserve", "move money from the account into the purse (online)", walletReserve},
		command{"balance", "where the money stands: purse, pending, limits, sync deadline", walletBalance},
		command{"request", "make a payment request QR code (payee, offline)", walletRequest},
		command{"pay", "pay a request, giving a payment QR code (payer, offline)", walletPay},
		command{"accept", "accept a payment, giving a receipt QR code (payee, offline)", walletAccept},
		command{"confirm", "record the payee's receipt (payer, offline)", walletConfirm},
		command{"receive", "receive payments over the encrypted channel (payee)", walletReceive},
		command{"send", "pay over the encrypted channel (payer)", walletSend},
		command{"sync", "upload the log and learn what settled (online)", walletSync},
		command{"redeem", "move purse value back to the account (settles at the next sync)", walletRedeem},
		command{"history", "the wallet's payments and their statuses", walletHistory},
	)
}

func oneAmount(name string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usageErrorf("%s needs one AMOUNT, like 12.50 or \"12.50 EUR\"", name)
	}
	return pos[0], nil
}

func walletReserve(e *env, args []string) error {
	fs := newFlags(e, "wallet reserve", "--dir DIR AMOUNT")
	dir := fs.String("dir", "", "the wallet's folder")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	s, err := oneAmount("wallet reserve", pos)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	amount, err := w.amountArg(s)
	if err != nil {
		return err
	}
	if err := w.Reserve(context.Background(), amount); err != nil {
		return err
	}
	st, _ := w.Status()
	fmt.Fprintf(e.stdout, "reserved %s; purse now %s\n", w.fmt(amount), w.fmt(st.Available))
	return nil
}

// balanceJSON is the stable JSON of wallet balance (README, "JSON output").
type balanceJSON struct {
	Device        string    `json:"device"`
	Account       string    `json:"account"`
	Currency      string    `json:"currency"`
	Balance       uint64    `json:"balance_minor"`
	Pending       uint64    `json:"pending_minor"`
	PendingCount  int       `json:"pending_count"`
	PaymentsLeft  uint64    `json:"offline_payments_left"`
	ValueLeft     uint64    `json:"offline_value_left_minor"`
	PerPayment    uint64    `json:"per_payment_limit_minor"`
	HoldingLeft   uint64    `json:"holding_left_minor"`
	LastSync      time.Time `json:"last_sync"`
	SyncBy        time.Time `json:"sync_by"`
	CanPay        bool      `json:"can_pay"`
	Counter       uint64    `json:"log_counter"`
	AckedByLedger uint64    `json:"acked_counter"`
	ReceiveOnly   bool      `json:"receive_only"`
	Swept         uint64    `json:"swept_minor"`
	CertExpires   time.Time `json:"certificate_expires"`
}

func walletBalance(e *env, args []string) error {
	fs := newFlags(e, "wallet balance", "--dir DIR [--json]")
	dir := fs.String("dir", "", "the wallet's folder")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	st, err := w.Status()
	if err != nil {
		return err
	}
	if err := enrolled(st); err != nil {
		return err
	}
	b := balanceJSON{Device: st.SE.Device.String(), Account: w.cfg.Account, Currency: st.Currency, Balance: st.Available,
		Pending: st.Pending, PendingCount: st.PendingCount, PaymentsLeft: st.PaymentsLeft, ValueLeft: st.ValueLeft,
		PerPayment: st.PerPayment, HoldingLeft: st.HoldingLeft, LastSync: st.LastSync.UTC(), SyncBy: st.SyncBy.UTC(),
		CanPay: st.CanPay, Counter: st.SE.Counter, AckedByLedger: st.SE.Acked,
		ReceiveOnly: st.ReceiveOnly, Swept: st.Swept, CertExpires: st.CertExpiry}
	if *asJSON {
		return printJSON(e.stdout, b)
	}
	fmt.Fprintf(e.stdout, "device    %s (account %s)\n", b.Device, b.Account)
	fmt.Fprintf(e.stdout, "available %s\n", w.fmt(b.Balance))
	fmt.Fprintf(e.stdout, "pending   %s in %d payment(s) awaiting a receipt\n", w.fmt(b.Pending), b.PendingCount)
	fmt.Fprintf(e.stdout, "offline   %d payment(s) and %s left before a sync; at most %s per payment; room for %s more\n",
		b.PaymentsLeft, w.fmt(b.ValueLeft), w.fmt(b.PerPayment), w.fmt(b.HoldingLeft))
	fmt.Fprintf(e.stdout, "sync by   %s (last sync %s)\n", b.SyncBy.Format(time.RFC3339), b.LastSync.Format(time.RFC3339))
	return nil
}

func walletRequest(e *env, args []string) error {
	fs := newFlags(e, "wallet request", "--dir DIR [AMOUNT | --standing] --out FILE.png [--text FILE]")
	dir := fs.String("dir", "", "the wallet's folder")
	out := fs.String("out", "", "write the request's QR code as PNG")
	text := fs.String("text", "", "write the request's text form (- for stdout)")
	name := fs.String("name", "", "the name the payer sees")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the request stays valid")
	standing := fs.Bool("standing", false, "make the standing request (payee card) payers pay any number of times, showing their payment QR (payer-presented flow); valid until the certificate expires")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if *standing {
		if len(pos) > 0 {
			return usageErrorf("a standing request has no amount: each payer chooses it")
		}
		req, err := w.StandingRequest(*name)
		if err != nil {
			return err
		}
		if err := writeMessage(e, req, *out, *text); err != nil {
			return err
		}
		if *out != "" {
			fmt.Fprintf(e.stdout, "standing request (payee card) written to %s: payers pay it and show you their payment code\n", *out)
		}
		return nil
	}
	var amount uint64
	if len(pos) == 1 && pos[0] != "open" {
		if amount, err = w.amountArg(pos[0]); err != nil {
			return err
		}
	} else if len(pos) > 1 {
		return usageErrorf("wallet request takes one AMOUNT (or none for an open amount)")
	}
	req, err := w.Request(amount, *name, *ttl)
	if err != nil {
		return err
	}
	if err := writeMessage(e, req, *out, *text); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stdout, "request for %s written to %s; valid %s\n", w.fmt(amount), *out, *ttl)
	}
	return nil
}

func walletPay(e *env, args []string) error {
	fs := newFlags(e, "wallet pay", "--dir DIR --in REQUEST --out PAYMENT.png [--text FILE] [AMOUNT for an open request]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("in", "", "the request: PNG or JPEG of its code, its text form, or - for stdin")
	out := fs.String("out", "", "write the payment's QR code as PNG")
	text := fs.String("text", "", "write the payment's text form (- for stdout)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	req, err := readMessage(e, *in)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	var amount uint64
	if len(pos) == 1 {
		if amount, err = w.amountArg(pos[0]); err != nil {
			return err
		}
	}
	bundle, err := w.Pay(req, amount)
	if err != nil {
		return err
	}
	if err := writeMessage(e, bundle, *out, *text); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stdout, "paid; show %s to the payee and scan its receipt\n", *out)
	}
	return nil
}

func walletAccept(e *env, args []string) error {
	fs := newFlags(e, "wallet accept", "--dir DIR --in PAYMENT --out RECEIPT.png [--text FILE]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("in", "", "the payment: PNG or JPEG of its code, its text form, or - for stdin")
	out := fs.String("out", "", "write the receipt's QR code as PNG")
	text := fs.String("text", "", "write the receipt's text form (- for stdout)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	bundle, err := readMessage(e, *in)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	receipt, err := w.Accept(bundle)
	if err != nil {
		return err
	}
	if err := writeMessage(e, receipt, *out, *text); err != nil {
		return err
	}
	st, _ := w.Status()
	if *out != "" {
		fmt.Fprintf(e.stdout, "accepted; purse now %s; show %s to the payer\n", w.fmt(st.Available), *out)
	}
	return nil
}

func walletConfirm(e *env, args []string) error {
	fs := newFlags(e, "wallet confirm", "--dir DIR --in RECEIPT")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("in", "", "the receipt: PNG or JPEG of its code, its text form, or - for stdin")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	receipt, err := readMessage(e, *in)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if err := w.Confirm(receipt); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "receipt recorded: the payee countersigned the payment")
	return nil
}

func walletSync(e *env, args []string) error {
	fs := newFlags(e, "wallet sync", "--dir DIR")
	dir := fs.String("dir", "", "the wallet's folder")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if err := w.Sync(context.Background()); err != nil {
		return err
	}
	st, _ := w.Status()
	fmt.Fprintf(e.stdout, "synced: purse %s, %d payment(s) still awaiting settlement, next sync by %s\n",
		w.fmt(st.Available), st.PendingCount, st.SyncBy.UTC().Format(time.RFC3339))
	return nil
}

func walletRedeem(e *env, args []string) error {
	fs := newFlags(e, "wallet redeem", "--dir DIR AMOUNT")
	dir := fs.String("dir", "", "the wallet's folder")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	s, err := oneAmount("wallet redeem", pos)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	amount, err := w.amountArg(s)
	if err != nil {
		return err
	}
	if err := w.Redeem(amount); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "redeemed %s from the purse; it reaches the account at the next sync\n", w.fmt(amount))
	return nil
}

func walletHistory(e *env, args []string) error {
	fs := newFlags(e, "wallet history", "--dir DIR [--json]")
	dir := fs.String("dir", "", "the wallet's folder")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	h := w.History()
	if *asJSON {
		if h == nil {
			h = []wallet.Record{}
		}
		return printJSON(e.stdout, h)
	}
	for _, r := range h {
		cp := r.Counterparty
		if len(cp) > 12 {
			cp = cp[:12]
		}
		line := fmt.Sprintf("%s  %-8s %12s  %-10s %s", time.Unix(int64(r.Time), 0).UTC().Format("2006-01-02 15:04"), r.Kind, w.fmt(r.Amount), r.State, cp)
		if r.Reason != "" {
			line += "  (" + r.Reason + ")"
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}
