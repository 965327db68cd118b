//go:build js && wasm

package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"math"
	"os"
	"path"
	"strings"
	"syscall/js"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/wallet"
)

// BrowserKDF is the Argon2id cost a browser wallet is created with: the
// SE's floor (vse.MinKDF, 64 MiB and 3 passes). WebAssembly has one
// thread and no SIMD in Go's build, so the CLI's default (256 MiB, 4
// passes) takes many seconds per unlock in a phone's browser; the README
// ("In the browser") has the figures measured.
var BrowserKDF = vse.KDF{Time: vse.MinKDF.Time, Memory: vse.MinKDF.Memory, Threads: 1}

var functions = map[string]fn{
	"exists":   exists,
	"create":   create,
	"unlock":   unlock,
	"lock":     lock,
	"status":   status,
	"history":  history,
	"reserve":  reserve,
	"request":  request,
	"describe": describe,
	"pay":      pay,
	"accept":   accept,
	"confirm":  confirm,
	"receipt":  receipt,
	"resend":   resend,
	"kind":     kind,
	"sales":    sales,
	"card":     card,
	"reset":    reset,
	"frames":   frames,
	"gather":   gather,
	"sync":     syncNow,
	"qrPNG":    qrPNG,
	"scan":     scan,
}

func str(args []js.Value, i int) string {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return ""
	}
	return args[i].String()
}

// exists(name): whether this origin holds that wallet.
func exists(args []js.Value) (any, error) {
	dir, err := dirOf(str(args, 0))
	if err != nil {
		return nil, err
	}
	_, err = os.Stat(path.Join(dir, "config.json"))
	return err == nil, nil
}

// create(name, enrolText, pin, ledgerURL): a new SE enrolled with a
// one-time code, in the form the ledger prints (OPE1:ACCOUNT/CODE@URL)
// or ACCOUNT/CODE with the page's own ledger. It returns the device ID
// and the unlock code to write down.
func create(args []js.Value) (any, error) {
	name, text, pin, url := str(args, 0), strings.TrimSpace(str(args, 1)), str(args, 2), str(args, 3)
	dir, err := dirOf(name)
	if err != nil {
		return nil, err
	}
	account, code, u, err := qr.DecodeEnrol(text)
	if errors.Is(err, qr.ErrNotOffpay) {
		var ok bool
		account, code, ok = strings.Cut(text, "/")
		if !ok || account == "" || code == "" {
			return nil, offpay.Errorf(offpay.EINVALID, "an enrolment code is ACCOUNT/CODE (or the OPE1: form)")
		}
		u, err = url, nil
	}
	if err != nil {
		return nil, err
	}
	if len([]rune(pin)) < ledger.DefaultMinPIN {
		return nil, offpay.Errorf(offpay.EINVALID, "the PIN must have at least %d characters", ledger.DefaultMinPIN)
	}
	if _, err := os.Stat(path.Join(dir, "config.json")); err == nil {
		return nil, offpay.Errorf(offpay.ECONFLICT, "a wallet already exists here")
	}
	l, err := ledgerFor(u, code)
	if err != nil {
		return nil, err
	}
	seDir := path.Join(dir, "se")
	os.RemoveAll(dir) // an earlier attempt that never enrolled
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	v, err := vse.Create(seDir, pin, &vse.Options{KDF: BrowserKDF})
	if err != nil {
		return nil, err
	}
	w, err := wallet.Open(v, dir, &wallet.Options{Ledger: l})
	if err != nil {
		return nil, err
	}
	c, cancel := ctx()
	defer cancel()
	if err := w.Enrol(c, account); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfg, _ := json.Marshal(config{Ledger: u, Account: account})
	if err := atomicfile.Write(dir, "config.json", cfg, nil); err != nil {
		return nil, err
	}
	l.code = ""
	cur = &app{name: name, cfg: config{Ledger: u, Account: account}, w: w, v: v}
	return asJSON(map[string]string{"device": v.ID().String(), "account": account, "unlock_code": v.UnlockCode()})
}

// unlock(name, pin) opens the wallet.
func unlock(args []js.Value) (any, error) {
	name, pin := str(args, 0), str(args, 1)
	dir, err := dirOf(name)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no wallet here: enrol first")
	}
	v, err := vse.Open(path.Join(dir, "se"), pin, nil)
	if err != nil {
		return nil, err
	}
	l, err := ledgerFor(cfg.Ledger, "")
	if err != nil {
		return nil, err
	}
	w, err := wallet.Open(v, dir, &wallet.Options{Ledger: l})
	if err != nil {
		return nil, err
	}
	cur = &app{name: name, cfg: cfg, w: w, v: v}
	return nil, nil
}

