package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// HistoryFile is the wallet's history, beside the SE state.
const HistoryFile = "wallet.json"

// Kind is what a history record is about.
type Kind string

// Record kinds.
const (
	KindLoad    Kind = "load"
	KindPay     Kind = "pay"
	KindReceive Kind = "receive"
	KindRedeem  Kind = "redeem"
	// KindSweep is value the ledger moved from a merchant purse to its
	// account: the purse debit a sync applied.
	KindSweep Kind = "sweep"
	// KindRefund is a refund this (merchant's) device gave for one of its
	// sales, paid by the merchant account; KindRefunded a refund this
	// device received for a payment it made (refund.go).
	KindRefund   Kind = "refund"
	KindRefunded Kind = "refunded"
)

// State is where a record stands.
type State string

// Record states. A payment out is pending until its receipt comes back
// (or the ledger settles it), confirmed when the payee countersigned, and
// settled once the ledger recorded it; a payment the ledger holds awaiting
// its payee's claim stays pending. Expired: the payee never claimed it
// within protocol.ClaimWindow and the ledger returned the value to the
// payer's account (not to the purse).
const (
	Pending   State = "pending"
	Confirmed State = "confirmed"
	Settled   State = "settled"
	Rejected  State = "rejected"
	Expired   State = "expired"
)

// Record is one line of the user's history.
type Record struct {
	ID           string `json:"id"` // payment ID (hex) for pay and receive
	Kind         Kind   `json:"kind"`
	Amount       uint64 `json:"amount_minor"`
	Counterparty string `json:"counterparty,omitempty"` // device ID (hex)
	// CounterpartyAccount is the other side's account and CounterpartyName
	// its certified name (a merchant's; a person's certificate names
	// none), both from its certificate, which the ledger's issuer signed.
	// Empty when not known, as for a record rebuilt from the log after a
	// crash.
	CounterpartyAccount string `json:"counterparty_account,omitempty"`
	CounterpartyName    string `json:"counterparty_name,omitempty"`
	Counter             uint64 `json:"counter,omitempty"` // this SE's log counter
	Time                uint64 `json:"time"`
	State               State  `json:"state"`
	Reason              string `json:"reason,omitempty"`
	// Receipt is, for a payment received, the receipt envelope this
	// wallet's SE issued for it: public data, kept so that a payer who lost
	// the answer and presents the same payment again gets the same receipt
	// (Wallet.AcceptRetry). For an online payment (paid or received) it is
	// the encoding of the ledger's OnlineReceipt, given back to a ledger
	// that lost the payment (onlinerestore.go).
	Receipt []byte `json:"receipt,omitempty"`
	// Sale is, for a refund (given or received), the payment ID of the sale
	// it refunds; Refund, on a sale's record, the refund that returned it.
	Sale   string `json:"sale,omitempty"`
	Refund string `json:"refund,omitempty"`
	// Request is, for a payment made online (KindOnlinePay), the request's
	// nonce (hex): the wallet never pays that request again from the purse.
	Request string `json:"request,omitempty"`
}

// ClaimDeadline is, for a payment out (KindPay), the time from which its
// payee can no longer claim it: the payment's time plus
// protocol.ClaimWindow (the payee's SE refuses it from then on, counted in
// ledger time). A payment its payee has not claimed by then returns to
// the payer's account, not to the purse, as soon as the ledger knows the
// payee can no longer claim it: when the payee's log shows a ledger time
// at or past it (a payee's wallet learns the ledger's time at one sync
// and shows it at the next), or, with the payee revoked or its
// certificate expired, at the ledger's next deadline run. The payer's
// wallet shows it as expired at its first sync after that. Zero for other
// kinds.
func (r Record) ClaimDeadline() time.Time {
	if r.Kind != KindPay {
		return time.Time{}
	}
	return time.Unix(int64(r.Time+protocol.ClaimWindow), 0).UTC()
}

// history is a projection of the SE's log plus what the ledger said.
// The SE is the source of truth: after a crash the wallet rebuilds what
// it missed from the log (Seen says how far it got).
type history struct {
	Seen    uint64          `json:"seen_counter"`
	Records []Record        `json:"records"`
	Reserve *pendingReserve `json:"reserve,omitempty"`
	// Swept is the cumulative sweep of the last sync entry folded: each
	// sync entry that raises it is one sweep record of the difference.
	Swept uint64 `json:"swept_minor,omitempty"`
	index map[string]int
}

// pendingReserve lets a crashed or timed-out reserve be retried with the
// same request ID, so that the ledger never debits twice.
type pendingReserve struct {
	ID     protocol.Nonce `json:"id"`
	Amount uint64         `json:"amount_minor"`
}

// Labels under which the history and the archive are sealed.
const (
	historyLabel = "wallet/history"
	archiveLabel = "wallet/archive"
)

// loadHistory reads the history, opening it with sealer if it is sealed.
// A history written before sealing (plain JSON) is read as it is and
// sealed at the next save.
func loadHistory(dir string, sealer se.DataSealer) (*history, error) {
	h := &history{}
	b, err := os.ReadFile(filepath.Join(dir, HistoryFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if len(b) > 0 && b[0] != '{' {
			if sealer == nil {
				return nil, errors.New("wallet: the history is sealed and this SE cannot open it")
			}
			if b, err = sealer.OpenData(historyLabel, b); err != nil {
				return nil, fmt.Errorf("wallet: history: %w", err)
			}
		}
		if err := json.Unmarshal(b, h); err != nil {
			return nil, fmt.Errorf("wallet: history: %w", err)
		}
	}
	h.reindex()
	return h, nil
}

func (h *history) reindex() {
	h.index = make(map[string]int, len(h.Records))
	for i, r := range h.Records {
		h.index[r.ID] = i
	}
}

// save writes the history, sealed with sealer if there is one.
func (h *history) save(dir string, hook atomicfile.Hook, sealer se.DataSealer) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if sealer != nil {
		if b, err = sealer.SealData(historyLabel, b); err != nil {
			return err
		}
	}
	return atomicfile.Write(dir, HistoryFile, b, hook)
}

