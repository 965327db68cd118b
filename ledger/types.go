package ledger

import (
	"time"

	"github.com/offpay/offpay/protocol"
)

// Account is a ledger account. Balances are minor units of the ledger's
// currency.
type Account struct {
	Name      string    `json:"name"`
	Merchant  bool      `json:"merchant"`
	Balance   int64     `json:"balance_minor"`
	Currency  string    `json:"currency"`
	Frozen    bool      `json:"frozen"`
	CreatedAt time.Time `json:"created_at"`
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
	Position int64  `json:"position_minor"` // loaded + received - sent - redeemed - swept
	Acked    uint64 `json:"acked_counter"`
	Status   string `json:"status"` // active, revoked
}

// Report is the global reconciliation. ConservationOK holds when
// Issued + Losses == Accounts + Outstanding: losses are money the operator
// adds (overspend it could not recover), so they sit on the issued side.
type Report struct {
	Currency       string         `json:"currency"`
	ConservationOK bool           `json:"conservation_ok"`
	Issued         int64          `json:"issued_minor"`      // deposits - withdrawals
	Accounts       int64          `json:"accounts_minor"`    // sum of account balances
	Outstanding    int64          `json:"outstanding_minor"` // purse value not yet redeemed: device positions, overspends covered
	Losses         int64          `json:"losses_minor"`      // overspend not recovered from the owner
	Recovered      int64          `json:"recovered_minor"`   // overspend taken from owners' accounts
	Settled        int64          `json:"settled_payments"`
	RevokedDevices []string       `json:"revoked_devices"`
	DoubleSpends   []DoubleSpend  `json:"double_spends"`
	Devices        []DeviceReport `json:"devices,omitempty"`
}

// DoubleSpend is a stored equivocation proof: two entries of one device
// with the same counter and different contents, both validly signed.
type DoubleSpend struct {
	Device  string    `json:"device"`
	Counter uint64    `json:"counter"`
	EntryA  []byte    `json:"entry_a"` // canonical LogEntry encodings
	EntryB  []byte    `json:"entry_b"`
	FoundAt time.Time `json:"found_at"`
}

// Notification is one message of the bank outbox, written in the same
// transaction as the change it reports.
type Notification struct {
	ID             int64     `json:"id"`
	Kind           string    `json:"kind"` // payment_settled, payment_expired, account_changed, device_revoked, double_spend
	IdempotencyKey string    `json:"idempotency_key"`
	Payload        []byte    `json:"payload"` // JSON
	Attempts       int       `json:"attempts"`
	CreatedAt      time.Time `json:"created_at"`
}