// reset(name, unlockCode, newPIN) sets a new PIN with the unlock code
// written down at enrolment (a forgotten PIN, or a wallet locked after too
// many wrong ones) and opens the wallet. The unlock code stays the same.
func reset(args []js.Value) (any, error) {
	name, code, pin := str(args, 0), str(args, 1), str(args, 2)
	dir, err := dirOf(name)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no wallet here: enrol first")
	}
	if len([]rune(pin)) < ledger.DefaultMinPIN {
		return nil, offpay.Errorf(offpay.EINVALID, "the PIN must have at least %d characters", ledger.DefaultMinPIN)
	}
	v, err := vse.ResetPIN(path.Join(dir, "se"), code, pin, nil)
	if err != nil {
		return nil, err
	}
	l, err := ledgerFor(cfg.Ledger, "")
	if err != nil {
		return nil, err
	}
	w, err := wallet.Open(v, dir, &wallet.Options{Ledger: l})
	if err != nil {
		return nil, err
	}
	cur = &app{name: name, cfg: cfg, w: w, v: v}
	return nil, nil
}

func lock([]js.Value) (any, error) {
	if cur != nil {
		cur.w.Flush()
	}
	cur = nil
	return nil, nil
}

// statusView is Status for the page: amounts in minor units and as text.
type statusView struct {
	Account      string `json:"account"`
	Device       string `json:"device"`
	Currency     string `json:"currency"`
	Available    string `json:"available"`
	AvailableMin uint64 `json:"available_minor"`
	Pending      string `json:"pending"`
	PendingMin   uint64 `json:"pending_minor"`
	PendingCount int    `json:"pending_count"`
	PaymentsLeft uint64 `json:"payments_left"`
	ValueLeft    string `json:"value_left"`
	PerPayment   string `json:"per_payment"`
	HoldingLeft  string `json:"holding_left"`
	SyncBy       string `json:"sync_by"`
	LastSync     string `json:"last_sync"`
	CanPay       bool   `json:"can_pay"`
	ReceiveOnly  bool   `json:"receive_only"`
	Swept        string `json:"swept"`
}

func fmtMinor(v uint64, cur string) string {
	c, err := offpay.LookupCurrency(cur)
	if err != nil || v > 1<<62 {
		return "?"
	}
	return offpay.FormatMinor(int64(v), c.Exponent) + " " + cur
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func status([]js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	st, err := a.w.Status()
	if err != nil {
		return nil, err
	}
	c := st.Currency
	return asJSON(statusView{
		Account: a.cfg.Account, Device: a.v.ID().String(), Currency: c,
		Available: fmtMinor(st.Available, c), AvailableMin: st.Available,
		Pending: fmtMinor(st.Pending, c), PendingMin: st.Pending, PendingCount: st.PendingCount,
		PaymentsLeft: st.PaymentsLeft, ValueLeft: fmtMinor(st.ValueLeft, c), PerPayment: fmtMinor(st.PerPayment, c),
		HoldingLeft: fmtMinor(st.HoldingLeft, c), SyncBy: when(st.SyncBy), LastSync: when(st.LastSync),
		CanPay: st.CanPay, ReceiveOnly: st.ReceiveOnly, Swept: fmtMinor(st.Swept, c),
	})
}

type recordView struct {
	wallet.Record
	AmountText string `json:"amount"`
	TimeText   string `json:"time_text"`
}

// history() lists the records, newest first.
func history([]js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	st, err := a.w.Status()
	if err != nil {
		return nil, err
	}
	rs := a.w.History()
	out := make([]recordView, 0, len(rs))
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		r.Receipt = nil
		out = append(out, recordView{Record: r, AmountText: fmtMinor(r.Amount, st.Currency), TimeText: when(time.Unix(int64(r.Time), 0))})
	}
	return asJSON(out)
}

