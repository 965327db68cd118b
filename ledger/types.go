package ledger

import (
	"encoding/json"
	"time"

	"github.com/offpay/offpay/protocol"
)

// Account is a ledger account. Balances are minor units of the ledger's
// currency.
type Account struct {
	Name     string `json:"name"`
	Merchant bool   `json:"merchant"`
	// DisplayName is, for a merchant, the name its devices' certificates
	// carry and payers are shown before they pay; empty for a person.
	DisplayName string `json:"display_name,omitempty"`
	Balance     int64  `json:"balance_minor"`
	Currency    string `json:"currency"`
	Frozen      bool   `json:"frozen"`
	// Held is the part of Balance that backs its devices' unexplained
	// deficits (unassessed exposure): it cannot be withdrawn or reserved
	// until the deficits are explained by later uploads or assessed.
	Held int64 `json:"held_minor"`
	// Refundable is what its devices' sales may still be refunded for
	// (refunds.go): part of Held, a merchant's only.
	Refundable int64     `json:"refundable_minor"`
	CreatedAt  time.Time `json:"created_at"`
}

// StatementLine is one movement of an account.
type StatementLine struct {
	Seq       int64     `json:"seq"`
	Kind      string    `json:"kind"`         // deposit, withdraw, reserve, redeem, settle_in, recovery, refund, expired
	Amount    int64     `json:"amount_minor"` // signed: credit > 0, debit < 0
	Balance   int64     `json:"balance_minor"`
	Ref       string    `json:"ref"`
	CreatedAt time.Time `json:"created_at"`
}

// Enrolment is what a device receives when its key is certified.
type Enrolment struct {
	Device  *protocol.Certificate
	Issuer  *protocol.Certificate
	Root    *protocol.Certificate
	RevList *protocol.RevocationList
}

// DeviceReport is the reconciliation of one device.
type DeviceReport struct {
	Device   string `json:"device"` // hex KeyID
	Account  string `json:"account"`
	Loaded   int64  `json:"loaded_minor"`
	Sent     int64  `json:"sent_minor"`
	Received int64  `json:"received_minor"`
	Redeemed int64  `json:"redeemed_minor"`
	Swept    int64  `json:"swept_minor"`    // received value moved to a merchant's account at settlement
	Drawn    int64  `json:"drawn_minor"`    // what its merchant account paid for its refunds (refunds.go)
	Restored int64  `json:"restored_minor"` // a lost device's value returned to its account (lost.go)
	// Forfeit is value the device holds that its position does not count:
	// loads restored after the ledger went back in time beyond what the
	// account could be debited again (recovery.go), refunds beyond the
	// merchant account (refunds.go). A deficit within it is debt without
	// fraud, not an overspend.
	Forfeit  int64 `json:"forfeit_minor,omitempty"`
	Position int64 `json:"position_minor"` // loaded + received - sent - redeemed - swept
	// Unassessed is the device's deficit (-Position) while nothing proves
	// it an overspend yet: payments it made are known but its own log is
	// not, so receipts may still explain it. It is final at AssessBy.
	Unassessed int64      `json:"unassessed_minor"`
	AssessBy   *time.Time `json:"assess_by,omitempty"`
	Acked      uint64     `json:"acked_counter"`
	LastSeen   time.Time  `json:"last_seen"` // the last ledger time the device was given (enrolment, a sync result)
	Status     string     `json:"status"`    // active, revoked
	Reason     string     `json:"reason,omitempty"`
}

