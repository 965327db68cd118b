package bank

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/iso20022"
	"github.com/offpay/offpay/ledger"
)

// Formats of the webhook body (Config.Format).
const (
	// FormatJSON: every notification as the JSON body (Body).
	FormatJSON = "json"
	// FormatCamt054: the notifications that move or report money
	// (account_changed, payment_settled, payment_expired) as an ISO 20022
	// camt.054.001.08 (Camt054), Content-Type application/xml; the others,
	// and any the ISO form cannot carry, as JSON.
	FormatCamt054 = "camt.054"
)

// Camt054 returns notification n as a camt.054.001.08 debit/credit
// notification (spec/iso20022.md, "The bank webhook"):
//
//   - account_changed is one booked entry (Sts BOOK): the statement line's
//     amount, credit or debit, its number as NtryRef, its kind as the
//     proprietary bank transaction code, its ref as AcctSvcrRef, the balance
//     after it in AddtlNtryInf, and one TxDtls per payment it sweeps in
//     (the payment ID in AddtlTxInf);
//   - payment_settled and payment_expired are one entry for information
//     (Sts INFO: the money moved, if at all, by an account_changed line, so
//     a bank summing booked entries counts it once) of the payments' total,
//     a credit, with one TxDtls per payment (its amount, its ID in
//     AddtlTxInf) and, for an expiry, the reason in AddtlNtryInf.
//
// Every message names the notification: Ntfctn/ElctrncSeqNb is its
// event_seq, AddtlNtfctnInf its kind and idempotency key, and MsgId and
// Ntfctn/Id the key itself when it fits 35 characters, else "sha256:" and
// the first 28 hex digits of its SHA-256.
//
// ok is false for a notification with no camt.054 form: a kind that
// reports no money (account_frozen, device_revoked, double_spend), one
// written before streams existed, or one the ISO messages cannot carry (a
// currency that is not three letters, an amount of more than 18 digits);
// such a notification goes as JSON. err is set only for a payload that
// does not decode.
func Camt054(n *ledger.Notification) (doc []byte, ok bool, err error) {
	if n.Stream == "" || n.Seq == 0 {
		return nil, false, nil
	}
	note := iso20022.Notification{MsgID: msgID(n.IdempotencyKey), ID: msgID(n.IdempotencyKey), Account: n.Stream,
		Created: n.CreatedAt, SeqNb: n.Seq, Info: n.Kind + " " + n.IdempotencyKey}
	var e iso20022.Entry
	switch n.Kind {
	case ledger.NoteAccountChanged:
		var p ledger.AccountChanged
		if err := json.Unmarshal(n.Payload, &p); err != nil {
			return nil, false, fmt.Errorf("bank: %s payload: %w", n.Kind, err)
		}
		note.Currency = p.Currency
		bal, err := iso20022.Decimal(max(p.Balance, -p.Balance), p.Currency)
		if err != nil {
			return nil, false, nil
		}
		if p.Balance < 0 {
			bal = "-" + bal
		}
		e = iso20022.Entry{Ref: strconv.FormatInt(p.Seq, 10), Amount: p.Amount, Status: iso20022.StatusBooked,
			BookingDate: day(p.BookingDate), ValueDate: day(p.ValueDate), Code: p.Kind,
			Info: "balance after: " + bal + " " + p.Currency}
		if len(p.Ref) <= 35 {
			e.ServicerRef = p.Ref
		} else {
			e.Info += "; ref: " + p.Ref
		}
		for _, id := range p.PaymentIDs {
			e.Transactions = append(e.Transactions, iso20022.Transaction{Info: id})
		}
	case ledger.NotePaymentSettled, ledger.NotePaymentExpired:
		var p ledger.SettledPayload
		if err := json.Unmarshal(n.Payload, &p); err != nil {
			return nil, false, fmt.Errorf("bank: %s payload: %w", n.Kind, err)
		}
		note.Currency = p.Currency
		e = iso20022.Entry{Amount: p.Total, Status: iso20022.StatusInfo, BookingDate: day(p.BookingDate),
			ValueDate: day(p.ValueDate), Code: n.Kind, Info: p.Reason}
		for i := range p.Payments {
			amount := p.Payments[i].Amount
			e.Transactions = append(e.Transactions, iso20022.Transaction{Amount: &amount, Info: p.Payments[i].PaymentID})
		}
	default:
		return nil, false, nil
	}
	note.Entries = []iso20022.Entry{e}
	doc, err = iso20022.Camt054(&note)
	var oe *offpay.Error
	if errors.As(err, &oe) && oe.Code == offpay.EINVALID {
		return nil, false, nil // not expressible: JSON
	}
	if err != nil {
		return nil, false, err
	}
	return doc, true, nil
}

// msgID is key when it fits a Max35Text, else a digest of it.
func msgID(key string) string {
	if len(key) <= 35 && key != "" {
		return key
	}
	h := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(h[:14])
}

// day parses a payload's date (the zero time if it has none).
func day(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// body returns the body of n in the worker's format and its content type.
func (w *Worker) body(n *ledger.Notification) ([]byte, string, error) {
	if w.cfg.Format == FormatCamt054 {
		doc, ok, err := Camt054(n)
		if err != nil {
			return nil, "", err
		}
		if ok {
			return doc, "application/xml", nil
		}
	}
	b, err := Body(n)
	return b, "application/json", err
}