// sales(sinceUnix) sums the payments received since then, newest first:
// the till's day, with the requests paid online (kind online_receive,
// settled). waiting counts those not yet settled by the ledger.
func sales(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	st, err := a.w.Status()
	if err != nil {
		return nil, err
	}
	var since uint64
	if len(args) > 0 && args[0].Type() == js.TypeNumber && args[0].Float() > 0 {
		since = uint64(args[0].Float())
	}
	var out struct {
		Sales   []recordView `json:"sales"`
		Total   string       `json:"total"`
		Waiting int          `json:"waiting"`
	}
	var total int64
	rs := a.w.History()
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if (r.Kind != wallet.KindReceive && r.Kind != wallet.KindOnlineReceive) || r.Time < since {
			continue
		}
		r.Receipt = nil
		out.Sales = append(out.Sales, recordView{Record: r, AmountText: fmtMinor(r.Amount, st.Currency), TimeText: when(time.Unix(int64(r.Time), 0))})
		if r.State == wallet.Pending || r.State == wallet.Confirmed { // taken, not yet settled
			out.Waiting++
		}
		if r.State != wallet.Rejected {
			if r.Amount > math.MaxInt64 {
				return nil, offpay.Errorf(offpay.EINTERNAL, "an amount out of range")
			}
			if total, err = offpay.AddMinor(total, int64(r.Amount)); err != nil {
				return nil, err
			}
		}
	}
	out.Total = fmtMinor(uint64(total), st.Currency)
	return asJSON(out)
}

func online(f func(context.Context, *wallet.Wallet) error) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	c, cancel := ctx()
	defer cancel()
	if err := f(c, a.w); err != nil {
		if errors.Is(err, ledgerclient.ErrUnreachable) {
			return nil, offpay.Errorf(offpay.EUNAVAILABLE, "the ledger cannot be reached: try again when online")
		}
		return nil, err
	}
	return nil, nil
}

// reserve(amount) moves money from the account into the purse (online).
func reserve(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	v, err := a.amount(str(args, 0))
	if err != nil {
		return nil, err
	}
	return online(func(c context.Context, w *wallet.Wallet) error { return w.Reserve(c, v) })
}

func syncNow([]js.Value) (any, error) {
	return online(func(c context.Context, w *wallet.Wallet) error { return w.Sync(c) })
}

// request(amount, ttlSeconds) returns the text form of a payment request.
func request(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	v, err := a.amount(str(args, 0))
	if err != nil {
		return nil, err
	}
	ttl := 10 * time.Minute
	if len(args) > 1 && args[1].Type() == js.TypeNumber && args[1].Int() > 0 {
		ttl = time.Duration(args[1].Int()) * time.Second
	}
	env, err := a.w.Request(v, ttl)
	if err != nil {
		return nil, err
	}
	return qr.EncodeText(env), nil
}

// card() returns the text form of this payee's standing request: open
// (the payer types the amount), payable many times, valid as long as the
// device certificate; printed or shown at a till (the payer-presented
// flow).
func card([]js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	env, err := a.w.StandingRequest()
	if err != nil {
		return nil, err
	}
	return qr.EncodeText(env), nil
}

// describe(text) says whom a scanned request pays, as certified.
func describe(args []js.Value) (any, error) {
	env, err := decode(str(args, 0))
	if err != nil {
		return nil, err
	}
	p, _, err := wallet.DescribeRequest(env)
	if err != nil {
		return nil, err
	}
	return asJSON(map[string]any{
		"kind": p.Kind.String(), "name": p.Name, "account": p.Account, "device": p.Device.String(),
		"amount_minor": p.Amount, "amount": fmtMinor(p.Amount, p.Currency), "currency": p.Currency,
		"expiry": when(p.Expiry), "standing": p.Standing,
	})
}

// pay(requestText, amount) pays; it returns the payment's text form.
// amount is for an open request only ("" otherwise). Paying the same
// request again gives the same payment: nothing is debited twice.
func pay(args []js.Value) (any, error) {
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
	b, err := a.w.Pay(env, v)
	if err != nil {
		return nil, err
	}
	return qr.EncodeText(b), nil
}

// accept(paymentText) verifies and credits a payment; it returns the
// receipt's text form.
func accept(args []js.Value) (any, error) {
	a, env, err := openWith(args)
	if err != nil {
		return nil, err
	}
	r, _, err := a.w.AcceptRetry(env)
	if err != nil {
		return nil, err
	}
	return qr.EncodeText(r), nil
}

// confirm(receiptText) records the payee's receipt for a payment.
func confirm(args []js.Value) (any, error) {
	a, env, err := openWith(args)
	if err != nil {
		return nil, err
	}
	return nil, a.w.Confirm(env)
}

