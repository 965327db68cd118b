package ledger

import (
	"context"

	"github.com/offpay/offpay/protocol"
)

// Store is the ledger's storage. Every Service operation runs in exactly
// one Update or View, so an operation is atomic and a crash leaves no half.
type Store interface {
	// Update runs fn in one read-write transaction. It may run fn again
	// from the start after a serialization failure or a uniqueness race, so
	// fn must keep no state across attempts and check before it inserts.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in one read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction. Lookups return (nil, nil) when nothing matches;
// inserts fail on a duplicate key (Update then retries fn, which sees the
// winner's row). Times are unix nanoseconds.
type Tx interface {
	Meta(ctx context.Context, key string) ([]byte, error)
	PutMeta(ctx context.Context, key string, val []byte) error

	Account(ctx context.Context, name string) (*AccountRow, error)
	Accounts(ctx context.Context) ([]AccountRow, error)
	AccountsNamed(ctx context.Context, names []string) (map[string]*AccountRow, error)
	InsertAccount(ctx context.Context, a *AccountRow) error
	UpdateAccount(ctx context.Context, a *AccountRow) error
	InsertLines(ctx context.Context, lines []LineRow) error
	Lines(ctx context.Context, account string) ([]LineRow, error)
	// LineSums returns the sum of all line amounts per kind.
	LineSums(ctx context.Context) (map[string]int64, error)
	Ref(ctx context.Context, ref string) (*RefRow, error)
	InsertRef(ctx context.Context, r *RefRow) error

	Devices(ctx context.Context, ids []protocol.KeyID) (map[protocol.KeyID]*DeviceRow, error)
	DevicesOf(ctx context.Context, account string) ([]DeviceRow, error)
	AllDevices(ctx context.Context) ([]DeviceRow, error)
	InsertDevice(ctx context.Context, d *DeviceRow) error
	UpdateDevice(ctx context.Context, d *DeviceRow) error
	UpdateDevices(ctx context.Context, ds []*DeviceRow) error
	// RenewDevice writes a device's Cert, CertTime, MaxPerPayment and
	// MaxHolding (UpdateDevice and UpdateDevices leave them alone).
	RenewDevice(ctx context.Context, d *DeviceRow) error

	Load(ctx context.Context, device protocol.KeyID, seq uint64) (*LoadRow, error)
	LoadByRequest(ctx context.Context, device protocol.KeyID, req protocol.Nonce) (*LoadRow, error)
	LoadsAfter(ctx context.Context, device protocol.KeyID, seq uint64, limit int) ([]LoadRow, error)
	InsertLoad(ctx context.Context, l *LoadRow) error

	// Entries returns the stored entries of device with lo <= counter <= hi.
	Entries(ctx context.Context, device protocol.KeyID, lo, hi uint64) ([]EntryRow, error)
	InsertEntries(ctx context.Context, rows []EntryRow) error

	// Payments returns the recorded payments with the given keys.
	Payments(ctx context.Context, keys []PayKey) (map[PayKey]*PaymentRow, error)
	PaymentsOf(ctx context.Context, payer protocol.KeyID, lo, hi uint64) ([]PaymentRow, error)
	InsertPayments(ctx context.Context, rows []PaymentRow) error
	// InsertConflict records a second payment with an already used
	// (payer, counter): a double spend that is still honoured. It reports
	// whether the row is new.
	InsertConflict(ctx context.Context, p *PaymentRow) (bool, error)
	// PendingTo returns recorded payments to payee still pending (awaiting
	// the payee's enrolment or its claim), from both tables.
	PendingTo(ctx context.Context, payee protocol.KeyID) ([]PaymentRow, error)
	// PendingOf returns the payments of payer with counter below below
	// still pending (main table).
	PendingOf(ctx context.Context, payer protocol.KeyID, below uint64) ([]PaymentRow, error)
	// ResolvedOf returns the payments of payer (main table) that left
	// "pending" at or after since (unix seconds), except those with
	// counter from skipLo to skipHi (none skipped if skipLo > skipHi).
	ResolvedOf(ctx context.Context, payer protocol.KeyID, since int64, skipLo, skipHi uint64) ([]PaymentRow, error)
	// SetPaymentStatus sets a payment's status and resolution time in
	// whichever table holds it.
	SetPaymentStatus(ctx context.Context, k PayKey, id protocol.Hash, status uint8, at int64) error
	// ResolvePayments writes the Status and Resolved of main-table payments
	// (matched on payer, counter and ID).
	ResolvePayments(ctx context.Context, ps []PaymentRow) error
	// PaymentTotals returns how many payments are settled and the value
	// of those pending (awaiting their payee's enrolment or claim).
	PaymentTotals(ctx context.Context) (settled, pending int64, err error)

	// InsertProof stores an equivocation proof; false if (device, counter)
	// already has one.
	InsertProof(ctx context.Context, p *ProofRow) (bool, error)
	Proofs(ctx context.Context) ([]ProofRow, error)

	// InsertOutbox adds notifications; a known idempotency key is skipped.
	InsertOutbox(ctx context.Context, rows []OutboxRow) error
	// ClaimOutbox returns up to limit due, unleased, undelivered rows,
	// oldest first, and leases them until leaseUntil.
	ClaimOutbox(ctx context.Context, now, leaseUntil int64, limit int) ([]OutboxRow, error)
	MarkDelivered(ctx context.Context, id, now int64) (bool, error)
	MarkFailed(ctx context.Context, id, next int64, lastErr string) (bool, error)
}

// AccountRow is an account as stored. Recovered and Lost cover the
// overspend of the account's devices (see cover.go).
type AccountRow struct {
	Name      string
	Merchant  bool
	Frozen    bool
	Balance   int64
	LineSeq   int64
	Recovered int64
	Lost      int64
	CreatedAt int64
}

// LineRow is a statement line as stored.
type LineRow struct {
	Account   string
	Seq       int64
	Kind      string
	Amount    int64
	Balance   int64
	Ref       string
	CreatedAt int64
}

// RefRow remembers an administrator's deposit or withdrawal by its ref.
type RefRow struct {
	Ref     string
	Account string
	Kind    string
	Amount  int64
}

// DeviceRow is an enrolled device and its position counters.
type DeviceRow struct {
	ID        protocol.KeyID
	Account   string
	Merchant  bool
	Cert      []byte // canonical encoding of the current certificate
	Revoked   bool
	RevokedAt int64
	Reason    string
	Acked     uint64        // highest counter of the device's own log recorded
	LastHash  protocol.Hash // hash of the entry at Acked
	Loaded    int64
	Sent      int64
	Received  int64
	Redeemed  int64
	Swept     int64  // received value moved to a merchant's account
	LoadSeq   uint64 // last Load issued
	LoadsIn   uint64 // last Load the device's log shows applied
	MaxSent   uint64 // highest counter of a recorded payment by this device
	SyncTime  uint64 // latest ledger time (unix s) the device's log shows it applied (EntrySync)
	CreatedAt int64
	// CertTime is the ledger time (unix s) Cert was issued by a renewal
	// at sync, 0 for the enrolment certificate. Sync results carry Cert
	// until SyncTime passes it (the device's log shows it applied one).
	CertTime uint64
	// MaxPerPayment and MaxHolding are the highest limits of any
	// certificate the device has held: payments and redeems are checked
	// against these, not against a lowered current limit (README
	// "Renewal"). 0: none above the current certificate's.
	MaxPerPayment int64
	MaxHolding    int64
}

// LoadRow is an issued Load.
type LoadRow struct {
	Device    protocol.KeyID
	Seq       uint64
	RequestID protocol.Nonce
	Amount    int64
	Data      []byte // canonical Load encoding
	CreatedAt int64
}

// EntryRow is a stored log entry.
type EntryRow struct {
	Device  protocol.KeyID
	Counter uint64
	Hash    protocol.Hash
	Kind    uint8
	Data    []byte // canonical LogEntry encoding
}

// PayKey names a payment for ever: its payer and the payer's counter.
type PayKey struct {
	Payer   protocol.KeyID
	Counter uint64
}

// PaymentRow is a recorded payment and the entry that first showed it.
type PaymentRow struct {
	Payer      protocol.KeyID
	Counter    uint64
	ID         protocol.Hash
	Payee      protocol.KeyID
	Amount     int64
	Status     uint8
	SrcDevice  protocol.KeyID
	SrcCounter uint64
	CreatedAt  int64
	Time       uint64 // the payment's own time (unix s): claimable until Time + protocol.ClaimWindow
	Resolved   int64  // ledger time (unix s) it left StatusPending (claimed or expired); 0 before or if never pending
}

// Key returns the payment's key.
func (p *PaymentRow) Key() PayKey { return PayKey{p.Payer, p.Counter} }

// ProofRow is a stored equivocation proof.
type ProofRow struct {
	Device  protocol.KeyID
	Counter uint64
	EntryA  []byte
	EntryB  []byte
	FoundAt int64
}

// OutboxRow is a notification as stored.
type OutboxRow struct {
	ID        int64
	Kind      string
	Key       string
	Payload   []byte
	Attempts  int
	NextAt    int64
	CreatedAt int64
}
