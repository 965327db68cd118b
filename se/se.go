package se

import "github.com/offpay/offpay/protocol"

// SE is a secure element holding one device key and one purse. It trusts
// nothing above it: every input is checked, every time is at least the
// highest ledger-signed time it has seen, and every state change is stored
// before the signature that depends on it is returned. The interface is
// narrow (messages in, messages out) so that a smart-card applet or a TEE
// can implement it.
//
// All times are unix seconds from the caller's clock; the SE uses
// max(now, its clock floor).
type SE interface {
	// Enrol creates the device key if there is none and returns an
	// enrolment request for account signed by it.
	Enrol(account string, now uint64) (*protocol.EnrolmentRequest, error)
	// Install stores the device certificate (which must certify the SE's
	// key), the trust anchors and the revocation list from enrolment.
	Install(dev *protocol.Certificate, a Anchors, rl *protocol.RevocationList) error
	// ApplyLoad credits an issuer-signed load for this device, in order.
	ApplyLoad(l *protocol.Load) error
	// Reserve signs a request to move amount from the account to the purse.
	Reserve(amount uint64, id protocol.Nonce, now uint64) (*protocol.ReserveRequest, error)
	// NewRequest issues a payment request with a fresh nonce the SE keeps
	// until expiry. Amount 0 lets the payer choose.
	NewRequest(r RequestParams, now uint64) (*protocol.PaymentRequest, error)
	// StandingRequest signs the payee's standing request: amount 0 (the
	// payer chooses), the all-zero nonce, expiry r.Expiry (0: the device
	// certificate's NotAfter). From then on the SE accepts payments with
	// the all-zero nonce, each (payer, counter) once. r.Amount must be 0.
	StandingRequest(r RequestParams, now uint64) (*protocol.PaymentRequest, error)
	// Pay verifies the request and its payee, debits the purse and signs a
	// payment. amount is used only for an open request (Amount 0).
	Pay(req *protocol.PaymentRequest, amount uint64, now uint64) (*protocol.PaymentBundle, error)
	// PayOnline verifies the request and its payee as Pay does and signs
	// an OnlinePayment: the ledger pays the request from the account at
	// once. It changes no state; the purse is not debited. amount is used
	// only for an open request.
	PayOnline(req *protocol.PaymentRequest, amount uint64, now uint64) (*protocol.OnlinePayment, error)
	// Receive verifies a payment addressed to this SE against one of its
	// own open nonces (or its standing request), credits the purse and
	// countersigns. A payment protocol.ClaimWindow or more older than the
	// SE's ledger floor is refused (CodeClaimExpired).
	Receive(b *protocol.PaymentBundle, now uint64) (*protocol.Receipt, error)
	// ConfirmReceipt records the payee's receipt of a pending payment (or
	// refund).
	ConfirmReceipt(r *protocol.Receipt, now uint64) error
	// Refund signs a refund (protocol SPEC.md 7.5.1, 9.1) of sale, a
	// payment this merchant device received within the refund window, to
	// the sale's payer: amount, or the whole sale if 0, at most the sale.
	// The purse is not debited (the ledger takes the refund from the
	// merchant account). A sale is refunded once: asking again with amount
	// 0 or the amount refunded returns that refund, the same signed bytes,
	// and signs nothing (CodeAlreadyRefunded for another amount). Receive
	// accepts a refund addressed to this SE of a payment it made.
	Refund(sale protocol.Hash, amount uint64, now uint64) (*protocol.PaymentBundle, error)
	// Sales lists the payments this SE received that it still remembers
	// for refunds (the refund window), oldest first.
	Sales() ([]Sale, error)
	// Redeem debits the purse and signs a redeem for the ledger.
	Redeem(amount uint64, now uint64) (*protocol.Redeem, error)
	// SyncUpload signs the log entries from counter since on (at most
	// protocol.MaxSyncEntries of them).
	SyncUpload(since uint64, now uint64) (*protocol.SyncUpload, error)
	// ApplySyncResult applies an issuer-signed answer to an upload: loads,
	// statuses, revocation list, the sweep to the merchant account (a
	// purse debit) and a renewed device certificate (new limits and
	// validity, binding at once). It logs an EntrySync entry when the
	// ledger time or the sweep moved on. A result any part of which fails
	// its checks (a bad renewal: CodeBadSync) is refused whole and changes
	// nothing.
	ApplySyncResult(r *protocol.SyncResult) error
	// Log returns the retained log entries with counter >= since.
	Log(since uint64) ([]protocol.LogEntry, error)
	// Pending lists payments whose receipt has not come back.
	Pending() ([]Pending, error)
	// Certificate returns the device certificate (nil before Install).
	Certificate() *protocol.Certificate
	// Status reports the purse, counters and limits left at time now.
	Status(now uint64) (Status, error)
}

