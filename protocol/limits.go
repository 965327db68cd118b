package protocol

// Size limits. A decoder checks the whole message against its limit before
// parsing, then each field against its own.
const (
	MaxCertificateSize  = 256
	MaxPaymentSize      = 192
	MaxBundleSize       = 448
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
	MaxAccountLen       = 16 // device certificate account reference
	MinCurrencyLen      = 3
	MaxCurrencyLen      = 8
	MaxAmount           = 1<<63 - 1
	PairingSecretSize   = 32
	QRBudgetPaymentCert = 331 // PaymentBundle envelope: one QR code, version 13, level M
	maxArray            = MaxRevoked
)
