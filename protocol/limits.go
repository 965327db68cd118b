package protocol

// Size limits. A decoder checks the whole message against its limit before
// parsing, then each field against its own.
const (
	MaxCertificateSize  = 288
	MaxPaymentSize      = 192
	MaxBundleSize       = 464 // a refund's bundle: 16 bytes more ref, a merchant's name
	MaxRequestSize      = 640
	MaxReceiptSize      = 160
	MaxLoadSize         = 192
	MaxRedeemSize       = 160
	MaxLogEntrySize     = 640
	MaxEnrolmentSize    = 192
	MaxReserveSize      = 192
	MaxSyncAppliedSize  = 96
	MaxRevoked          = 100000
	MaxRevListSize      = 64 + 17*MaxRevoked + 80
	MaxSyncEntries      = 10000
	MaxSyncUploadSize   = 128 + MaxSyncEntries*(MaxLogEntrySize+1)
	MaxSyncStatuses     = 2 * MaxSyncEntries
	MaxSyncLoads        = 64
	MaxSyncResultSize   = 96 + MaxSyncStatuses*36 + MaxSyncEntries*9 + 9 + MaxSyncLoads*(MaxLoadSize+1) + MaxRevListSize + 1 + MaxCertificateSize
	MaxNameLen          = 32 // PaymentRequest display name, bytes of UTF-8
	MaxCertNameLen      = 24 // a merchant certificate's name, bytes of UTF-8
	MaxAccountLen       = 16 // device certificate account reference
	MinCurrencyLen      = 3
	MaxCurrencyLen      = 8
	MaxAmount           = 1<<63 - 1
	PairingSecretSize   = 32
	QRBudgetPaymentCert = 331 // PaymentBundle envelope: one QR code, version 13, level M
	maxArray            = MaxRevoked
)

// MaxUnackedEntries bounds how far an SE's log may run ahead of the last
// counter the ledger acknowledged to it: an SE refuses to sign a payment
// whose counter would be more than MaxUnackedEntries above the Acked of
// the last SyncResult it applied (sync first). The ledger therefore treats
// a payment whose counter is more than MaxUnackedEntries above the
// payer's acknowledged counter as the work of a broken SE (SPEC.md
// section 11): no honest SE can have signed it, and it must not move the
// ledger's record of the highest counter the device has used.
const MaxUnackedEntries uint64 = 1 << 20
