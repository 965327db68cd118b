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
	// Savepoint, RollbackTo and Release nest a part of the transaction
	// that can be undone alone (group commit, batch.go).
	Savepoint(ctx context.Context, name string) error
	RollbackTo(ctx context.Context, name string) error
	Release(ctx context.Context, name string) error

	Meta(ctx context.Context, key string) ([]byte, error)
	PutMeta(ctx context.Context, key string, val []byte) error

	Account(ctx context.Context, name string) (*AccountRow, error)
	Accounts(ctx context.Context) ([]AccountRow, error)
	AccountsNamed(ctx context.Context, names []string) (map[string]*AccountRow, error)
	InsertAccount(ctx context.Context, a *AccountRow) error
	UpdateAccount(ctx context.Context, a *AccountRow) error
	InsertLines(ctx context.Context, lines []LineRow) error
	Lines(ctx context.Context, account string) ([]LineRow, error)
	// LineSums returns the exact sum of all line amounts per kind, or an
	// ELIMIT error if one is beyond int64.
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
	// Loads returns the loads with the given keys (those stored).
	Loads(ctx context.Context, keys []LoadKey) (map[LoadKey]*LoadRow, error)
	LoadByRequest(ctx context.Context, device protocol.KeyID, req protocol.Nonce) (*LoadRow, error)
	LoadsAfter(ctx context.Context, device protocol.KeyID, seq uint64, limit int) ([]LoadRow, error)
	InsertLoad(ctx context.Context, l *LoadRow) error
	// MoveLoad replaces the load of device l.Device numbered from with l
	// (same request id, a new number and encoding).
	MoveLoad(ctx context.Context, from uint64, l *LoadRow) error

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
	// ResolvedOf returns the payments of payer (both tables) that left
	// "pending" at or after since (unix seconds), except those with
	// counter from skipLo to skipHi (none skipped if skipLo > skipHi).
	ResolvedOf(ctx context.Context, payer protocol.KeyID, since int64, skipLo, skipHi uint64) ([]PaymentRow, error)
	// StatusRows returns the rows PendingOf (any counter) and ResolvedOf
	// (none skipped) would return for each payer of since, resolved at or
	// after since[payer], in one statement and in no order; a row may
	// come twice.
	StatusRows(ctx context.Context, since map[protocol.KeyID]int64) ([]PaymentRow, error)
	// SetPaymentStatus sets a payment's status and resolution time in
	// whichever table holds it.
	SetPaymentStatus(ctx context.Context, k PayKey, id protocol.Hash, status uint8, at int64) error
	// ResolvePayments writes the Status and Resolved of main-table payments
	// (matched on payer, counter and ID).
	ResolvePayments(ctx context.Context, ps []PaymentRow) error
	// PaymentTotals returns how many payments are settled and the value
	// of those pending (awaiting their payee's enrolment or claim).
	PaymentTotals(ctx context.Context) (settled, pending int64, err error)
	// PaymentActivity sums the payments (both tables) recorded from from
	// to to (unix ns, to excluded) in intervals of step ns counted from
	// from: only intervals with payments, in order (activity.go).
	PaymentActivity(ctx context.Context, from, to, step int64) ([]ActivityRow, error)

	// PendingExpirable returns the pending payments (both tables) whose
	// payee can no longer claim them: revoked, or its certificate expired
	// (not_after <= now), and whose time is at or before before.
	PendingExpirable(ctx context.Context, before, now int64, limit int) ([]PaymentRow, error)

	// ReceiptsOf returns the stored receipts of payee with lo <= counter <= hi.
	ReceiptsOf(ctx context.Context, payee protocol.KeyID, lo, hi uint64) ([]ReceiptRow, error)
	// Receipts returns the stored receipts with the given (payee, counter) keys.
	Receipts(ctx context.Context, keys []PayKey) (map[PayKey]*ReceiptRow, error)
	InsertReceipts(ctx context.Context, rows []ReceiptRow) error

	// Refunds (refunds.go). SaleRefunds returns the first refund recorded
	// of each of sales; InsertSaleRefunds records refunds (a sale that has
	// one is a duplicate key).
	SaleRefunds(ctx context.Context, sales []protocol.Hash) (map[protocol.Hash]*RefundRow, error)
	InsertSaleRefunds(ctx context.Context, rows []RefundRow) error
	// OpenSaleOf returns refundable sale pid if payer paid it, or nil;
	// OpenSalePayers returns the IDs of the refundable sales held for
	// device (their payee), each with its payer. A sale is kept by its
	// payer's key, so that one upload's sales share pages, and found
	// through either party, never by its ID alone. InsertOpenSales adds
	// some, DeleteOpenSales removes some (refunded; by their keys).
	OpenSaleOf(ctx context.Context, payer protocol.KeyID, pid protocol.Hash) (*OpenSaleRow, error)
	OpenSalePayers(ctx context.Context, device protocol.KeyID) (map[protocol.Hash]protocol.KeyID, error)
	InsertOpenSales(ctx context.Context, rows []OpenSaleRow) error
	DeleteOpenSales(ctx context.Context, rows []OpenSaleRow) error
	// CloseSales removes the refundable sales of device whose refund
	// window closes at or before t (its log showed a sync at t), released
	// or not; CloseStaleSales releases up to limit of those whose Stale is
	// at or before now (no longer held: Refundable leaves them out, but
	// OpenSaleOf and OpenSalePayers still return them), returning how many.
	CloseSales(ctx context.Context, device protocol.KeyID, t uint64) error
	CloseStaleSales(ctx context.Context, now int64, limit int) (int, error)
	// ReleasedSales sums the released sales: no longer held, but a late
	// refund of one is still funded from its account.
	ReleasedSales(ctx context.Context) (int64, error)
	// Refundable sums the refundable sales of accounts (all of them if
	// accounts is nil): what their balances are held for.
	Refundable(ctx context.Context, accounts []string) (map[string]int64, error)

	// DevicesToAssess returns up to limit devices not revoked whose
	// assessment deadline (AssessBy) is set and at or before now.
	DevicesToAssess(ctx context.Context, now int64, limit int) ([]DeviceRow, error)
	// DevicesToRestore returns up to limit lost devices whose RestoreBy
	// is set and at or before now.
	DevicesToRestore(ctx context.Context, now int64, limit int) ([]DeviceRow, error)

	// PutBehind records that device showed an acknowledgement up to acked
	// (keeping the highest).
	PutBehind(ctx context.Context, device protocol.KeyID, acked, resultTime uint64, at int64) error
	// Behind returns the devices not revoked whose recorded
	// acknowledgement is above the counter the ledger holds of their log
	// (a revoked device gives back nothing more: its payments come from
	// their payees).
	Behind(ctx context.Context) ([]BehindRow, error)

	// Code returns the enrolment code with hash h, or nil.
	Code(ctx context.Context, h [32]byte) (*CodeRow, error)
	// Codes returns every enrolment code, newest first.
	Codes(ctx context.Context) ([]CodeRow, error)
	InsertCode(ctx context.Context, c *CodeRow) error
	// UpdateCode writes a code's UsedAt, UsedBy and Cancelled.
	UpdateCode(ctx context.Context, c *CodeRow) error

	// InsertProof stores an equivocation proof; false if (device, counter)
	// already has one.
	InsertProof(ctx context.Context, p *ProofRow) (bool, error)
	Proofs(ctx context.Context) ([]ProofRow, error)

	// InsertOutbox adds notifications; a known idempotency key is skipped.
	// Each new row gets the next sequence number of its stream, in the
	// order given (Seq is set by the store), and a CreatedAt after that of
	// the stream's previous row (moved forward by nanoseconds if need be).
	InsertOutbox(ctx context.Context, rows []OutboxRow) error
	// ClaimOutbox returns up to limit pending rows that are due at now,
	// not leased, and head their stream (no pending row of the stream has
	// a lower seq), oldest first; it leases them until leaseUntil under
	// token and counts the attempt (Attempts, Streak).
	ClaimOutbox(ctx context.Context, now, leaseUntil, token int64, limit int) ([]OutboxRow, error)
	// RenewOutbox extends to leaseUntil the leases of the rows still held
	// under their tokens (leases: id -> token) and returns the ids renewed.
	RenewOutbox(ctx context.Context, leases map[int64]int64, leaseUntil int64) ([]int64, error)
	// MarkDelivered records a delivery; false if there is no such row.
	MarkDelivered(ctx context.Context, id, now int64) (bool, error)
	// MarkFailed records a failed attempt of a row still held under token
	// (otherwise it changes nothing): the lease is released, the next
	// attempt is at next, and a dead time above 0 gives the row up (dead
	// letter). False if there is no such row.
	MarkFailed(ctx context.Context, id, token, next, dead int64, lastErr string) (bool, error)
	// RetryOutbox makes every pending row waiting out a backoff due at
	// now, its streak reset; it returns how many.
	RetryOutbox(ctx context.Context, now int64) (int64, error)
	// OutboxRows returns up to limit rows matching f, ordered by
	// (CreatedAt, ID), starting after f's cursor.
	OutboxRows(ctx context.Context, f OutboxFilter, limit int) ([]OutboxRow, error)
	// ResendOutbox makes the rows matching f (the cursor ignored) pending
	// and due at now again, as new delivery series; it returns how many.
	ResendOutbox(ctx context.Context, f OutboxFilter, now int64) (int64, error)
	// OutboxStats counts pending and dead rows and describes the oldest
	// pending one.
	OutboxStats(ctx context.Context) (*OutboxStatsRow, error)

	// Archiving (archive.go). ArchiveStep moves, among the next limit rows
	// of table (ArchivePayments, ArchiveEntries, ArchiveLines,
	// ArchiveOutbox) after cursor (nil: from the start) in key order,
	// those of the settled history older than before (unix ns) into the
	// table's archive, skipping rows already there. It returns how many
	// moved and the cursor to go on from, nil when the table is done.
	// Keyed reads and sums above read the archive too.
	ArchiveStep(ctx context.Context, table string, before int64, cursor []byte, limit int) (moved int, next []byte, err error)
	// ArchivedCounts counts the rows of each archive table.
	ArchivedCounts(ctx context.Context) (map[string]int64, error)

	// Federation (forward.go). InsertForwards records evidence to forward
	// to another provider (a known ID is skipped); Forwards returns up to
	// limit of those not yet sent, oldest first; MarkForwarded records
	// that the transport took them.
	InsertForwards(ctx context.Context, rows []ForwardRow) error
	Forwards(ctx context.Context, limit int) ([]ForwardRow, error)
	MarkForwarded(ctx context.Context, ids []protocol.Hash, at int64) error

	// Online payments (online.go). OnlinePayment returns the payment of
	// payee's request nonce, or nil; InsertOnlinePayment records one (a
	// duplicate (payee, nonce) fails: Update retries and fn finds it);
	// OnlineTotals counts and sums them.
	OnlinePayment(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*OnlineRow, error)
	InsertOnlinePayment(ctx context.Context, r *OnlineRow) error
	OnlineTotals(ctx context.Context) (OnlineTotals, error)
}

