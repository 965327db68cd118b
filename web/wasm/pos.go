//go:build js && wasm

package main

import (
	"encoding/json"
	"strings"
	"syscall/js"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/wallet/posrisk"
)

// The POS page's risk settings and refunds: the same package (posrisk) and
// wallet calls as `offpay pos run`.
func init() {
	functions["riskSettings"] = riskSettings
	functions["posAccept"] = posAccept
	functions["refund"] = refund
}

// riskJSON is how the page stores the merchant's risk settings: amounts as
// typed ("" or "0": no cap), the offline cap in minutes, issuer key IDs
// separated by commas.
type riskJSON struct {
	MaxPayment     string `json:"max_payment"`
	MaxUnsettled   string `json:"max_unsettled"`
	MaxOfflineMins int64  `json:"max_offline_minutes"`
	Issuers        string `json:"issuers"`
}

// settings parses the page's text into posrisk.Settings.
func (a *app) settings(text string) (*posrisk.Settings, error) {
	var in riskJSON
	if strings.TrimSpace(text) != "" {
		if err := json.Unmarshal([]byte(text), &in); err != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "risk settings: %v", err)
		}
	}
	st, err := a.w.Status()
	if err != nil {
		return nil, err
	}
	s := &posrisk.Settings{Currency: st.Currency, Issuers: map[protocol.KeyID]bool{}}
	for _, f := range []struct {
		name, in string
		out      *uint64
	}{{"the per-payment cap", in.MaxPayment, &s.MaxPayment}, {"the unsettled cap", in.MaxUnsettled, &s.MaxUnsettled}} {
		if t := strings.TrimSpace(f.in); t != "" && t != "0" {
			if *f.out, err = a.amount(t); err != nil {
				return nil, offpay.Errorf(offpay.EINVALID, "%s: %v", f.name, err)
			}
		}
	}
	if in.MaxOfflineMins < 0 || in.MaxOfflineMins > 365*24*60 {
		return nil, offpay.Errorf(offpay.EINVALID, "the offline cap is between 0 (none) and a year, in minutes")
	}
	s.MaxOffline = time.Duration(in.MaxOfflineMins) * time.Minute
	for _, h := range strings.Split(in.Issuers, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		id, err := protocol.ParseKeyID(h)
		if err != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "issuer %q: %v", h, err)
		}
		s.Issuers[id] = true
	}
	return s, nil
}

// riskSettings(json) checks the settings the page is about to store; it
// returns them as the till reads them back (amounts with the currency).
func riskSettings(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	s, err := a.settings(str(args, 0))
	if err != nil {
		return nil, err
	}
	return asJSON(map[string]any{
		"max_payment": fmtCap(s.MaxPayment, s.Currency), "max_unsettled": fmtCap(s.MaxUnsettled, s.Currency),
		"max_offline": s.MaxOffline.String(), "issuers": len(s.Issuers),
	})
}

func fmtCap(v uint64, cur string) string {
	if v == 0 {
		return "no cap"
	}
	return fmtMinor(v, cur)
}

// posAccept(paymentText, settingsJSON) is accept for a till: the payment
// is first checked against the merchant's risk settings (posrisk, as
// `pos run` does), and a refused one is not credited; the error says why.
// The offline clock is the wallet's last sync. A payment already accepted
// (its receipt asked again) is not checked again.
func posAccept(args []js.Value) (any, error) {
	a, env, err := openWith(args)
	if err != nil {
		return nil, err
	}
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(env, &b); err != nil {
		return nil, err
	}
	if r, ok := a.w.Receipt(b.Payment.ID()); ok {
		return qr.EncodeText(r), nil
	}
	s, err := a.settings(str(args, 1))
	if err != nil {
		return nil, err
	}
	st, err := a.w.Status()
	if err != nil {
		return nil, err
	}
	if err := s.Check(a.w, &b, time.Now(), st.LastSync); err != nil {
		return nil, err
	}
	r, _, err := a.w.AcceptRetry(env)
	if err != nil {
		return nil, err
	}
	return qr.EncodeText(r), nil
}

// refund(saleID, amount) refunds a sale this till received (its payment
// ID; amount "" for the whole sale) with the wallet's refund, drawn on
// the merchant account, and returns {text, amount, repeat}: the code the
// customer's wallet scans and accepts. Refunding again gives the same
// code; another amount, or more than the sale, is refused.
func refund(args []js.Value) (any, error) {
	a, err := open()
	if err != nil {
		return nil, err
	}
	sale, err := a.w.FindSale(strings.TrimSpace(str(args, 0)))
	if err != nil {
		return nil, err
	}
	var v uint64
	if t := strings.TrimSpace(str(args, 1)); t != "" {
		if v, err = a.amount(t); err != nil {
			return nil, err
		}
	}
	bundle, repeat, err := a.w.Refund(sale.ID, v)
	if err != nil {
		return nil, err
	}
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &b); err != nil {
		return nil, err
	}
	st, err := a.w.Status()
	if err != nil {
		return nil, err
	}
	return asJSON(map[string]any{"text": qr.EncodeText(bundle), "amount": fmtMinor(b.Payment.Amount, st.Currency), "repeat": repeat})
}
