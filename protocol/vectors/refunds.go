package vectors

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// refundVectors: refunds (SPEC.md 7.5.1), a payment whose ref names the
// sale it gives money back for. The sale is the world's payment (alice to
// the shop, 12.50 EUR); the refund comes from a receive-only till of the
// shop (per_payment 0) back to alice. Made last: the till's certificate
// takes the next serial number, leaving every other vector as it was.
func (w *world) refundVectors() []Vector {
	tillKey := prototest.Ed25519Key("vectors/till")
	lim := w.pki.Limits
	lim.PerPayment, lim.MaxHops = 0, 0
	till := w.certify(tillKey, "shop-0001", "Corner Shop", lim)
	sale := w.payment.ID()
	refund := func(f func(r *protocol.Payment), key protocol.Signer) *protocol.Payment {
		r := &protocol.Payment{Version: protocol.Version, Payer: till.ID(), Payee: w.payer.ID(), Amount: 1250, Currency: "EUR",
			Counter: 7, Sale: sale, Time: w.payment.Time + 600, Hops: 1}
		if f != nil {
			f(r)
		}
		must(r.Sign(key))
		return r
	}
	ok := refund(nil, tillKey)
	// The payer's view: the refund is addressed to alice.
	view := w.payeeView(Input{})
	self := w.payer.ID()
	view.Payee = &Payee{SelfKeyIDHex: hexOf(self[:]), Currency: "EUR", MaxRevListAge: w.payer.Limits.MaxRevListAge}
	withEnv := func(env []byte) Input {
		in := view
		in.EnvelopeHex = hexOf(env)
		return in
	}
	okEnv := protocol.Seal(ok)
	// A ref of 15 bytes, and of 32 zero bytes, spelled by hand (no
	// Payment encodes them): the rest of the refund as it was.
	short := replaceOnce(okEnv, append([]byte{0x58, 0x20}, sale[:]...), append([]byte{0x4f}, sale[:15]...))
	zero := replaceOnce(okEnv, append([]byte{0x58, 0x20}, sale[:]...), append([]byte{0x58, 0x20}, make([]byte, 32)...))
	fromPerson := refund(func(r *protocol.Payment) { r.Payer = w.payerP.ID(); r.Payee = w.payer.ID() }, w.p256Key)
	toOther := refund(func(r *protocol.Payment) { r.Payee = w.payerP.ID() }, tillKey)

	return []Vector{
		{Name: "payment-refund-valid", MessageType: "payment", Expect: Valid, Input: signed(ok, till), Output: paymentOut(ok),
			Description: "A refund of 12.50 EUR from the shop's receive-only till (counter 7) to alice: ref holds the 32-byte PaymentID of the sale (payment-ed25519-valid), hops 1."},
		bad("payment-refund-hops-2", "payment", "A refund with hops 2: a refund is paid from the merchant's account, hops 1.",
			signed(refund(func(r *protocol.Payment) { r.Hops = 2 }, tillKey), till), protocol.ClassBadField),
		bad("payment-ref-15-bytes", "payment", "The refund with a 15-byte ref: neither a nonce (16) nor a PaymentID (32).",
			Input{EnvelopeHex: hexOf(short), SignerCertHex: hexOf(protocol.Seal(till))}, protocol.ClassMalformed),
		bad("payment-ref-zero-sale", "payment", "The refund with a ref of 32 zero bytes, which names no payment.",
			Input{EnvelopeHex: hexOf(zero), SignerCertHex: hexOf(protocol.Seal(till))}, protocol.ClassMalformed),
		{Name: "payment-bundle-refund-valid", MessageType: "payment_bundle", Expect: Valid, Input: withEnv(bundle(ok, till)), Output: paymentOut(ok),
			Description: "The refund with the till's certificate as alice receives it: every offline check passes although the till's per_payment is 0 (a refund is bounded by its sale, which alice's SE checks)."},
		bad("payment-bundle-refund-from-person", "payment_bundle", "A refund signed by a person's device (no certified name): only a merchant's device refunds.",
			withEnv(bundle(fromPerson, w.payerP)), protocol.ClassBadField),
		bad("payment-bundle-refund-wrong-payee", "payment_bundle", "A refund to another device, presented to alice.",
			withEnv(bundle(toOther, till)), protocol.ClassWrongPayee),
	}
}

// certify issues a merchant's device certificate for key with limits lim.
func (w *world) certify(key protocol.Signer, account, name string, lim protocol.Limits) *protocol.Certificate {
	saved := w.pki.Limits
	w.pki.Limits = lim
	defer func() { w.pki.Limits = saved }()
	return w.pki.Merchant(key, account, name)
}
