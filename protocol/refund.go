package protocol

import "errors"

// RefundWindow is how long, in ledger time (seconds) after a sale's own
// time, its payee may refund it offline (SPEC.md 7.5.1): the claim
// window. Both SEs remember their sales that long, and the ledger holds
// the merchant account for them until the merchant's log shows a sync
// that late.
const RefundWindow = ClaimWindow

// IsRefund reports whether p is a refund: its ref names a sale.
func (p *Payment) IsRefund() bool { return p.Sale != Hash{} }

// wirePayment is a Payment as encoded: field 6 (Ref) is the request's
// nonce (16 bytes) or the refunded sale's PaymentID (32 bytes).
type wirePayment struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Payer    KeyID
	Payee    KeyID
	Amount   uint64
	Currency string
	Counter  uint64
	Ref      []byte
	Time     uint64
	Hops     uint64
	SigAlg   Alg
	Sig      []byte
}

var errRef = errors.New("payment ref must be a 16-byte nonce or the 32-byte PaymentID of a sale")

// MarshalCBOR encodes p with its ref: the sale if it is a refund, else
// the nonce.
func (p Payment) MarshalCBOR() ([]byte, error) {
	w := wirePayment{Version: p.Version, Payer: p.Payer, Payee: p.Payee, Amount: p.Amount, Currency: p.Currency,
		Counter: p.Counter, Ref: p.Nonce[:], Time: p.Time, Hops: p.Hops, SigAlg: p.SigAlg, Sig: p.Sig}
	if p.IsRefund() {
		w.Ref = p.Sale[:]
	}
	return encMode.Marshal(&w)
}

// UnmarshalCBOR decodes a payment; a ref of another length than 16 or
// 32, or of 32 zero bytes, is a field of the wrong size (malformed).
func (p *Payment) UnmarshalCBOR(data []byte) error {
	var w wirePayment
	if err := decMode.Unmarshal(data, &w); err != nil {
		return err
	}
	*p = Payment{Version: w.Version, Payer: w.Payer, Payee: w.Payee, Amount: w.Amount, Currency: w.Currency,
		Counter: w.Counter, Time: w.Time, Hops: w.Hops, SigAlg: w.SigAlg, Sig: w.Sig}
	switch len(w.Ref) {
	case NonceSize:
		copy(p.Nonce[:], w.Ref)
	case HashSize:
		copy(p.Sale[:], w.Ref)
		if !p.IsRefund() {
			return errRef
		}
	default:
		return errRef
	}
	return nil
}
