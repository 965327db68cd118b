package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Payloads of the bank notifications (outbox.go, SPEC.md section 19).
// Every notification is about one account, and a bank books from them:
// each statement line is one account_changed, each settled payment is in
// exactly one payment_settled (in its payee's account), each expired one
// in exactly one payment_expired (in its payer's account, which got the
// value back), and the two name each other where a line moved the money.

// AccountChanged is the payload of account_changed: one statement line.
type AccountChanged struct {
	Account  string `json:"account"`
	Seq      int64  `json:"seq"` // the statement line's number
	Kind     string `json:"kind"`
	Amount   int64  `json:"amount_minor"` // signed: credit > 0
	Balance  int64  `json:"balance_minor"`
	Currency string `json:"currency"`
	Ref      string `json:"ref"`
	// BookingDate and ValueDate are the UTC date of the ledger time the
	// line was written; the ledger credits and debits at once, so they
	// are equal.
	BookingDate string `json:"booking_date"`
	ValueDate   string `json:"value_date"`
	// PaymentIDs are the payments a settle_in line sweeps in (at most 500:
	// a bigger sweep is several lines) or the one an expired line returns.
	PaymentIDs []string `json:"payment_ids,omitempty"`
}

// LineRef names a statement line.
type LineRef struct {
	Account string `json:"account"`
	Seq     int64  `json:"seq"`
}

// SettledPayment is one payment in a payment_settled or payment_expired
// notification.
type SettledPayment struct {
	Payer        string `json:"payer"`
	Counter      uint64 `json:"counter"`
	PaymentID    string `json:"payment_id"`
	Payee        string `json:"payee"`
	Amount       int64  `json:"amount_minor"`
	Currency     string `json:"currency"`
	Status       string `json:"status"`
	PayerAccount string `json:"payer_account,omitempty"`
	PayeeAccount string `json:"payee_account,omitempty"`
	// PaidAt is the payment's own time, from the payer SE's clock.
	PaidAt time.Time `json:"paid_at"`
	// Line is the statement line that moved its value: the settle_in line
	// of a merchant payee, the expired line of the payer. A person payee's
	// value stays in its purse: no line.
	Line *LineRef `json:"statement_line,omitempty"`
	// RefundOf is, for a refund, the sale it refunds (its payment ID), and
	// RefundLine the merchant account's sale_refund line that paid it (none
	// if the account did not fund it).
	RefundOf   string   `json:"refund_of,omitempty"`
	RefundLine *LineRef `json:"refund_line,omitempty"`
}

// SettledPayload is the payload of payment_settled and payment_expired:
// up to 500 payments of one account.
type SettledPayload struct {
	Account string `json:"account"` // the payee's (settled) or payer's (expired)
	// Reason (payment_expired): claim_window (the payee's log shows the
	// claim window passed without it) or payee_cannot_claim (the payee is
	// revoked or its certificate expired, and the window passed).
	Reason      string           `json:"reason,omitempty"`
	Total       int64            `json:"total_minor"`
	Currency    string           `json:"currency"`
	BookingDate string           `json:"booking_date"`
	ValueDate   string           `json:"value_date"`
	Payments    []SettledPayment `json:"payments"`
}

// Reasons of payment_expired.
const (
	ExpiredClaimWindow = "claim_window"
	ExpiredNoPayee     = "payee_cannot_claim"
)

// AccountFrozen is the payload of account_frozen.
type AccountFrozen struct {
	Account string `json:"account"`
	Device  string `json:"device"` // the device whose revocation froze it
	Reason  string `json:"reason"`
}

// date is the booking (and value) date of ledger time t.
func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// post moves amount (signed) on a's balance in memory, writes the statement
// line and its notification. The caller saves a.
func (s *Service) post(ctx context.Context, tx Tx, a *AccountRow, kind string, amount int64, ref string) error {
	return s.postFor(ctx, tx, a, kind, amount, ref, nil)
}

// postFor is post for a line that moves the value of payments.
func (s *Service) postFor(ctx context.Context, tx Tx, a *AccountRow, kind string, amount int64, ref string, payments []string) error {
	bal, err := offpay.AddMinor(a.Balance, amount)
	if err != nil {
		return err
	}
	if bal < 0 {
		return offpay.Errorf(offpay.EINTERNAL, "account %q would go negative", a.Name)
	}
	a.Balance = bal
	a.LineSeq++
	now := s.now()
	line := LineRow{Account: a.Name, Seq: a.LineSeq, Kind: kind, Amount: amount, Balance: bal, Ref: ref, CreatedAt: now.UnixNano()}
	if err := tx.InsertLines(ctx, []LineRow{line}); err != nil {
		return err
	}
	return s.notify(ctx, tx, NoteAccountChanged, fmt.Sprintf("%s:%d", a.Name, a.LineSeq), a.Name, AccountChanged{
		Account: a.Name, Seq: a.LineSeq, Kind: kind, Amount: amount, Balance: bal, Currency: s.opts.Currency, Ref: ref,
		BookingDate: date(now), ValueDate: date(now), PaymentIDs: payments})
}

