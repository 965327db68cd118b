package ledger

import (
	"time"

	"github.com/offpay/offpay/protocol"
)

// DoubleSpendPayload is the payload of double_spend: a stored proof that
// a device signed two conflicting statements for one counter (fraud.go),
// with what each statement moved.
type DoubleSpendPayload struct {
	Device  string `json:"device"`
	Account string `json:"account"`
	Counter uint64 `json:"counter"`
	Proof   string `json:"proof"` // entries, receipt or refund (SPEC.md section 11)
	// Statements are the two conflicting statements, as the proof holds
	// them: each a log entry of some device, with the payment it carries.
	Statements []ProofStatement `json:"statements"`
	// DeficitBefore is the device's deficit (minus its position, 0 if it
	// was not negative) when the proof was found, before the statement
	// that proved it was applied. What the account then loses arrives as
	// account_changed lines (recovery); the report has the device's
	// current position.
	DeficitBefore int64     `json:"deficit_before_minor"`
	Currency      string    `json:"currency"`
	FoundAt       time.Time `json:"found_at"`
}

// ProofStatement is one statement of a double-spend proof.
type ProofStatement struct {
	Device  string `json:"device"` // whose log entry it is
	Counter uint64 `json:"counter"`
	Entry   string `json:"entry"` // load, pay, receive, redeem, confirm, sync
	// The payment it carries (pay, receive) or names (confirm: the receipt's
	// payment; its amount is not in the receipt).
	PaymentID    string `json:"payment_id,omitempty"`
	Payer        string `json:"payer,omitempty"`
	PayerCounter uint64 `json:"payer_counter,omitempty"`
	Payee        string `json:"payee,omitempty"`
	Amount       int64  `json:"amount_minor,omitempty"` // pay, receive, redeem, load
	RefundOf     string `json:"refund_of,omitempty"`    // the payment is a refund of this sale
}

var entryNames = map[protocol.EntryKind]string{protocol.EntryLoad: "load", protocol.EntryPay: "pay", protocol.EntryReceive: "receive",
	protocol.EntryRedeem: "redeem", protocol.EntryConfirm: "confirm", protocol.EntrySync: "sync"}

// proofStatement describes a stored evidence entry; one that does not
// decode (verified entries always do) is described by its encoding only.
func proofStatement(data []byte) ProofStatement {
	var e protocol.LogEntry
	if protocol.Unmarshal(data, &e) != nil {
		return ProofStatement{Entry: "undecodable"}
	}
	ps := ProofStatement{Device: e.Device.String(), Counter: e.Counter, Entry: entryNames[e.Kind]}
	payment := func(p *protocol.Payment) {
		ps.PaymentID, ps.Payer, ps.PayerCounter, ps.Payee = p.ID().String(), p.Payer.String(), p.Counter, p.Payee.String()
		ps.Amount = int64(min(p.Amount, protocol.MaxAmount))
		if p.IsRefund() {
			ps.RefundOf = p.Sale.String()
		}
	}
	switch e.Kind {
	case protocol.EntryPay:
		var p protocol.Payment
		if protocol.Unmarshal(e.Body, &p) == nil {
			payment(&p)
		}
	case protocol.EntryReceive:
		var b protocol.PaymentBundle
		if protocol.Unmarshal(e.Body, &b) == nil {
			payment(&b.Payment)
		}
	case protocol.EntryConfirm:
		var r protocol.Receipt
		if protocol.Unmarshal(e.Body, &r) == nil {
			ps.PaymentID, ps.Payee = r.Payment.String(), r.Payee.String()
		}
	case protocol.EntryRedeem:
		var r protocol.Redeem
		if protocol.Unmarshal(e.Body, &r) == nil {
			ps.Amount = int64(min(r.Amount, protocol.MaxAmount))
		}
	case protocol.EntryLoad:
		var l protocol.Load
		if protocol.Unmarshal(e.Body, &l) == nil {
			ps.Amount = int64(min(l.Amount, protocol.MaxAmount))
		}
	}
	return ps
}

// doubleSpendPayload is the double_spend payload of proof p against d.
func (s *Service) doubleSpendPayload(p *ProofRow, d *DeviceRow) DoubleSpendPayload {
	pl := DoubleSpendPayload{Device: p.Device.String(), Account: d.Account, Counter: p.Counter, Proof: p.Kind,
		Statements: []ProofStatement{proofStatement(p.EntryA), proofStatement(p.EntryB)}, Currency: s.opts.Currency,
		FoundAt: time.Unix(0, p.FoundAt).UTC()}
	if pl.Proof == "" {
		pl.Proof = ProofEntries
	}
	if pos := position(d); pos < 0 {
		pl.DeficitBefore = -pos
	}
	return pl
}
