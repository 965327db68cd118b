package protocol

// Version is the protocol version carried by every message.
const Version = 1

// NonceSize is the size of a payment request nonce.
const NonceSize = 16

// Nonce is a payee SE's one-time request nonce.
type Nonce [NonceSize]byte

// Role is a certificate's place in the PKI.
type Role uint8

// Roles.
const (
	RoleRoot   Role = 1
	RoleIssuer Role = 2
	RoleDevice Role = 3
)

// SEClass says what kind of secure element holds a device key.
type SEClass uint8

// SE classes.
const (
	SENone      SEClass = 0 // root and issuer certificates
	SEVirtual   SEClass = 1 // software (the virtual SE)
	SESmartCard SEClass = 2 // PKCS#11 token or smart card
	SETEE       SEClass = 3 // trusted execution environment
)

// Limits are a device's offline limits, set by the issuer's policy. All
// amounts are minor units of the certificate's currency.
type Limits struct {
	_               struct{} `cbor:",toarray"`
	Holding         uint64   // purse balance never above this
	PerPayment      uint64   // one payment never above this
	MaxOfflineCount uint64   // payments signed since the last sync
	MaxOfflineValue uint64   // value paid since the last sync
	MaxOfflineDays  uint64   // days since the last sync before the purse stops paying
	MaxRevListAge   uint64   // seconds: a payee refuses payments while its revocation list is older
	// MaxHops bounds consecutive offline payments: value received offline
	// may be paid on at most MaxHops times before a ledger has seen it
	// (0: received value is spendable only after the payee syncs).
	// Payment.Hops is at most MaxHops + 1.
	MaxHops uint64
	// MinPIN is the fewest characters the PIN protecting the device's SE
	// may have: the SE refuses to install a certificate asking more than
	// its PIN has, and to pay while a renewal asks more.
	MinPIN uint64
}

// Kind says whom a device certificate belongs to, as a payer is shown it.
// It is not a field of its own: a device certificate with a name is a
// merchant's, one without a person's (Certificate.Kind).
type Kind uint8

// Kinds.
const (
	KindNone     Kind = 0 // root and issuer certificates
	KindPerson   Kind = 1 // a person's device: shown by its account reference
	KindMerchant Kind = 2 // a merchant's device: shown by its certified name
)

func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindMerchant:
		return "merchant"
	}
	return "unknown"
}

// Certificate binds a public key to a role, and for a device to an
// account, a currency, its offline limits and, for a merchant's device,
// the name payers are shown (a person's carries none).
type Certificate struct {
	_         struct{} `cbor:",toarray"`
	Version   uint8
	Role      Role
	Serial    uint64
	Issuer    KeyID // KeyID of the signing key; a root names itself
	KeyAlg    Alg
	Key       []byte
	NotBefore uint64 // unix seconds
	NotAfter  uint64 // unix seconds, exclusive
	Account   string // device: account reference; else empty
	Class     SEClass
	Currency  string // device: its purse currency; else empty
	Limits    Limits
	Name      string // a merchant's device: its display name (1..MaxCertNameLen bytes); else empty
	SigAlg    Alg
	Sig       []byte
}

// Kind is whom a device certificate belongs to: a merchant if it names
// one, else a person. Root and issuer certificates are KindNone.
func (c *Certificate) Kind() Kind {
	switch {
	case c.Role != RoleDevice:
		return KindNone
	case c.Name != "":
		return KindMerchant
	}
	return KindPerson
}

// DisplayName is the name a payer is shown for the device: a merchant's
// certified name, a person's account reference. Both are signed by the
// issuer.
func (c *Certificate) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Account
}

// RevocationList names revoked device and issuer keys. Numbers increase;
// a device keeps the highest-numbered valid list it has seen.
type RevocationList struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Number  uint64
	Issued  uint64 // unix seconds
	Signer  KeyID
	Revoked []KeyID // strictly ascending
	SigAlg  Alg
	Sig     []byte
}