// kind(text) names the message a scanned code holds: "request",
// "payment", "receipt" or "enrol"; it decodes and changes nothing.
func kind(args []js.Value) (any, error) {
	text := str(args, 0)
	if _, _, _, err := qr.DecodeEnrol(text); err == nil {
		return "enrol", nil
	}
	env, err := decode(text)
	if err != nil {
		return nil, err
	}
	m, err := protocol.Open(env)
	if err != nil {
		return nil, err
	}
	switch m.(type) {
	case *protocol.PaymentRequest:
		return "request", nil
	case *protocol.PaymentBundle:
		return "payment", nil
	case *protocol.Receipt:
		return "receipt", nil
	}
	return nil, offpay.Errorf(offpay.EINVALID, "this code is not one a wallet scans")
}

func paymentID(s string) (protocol.Hash, error) {
	var id protocol.Hash
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != len(id) {
		return id, offpay.Errorf(offpay.EINVALID, "a payment ID is %d hex digits", 2*len(id))
	}
	copy(id[:], raw)
	return id, nil
}

// resend(paymentID) gives again the code of a payment still waiting for
// its receipt: the payer shows it again after a crash or a lost screen.
func resend(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	id, err := paymentID(str(args, 0))
	if err != nil {
		return nil, err
	}
	b, err := a.w.Resend(id)
	if err != nil {
		return nil, err
	}
	return qr.EncodeText(b), nil
}

// receipt(paymentID) gives again the receipt issued for a payment
// received: the payee shows it again to a payer who missed it.
func receipt(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	id, err := paymentID(str(args, 0))
	if err != nil {
		return nil, err
	}
	r, ok := a.w.Receipt(id)
	if !ok {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no receipt for that payment")
	}
	return qr.EncodeText(r), nil
}

// frames(text, maxLen) cuts a code too long for one QR code (more than
// maxLen characters; 0: 1200, about version 26 at level M, which phone
// cameras still read) into the frames of an animated code (transport/qr's
// multi-frame form); a short one is its own single frame. JSON array.
func frames(args []js.Value) (any, error) {
	text := str(args, 0)
	maxLen := 1200
	if len(args) > 1 && args[1].Type() == js.TypeNumber && args[1].Int() > 0 {
		maxLen = args[1].Int()
	}
	if len(text) <= maxLen {
		return asJSON([]string{text})
	}
	msg, err := decode(text)
	if err != nil {
		return nil, err
	}
	fs, err := qr.Split(msg, maxLen)
	if err != nil {
		return nil, err
	}
	return asJSON(fs)
}

// assembler gathers the frames of the animated code being scanned.
var assembler qr.Assembler

// gather(frameText) adds one scanned frame; it returns {done, text} with
// the whole message's single-code text once every frame is in, else
// {done: false, have, total}. A frame of another message starts again.
func gather(args []js.Value) (any, error) {
	p, err := assembler.Add(str(args, 0))
	if errors.Is(err, qr.ErrOtherMessage) {
		assembler.Reset()
		p, err = assembler.Add(str(args, 0))
	}
	if err != nil {
		assembler.Reset()
		return nil, err
	}
	if msg, ok := assembler.Done(); ok {
		assembler.Reset()
		return asJSON(map[string]any{"done": true, "text": qr.EncodeText(msg)})
	}
	return asJSON(map[string]any{"done": false, "have": p.Have, "total": p.Total})
}

// qrPNG(text) draws a code at one pixel per module; the page scales it
// with image-rendering: pixelated, so it stays crisp at any size.
func qrPNG(args []js.Value) (any, error) {
	b, err := qr.PNG(str(args, 0), qr.M, 1)
	if err != nil {
		return nil, err
	}
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u, nil
}

// scan(rgba, width, height) looks for an offpay code in one camera frame
// (ImageData's bytes); it resolves to the text, or "" when there is none.
func scan(args []js.Value) (any, error) {
	if len(args) < 3 {
		return nil, offpay.Errorf(offpay.EINVALID, "scan(rgba, width, height)")
	}
	w, h := args[1].Int(), args[2].Int()
	if w <= 0 || h <= 0 || w*h > 4096*4096 || args[0].Get("length").Int() != 4*w*h {
		return nil, offpay.Errorf(offpay.EINVALID, "a frame of %dx%d pixels needs %d bytes", w, h, 4*w*h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	js.CopyBytesToGo(img.Pix, args[0])
	text, err := qr.DecodeFrame(img)
	if errors.Is(err, qr.ErrNoQR) || errors.Is(err, qr.ErrNotOffpay) {
		return "", nil
	}
	if err != nil {
		return nil, err
	}
	return text, nil
}