// postSweep posts the settle_in lines of ps, the settled payments to
// merchant devices of a worth sum in all, noteChunk payments a line (ref,
// then ref/2, ref/3, ...), and records each payment's line in lines.
func (s *Service) postSweep(ctx context.Context, tx Tx, a *AccountRow, sum int64, ps []PaymentRow, ref string, lines map[protocol.Hash]LineRef) error {
	var total int64
	for i, lo := 0, 0; lo < len(ps); i, lo = i+1, lo+noteChunk {
		chunk := ps[lo:min(lo+noteChunk, len(ps))]
		var amount int64
		ids := make([]string, len(chunk))
		for j := range chunk {
			var err error
			if amount, err = offpay.AddMinor(amount, chunk[j].Amount); err != nil {
				return err
			}
			ids[j] = chunk[j].ID.String()
		}
		r := ref
		if i > 0 {
			r = fmt.Sprintf("%s/%d", ref, i+1)
		}
		if err := s.postFor(ctx, tx, a, LineSettleIn, amount, r, ids); err != nil {
			return err
		}
		for j := range chunk {
			lines[chunk[j].ID] = LineRef{a.Name, a.LineSeq}
		}
		total += amount
	}
	if total != sum {
		return offpay.Errorf(offpay.EINTERNAL, "sweep into %q: %d by payment, %d by device", a.Name, total, sum)
	}
	return nil
}

// byAccount groups ps by the account each is about, in order: the
// payee's for payment_settled, the payer's for payment_expired.
func byAccount(kind string, ps []PaymentRow, devs map[protocol.KeyID]*DeviceRow) ([]string, map[string][]PaymentRow, error) {
	var order []string
	groups := map[string][]PaymentRow{}
	for _, p := range ps {
		dev := p.Payee
		if kind == NotePaymentExpired {
			dev = p.Payer
		}
		d := devs[dev]
		if d == nil {
			return nil, nil, offpay.Errorf(offpay.EINTERNAL, "%s note: device %v not read", kind, dev)
		}
		if _, ok := groups[d.Account]; !ok {
			order = append(order, d.Account)
		}
		groups[d.Account] = append(groups[d.Account], p)
	}
	return order, groups, nil
}

// notifyPayments queues notes of kind about payments, in the stream of
// the account each is about, noteChunk payments a note; lines names the
// statement line of each payment that has one, refunds the sale_refund
// line of each refund a merchant account paid.
func (s *Service) notifyPayments(ctx context.Context, tx Tx, kind, reason string, all []PaymentRow,
	devs map[protocol.KeyID]*DeviceRow, lines, refunds map[protocol.Hash]LineRef) error {
	order, groups, err := byAccount(kind, all, devs)
	if err != nil {
		return err
	}
	now := s.now()
	for _, acct := range order {
		ps := groups[acct]
		for lo := 0; lo < len(ps); lo += noteChunk {
			chunk := ps[lo:min(lo+noteChunk, len(ps))]
			pl := SettledPayload{Account: acct, Reason: reason, Currency: s.opts.Currency, BookingDate: date(now), ValueDate: date(now),
				Payments: make([]SettledPayment, len(chunk))}
			for i := range chunk {
				p := &chunk[i]
				pl.Payments[i] = s.settledPayment(p, devs)
				if l, ok := lines[p.ID]; ok && p.Sale == (protocol.Hash{}) {
					pl.Payments[i].Line = &l
				}
				if p.Sale != (protocol.Hash{}) {
					pl.Payments[i].RefundOf = p.Sale.String()
					if l, ok := refunds[p.ID]; ok {
						pl.Payments[i].RefundLine = &l
					}
					if l, ok := lines[p.ID]; ok && kind == NotePaymentExpired {
						pl.Payments[i].Line = &l
					}
				}
				pl.Total += p.Amount // at most 500 amounts of at most 2^53
			}
			key := fmt.Sprintf("%v:%d:%v", chunk[0].Payer, chunk[0].Counter, chunk[0].ID)
			if err := s.notify(ctx, tx, kind, key, acct, pl); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) settledPayment(p *PaymentRow, devs map[protocol.KeyID]*DeviceRow) SettledPayment {
	it := SettledPayment{Payer: p.Payer.String(), Counter: p.Counter, PaymentID: p.ID.String(), Payee: p.Payee.String(),
		Amount: p.Amount, Currency: s.opts.Currency, Status: statusName(p.Status), PaidAt: time.Unix(int64(min(p.Time, 1<<62)), 0).UTC()}
	if d := devs[p.Payer]; d != nil {
		it.PayerAccount = d.Account
	}
	if d := devs[p.Payee]; d != nil {
		it.PayeeAccount = d.Account
	}
	return it
}

// sweptTo returns, by merchant account, the payments of settled whose
// payee is a merchant device (their value was swept into the account).
func sweptTo(settled []PaymentRow, devs map[protocol.KeyID]*DeviceRow) map[string][]PaymentRow {
	out := map[string][]PaymentRow{}
	for _, p := range settled {
		if d := devs[p.Payee]; d != nil && d.Merchant {
			out[d.Account] = append(out[d.Account], p)
		}
	}
	return out
}