// Load is the ledger's signed credit of a reservation to one SE.
type Load struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Device   KeyID
	Seq      uint64 // per device, from 1, each applied once and in order
	Amount   uint64
	Currency string
	Time     uint64 // ledger time: the SE's clock never goes below it
	Signer   KeyID
	SigAlg   Alg
	Sig      []byte
}

// PaymentRequest is what a payee shows: its certificate, what it asks, a
// nonce its SE issued, and optionally the channel key and pairing secret.
type PaymentRequest struct {
	_          struct{} `cbor:",toarray"`
	Version    uint8
	Payee      Certificate
	Amount     uint64 // 0: the payer chooses
	Currency   string
	Nonce      Nonce
	Expiry     uint64 // unix seconds
	Name       string // empty, or the payee certificate's Name: a name other than the certified one is refused
	ChannelKey []byte // empty or a 32-byte X25519 public key
	Pairing    []byte // empty or a 32-byte one-time pairing secret
	// Address is where the payee's channel listens, so that the payer
	// needs nothing but the code: empty, or a kind byte and the address
	// (address.go: TCP over IPv4 or IPv6, a Bluetooth LE device), only
	// with a channel key. The channel authenticates the payee by its key,
	// not by where it was reached.
	Address []byte
	SigAlg  Alg
	Sig     []byte // by the payee's SE key
}

// Payment is signed by the payer's SE. Counter is the payer's log counter
// of the entry that records it, so (Payer, Counter) names it for ever.
//
// Field 6 on the wire (ref) holds Nonce, the request's nonce (16 bytes),
// or, for a refund, Sale, the PaymentID of the sale refunded (32 bytes):
// see refund.go for its encoding. A payment has a zero Sale; a refund a
// zero Nonce.
type Payment struct {
	Version  uint8
	Payer    KeyID
	Payee    KeyID
	Amount   uint64
	Currency string
	Counter  uint64
	Nonce    Nonce
	Sale     Hash // a refund (SPEC.md 7.5.1): the sale's PaymentID; zero for a payment
	Time     uint64
	// Hops counts the offline payments the value has gone through, this
	// one included: 1 when the payer pays from value its ledger has seen
	// (loads, and receipts its log has uploaded), r + 1 when it pays from
	// value it received offline in a payment of Hops r. At least 1, and at
	// most the payer certificate's MaxHops + 1.
	Hops   uint64
	SigAlg Alg
	Sig    []byte
}

// PaymentBundle is what the payer hands over: the payment and the payer's
// device certificate, so that a payee can verify it offline.
type PaymentBundle struct {
	_       struct{} `cbor:",toarray"`
	Payment Payment
	Cert    Certificate
}

// Receipt is the payee SE's countersignature of a payment.
type Receipt struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Payment Hash // PaymentID of the payment received
	Payee   KeyID
	Counter uint64 // the payee's log counter of the receive entry
	Time    uint64
	SigAlg  Alg
	Sig     []byte
}

// Redeem asks the ledger to move purse value back to the device's account.
type Redeem struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Device   KeyID
	Counter  uint64
	Amount   uint64
	Currency string
	Time     uint64
	SigAlg   Alg
	Sig      []byte
}

// EntryKind says what a log entry records.
type EntryKind uint8

// Entry kinds and the body each carries.
const (
	EntryLoad    EntryKind = 1 // body: Load; purse += amount
	EntryPay     EntryKind = 2 // body: Payment signed by this SE; purse -= amount
	EntryReceive EntryKind = 3 // body: PaymentBundle received; purse += amount
	EntryRedeem  EntryKind = 4 // body: Redeem; purse -= amount
	EntryConfirm EntryKind = 5 // body: Receipt from the payee; purse unchanged
	EntrySync    EntryKind = 6 // body: SyncApplied; purse -= the sweep it newly applies
)