// WriteHolder is a Tx that can hold writes of device rows (UpdateDevice,
// UpdateDevices) and payments (InsertPayments, ResolvePayments) and make
// them later, a statement for each kind: before any statement of its own
// that reads or writes their tables or sets a savepoint, and at
// FlushWrites, which a holder's user must call before the transaction
// commits (a group commit, batch.go). An error of a held write is
// returned then.
type WriteHolder interface {
	HoldWrites()
	FlushWrites(ctx context.Context) error
}

// OnlineTotals are the online payments recorded: how many, their value,
// and of it what this ledger's accounts paid (payer here) and received
// (payee here); a payment across providers counts on one side only.
type OnlineTotals struct {
	Count, Value, Paid, Received int64
}

// OnlineRow is an online payment as stored: the request it paid (Payee,
// Nonce), the payment's ID, its payer, both accounts (the clearing account
// ForeignAccount(provider) for a device of another provider), the amount
// and the encoding of the receipt this ledger signed.
type OnlineRow struct {
	Payee        protocol.KeyID
	Nonce        protocol.Nonce
	ID           protocol.Hash
	Payer        protocol.KeyID
	PayerAccount string
	PayeeAccount string
	Amount       int64
	Receipt      []byte
	CreatedAt    int64
}

// ForwardRow is a payment's evidence for its payer's provider: ID is the
// payment's ID, Data a protocol.Forward's encoding.
type ForwardRow struct {
	ID        protocol.Hash
	Provider  string
	Data      []byte
	CreatedAt int64
	SentAt    int64 // 0 until the transport took it
}

