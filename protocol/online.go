package protocol

import "crypto/sha256"

// Online payments (SPEC.md 7.18, 7.19): a payer that is online answers a
// payee's PaymentRequest through its ledger instead of from its purse. Its
// SE signs an OnlinePayment carrying the request as the payee signed it;
// the ledger moves the money from the payer's account to the payee's at
// once and answers with an OnlineReceipt signed by its issuer key, which
// the payee verifies as it verifies a Load.

// Signature contexts of the online messages.
const (
	CtxOnlinePayment = "offpay/1/online-payment"
	CtxOnlineReceipt = "offpay/1/online-receipt"
)

// The online messages' types (SPEC.md section 3).
const (
	TypeOnlinePayment Type = 17
	TypeOnlineReceipt Type = 18
)

// Size limits of the online messages.
const (
	MaxOnlinePaymentSize = MaxRequestSize + 128
	MaxOnlineReceiptSize = 224
)

// OnlinePayment is a payer SE's order to its ledger: pay Request, the
// payee's signed request, Amount from the payer device's account. The
// request's (payee, nonce) makes it idempotent: the ledger answers a
// repeated order with the receipt it issued and never debits twice; a
// request is paid online once, by one payer, for one amount.
type OnlinePayment struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Payer    KeyID
	Request  PaymentRequest
	Amount   uint64 // the request's amount, or the payer's choice for an open request
	Currency string
	Time     uint64 // the SE's clock
	SigAlg   Alg
	Sig      []byte // by the payer's SE key
}

// OnlineReceipt is the ledger's signed word that an online payment moved
// Amount from the payer's account to the payee's: the payee (or its till)
// shows "paid" once it holds one for its request's nonce.
type OnlineReceipt struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Payment  Hash // OnlinePayment.ID
	Payer    KeyID
	Payee    KeyID
	Nonce    Nonce // the request's nonce
	Amount   uint64
	Currency string
	Time     uint64 // ledger time of the transfer
	Signer   KeyID  // the issuer key of the payer's ledger
	SigAlg   Alg
	Sig      []byte
}

func (*OnlinePayment) Type() Type { return TypeOnlinePayment }
func (*OnlineReceipt) Type() Type { return TypeOnlineReceipt }

func (p *OnlinePayment) Marshal() []byte { return encode(p) }
func (r *OnlineReceipt) Marshal() []byte { return encode(r) }

// SigningInput returns the bytes the payment's signature covers.
func (p *OnlinePayment) SigningInput() []byte {
	x := *p
	x.Sig = []byte{}
	return signingInput(CtxOnlinePayment, encode(&x))
}

// ID names the online payment: SHA-256 of its signing input.
func (p *OnlinePayment) ID() Hash { return sha256.Sum256(p.SigningInput()) }

// Sign signs p with s, the payer's SE key.
func (p *OnlinePayment) Sign(s Signer) error { return sign(s, &p.SigAlg, &p.Sig, p.SigningInput) }

// Verify checks p's signature against the payer's device certificate.
func (p *OnlinePayment) Verify(dev *Certificate) error {
	if p.SigAlg != dev.KeyAlg || p.Payer != dev.ID() {
		return errf(ClassBadSignature, "online payment not signed by this device")
	}
	return VerifySignature(dev.KeyAlg, dev.Key, p.SigningInput(), p.Sig)
}

// SigningInput returns the bytes the receipt's signature covers.
func (r *OnlineReceipt) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxOnlineReceipt, encode(&x))
}

// Sign signs r with s, the ledger's issuer key.
func (r *OnlineReceipt) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// Verify checks r's signature against the issuer certificate's key.
func (r *OnlineReceipt) Verify(issuer *Certificate) error {
	if r.SigAlg != issuer.KeyAlg || r.Signer != issuer.ID() {
		return errf(ClassBadSignature, "online receipt not signed by this issuer")
	}
	return VerifySignature(issuer.KeyAlg, issuer.Key, r.SigningInput(), r.Sig)
}

// Answers reports whether r is the receipt of a payment of req: same
// payee and nonce, in the request's currency, and its amount if the
// request names one. It does not check the signature (Verify does).
func (r *OnlineReceipt) Answers(req *PaymentRequest) bool {
	return r.Payee == req.Payee.ID() && r.Nonce == req.Nonce && r.Currency == req.Currency &&
		(req.Amount == 0 || req.Amount == r.Amount)
}

func (p *OnlinePayment) validate() error {
	if err := checkVersion(p.Version); err != nil {
		return err
	}
	if err := p.Request.validate(); err != nil {
		return err
	}
	if err := checkAmount(p.Amount, false); err != nil {
		return err
	}
	if err := CheckCurrency(p.Currency); err != nil {
		return err
	}
	return checkSig(p.SigAlg, p.Sig)
}

func (r *OnlineReceipt) validate() error {
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

// OnlineForward is what a payer's provider sends the payee's provider
// when an online payment crosses providers (SPEC.md 20.1): the payment as
// the payer's SE signed it, the payer's device certificate (checked
// against the scheme's register), and the payer's provider's receipt,
// signed by its issuer, which is its word that it debited the payer and
// owes the amount. It travels without an envelope, in the same stream as
// Forward, which has three elements where it has four.
type OnlineForward struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Payer   Certificate
	Payment OnlinePayment
	Receipt OnlineReceipt
}

// MaxOnlineForwardSize bounds an OnlineForward's encoding.
const MaxOnlineForwardSize = 16 + MaxCertificateSize + MaxOnlinePaymentSize + MaxOnlineReceiptSize

// Marshal returns the canonical encoding.
func (f *OnlineForward) Marshal() []byte { return encode(f) }

// UnmarshalOnlineForward decodes an OnlineForward, accepting only its
// canonical encoding of a well-formed value; the signatures are the
// receiver's to check.
func UnmarshalOnlineForward(data []byte) (*OnlineForward, error) {
	f := new(OnlineForward)
	if err := decodeStrict(data, f, MaxOnlineForwardSize); err != nil {
		return nil, err
	}
	if err := checkVersion(f.Version); err != nil {
		return nil, err
	}
	if err := f.Payer.validate(); err != nil {
		return nil, err
	}
	if err := f.Payment.validate(); err != nil {
		return nil, err
	}
	if err := f.Receipt.validate(); err != nil {
		return nil, err
	}
	if f.Payer.Role != RoleDevice || f.Payment.Payer != f.Payer.ID() {
		return nil, errf(ClassBadField, "the certificate is not the payer's device certificate")
	}
	return f, nil
}
