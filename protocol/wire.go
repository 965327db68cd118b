package protocol

import "github.com/fxamacker/cbor/v2"

// Type is the one-byte type tag of an envelope (SPEC.md "Envelope").
type Type uint8

// Message types.
const (
	TypeCertificate    Type = 1
	TypeRevocationList Type = 2
	TypeLoad           Type = 3
	TypeRequest        Type = 4
	TypePayment        Type = 5
	TypeBundle         Type = 6
	TypeReceipt        Type = 7
	TypeRedeem         Type = 8
	TypeLogEntry       Type = 9
	TypeSyncUpload     Type = 10
	TypeSyncResult     Type = 11
	TypeEnrolment      Type = 12
	TypeReserve        Type = 13
	TypeSyncApplied    Type = 14
)

// Message is any offpay message.
type Message interface {
	Type() Type
	// Marshal returns the canonical encoding (without envelope).
	Marshal() []byte
	validate() error
}

func (*Certificate) Type() Type      { return TypeCertificate }
func (*RevocationList) Type() Type   { return TypeRevocationList }
func (*Load) Type() Type             { return TypeLoad }
func (*PaymentRequest) Type() Type   { return TypeRequest }
func (*Payment) Type() Type          { return TypePayment }
func (*PaymentBundle) Type() Type    { return TypeBundle }
func (*Receipt) Type() Type          { return TypeReceipt }
func (*Redeem) Type() Type           { return TypeRedeem }
func (*LogEntry) Type() Type         { return TypeLogEntry }
func (*SyncUpload) Type() Type       { return TypeSyncUpload }
func (*SyncResult) Type() Type       { return TypeSyncResult }
func (*EnrolmentRequest) Type() Type { return TypeEnrolment }
func (*ReserveRequest) Type() Type   { return TypeReserve }
func (*SyncApplied) Type() Type      { return TypeSyncApplied }

func (c *Certificate) Marshal() []byte      { return encode(c) }
func (r *RevocationList) Marshal() []byte   { return encode(r) }
func (l *Load) Marshal() []byte             { return encode(l) }
func (r *PaymentRequest) Marshal() []byte   { return encode(r) }
func (p *Payment) Marshal() []byte          { return encode(p) }
func (b *PaymentBundle) Marshal() []byte    { return encode(b) }
func (r *Receipt) Marshal() []byte          { return encode(r) }
func (r *Redeem) Marshal() []byte           { return encode(r) }
func (e *LogEntry) Marshal() []byte         { return encode(e) }
func (u *SyncUpload) Marshal() []byte       { return encode(u) }
func (r *SyncResult) Marshal() []byte       { return encode(r) }
func (r *EnrolmentRequest) Marshal() []byte { return encode(r) }
func (r *ReserveRequest) Marshal() []byte   { return encode(r) }
func (a *SyncApplied) Marshal() []byte      { return encode(a) }

// New returns an empty message of type t.
func New(t Type) (Message, error) {
	switch t {
	case TypeCertificate:
		return new(Certificate), nil
	case TypeRevocationList:
		return new(RevocationList), nil
	case TypeLoad:
		return new(Load), nil
	case TypeRequest:
		return new(PaymentRequest), nil
	case TypePayment:
		return new(Payment), nil
	case TypeBundle:
		return new(PaymentBundle), nil
	case TypeReceipt:
		return new(Receipt), nil
	case TypeRedeem:
		return new(Redeem), nil
	case TypeLogEntry:
		return new(LogEntry), nil
	case TypeSyncUpload:
		return new(SyncUpload), nil
	case TypeSyncResult:
		return new(SyncResult), nil
	case TypeEnrolment:
		return new(EnrolmentRequest), nil
	case TypeReserve:
		return new(ReserveRequest), nil
	case TypeSyncApplied:
		return new(SyncApplied), nil
	case TypeAttestation:
		return new(Attestation), nil
	case TypeAttestedEnrolment:
		return new(AttestedEnrolment), nil
	case TypeOnlinePayment:
		return new(OnlinePayment), nil
	case TypeOnlineReceipt:
		return new(OnlineReceipt), nil
	}
	return nil, errf(ClassUnknownType, "type %d", t)
}

