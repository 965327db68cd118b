package protocol

import (
	"bytes"
	"unicode/utf8"
)

func checkVersion(v uint8) error {
	if v != Version {
		return errf(ClassUnknownVersion, "version %d", v)
	}
	return nil
}

func checkSig(a Alg, sig []byte) error {
	if a != AlgEd25519 && a != AlgECDSAP256 {
		return errf(ClassUnknownAlg, "signature algorithm %d", a)
	}
	if len(sig) != SigSize {
		return errf(ClassBadField, "signature is %d bytes, want %d", len(sig), SigSize)
	}
	return nil
}

// CheckCurrency checks a currency code's syntax: 3 to 8 of A-Z and 0-9.
func CheckCurrency(c string) error {
	if len(c) < MinCurrencyLen || len(c) > MaxCurrencyLen {
		return errf(ClassBadField, "currency code %q", c)
	}
	for i := 0; i < len(c); i++ {
		if !(c[i] >= 'A' && c[i] <= 'Z' || c[i] >= '0' && c[i] <= '9') {
			return errf(ClassBadField, "currency code %q", c)
		}
	}
	return nil
}

func checkAmount(a uint64, zeroOK bool) error {
	if a > MaxAmount {
		return errf(ClassAmount, "amount %d above 2^63-1", a)
	}
	if a == 0 && !zeroOK {
		return errf(ClassAmount, "amount is zero")
	}
	return nil
}

func (c *Certificate) validate() error {
	if err := checkVersion(c.Version); err != nil {
		return err
	}
	if c.Role < RoleRoot || c.Role > RoleDevice {
		return errf(ClassBadField, "role %d", c.Role)
	}
	if c.KeyAlg != AlgEd25519 && c.KeyAlg != AlgECDSAP256 {
		return errf(ClassUnknownAlg, "key algorithm %d", c.KeyAlg)
	}
	if err := CheckKey(c.KeyAlg, c.Key); err != nil {
		return err
	}
	if c.NotAfter <= c.NotBefore {
		return errf(ClassBadField, "not_after %d not after not_before %d", c.NotAfter, c.NotBefore)
	}
	if err := checkSig(c.SigAlg, c.Sig); err != nil {
		return err
	}
	if c.Role != RoleDevice {
		if c.Account != "" || c.Class != SENone || c.Currency != "" || c.Limits != (Limits{}) || c.Name != "" {
			return errf(ClassBadField, "a %v certificate carries device fields", c.Role)
		}
		return nil
	}
	if len(c.Account) == 0 || len(c.Account) > MaxAccountLen || !utf8.ValidString(c.Account) {
		return errf(ClassBadField, "account reference must be 1..%d bytes of UTF-8", MaxAccountLen)
	}
	if c.Class < SEVirtual || c.Class > SETEE {
		return errf(ClassBadField, "SE class %d", c.Class)
	}
	if err := CheckCurrency(c.Currency); err != nil {
		return err
	}
	if c.Name != "" {
		if err := CheckCertName(c.Name); err != nil {
			return err
		}
	}
	l := c.Limits
	for _, v := range []uint64{l.Holding, l.PerPayment, l.MaxOfflineValue} {
		if err := checkAmount(v, true); err != nil {
			return err
		}
	}
	return nil
}

// CheckCertName checks a merchant's certified name: 1 to MaxCertNameLen
// bytes of UTF-8, no leading or trailing space, and none of the characters
// that hide or reorder what a payer reads: C0 and C1 controls, DEL, the
// line and paragraph separators and the bidirectional controls (U+200E,
// U+200F, U+202A..U+202E, U+2066..U+2069).
func CheckCertName(n string) error {
	if len(n) == 0 || len(n) > MaxCertNameLen || !utf8.ValidString(n) {
		return errf(ClassBadField, "name must be 1..%d bytes of UTF-8", MaxCertNameLen)
	}
	if n[0] == ' ' || n[len(n)-1] == ' ' {
		return errf(ClassBadField, "name %q has a leading or trailing space", n)
	}
	for _, r := range n {
		if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x200e || r == 0x200f || r >= 0x2028 && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return errf(ClassBadField, "name holds the control character U+%04X", r)
		}
	}
	return nil
}