// Report is the global reconciliation. ConservationOK holds when
// Issued + Losses + Unassessed == Accounts + Outstanding: losses are money
// the operator adds (overspend it could not recover), unassessed exposure
// is value devices have paid out that nothing explains yet (it becomes a
// recovery or a loss at its deadline), so both sit on the issued side.
// Outstanding counts only what purses hold (non-negative positions) and
// payments in flight: a deficit is never netted against it.
type Report struct {
	Currency       string         `json:"currency"`
	ConservationOK bool           `json:"conservation_ok"`
	Issued         int64          `json:"issued_minor"`      // deposits - withdrawals
	Accounts       int64          `json:"accounts_minor"`    // sum of account balances
	Outstanding    int64          `json:"outstanding_minor"` // purse value not yet redeemed (non-negative positions) and payments awaiting their claim
	Unassessed     int64          `json:"unassessed_minor"`  // devices' deficits not yet proven or explained (held on their accounts)
	Held           int64          `json:"held_minor"`        // account balances held against unassessed exposure and refundable sales
	Refundable     int64          `json:"refundable_minor"`  // merchants' sales that may still be refunded (part of what is held)
	Released       int64          `json:"released_minor"`    // sales of tills that stopped paying, no longer held; a late refund of one still draws on its account
	Losses         int64          `json:"losses_minor"`      // overspend not recovered from the owner
	Recovered      int64          `json:"recovered_minor"`   // overspend taken from owners' accounts
	Settled        int64          `json:"settled_payments"`
	RevokedDevices []string       `json:"revoked_devices"`
	DoubleSpends   []DoubleSpend  `json:"double_spends"`
	Devices        []DeviceReport `json:"devices,omitempty"`
	// Outbox is the bank notifications' state: pending, given up (dead),
	// and the oldest pending one.
	Outbox *OutboxStats `json:"outbox"`
	// Behind lists devices that showed a sync result of this ledger
	// acknowledging more of their log than it holds: it lost data
	// (recovery.go). While any is listed, ConservationOK is false.
	Behind []BehindDevice `json:"behind_devices,omitempty"`
	// RestoredAt is the last restore recorded (offpay ledger restore):
	// assessment deadlines count from no earlier than it (recovery.go).
	RestoredAt *time.Time `json:"restored_at,omitempty"`
	// Clearing is the net position of other providers' devices mirrored
	// here (federation.go): what this ledger owes the scheme's other
	// providers less what they owe it. 0 outside a scheme. With it,
	// Issued + Losses + Unassessed == Accounts + Outstanding + Clearing.
	Clearing int64 `json:"clearing_minor,omitempty"`
	// OnlinePayments and Online count and sum the online payments made
	// (online.go): account to account, they change neither Issued nor
	// the total of Accounts, and ConservationOK requires that they
	// debited their payers and credited their payees by exactly Online.
	OnlinePayments int64 `json:"online_payments"`
	Online         int64 `json:"online_minor"`
}

// BehindDevice is a device the ledger is behind.
type BehindDevice struct {
	Device     string    `json:"device"`
	Acked      uint64    `json:"acked_counter"` // what the ledger's own result acknowledged
	Held       uint64    `json:"held_counter"`  // what the ledger holds
	ResultTime time.Time `json:"result_time"`
}

// DoubleSpend is a stored equivocation proof: two statements one device
// signed for the same counter that disagree (Kind: ledger.ProofEntries or
// ProofReceipt, SPEC.md section 11).
type DoubleSpend struct {
	Kind    string    `json:"kind"`
	Device  string    `json:"device"`
	Counter uint64    `json:"counter"`
	EntryA  []byte    `json:"entry_a"` // canonical LogEntry encodings
	EntryB  []byte    `json:"entry_b"`
	FoundAt time.Time `json:"found_at"`
}

// Notification is one message of the bank outbox, written in the same
// transaction as the change it reports (outbox.go).
type Notification struct {
	ID             int64  `json:"id"`
	Kind           string `json:"kind"` // one of Kinds
	IdempotencyKey string `json:"key"`
	// Stream is the account the notification is about, Seq its place in
	// the account's stream (1, 2, ...): notifications of one stream are
	// delivered in Seq order. Both are empty for notifications written
	// before streams existed.
	Stream    string          `json:"account"`
	Seq       int64           `json:"seq"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
	Attempts  int             `json:"attempts"`
	// Streak counts attempts since the last delivery or backoff reset: a
	// deliverer's backoff grows with it.
	Streak int `json:"-"`
	// Since is when the current delivery series started: CreatedAt, or the
	// last Resend. A deliverer gives a notification up when it has been
	// failing for longer than its dead-letter age since then.
	Since time.Time `json:"-"`
	// Lease is the token of the claim that returned it, LeaseUntil its end
	// (claims only).
	Lease      int64     `json:"-"`
	LeaseUntil time.Time `json:"-"`
	// State is pending, delivered or dead; the times say when it is next
	// due (pending), was delivered or given up.
	State       string     `json:"state"`
	NextAt      *time.Time `json:"next_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	DeadAt      *time.Time `json:"dead_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}