// MaxSize is the size limit of a message of type t, envelope excluded.
func MaxSize(t Type) int {
	switch t {
	case TypeCertificate:
		return MaxCertificateSize
	case TypeRevocationList:
		return MaxRevListSize
	case TypeLoad:
		return MaxLoadSize
	case TypeRequest:
		return MaxRequestSize
	case TypePayment:
		return MaxPaymentSize
	case TypeBundle:
		return MaxBundleSize
	case TypeReceipt:
		return MaxReceiptSize
	case TypeRedeem:
		return MaxRedeemSize
	case TypeLogEntry:
		return MaxLogEntrySize
	case TypeSyncUpload:
		return MaxSyncUploadSize
	case TypeSyncResult:
		return MaxSyncResultSize
	case TypeEnrolment:
		return MaxEnrolmentSize
	case TypeReserve:
		return MaxReserveSize
	case TypeSyncApplied:
		return MaxSyncAppliedSize
	case TypeAttestation:
		return MaxAttestationSize
	case TypeAttestedEnrolment:
		return MaxAttestedEnrolmentSize
	case TypeOnlinePayment:
		return MaxOnlinePaymentSize
	case TypeOnlineReceipt:
		return MaxOnlineReceiptSize
	}
	return 0
}

// peekVersion refuses a message whose first element is not version 1
// before the rest is parsed, so that a future version with another shape
// reports unknown_version rather than malformed. A PaymentBundle starts
// with a Payment, whose own first element is checked.
func peekVersion(data []byte, nested bool) error {
	if versionOne(data, nested) {
		return nil // the common case, without parsing the rest
	}
	return peekVersionSlow(data, nested)
}

// peekVersionSlow is the version peek of SPEC.md section 4 step 5, parsing
// the whole item.
func peekVersionSlow(data []byte, nested bool) error {
	var head []cbor.RawMessage
	if err := decMode.Unmarshal(data, &head); err != nil || len(head) == 0 {
		return nil // decodeStrict reports the precise failure
	}
	if nested {
		return peekVersionSlow(head[0], false)
	}
	var v uint64
	if err := decMode.Unmarshal(head[0], &v); err != nil {
		return nil
	}
	if v != Version {
		return errf(ClassUnknownVersion, "version %d", v)
	}
	return nil
}

// Unmarshal decodes data (no envelope) into m, which must be a new
// message of the wanted type, and checks every field's domain. It does not
// verify signatures: that needs keys, see the Verify methods and Check*.
func Unmarshal(data []byte, m Message) error {
	max := MaxSize(m.Type())
	if len(data) > max {
		return errf(ClassOversize, "%d bytes, limit %d", len(data), max)
	}
	if err := peekVersion(data, m.Type() == TypeBundle || m.Type() == TypeAttestedEnrolment); err != nil {
		return err
	}
	if err := decodeStrict(data, m, max); err != nil {
		return err
	}
	return m.validate()
}

// Seal wraps m in an envelope: its type byte, then its encoding. This is
// what transports carry and what the QR text form encodes.
func Seal(m Message) []byte {
	body := m.Marshal()
	out := make([]byte, 0, 1+len(body))
	out = append(out, byte(m.Type()))
	return append(out, body...)
}

// Open decodes an envelope into a checked message.
func Open(data []byte) (Message, error) {
	if len(data) == 0 {
		return nil, errf(ClassMalformed, "empty envelope")
	}
	m, err := New(Type(data[0]))
	if err != nil {
		return nil, err
	}
	if err := Unmarshal(data[1:], m); err != nil {
		return nil, err
	}
	return m, nil
}

// OpenAs decodes an envelope that must hold a message of m's type.
func OpenAs(data []byte, m Message) error {
	if len(data) == 0 {
		return errf(ClassMalformed, "empty envelope")
	}
	if Type(data[0]) != m.Type() {
		if _, err := New(Type(data[0])); err != nil {
			return err
		}
		return errf(ClassUnknownType, "type %d where %d was expected", data[0], m.Type())
	}
	return Unmarshal(data[1:], m)
}

// versionOne reports whether data starts with an array head whose first
// element is the byte 0x01 (uint 1), looking inside the first element for
// a nested message. Then the version peek passes whatever follows: either
// data is a well-formed array whose first element is 1, or it is not a
// single well-formed item; either way peekVersion returns nil.
func versionOne(data []byte, nested bool) bool {
	i := arrayHead(data)
	if i == 0 {
		return false
	}
	if nested {
		j := arrayHead(data[i:])
		if j == 0 {
			return false
		}
		i += j
	}
	return i < len(data) && data[i] == 0x01
}

// arrayHead returns the length of the CBOR array head (of a definite
// length) at the start of b, or 0 if b does not start with one.
func arrayHead(b []byte) int {
	if len(b) == 0 || b[0]>>5 != 4 {
		return 0
	}
	n := 0
	switch ai := b[0] & 0x1f; {
	case ai < 24:
		n = 1
	case ai == 24:
		n = 2
	case ai == 25:
		n = 3
	case ai == 26:
		n = 5
	case ai == 27:
		n = 9
	default:
		return 0 // indefinite length or reserved: the slow path decides
	}
	if len(b) < n {
		return 0
	}
	return n
}