// LogEntry is one link of an SE's hash-chained log. Counters start at 1
// and rise by one; Prev is the EntryHash of the previous entry (all zero
// for counter 1).
type LogEntry struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Device  KeyID
	Counter uint64
	Prev    Hash
	Kind    EntryKind
	Time    uint64
	Body    []byte // canonical encoding of the message the kind names
	SigAlg  Alg
	Sig     []byte
}

// SyncUpload carries a device's log entries, in counter order, signed by
// the device's SE so that only the device learns its SyncResult.
type SyncUpload struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Device  KeyID
	Time    uint64 // the SE's clock
	Entries []LogEntry
	SigAlg  Alg
	Sig     []byte
}

// EnrolmentRequest is an SE's request for a device certificate: it proves
// possession of the key it names.
type EnrolmentRequest struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	KeyAlg  Alg
	Key     []byte
	Account string
	Class   SEClass
	Time    uint64
	SigAlg  Alg
	Sig     []byte
	// Attestation, if set, travels with the request (as an
	// AttestedEnrolment on the wire, SPEC.md 7.17): it is not part of the
	// request's encoding nor of what the device key signs.
	Attestation *Attestation `cbor:"-"`
}

// ReserveRequest asks the ledger to move Amount from the device's account
// into its purse. RequestID makes it idempotent: the ledger answers a
// repeated ID with the same Load and never debits twice.
type ReserveRequest struct {
	_         struct{} `cbor:",toarray"`
	Version   uint8
	Device    KeyID
	RequestID Nonce
	Amount    uint64
	Currency  string
	Time      uint64
	SigAlg    Alg
	Sig       []byte
}

// Settlement statuses in a SyncResult.
const (
	StatusPending  uint8 = 1 // seen, not yet settled
	StatusSettled  uint8 = 2
	StatusRejected uint8 = 3
	StatusExpired  uint8 = 4 // never claimed; value returned to the payer
)

// PaymentStatus is the ledger's word on one payment.
type PaymentStatus struct {
	_       struct{} `cbor:",toarray"`
	Payment Hash
	Status  uint8
}

// SyncResult is the ledger's signed answer to a SyncUpload.
type SyncResult struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Device   KeyID
	Acked    uint64 // every entry up to this counter is recorded
	Time     uint64 // ledger time
	Statuses []PaymentStatus
	Missing  []uint64 // counters the ledger asks for again
	Loads    []Load   // credits for this SE it has not yet applied
	Swept    uint64   // cumulative value the ledger has moved from this purse to its account (merchant devices)
	RevList  RevocationList
	// Cert is empty, or holds one renewed certificate for Device (same key;
	// new validity, the issuer's current limits): see Renewal.
	Cert   []Certificate
	Signer KeyID
	SigAlg Alg
	Sig    []byte
}

// Renewal returns the renewed device certificate the result carries, or
// nil.
func (r *SyncResult) Renewal() *Certificate {
	if len(r.Cert) == 0 {
		return nil
	}
	return &r.Cert[0]
}

// ClaimWindow is how long, in ledger time (seconds), a payment stays
// claimable by its payee (SPEC.md "Claims and expiry"). A payee SE refuses a
// payment whose time is ClaimWindow or more before the latest ledger time
// it has applied; once the payee's log shows it applied a SyncResult that
// late without having received the payment, the ledger expires the payment
// and returns its value to the payer's account.
const ClaimWindow uint64 = 3 * 24 * 3600

// SyncApplied is the body of an EntrySync log entry: the SE applied the
// SyncResult whose ID (SHA-256 of its signing input) is Result. Time is
// that result's ledger time, which the SE's ledger floor now reaches, and
// Swept the cumulative sweep the SE has taken from its purse since
// enrolment (the result's Swept). It is not signed by itself: the log
// entry that carries it is.
type SyncApplied struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Device  KeyID
	Result  Hash
	Time    uint64
	Swept   uint64
}
