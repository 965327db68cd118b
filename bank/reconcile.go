package bank

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/offpay/offpay/ledger"
)

// Event is a webhook body, decoded.
type Event struct {
	SchemaVersion int             `json:"schema_version"`
	ID            string          `json:"id"` // the idempotency key
	Kind          string          `json:"kind"`
	Account       string          `json:"account"`
	EventSeq      int64           `json:"event_seq"`
	CreatedAt     time.Time       `json:"created_at"`
	Data          json.RawMessage `json:"data"`
}

// ParseEvent decodes a webhook body (verify its signature first). A body
// of a schema version other than SchemaVersion is refused.
func ParseEvent(body []byte) (*Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("bank: webhook body: %w", err)
	}
	if ev.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("bank: webhook body of schema version %d, want %d", ev.SchemaVersion, SchemaVersion)
	}
	if ev.ID == "" || ev.Kind == "" || !json.Valid(ev.Data) {
		return nil, errors.New("bank: webhook body without id, kind or data")
	}
	return &ev, nil
}

// Books is what the ledger says happened: every account's statement (GET
// /v1/admin/accounts/{name}/statement) and the number of settled payments
// (the report's settled_payments).
type Books struct {
	Statements map[string][]ledger.StatementLine
	Settled    int64
}

// Reconciliation is what Reconcile matched.
type Reconciliation struct {
	Lines, SettledPayments, ExpiredPayments, Events int
}