func (h *history) get(id string) *Record {
	if i, ok := h.index[id]; ok {
		return &h.Records[i]
	}
	return nil
}

// paidOnline returns the record of the online payment of payee's request
// nonce, or nil.
func (h *history) paidOnline(payee, nonce string) *Record {
	for i := range h.Records {
		if r := &h.Records[i]; r.Kind == KindOnlinePay && r.Request == nonce && r.Counterparty == payee {
			return r
		}
	}
	return nil
}

// add appends r unless a record with its ID exists.
func (h *history) add(r Record) {
	if _, ok := h.index[r.ID]; ok {
		return
	}
	h.index[r.ID] = len(h.Records)
	h.Records = append(h.Records, r)
}

// fold brings the history up to date with log entries.
func (h *history) fold(es []protocol.LogEntry) error {
	for i := range es {
		e := &es[i]
		if e.Counter <= h.Seen {
			continue
		}
		switch e.Kind {
		case protocol.EntryLoad:
			var l protocol.Load
			if err := protocol.Unmarshal(e.Body, &l); err != nil {
				return err
			}
			h.add(Record{ID: fmt.Sprintf("load-%d", l.Seq), Kind: KindLoad, Amount: l.Amount, Counter: e.Counter, Time: e.Time, State: Settled})
		case protocol.EntryPay:
			var p protocol.Payment
			if err := protocol.Unmarshal(e.Body, &p); err != nil {
				return err
			}
			r := Record{ID: p.ID().String(), Kind: KindPay, Amount: p.Amount, Counterparty: p.Payee.String(), Counter: e.Counter, Time: e.Time, State: Pending}
			if p.IsRefund() {
				r.Kind, r.Sale = KindRefund, p.Sale.String()
				if sale := h.get(r.Sale); sale != nil {
					r.CounterpartyAccount = sale.CounterpartyAccount // the sale's payer, whom it goes back to
				}
				h.refunded(r.Sale, r.ID)
			}
			h.add(r)
		case protocol.EntryReceive:
			var b protocol.PaymentBundle
			if err := protocol.Unmarshal(e.Body, &b); err != nil {
				return err
			}
			id := b.Payment.ID().String()
			if r := h.get(id); r != nil && r.State == Rejected {
				// An earlier attempt was refused; this one was accepted.
				r.State, r.Reason, r.Counter, r.CounterpartyAccount, r.CounterpartyName = Confirmed, "", e.Counter, b.Cert.Account, b.Cert.Name
			}
			r := Record{ID: id, Kind: KindReceive, Amount: b.Payment.Amount, Counterparty: b.Payment.Payer.String(),
				CounterpartyAccount: b.Cert.Account, CounterpartyName: b.Cert.Name, Counter: e.Counter, Time: e.Time, State: Confirmed}
			if b.Payment.IsRefund() {
				r.Kind, r.Sale = KindRefunded, b.Payment.Sale.String()
				h.refunded(r.Sale, id)
			}
			h.add(r)
		case protocol.EntryConfirm:
			var rc protocol.Receipt
			if err := protocol.Unmarshal(e.Body, &rc); err != nil {
				return err
			}
			if r := h.get(rc.Payment.String()); r != nil && r.State == Pending {
				r.State = Confirmed
			}
		case protocol.EntryRedeem:
			var rd protocol.Redeem
			if err := protocol.Unmarshal(e.Body, &rd); err != nil {
				return err
			}
			h.add(Record{ID: fmt.Sprintf("redeem-%d", e.Counter), Kind: KindRedeem, Amount: rd.Amount, Counter: e.Counter, Time: e.Time, State: Pending})
		case protocol.EntrySync:
			var a protocol.SyncApplied
			if err := protocol.Unmarshal(e.Body, &a); err != nil {
				return err
			}
			if a.Swept > h.Swept {
				h.add(Record{ID: fmt.Sprintf("sweep-%d", e.Counter), Kind: KindSweep, Amount: a.Swept - h.Swept, Counter: e.Counter, Time: e.Time, State: Settled, Reason: "swept to your account"})
				h.Swept = a.Swept
			}
		}
		h.Seen = e.Counter
	}
	return nil
}

// refunded notes on a sale's record, if the history still holds it, the
// refund that returned it.
func (h *history) refunded(sale, refund string) {
	if r := h.get(sale); r != nil {
		r.Refund = refund
	}
}

// settle applies a sync result: the ledger's word on payments, and every
// redeem it acked.
func (h *history) settle(r *protocol.SyncResult) {
	for _, st := range r.Statuses {
		rec := h.get(st.Payment.String())
		if rec == nil {
			continue
		}
		switch st.Status {
		case protocol.StatusSettled:
			rec.State = Settled
		case protocol.StatusRejected:
			rec.State, rec.Reason = Rejected, "rejected by the ledger"
		case protocol.StatusExpired:
			rec.State, rec.Reason = Expired, "unclaimed; value returned to your account"
		}
	}
	for i := range h.Records {
		rec := &h.Records[i]
		if rec.Kind == KindRedeem && rec.Counter <= r.Acked && rec.State == Pending {
			rec.State = Settled
		}
	}
}

// maxRejected bounds the refused incoming payments the history keeps
// between syncs (a sync archives them).
const maxRejected = 100

func (h *history) rejected() int {
	n := 0
	for _, r := range h.Records {
		if refusedHere(r) {
			n++
		}
	}
	return n
}