// AccountRow is an account as stored. Recovered and Lost cover the
// overspend of the account's devices (see cover.go).
type AccountRow struct {
	Name     string
	Merchant bool
	// DisplayName is the name a merchant's device certificates carry
	// (protocol.Certificate.Name); empty for a person.
	DisplayName string
	Frozen      bool
	Balance     int64
	LineSeq     int64
	Recovered   int64
	Lost        int64
	CreatedAt   int64
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
	Drawn     int64  // what its merchant account paid for its refunds (refunds.go)
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
	// Money safety (exposure.go). LastSeen is the latest ledger time (unix
	// s) the device was given: its enrolment, each sync result. AssessBy
	// is the ledger time at which an unexplained deficit becomes final, 0
	// while there is none. MaxDays is the highest MaxOfflineDays of any
	// certificate it has held (0: its current one's); NotAfter its current
	// certificate's expiry. Forfeit is the value of payments it received
	// that the ledger had already returned to their payers.
	LastSeen uint64
	AssessBy uint64
	MaxDays  uint64
	NotAfter uint64
	Forfeit  int64
	// The highest MaxHops, MaxOfflineCount and MaxOfflineValue of any
	// certificate it has held (0: its current one's).
	MaxHops, MaxCount, MaxValue uint64
	// A lost device (lost.go): RestoreBy is the ledger time at which its
	// remaining value returns to its account (0: none due); Restored the
	// value so returned.
	RestoreBy uint64
	Restored  int64
}

