// Package posrisk is a merchant terminal's offline risk settings, as card
// terminals have: a cap per payment, a cap on the value held unsettled, a
// cap on the time without reaching the ledger, and the issuers accepted.
// The CLI's `pos run` and the browser's POS page both check a payment
// with Settings.Check before the wallet accepts it: one implementation.
package posrisk

import (
	"errors"
	"fmt"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/wallet"
)

// ErrRefused is a payment the merchant's own risk settings refuse;
// ErrOffline is the refusal for having been offline too long, which a sync
// cures.
var (
	ErrRefused = errors.New("refused by the terminal's risk settings")
	ErrOffline = fmt.Errorf("%w: offline too long", ErrRefused)
)

// Settings are the limits; a zero cap is no cap.
type Settings struct {
	MaxPayment   uint64 // minor units, per payment
	MaxUnsettled uint64 // minor units, received and not yet settled, this payment included
	MaxOffline   time.Duration
	Issuers      map[protocol.KeyID]bool // empty: any issuer the SE trusts
	Currency     string                  // of the amounts, for messages
}

// Check says whether the terminal w takes payment b at now, having last
// reached the ledger at lastReached. It reads w's history and changes
// nothing (w is read only for an unsettled cap); the error wraps
// ErrRefused (or ErrOffline) and says why.
func (s *Settings) Check(w *wallet.Wallet, b *protocol.PaymentBundle, now, lastReached time.Time) error {
	if s.MaxPayment > 0 && b.Payment.Amount > s.MaxPayment {
		return fmt.Errorf("%w: %s is above the per-payment cap of %s", ErrRefused, s.money(b.Payment.Amount), s.money(s.MaxPayment))
	}
	if len(s.Issuers) > 0 && !s.Issuers[b.Cert.Issuer] {
		return fmt.Errorf("%w: issuer %s not accepted here", ErrRefused, b.Cert.Issuer)
	}
	if s.MaxUnsettled > 0 {
		if u := Unsettled(w); u+b.Payment.Amount < u || u+b.Payment.Amount > s.MaxUnsettled {
			return fmt.Errorf("%w: %s held unsettled and %s more is above the cap of %s: the terminal must go online", ErrRefused, s.money(u), s.money(b.Payment.Amount), s.money(s.MaxUnsettled))
		}
	}
	if off := now.Sub(lastReached); s.MaxOffline > 0 && off > s.MaxOffline {
		return fmt.Errorf("%w: the ledger was last reached at %s, the cap is %s: the terminal must go online", ErrOffline, lastReached.UTC().Format(time.RFC3339), s.MaxOffline)
	}
	return nil
}

func (s *Settings) money(minor uint64) string {
	c, err := offpay.LookupCurrency(s.Currency)
	if err != nil || minor > 1<<62 {
		return fmt.Sprintf("%d %s", minor, s.Currency)
	}
	return offpay.FormatMinor(int64(minor), c.Exponent) + " " + s.Currency
}

// Unsettled is the value w received and the ledger has not yet settled.
func Unsettled(w *wallet.Wallet) uint64 {
	var sum uint64
	for _, r := range w.History() {
		if r.Kind == wallet.KindReceive && r.State != wallet.Settled && r.State != wallet.Rejected {
			sum += r.Amount
		}
	}
	return sum
}
