package vectors

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// onlineVectors: the online payment and its receipt (SPEC.md 7.18, 7.19).
// An online payment is checked against its payer's certificate, and the
// request it carries against the payee certificate inside it; a receipt
// against the issuer's certificate.
func (w *world) onlineVectors() []Vector {
	req := &protocol.PaymentRequest{Version: protocol.Version, Payee: *w.payee, Amount: 1250, Currency: "EUR",
		Nonce: nonce("online-request"), Expiry: prototest.Epoch + 300, Name: "Corner Shop"}
	must(req.Sign(w.payeeKey))
	pay := func(f func(p *protocol.OnlinePayment)) *protocol.OnlinePayment {
		p := &protocol.OnlinePayment{Version: protocol.Version, Payer: w.payer.ID(), Request: *req, Amount: 1250,
			Currency: "EUR", Time: prototest.Epoch + 10}
		f(p)
		must(p.Sign(w.payerKey))
		return p
	}
	p := pay(func(*protocol.OnlinePayment) {})
	pOut := out(p)
	id := p.ID()
	pOut.PaymentIDHex = hexOf(id[:])
	rc := &protocol.OnlineReceipt{Version: protocol.Version, Payment: id, Payer: w.payer.ID(), Payee: w.payee.ID(),
		Nonce: req.Nonce, Amount: 1250, Currency: "EUR", Time: prototest.Epoch + 11, Signer: w.pki.Issuer.ID()}
	must(rc.Sign(w.pki.IssuerKey))

	vs := []Vector{
		{Name: "online-payment-valid", MessageType: "online_payment", Expect: Valid, Output: pOut,
			Description: "The payer's SE pays the shop's request for 12.50 EUR online, from its account: the request as the payee signed it inside, the whole signed by the payer's key.",
			Input:       signed(p, w.payer)},
		{Name: "online-receipt-valid", MessageType: "online_receipt", Expect: Valid, Output: out(rc),
			Description: "The ledger's receipt of online-payment-valid, signed by its issuer: 12.50 EUR moved from alice-0001 to shop-0001.",
			Input:       signed(rc, w.pki.Issuer)},
	}
	add := func(name, typ, desc string, in Input, class protocol.Class) {
		vs = append(vs, bad(name, typ, desc, in, class))
	}
	tampered := *p
	tampered.Amount = 125000
	add("online-payment-tampered-amount", "online_payment", "online-payment-valid with its amount raised after the payer signed it.",
		signed(&tampered, w.payer), protocol.ClassBadSignature)
	forgedReq := pay(func(p *protocol.OnlinePayment) { p.Request.Amount = 1 })
	add("online-payment-request-tampered", "online_payment", "The payer signs a payment of a request whose amount was changed after the payee signed it: the request no longer verifies.",
		signed(forgedReq, w.payer), protocol.ClassBadSignature)
	other := pay(func(p *protocol.OnlinePayment) { p.Payer = w.payee.ID() })
	add("online-payment-wrong-payer", "online_payment", "Signed by the payer's key but naming another device as payer.",
		signed(other, w.payer), protocol.ClassBadSignature)
	add("online-payment-zero-amount", "online_payment", "An online payment of 0.",
		signed(pay(func(p *protocol.OnlinePayment) { p.Amount = 0 }), w.payer), protocol.ClassAmount)
	add("online-payment-bad-currency", "online_payment", "A currency code in lower case.",
		signed(pay(func(p *protocol.OnlinePayment) { p.Currency = "eur" }), w.payer), protocol.ClassBadField)
	rcT := *rc
	rcT.Amount = 125000
	add("online-receipt-tampered-amount", "online_receipt", "online-receipt-valid with its amount raised after the issuer signed it.",
		signed(&rcT, w.pki.Issuer), protocol.ClassBadSignature)
	otherRc := *rc
	otherRc.Signer = w.other.Issuer.ID()
	must(otherRc.Sign(w.other.IssuerKey))
	add("online-receipt-wrong-signer", "online_receipt", "A receipt signed by another PKI's issuer, checked against the trusted issuer.",
		signed(&otherRc, w.pki.Issuer), protocol.ClassBadSignature)
	return vs
}
