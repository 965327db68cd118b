package protocol

// Forward is what a payee's provider sends the payer's provider in a
// federation (SPEC.md "Forwarded evidence"): the payee's log entry that
// received the payment, signed by the payee's SE, and the payee's device
// certificate, which the payer's provider checks against the scheme's
// register. The entry's signature authenticates the whole: the payment
// bundle is its body. It travels without an envelope.
type Forward struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Payee   Certificate
	Entry   LogEntry
}

// MaxForwardSize bounds a Forward's encoding.
const MaxForwardSize = 16 + MaxCertificateSize + MaxLogEntrySize

// Marshal returns the canonical encoding.
func (f *Forward) Marshal() []byte { return encode(f) }

// UnmarshalForward decodes a Forward, accepting only its canonical
// encoding of a well-formed value; the signatures are the receiver's to
// check.
func UnmarshalForward(data []byte) (*Forward, error) {
	f := new(Forward)
	if err := decodeStrict(data, f, MaxForwardSize); err != nil {
		return nil, err
	}
	if err := checkVersion(f.Version); err != nil {
		return nil, err
	}
	if err := f.Payee.validate(); err != nil {
		return nil, err
	}
	if err := f.Entry.validate(); err != nil {
		return nil, err
	}
	if f.Entry.Kind != EntryReceive || f.Entry.Device != f.Payee.ID() {
		return nil, errf(ClassBadField, "not a receive entry of the payee's device")
	}
	return f, nil
}