func (r Role) String() string {
	switch r {
	case RoleRoot:
		return "root"
	case RoleIssuer:
		return "issuer"
	case RoleDevice:
		return "device"
	}
	return "unknown"
}

func (r *RevocationList) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if len(r.Revoked) > MaxRevoked {
		return errf(ClassOversize, "%d revoked keys", len(r.Revoked))
	}
	for i := 1; i < len(r.Revoked); i++ {
		if bytes.Compare(r.Revoked[i-1][:], r.Revoked[i][:]) >= 0 {
			return errf(ClassNonCanonical, "revoked keys not strictly ascending")
		}
	}
	return checkSig(r.SigAlg, r.Sig)
}

// IsRevoked reports whether id is on the list.
func (r *RevocationList) IsRevoked(id KeyID) bool {
	lo, hi := 0, len(r.Revoked)
	for lo < hi {
		m := (lo + hi) / 2
		switch c := bytes.Compare(r.Revoked[m][:], id[:]); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

func (l *Load) validate() error {
	if err := checkVersion(l.Version); err != nil {
		return err
	}
	if l.Seq == 0 {
		return errf(ClassBadField, "load sequence starts at 1")
	}
	if err := checkAmount(l.Amount, false); err != nil {
		return err
	}
	if err := CheckCurrency(l.Currency); err != nil {
		return err
	}
	return checkSig(l.SigAlg, l.Sig)
}

func (r *PaymentRequest) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if err := r.Payee.validate(); err != nil {
		return err
	}
	if r.Payee.Role != RoleDevice {
		return errf(ClassBadField, "payee certificate is not a device certificate")
	}
	if err := checkAmount(r.Amount, true); err != nil {
		return err
	}
	if err := CheckCurrency(r.Currency); err != nil {
		return err
	}
	if len(r.Name) > MaxNameLen || !utf8.ValidString(r.Name) {
		return errf(ClassBadField, "display name must be at most %d bytes of UTF-8", MaxNameLen)
	}
	if r.Name != "" && r.Name != r.Payee.Name {
		return errf(ClassBadField, "the request claims the name %q, its certificate certifies %q", r.Name, r.Payee.Name)
	}
	switch len(r.ChannelKey) {
	case 0:
		if len(r.Pairing) != 0 {
			return errf(ClassBadField, "pairing secret without a channel key")
		}
	case ChannelKeySize:
		if err := CheckChannelKey(r.ChannelKey); err != nil {
			return err
		}
		if len(r.Pairing) != PairingSecretSize {
			return errf(ClassBadField, "pairing secret must be %d bytes", PairingSecretSize)
		}
	default:
		return errf(ClassBadField, "channel key is %d bytes", len(r.ChannelKey))
	}
	if len(r.Address) > 0 {
		if len(r.ChannelKey) == 0 {
			return errf(ClassBadField, "channel address without a channel key")
		}
		if err := checkAddress(r.Address); err != nil {
			return err
		}
	}
	return checkSig(r.SigAlg, r.Sig)
}

func (p *Payment) validate() error {
	if err := checkVersion(p.Version); err != nil {
		return err
	}
	if err := checkAmount(p.Amount, false); err != nil {
		return err
	}
	if err := CheckCurrency(p.Currency); err != nil {
		return err
	}
	if p.Counter == 0 {
		return errf(ClassBadField, "counter starts at 1")
	}
	if p.Hops == 0 {
		return errf(ClassBadField, "hops starts at 1")
	}
	if p.IsRefund() && p.Hops != 1 {
		return errf(ClassBadField, "a refund is paid from the merchant's account: hops 1, not %d", p.Hops)
	}
	return checkSig(p.SigAlg, p.Sig)
}

func (b *PaymentBundle) validate() error {
	if err := b.Payment.validate(); err != nil {
		return err
	}
	if err := b.Cert.validate(); err != nil {
		return err
	}
	if b.Cert.Role != RoleDevice {
		return errf(ClassBadField, "payer certificate is not a device certificate")
	}
	if b.Payment.IsRefund() && b.Cert.Kind() != KindMerchant {
		return errf(ClassBadField, "a refund from a device that is not a merchant's")
	}
	return nil
}

func (r *Receipt) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if r.Counter == 0 {
		return errf(ClassBadField, "counter starts at 1")
	}
	return checkSig(r.SigAlg, r.Sig)
}