// LoadRow is an issued Load.
// LoadKey names a load: its device and number.
type LoadKey struct {
	Device protocol.KeyID
	Seq    uint64
}

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

// BehindRow is evidence that the ledger lost part of a device's log: the
// device showed a sync result acknowledging Acked while the ledger holds
// its log up to Held.
type BehindRow struct {
	Device     protocol.KeyID
	Acked      uint64
	Held       uint64
	ResultTime uint64
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
	Time       uint64        // the payment's own time (unix s): claimable until Time + protocol.ClaimWindow
	Resolved   int64         // ledger time (unix s) it left StatusPending (claimed or expired); 0 before or if never pending
	Sale       protocol.Hash // a refund: the sale it refunds (zero for a payment)
}

// Key returns the payment's key.
func (p *PaymentRow) Key() PayKey { return PayKey{p.Payer, p.Counter} }

// RefundRow is the first refund recorded of a sale (refunds.go): a sale
// is refunded once. Drawn is what the merchant account paid for it (0 if
// it was not funded), Line its sale_refund line (Seq 0: none).
type RefundRow struct {
	Sale       protocol.Hash
	Payer      protocol.KeyID // the merchant device that signed it
	Counter    uint64
	PID        protocol.Hash
	Amount     int64
	Drawn      int64
	Account    string
	LineSeq    int64
	SrcDevice  protocol.KeyID // the entry that first showed it
	SrcCounter uint64
}