// Reconcile matches the events a bank received (in any order, repeats of
// one id included) against the ledger's books, as a bank's reconciliation
// would:
//
//   - every statement line has exactly one account_changed event (same
//     account, seq, kind, amount, balance and ref), and every
//     account_changed event its line;
//   - the payment_settled events name each settled payment exactly once,
//     as many as the books count; each names the settle_in line that swept
//     it in, if any, and that line lists it among its payment_ids, whose
//     amounts add up to the line's;
//   - every expired line has exactly one payment_expired item naming it,
//     for its amount;
//   - every sale_refund line (a merchant account paying a refund) debits
//     and lists one payment, and a settled refund that names its
//     refund_line names such a line listing it;
//   - each account's events are numbered 1, 2, ... with none missing.
//
// It returns every mismatch it finds (at most 50) as one error.
func Reconcile(events []*Event, books Books) (*Reconciliation, error) {
	var problems []string
	bad := func(format string, args ...any) {
		if len(problems) < 50 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	byID := map[string]*Event{}
	seqs := map[string]map[int64]string{}
	for _, ev := range events {
		if prev, ok := byID[ev.ID]; ok {
			if prev.Account != ev.Account || prev.EventSeq != ev.EventSeq || string(prev.Data) != string(ev.Data) {
				bad("event %s received twice with different contents", ev.ID)
			}
			continue
		}
		byID[ev.ID] = ev
		if seqs[ev.Account] == nil {
			seqs[ev.Account] = map[int64]string{}
		}
		if other, ok := seqs[ev.Account][ev.EventSeq]; ok {
			bad("account %s: event_seq %d is both %s and %s", ev.Account, ev.EventSeq, other, ev.ID)
		}
		seqs[ev.Account][ev.EventSeq] = ev.ID
	}
	for acct, m := range seqs {
		for i := int64(1); i <= int64(len(m)); i++ {
			if _, ok := m[i]; !ok {
				bad("account %s: %d events but none with event_seq %d", acct, len(m), i)
				break
			}
		}
	}
	type lineKey struct {
		acct string
		seq  int64
	}
	changed := map[lineKey]ledger.AccountChanged{}
	settledBy := map[string]ledger.SettledPayment{} // payment id -> item
	expiredBy := map[lineKey][]ledger.SettledPayment{}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ev := byID[id]
		switch ev.Kind {
		case ledger.NoteAccountChanged:
			var c ledger.AccountChanged
			if err := json.Unmarshal(ev.Data, &c); err != nil || c.Account != ev.Account {
				bad("event %s: not an account_changed of %s: %v", id, ev.Account, err)
				continue
			}
			k := lineKey{c.Account, c.Seq}
			if _, dup := changed[k]; dup {
				bad("statement line %s #%d in two events", c.Account, c.Seq)
			}
			changed[k] = c
		case ledger.NotePaymentSettled, ledger.NotePaymentExpired:
			var p ledger.SettledPayload
			if err := json.Unmarshal(ev.Data, &p); err != nil || p.Account != ev.Account {
				bad("event %s: not a payment payload of %s: %v", id, ev.Account, err)
				continue
			}
			for _, it := range p.Payments {
				if ev.Kind == ledger.NotePaymentExpired {
					if it.Line == nil {
						bad("expired payment %s names no statement line", it.PaymentID)
						continue
					}
					k := lineKey{it.Line.Account, it.Line.Seq}
					expiredBy[k] = append(expiredBy[k], it)
					continue
				}
				if _, dup := settledBy[it.PaymentID]; dup {
					bad("settled payment %s in two payment_settled events", it.PaymentID)
				}
				settledBy[it.PaymentID] = it
				if it.PayeeAccount != ev.Account {
					bad("settled payment %s to account %s is in the stream of %s", it.PaymentID, it.PayeeAccount, ev.Account)
				}
			}
		}
	}
	r := &Reconciliation{Events: len(byID), SettledPayments: len(settledBy)}
	if int64(len(settledBy)) != books.Settled {
		bad("%d settled payments in the events, %d in the books", len(settledBy), books.Settled)
	}
	swept := map[lineKey]int{}
	refundLine := map[lineKey]string{} // sale_refund line -> the refund it paid
	for acct, lines := range books.Statements {
		for _, l := range lines {
			r.Lines++
			k := lineKey{acct, l.Seq}
			c, ok := changed[k]
			if !ok {
				bad("statement line %s #%d (%s %d) has no event", acct, l.Seq, l.Kind, l.Amount)
				continue
			}
			delete(changed, k)
			if c.Kind != l.Kind || c.Amount != l.Amount || c.Balance != l.Balance || c.Ref != l.Ref {
				bad("statement line %s #%d is %s %d (balance %d, ref %q), its event %s %d (%d, %q)", acct, l.Seq, l.Kind, l.Amount,
					l.Balance, l.Ref, c.Kind, c.Amount, c.Balance, c.Ref)
			}
			switch l.Kind {
			case ledger.LineSettleIn:
				var sum int64
				for _, pid := range c.PaymentIDs {
					it, ok := settledBy[pid]
					switch {
					case !ok:
						bad("settle_in line %s #%d lists payment %s, which no payment_settled names", acct, l.Seq, pid)
					case it.Line == nil || it.Line.Account != acct || it.Line.Seq != l.Seq:
						bad("settle_in line %s #%d lists payment %s, which names line %v", acct, l.Seq, pid, it.Line)
					default:
						sum += it.Amount
					}
				}
				if sum != l.Amount {
					bad("settle_in line %s #%d of %d: its payments add up to %d", acct, l.Seq, l.Amount, sum)
				}
				swept[k] = len(c.PaymentIDs)
			case ledger.LineSaleRefund:
				if len(c.PaymentIDs) != 1 || l.Amount >= 0 {
					bad("sale_refund line %s #%d of %d lists %d payments", acct, l.Seq, l.Amount, len(c.PaymentIDs))
					continue
				}
				refundLine[k] = c.PaymentIDs[0]
			case ledger.LineExpired:
				its := expiredBy[k]
				if len(its) != 1 || its[0].Amount != l.Amount {
					bad("expired line %s #%d of %d: %d payment_expired items name it", acct, l.Seq, l.Amount, len(its))
				}
				r.ExpiredPayments += len(its)
				delete(expiredBy, k)
			}
		}
	}
	for k := range changed {
		bad("event for statement line %s #%d, which the books do not have", k.acct, k.seq)
	}
	for k := range expiredBy {
		bad("payment_expired names statement line %s #%d, which is not an expired line", k.acct, k.seq)
	}
	for pid, it := range settledBy {
		if it.RefundLine != nil && refundLine[lineKey{it.RefundLine.Account, it.RefundLine.Seq}] != pid {
			bad("settled refund %s names line %s #%d, not the sale_refund line that paid it", pid, it.RefundLine.Account, it.RefundLine.Seq)
		}
		if it.Line != nil {
			if _, ok := swept[lineKey{it.Line.Account, it.Line.Seq}]; !ok {
				bad("settled payment %s names line %s #%d, not a settle_in line", pid, it.Line.Account, it.Line.Seq)
			}
		}
	}
	if len(problems) > 0 {
		return r, errors.New("bank: reconciliation: " + strings.Join(problems, "; "))
	}
	return r, nil
}