func (r *Redeem) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if r.Counter == 0 {
		return errf(ClassBadField, "counter starts at 1")
	}
	if err := checkAmount(r.Amount, false); err != nil {
		return err
	}
	if err := CheckCurrency(r.Currency); err != nil {
		return err
	}
	return checkSig(r.SigAlg, r.Sig)
}

func (e *LogEntry) validate() error {
	if err := checkVersion(e.Version); err != nil {
		return err
	}
	if e.Counter == 0 {
		return errf(ClassBadField, "counter starts at 1")
	}
	if e.Kind < EntryLoad || e.Kind > EntrySync {
		return errf(ClassBadField, "entry kind %d", e.Kind)
	}
	if e.Counter == 1 && e.Prev != (Hash{}) {
		return errf(ClassBadChain, "first entry must have a zero previous hash")
	}
	return checkSig(e.SigAlg, e.Sig)
}

func (u *SyncUpload) validate() error {
	if err := checkVersion(u.Version); err != nil {
		return err
	}
	if len(u.Entries) > MaxSyncEntries {
		return errf(ClassOversize, "%d entries, limit %d", len(u.Entries), MaxSyncEntries)
	}
	for i := range u.Entries {
		e := &u.Entries[i]
		if err := e.validate(); err != nil {
			return err
		}
		if e.Device != u.Device {
			return errf(ClassBadField, "entry %d is of another device", e.Counter)
		}
		if len(encode(e)) > MaxLogEntrySize {
			return errf(ClassOversize, "entry %d", e.Counter)
		}
		if i > 0 && e.Counter != u.Entries[i-1].Counter+1 {
			return errf(ClassBadChain, "entries not consecutive at %d", e.Counter)
		}
	}
	return checkSig(u.SigAlg, u.Sig)
}

func (r *EnrolmentRequest) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if err := CheckCertifiableKey(r.KeyAlg, r.Key); err != nil {
		return err
	}
	if len(r.Account) == 0 || len(r.Account) > MaxAccountLen || !utf8.ValidString(r.Account) {
		return errf(ClassBadField, "account reference must be 1..%d bytes of UTF-8", MaxAccountLen)
	}
	if r.Class < SEVirtual || r.Class > SETEE {
		return errf(ClassBadField, "SE class %d", r.Class)
	}
	return checkSig(r.SigAlg, r.Sig)
}

func (r *ReserveRequest) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if err := checkAmount(r.Amount, false); err != nil {
		return err
	}
	if err := CheckCurrency(r.Currency); err != nil {
		return err
	}
	return checkSig(r.SigAlg, r.Sig)
}

func (r *SyncResult) validate() error {
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if len(r.Statuses) > MaxSyncStatuses || len(r.Missing) > MaxSyncEntries || len(r.Loads) > MaxSyncLoads {
		return errf(ClassOversize, "sync result lists too long")
	}
	for i := range r.Loads {
		if err := r.Loads[i].validate(); err != nil {
			return err
		}
	}
	if err := checkAmount(r.Swept, true); err != nil {
		return err
	}
	if err := r.RevList.validate(); err != nil {
		return err
	}
	if len(r.Cert) > 1 {
		return errf(ClassOversize, "%d renewed certificates, at most 1", len(r.Cert))
	}
	if c := r.Renewal(); c != nil {
		if err := c.validate(); err != nil {
			return err
		}
		if c.Role != RoleDevice {
			return errf(ClassBadField, "renewed certificate is not a device certificate")
		}
		if c.ID() != r.Device {
			return errf(ClassBadField, "renewed certificate is for %v, not the device %v", c.ID(), r.Device)
		}
	}
	return checkSig(r.SigAlg, r.Sig)
}

func (a *SyncApplied) validate() error {
	if err := checkVersion(a.Version); err != nil {
		return err
	}
	return checkAmount(a.Swept, true)
}