// DataSealer is an SE that seals data for the app above it under a key
// that never leaves the SE's own protection (the virtual SE: its state,
// under the PIN). A wallet seals its history and its channel key with it,
// so a copy of the wallet's folder shows no more than the SE's files do.
// label binds a blob to its use: one sealed under a label opens under that
// label only. OpenData refuses a blob that was changed or sealed by
// another SE (CodeBadData).
type DataSealer interface {
	SealData(label string, plain []byte) ([]byte, error)
	OpenData(label string, sealed []byte) ([]byte, error)
}

// PINChanger is an SE whose holder changes its PIN (the virtual SE, a
// card): opened with the current PIN, ChangePIN sets a new one (refused
// with CodeWeakPIN, nothing changed, if shorter than the certificate's
// MinPIN) and returns the SE's first unlock code if it had none (else "");
// NewUnlockCode makes a new unlock code, returned to show once, and the
// old one stops working.
type PINChanger interface {
	ChangePIN(pin string) (code string, err error)
	NewUnlockCode() (string, error)
}

// Anchors are the certificates an SE trusts: pinned roots and issuers
// signed by them.
type Anchors struct {
	Roots   []*protocol.Certificate
	Issuers []*protocol.Certificate
}

// RequestParams is what a payee asks for.
type RequestParams struct {
	Amount     uint64 // 0: payer chooses
	Name       string // empty, or the certificate's Name: a request claims no other name (protocol 7.4)
	Expiry     uint64 // unix seconds
	ChannelKey []byte // optional X25519 key for the proximity channel
	Pairing    []byte // its one-time pairing secret
	Address    []byte // where the channel listens (protocol.PaymentRequest.Address)
}

// Pending is a payment signed by this SE whose receipt has not come back.
type Pending struct {
	ID      protocol.Hash
	Payee   protocol.KeyID
	Amount  uint64
	Counter uint64
}

// Sale is a payment an SE received, as remembered for a refund.
type Sale struct {
	ID     protocol.Hash
	Payer  protocol.KeyID
	Amount uint64
	Time   uint64 // the payment's own time
	// Until is the ledger time from which the SE no longer refunds it
	// (Time + protocol.RefundWindow).
	Until uint64
	// Refunded is the amount refunded (0: not yet), RefundID the refund.
	Refunded uint64
	RefundID protocol.Hash
}

// Status is the SE's view of its purse. It is comparable with ==.
type Status struct {
	Device       protocol.KeyID
	Enrolled     bool // a certificate is installed
	Currency     string
	Balance      uint64 // value in the purse
	AfterSync    uint64 // of Balance, value received offline more than Limits.MaxHops times: payable after a sync
	PendingCount int    // payments awaiting a receipt (already debited; refunds, not from the purse, are not counted)
	PendingValue uint64
	Counter      uint64          // last log counter
	Head         protocol.Hash   // hash of the last log entry
	Acked        uint64          // ledger has recorded the log up to here
	ToUpload     uint64          // entries after Acked, not counting a trailing sync entry (which can wait)
	LoadSeq      uint64          // last load applied
	Limits       protocol.Limits // the installed certificate's (a renewal at sync replaces them)
	CertNotAfter uint64          // the installed certificate is valid until this time (exclusive)
	OfflineCount uint64          // payments signed and not yet acked by the ledger
	OfflineValue uint64
	CountLeft    uint64 // payments left before a sync is needed
	ValueLeft    uint64 // value left before a sync is needed
	HoldingLeft  uint64 // value the purse can still take in
	LastSync     uint64 // ledger time of the last sync (or enrolment)
	Deadline     uint64 // the purse stops paying at this time without a sync
	Clock        uint64 // max(now, clock floor)
	ClockFloor   uint64 // the SE's clock never goes below this
	LedgerFloor  uint64 // highest ledger-signed time applied: the claim window counts from it
	Swept        uint64 // cumulative value the ledger has swept from the purse to the account
	Standing     bool   // a standing request was issued: all-zero-nonce payments are accepted
	ReceiveOnly  bool   // the certificate's per-payment limit is 0: no Pay, no Redeem
	RevListNum   uint64
	RevListTime  uint64
}