// OpenSaleRow is a payment credited to a merchant's device that it may
// still refund: its account is held for Amount (refunds.go). Closes is
// the sale's time + protocol.RefundWindow (the device's log showing a sync
// at that ledger time closes it), Stale the ledger time by which the
// device has stopped paying if it never synced since (Assess releases it:
// Released, no longer held, but a refund the device signed before it
// stopped and uploads later is still its own and funded as far as the
// account goes).
type OpenSaleRow struct {
	PID        protocol.Hash
	Payer      protocol.KeyID
	Counter    uint64
	Device     protocol.KeyID
	Account    string
	Amount     int64
	Closes     uint64
	Stale      uint64
	SrcDevice  protocol.KeyID // the entry that first showed the sale
	SrcCounter uint64
	Released   bool
}

// ReceiptRow is a receipt a payer's confirm entry carried, kept until its
// payee's log reaches the counter it names: a receipt is the payee's
// statement that its entry at Counter received payment PID.
type ReceiptRow struct {
	Payee      protocol.KeyID
	Counter    uint64
	PID        protocol.Hash
	SrcDevice  protocol.KeyID // the payer whose confirm entry carried it
	SrcCounter uint64
}

// Key returns the receipt's (payee, counter).
func (r *ReceiptRow) Key() PayKey { return PayKey{r.Payee, r.Counter} }

// Proof kinds.
const (
	// ProofEntries: two different entries for one counter of the device:
	// two of its own log entries, or one and a payee's receive entry
	// carrying its payment with that counter.
	ProofEntries = "entries"
	// ProofReceipt: one of the two is a payer's confirm entry carrying a
	// receipt the device signed for that counter, which names a payment
	// the other statement does not receive at that counter.
	ProofReceipt = "receipt"
	// ProofRefund: a refund the device signed and its sale, which the
	// refund exceeds, is not to the sale's payer, or which was not paid to
	// the device; or two refunds it signed of one sale (refunds.go).
	ProofRefund = "refund"
)

// ProofRow is a stored equivocation proof.
type ProofRow struct {
	Kind    string // ProofEntries or ProofReceipt
	Device  protocol.KeyID
	Counter uint64
	EntryA  []byte
	EntryB  []byte
	FoundAt int64
}

// OutboxRow is a notification as stored. Times are unix nanoseconds;
// a row is pending while DeliveredAt and DeadAt are both 0.
type OutboxRow struct {
	ID          int64
	Kind        string
	Key         string
	Stream      string // the account it is about ("" before streams existed)
	Seq         int64  // its place in Stream, from 1 (0 before streams existed)
	Payload     []byte
	Attempts    int // claims, ever
	Streak      int // claims since the last delivery or backoff reset
	NextAt      int64
	LeaseUntil  int64
	LeaseToken  int64
	Since       int64 // start of the current delivery series: written, or resent
	DeliveredAt int64
	DeadAt      int64
	LastError   string
	CreatedAt   int64
}

// OutboxFilter selects outbox rows. Zero fields select everything.
type OutboxFilter struct {
	State    string // OutboxPending, OutboxDelivered, OutboxDead or "" (all)
	Stream   string
	Kind     string
	Key      string
	From, To int64 // CreatedAt in [From, To); To 0: no upper bound
	// After is a cursor: rows after (AfterCreated, AfterID) in list order.
	AfterCreated, AfterID int64
}

// OutboxStatsRow is what OutboxStats counts.
type OutboxStatsRow struct {
	Pending, Dead int64
	// The oldest pending row (zero when none): its creation time,
	// attempts and last error.
	Oldest *OutboxRow
}
