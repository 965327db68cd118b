package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"

	"github.com/offpay/offpay/wallet"
)

func init() {
	register("wallet",
		command{"init", "create a wallet's secure element and enrol it with the ledger", walletInit},
		command{"reserve", "move money from the account into the purse (online)", walletReserve},
		command{"balance", "where the money stands: purse, pending, limits, sync deadline", walletBalance},
		command{"request", "make a payment request QR code (payee, offline)", walletRequest},
		command{"pay", "pay a request, giving a payment QR code (payer, offline), or with --online from the account through the ledger", walletPay},
		command{"paid", "did a payer pay this request online? (payee, online)", walletPaid},
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

// optAmount is the AMOUNT a command may take (an open request's): at most
// one.
func optAmount(name string, pos []string) (string, error) {
	if len(pos) > 1 {
		return "", usageErrorf("%s takes at most one AMOUNT, like 12.50 or \"12.50 EUR\" (got %q)", name, strings.Join(pos, " "))
	}
	if len(pos) == 1 {
		return pos[0], nil
	}
	return "", nil
}

// noArgs refuses arguments a command does not take (a forgotten flag name
// leaves its value behind as one).
func noArgs(name string, pos []string) error {
	if len(pos) > 0 {
		return usageErrorf("%s takes no argument %q (flags start with --; see offpay %s --help)", name, pos[0], name)
	}
	return nil
}

// say prints what a command tells the person, on stderr: stdout carries
// only data (a code with --text -, JSON), so commands pipe into each other.
func say(e *env, format string, args ...any) {
	fmt.Fprintf(e.stderr, format, args...)
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
	AfterSync     uint64    `json:"after_sync_minor"` // of balance_minor: received offline more than max_hops times, payable after a sync
	MaxHops       uint64    `json:"max_hops"`
}

func walletBalance(e *env, args []string) error {
	fs := newFlags(e, "wallet balance", "--dir DIR [--json]")
	dir := fs.String("dir", "", "the wallet's folder")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet balance", pos); err != nil {
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
		ReceiveOnly: st.ReceiveOnly, Swept: st.Swept, CertExpires: st.CertExpiry, AfterSync: st.SE.AfterSync, MaxHops: st.Limits.MaxHops}
	if *asJSON {
		return printJSON(e.stdout, b)
	}
	fmt.Fprintf(e.stdout, "account   %s (device %s), shown to payers as %s\n", b.Account, b.Device, certifiedAs(w.Wallet))
	if b.ReceiveOnly {
		// A merchant's device pays nothing: no payment limits to show.
		fmt.Fprintf(e.stdout, "receive-only: a merchant device; it takes payments, and each sync moves them to the account %s\n", b.Account)
		fmt.Fprintf(e.stdout, "held      %s taken since the last sweep, room for %s more\n", w.fmt(b.Balance), w.fmt(b.HoldingLeft))
		fmt.Fprintf(e.stdout, "swept     %s to the account so far\n", w.fmt(b.Swept))
		revBy := time.Unix(int64(st.SE.RevListTime+st.Limits.MaxRevListAge), 0).UTC()
		fmt.Fprintf(e.stdout, "sync by   %s to keep taking payments: its revocation list is too old after that (last sync %s)\n",
			revBy.Format(time.RFC3339), b.LastSync.Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(e.stdout, "available %s\n", w.fmt(b.Balance))
	if b.AfterSync > 0 {
		fmt.Fprintf(e.stdout, "          of which %s was received offline and can be paid on after a sync (limit: paid on %d time(s) offline)\n", w.fmt(b.AfterSync), b.MaxHops)
	}
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
	name := fs.String("name", "", "check that this device is certified with this name: payers are shown the name in its certificate, and a request claiming another is refused")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the request stays valid")
	standing := fs.Bool("standing", false, "make the standing request (payee card) payers pay any number of times, showing their payment QR (payer-presented flow); valid until the certificate expires")
	snd := addSoundOut(fs, "the request")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkCodeOutputs("out", *out, *text, snd); err != nil {
		return err
	}
	if *standing && len(pos) > 0 {
		return usageErrorf("a standing request has no amount: each payer chooses it")
	}
	amt, err := optAmount("wallet request", pos)
	if err != nil {
		return err
	}
	if *ttl <= 0 {
		return usageErrorf("--ttl must be positive")
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if err := checkOwnName(w.Wallet, *name); err != nil {
		return err
	}
	if *standing {
		req, err := w.StandingRequest()
		if err != nil {
			return err
		}
		if err := writeCode(e, req, *out, *text, snd); err != nil {
			return err
		}
		say(e, "standing request (payee card) written to %s: payers pay it and show you their payment code\n", codeName(*out, *text, snd, req))
		return nil
	}
	var amount uint64
	if amt != "" && amt != "open" {
		if amount, err = w.amountArg(amt); err != nil {
			return err
		}
	}
	req, err := w.Request(amount, *ttl)
	if err != nil {
		return err
	}
	if err := writeCode(e, req, *out, *text, snd); err != nil {
		return err
	}
	what := "an amount the payer chooses"
	if amount > 0 {
		what = w.fmt(amount)
	}
	say(e, "request for %s written to %s; valid %s\n", what, codeName(*out, *text, snd, req), *ttl)
	return nil
}

// outName names where a code went, for the message about it.
func outName(png, text string) string {
	switch {
	case png != "":
		return png
	case text == "-":
		return "stdout"
	}
	return text
}

func walletPay(e *env, args []string) error {
	fs := newFlags(e, "wallet pay", "--dir DIR --in REQUEST --out PAYMENT.png [--text FILE] [AMOUNT for an open request]\n       offpay wallet pay --online --dir DIR --request REQUEST [--ledger URL] [AMOUNT for an open request]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("in", "", "the request: PNG or JPEG of its code, its text form, a WAV recording of its sound, or - for stdin")
	fs.StringVar(in, "request", "", "the same as --in")
	out := fs.String("out", "", "write the payment's QR code as PNG (--online: the ledger's receipt, optional)")
	text := fs.String("text", "", "write the payment's text form (- for stdout; --online: the receipt's, optional)")
	expect := fs.String("payee", "", "pay only if the payee is certified with this name (a merchant's name, a person's account)")
	online := fs.Bool("online", false, "pay from the account at once through the ledger (the purse is not touched); paying the same request again pays nothing twice")
	url := fs.String("ledger", "", "--online: the ledger to pay through (default: the wallet's)")
	snd := addSoundOut(fs, "the payment")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if !*online && *url != "" {
		return usageErrorf("--ledger goes with --online (offline payments need no ledger)")
	}
	if *online && *snd.path != "" {
		return usageErrorf("--sound-out goes with offline payments: an online payment hands the payee nothing")
	}
	if !*online {
		if err := checkCodeOutputs("out", *out, *text, snd); err != nil {
			return err
		}
	}
	amt, err := optAmount("wallet pay", pos)
	if err != nil {
		return err
	}
	req, err := readMessage(e, *in)
	if err != nil {
		return err
	}
	w, err := openWalletAt(e, *dir, *url)
	if err != nil {
		return err
	}
	var amount uint64
	if amt != "" {
		if amount, err = w.amountArg(amt); err != nil {
			return err
		}
	}
	if *online {
		return payOnline(e, w, req, amount, *expect, *out, *text)
	}
	bundle, repeat, err := w.PayRetry(req, amount, showPayee(e, w, amount, *expect))
	if err != nil {
		return err
	}
	_ = w.Flush() // the payee's name beside the payment in the history
	if err := writeCode(e, bundle, *out, *text, snd); err != nil {
		return fmt.Errorf("the payment is signed and kept, but its code could not be written (%w): run the same command again to write it; it will not pay twice", err)
	}
	var b protocol.PaymentBundle
	_ = protocol.OpenAs(bundle, &b)
	var r protocol.PaymentRequest
	_ = protocol.OpenAs(req, &r)
	to := certified(&r.Payee)
	if repeat {
		say(e, "this request was paid before (%s to %s): the same payment code is written again to %s, nothing is paid twice\n", w.fmt(b.Payment.Amount), to, codeName(*out, *text, snd, bundle))
		return nil
	}
	say(e, "paid %s to %s; show %s to the payee and scan its receipt\n", w.fmt(b.Payment.Amount), to, codeName(*out, *text, snd, bundle))
	return nil
}

// showPayee prints whom a payment goes to, as the issuer certified it,
// before the SE signs; with expect set it refuses a payee certified under
// another name (exit 9), with nothing signed.
func showPayee(e *env, w *openedWallet, amount uint64, expect string) func(wallet.Payee) error {
	return func(p wallet.Payee) error {
		if p.Amount != 0 {
			amount = p.Amount
		}
		say(e, "paying %s to %s, device %s (certified by the ledger)\n", fmtMinor(int64(amount), p.Currency), p, p.Device)
		if expect != "" && p.Name != expect {
			return &payeeMismatch{want: expect, got: p}
		}
		return nil
	}
}

// payeeMismatch is a payee certified under another name than the payer
// expected: nothing was signed.
type payeeMismatch struct {
	want string
	got  wallet.Payee
}

func (e *payeeMismatch) Error() string {
	return fmt.Sprintf("the payee is certified as %s, not %q: nothing was paid", e.got, e.want)
}

// certifiedAs is how payers are shown this device: `merchant "Corner
// Shop" (account shop)` or `person alice`.
func certifiedAs(w *wallet.Wallet) string {
	c := w.SE().Certificate()
	if c == nil {
		return "nothing yet (not enrolled)"
	}
	return wallet.Payee{Kind: c.Kind(), Name: c.DisplayName(), Account: c.Account}.String()
}

// checkOwnName refuses a --name other than the one this device is
// certified with: payers are shown the certificate's name only.
func checkOwnName(w *wallet.Wallet, name string) error {
	c := w.SE().Certificate()
	if name == "" || c == nil {
		return nil
	}
	if got := c.DisplayName(); name != got {
		return usageErrorf("this device is certified as %s %q, not %q: payers are shown the certified name, and a request claiming another is refused (a merchant's name is set by the operator: ledger account create --merchant --name)",
			c.Kind(), got, name)
	}
	return nil
}

func walletAccept(e *env, args []string) error {
	fs := newFlags(e, "wallet accept", "--dir DIR --in PAYMENT --out RECEIPT.png [--text FILE]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("in", "", "the payment: PNG or JPEG of its code, its text form, a WAV recording of its sound, or - for stdin")
	out := fs.String("out", "", "write the receipt's QR code as PNG")
	text := fs.String("text", "", "write the receipt's text form (- for stdout)")
	snd := addSoundOut(fs, "the receipt")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkCodeOutputs("out", *out, *text, snd); err != nil {
		return err
	}
	if err := noArgs("wallet accept", pos); err != nil {
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
	if errors.Is(err, se.ErrAlreadyAccepted) {
		// Accepted before: nothing is credited again. If this wallet
		// issued the receipt (the earlier run may have died before writing
		// it, on a full disk say), it is written again, the same bytes,
		// for the payer who is still waiting; the exit code says "already".
		var b protocol.PaymentBundle
		if protocol.OpenAs(bundle, &b) == nil {
			if rc, ok := w.Receipt(b.Payment.ID()); ok {
				if werr := writeCode(e, rc, *out, *text, snd); werr == nil {
					return fmt.Errorf("%w (nothing credited again); the receipt issued then is written again: show it to the payer", err)
				}
			}
		}
		return err
	}
	if err != nil {
		return err
	}
	if err := writeCode(e, receipt, *out, *text, snd); err != nil {
		return fmt.Errorf("the payment is credited, but its receipt could not be written (%w): run the same command again to write it; it credits nothing twice", err)
	}
	st, _ := w.Status()
	var b protocol.PaymentBundle
	_ = protocol.OpenAs(bundle, &b)
	say(e, "accepted %s from %s; purse now %s; show %s to the payer\n", w.fmt(b.Payment.Amount), b.Cert.Account, w.fmt(st.Available), codeName(*out, *text, snd, receipt))
	return nil
}

func walletConfirm(e *env, args []string) error {
	fs := newFlags(e, "wallet confirm", "--dir DIR --in RECEIPT")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("in", "", "the receipt: PNG or JPEG of its code, its text form, a WAV recording of its sound, or - for stdin")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet confirm", pos); err != nil {
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
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet sync", pos); err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if err := w.Sync(context.Background()); err != nil {
		return err
	}
	if w.OnlineReentered > 0 {
		fmt.Fprintf(e.stdout, "the ledger had lost %d online payment(s) of this wallet (restored from an older copy): given back from their receipts\n", w.OnlineReentered)
	}
	if w.OnlineReentry != nil {
		fmt.Fprintf(e.stderr, "warning: the ledger lost online payments of this wallet and refused to take one back (%v); the receipts are in this wallet's history: show them to the operator\n", w.OnlineReentry)
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

// recordJSON is the stable JSON of a history record (README, "JSON
// output"): wallet.Record with its time in RFC 3339.
type recordJSON struct {
	ID                  string       `json:"id"`
	Kind                wallet.Kind  `json:"kind"`
	Amount              uint64       `json:"amount_minor"`
	Time                time.Time    `json:"time"`
	Counter             uint64       `json:"counter,omitempty"`
	State               wallet.State `json:"state"`
	Counterparty        string       `json:"counterparty,omitempty"`
	CounterpartyAccount string       `json:"counterparty_account,omitempty"`
	CounterpartyName    string       `json:"counterparty_name,omitempty"`
	Reason              string       `json:"reason,omitempty"`
	Receipt             []byte       `json:"receipt,omitempty"`
	// ClaimDeadline, on a payment out still pending: until when its payee
	// can take it (after that it comes back to the account).
	ClaimDeadline *time.Time `json:"claim_deadline,omitempty"`
	// Sale, on a refund (given or received): the sale's payment ID;
	// Refund, on a sale's record: the refund that returned it.
	Sale   string `json:"sale,omitempty"`
	Refund string `json:"refund,omitempty"`
}

func toRecordJSON(r wallet.Record) recordJSON {
	j := recordJSON{ID: r.ID, Kind: r.Kind, Amount: r.Amount, Time: time.Unix(int64(r.Time), 0).UTC(), Counter: r.Counter,
		State: r.State, Counterparty: r.Counterparty, CounterpartyAccount: r.CounterpartyAccount, CounterpartyName: r.CounterpartyName,
		Reason: r.Reason, Receipt: r.Receipt, Sale: r.Sale, Refund: r.Refund}
	if (r.Kind == wallet.KindPay || r.Kind == wallet.KindRefund) && r.State == wallet.Pending {
		d := r.ClaimDeadline()
		j.ClaimDeadline = &d
	}
	return j
}

// certified is how a device is named by its certificate: `merchant
// "Corner Shop" (account shop)` or `person alice`.
func certified(c *protocol.Certificate) string {
	return wallet.Payee{Kind: c.Kind(), Name: c.DisplayName(), Account: c.Account}.String()
}

// counterparty names the other side of a record: its certified name and
// account when known, else the start of its device ID.
func counterparty(r wallet.Record) string {
	switch {
	case r.CounterpartyName != "":
		return fmt.Sprintf("%q (account %s)", r.CounterpartyName, r.CounterpartyAccount)
	case r.CounterpartyAccount != "":
		return r.CounterpartyAccount
	case len(r.Counterparty) > 12:
		return "device " + r.Counterparty[:12]
	}
	return r.Counterparty
}

func walletHistory(e *env, args []string) error {
	fs := newFlags(e, "wallet history", "--dir DIR [--json]")
	dir := fs.String("dir", "", "the wallet's folder")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet history", pos); err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	h := w.History()
	if *asJSON {
		out := make([]recordJSON, 0, len(h))
		for _, r := range h {
			out = append(out, toRecordJSON(r))
		}
		return printJSON(e.stdout, out)
	}
	for _, r := range h {
		line := fmt.Sprintf("%s  %-8s %12s  %-10s %s", time.Unix(int64(r.Time), 0).UTC().Format("2006-01-02 15:04"), r.Kind, w.fmt(r.Amount), r.State, counterparty(r))
		reason := r.Reason
		if (r.Kind == wallet.KindPay || r.Kind == wallet.KindRefund) && r.State == wallet.Pending {
			reason = fmt.Sprintf("the payee can take it until %s; if it does not, it comes back to your account after that",
				r.ClaimDeadline().Format("2006-01-02 15:04 MST"))
		}
		line += refundNote(r)
		if reason != "" {
			line += "  (" + reason + ")"
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}
