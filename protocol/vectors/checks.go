package vectors

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// device issues a certificate for key from the trusted PKI with a given
// validity window, restoring the PKI's defaults afterwards.
func (w *world) device(key protocol.Signer, account string, notBefore, notAfter uint64) *protocol.Certificate {
	nb, na := w.pki.NotBefore, w.pki.NotAfter
	w.pki.NotBefore, w.pki.NotAfter = notBefore, notAfter
	defer func() { w.pki.NotBefore, w.pki.NotAfter = nb, na }()
	return w.pki.Device(key, account)
}

func bundle(p *protocol.Payment, c *protocol.Certificate) []byte {
	return protocol.Seal(&protocol.PaymentBundle{Payment: *p, Cert: *c})
}

// checkVectors: PKI chain rules, the payee's offline checks and the
// per-message rules of the other types.
func (w *world) checkVectors() []Vector {
	var vs []Vector
	dev := func(name, desc string, in Input, c *protocol.Certificate, class protocol.Class) {
		in.EnvelopeHex = hexOf(protocol.Seal(c))
		vs = append(vs, bad(name, "certificate", desc, in, class))
	}
	expired := w.device(w.payerKey, "alice-0001", prototest.Epoch-prototest.Year, prototest.Epoch)
	future := w.device(w.payerKey, "alice-0001", prototest.Epoch+3600, prototest.Epoch+prototest.Year)
	foreign := w.other.Device(w.payerKey, "alice-0001")
	revoked := w.revocationList(2, w.payer.ID())
	issuerRevoked := w.revocationList(3, w.pki.Issuer.ID())

	// The trusted issuer, re-certified by the root with a validity that
	// ended at Epoch: its device certificates verify, its chain is expired.
	oldIssuer := *w.pki.Issuer
	oldIssuer.NotAfter = prototest.Epoch
	must(oldIssuer.Sign(w.pki.RootKey))
	rootNotSelf := *w.pki.Root
	rootNotSelf.Issuer = w.other.Root.ID()
	must(rootNotSelf.Sign(w.pki.RootKey))

	dv := w.deviceView(Input{})
	dev("certificate-device-expired", "A device certificate whose not_after (exclusive) is 60 s before now.", dv, expired, protocol.ClassExpired)
	dev("certificate-device-not-yet-valid", "A device certificate valid from one hour after now.", dv, future, protocol.ClassNotYetValid)
	dev("certificate-device-untrusted-root", "A device certificate from another PKI's issuer: no trusted issuer has its issuer KeyID.", dv, foreign, protocol.ClassUntrusted)
	withRL := func(rl *protocol.RevocationList) Input {
		in := dv
		in.RevocationListHex = hexOf(protocol.Seal(rl))
		return in
	}
	dev("certificate-device-revoked", "The device's KeyID is on the revocation list.", withRL(revoked), w.payer, protocol.ClassRevoked)
	dev("certificate-device-issuer-revoked", "The device's issuer KeyID is on the revocation list.", withRL(issuerRevoked), w.payer, protocol.ClassRevoked)
	oldIn := dv
	oldIn.IssuersHex = []string{hexOf(protocol.Seal(&oldIssuer))}
	dev("certificate-device-issuer-expired", "The device certificate is valid, its issuer's certificate expired at Epoch.", oldIn, w.payer, protocol.ClassExpired)
	vs = append(vs,
		bad("certificate-issuer-untrusted-root", "certificate", "Another PKI's issuer certificate against this PKI's root.",
			w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(w.other.Issuer))}), protocol.ClassUntrusted),
		bad("certificate-root-not-self-signed", "certificate", "A root certificate whose issuer field names another key.",
			Input{EnvelopeHex: hexOf(protocol.Seal(&rootNotSelf))}, protocol.ClassUntrusted),
	)
	vs = append(vs, w.bundleVectors(expired, foreign, revoked)...)
	return append(vs, w.otherVectors()...)
}

func (w *world) bundleVectors(expired, foreign *protocol.Certificate, revoked *protocol.RevocationList) []Vector {
	var vs []Vector
	base := w.payeeView(Input{})
	add := func(name, desc string, in Input, env []byte, class protocol.Class) {
		in.EnvelopeHex = hexOf(env)
		vs = append(vs, bad(name, "payment_bundle", desc, in, class))
	}
	ok := bundle(w.payment, w.payer)
	pay := func(f func(q *protocol.Payment), key protocol.Signer) *protocol.Payment {
		q := *w.payment
		f(&q)
		must(q.Sign(key))
		return &q
	}

	wrongPayee := base
	other := w.payer.ID()
	wrongPayee.Payee = &Payee{SelfKeyIDHex: hexOf(other[:]), Currency: "EUR", MaxRevListAge: base.Payee.MaxRevListAge}
	add("payment-bundle-wrong-payee", "A valid payment addressed to the payee, presented to another device.", wrongPayee, ok, protocol.ClassWrongPayee)
	usd := base
	usd.Payee = &Payee{SelfKeyIDHex: base.Payee.SelfKeyIDHex, Currency: "USD", MaxRevListAge: base.Payee.MaxRevListAge}
	add("payment-bundle-currency-mismatch", "A EUR payment to a payee whose purse is in USD.", usd, ok, protocol.ClassCurrency)
	add("payment-bundle-currency-not-payer-purse", "A USD payment from a payer whose certificate's purse currency is EUR.", base,
		bundle(pay(func(q *protocol.Payment) { q.Currency = "USD" }, w.payerKey), w.payer), protocol.ClassCurrency)
	add("payment-bundle-per-payment-limit", "20001 minor units, one above the payer certificate's per-payment limit of 20000.", base,
		bundle(pay(func(q *protocol.Payment) { q.Amount = 20001 }, w.payerKey), w.payer), protocol.ClassLimit)
	add("payment-bundle-hop-limit", "Hops 5: value paid on offline once more than the payer certificate's max_hops of 3 allows (at most 4).", base,
		bundle(pay(func(q *protocol.Payment) { q.Hops = 5 }, w.payerKey), w.payer), protocol.ClassLimit)
	atHops := base
	atHops.EnvelopeHex = hexOf(bundle(pay(func(q *protocol.Payment) { q.Hops = 4 }, w.payerKey), w.payer))
	vs = append(vs, Vector{Name: "payment-bundle-at-hop-limit-valid", MessageType: "payment_bundle", Input: atHops, Expect: Valid,
		Description: "Hops 4 = the payer certificate's max_hops (3) + 1 is allowed."})
	atLimit := base
	atLimit.EnvelopeHex = hexOf(bundle(pay(func(q *protocol.Payment) { q.Amount = 20000 }, w.payerKey), w.payer))
	vs = append(vs, Vector{Name: "payment-bundle-at-per-payment-limit-valid", MessageType: "payment_bundle", Input: atLimit, Expect: Valid,
		Description: "Exactly the per-payment limit (20000 minor units) is allowed."})

	stale := base
	stale.Now = prototest.Epoch + base.Payee.MaxRevListAge + 1
	add("payment-bundle-stale-revocation-list", "The payee's revocation list is one second older than its certificate's max_rev_list_age.", stale, ok, protocol.ClassStaleRevList)
	none := base
	none.RevocationListHex = ""
	add("payment-bundle-no-revocation-list", "The payee holds no revocation list at all.", none, ok, protocol.ClassStaleRevList)
	rv := base
	rv.RevocationListHex = hexOf(protocol.Seal(revoked))
	add("payment-bundle-revoked-payer", "The payer's device KeyID is on the payee's revocation list.", rv, ok, protocol.ClassRevoked)

	// The expired certificate certifies the same key, so the payment's payer
	// KeyID and signature match it.
	add("payment-bundle-expired-payer", "The payer's certificate expired 60 s before now.", base, bundle(w.payment, expired), protocol.ClassExpired)
	add("payment-bundle-untrusted-payer", "The payer's certificate chains to an untrusted root.", base, bundle(w.payment, foreign), protocol.ClassUntrusted)
	add("payment-bundle-payer-mismatch", "The payment names the payee as payer; the certificate is the payer's.", base,
		bundle(pay(func(q *protocol.Payment) { q.Payer = w.payee.ID() }, w.payerKey), w.payer), protocol.ClassBadField)
	add("payment-bundle-bad-signature", "The payment signed by a key other than the certificate's.", base,
		bundle(pay(func(*protocol.Payment) {}, w.payeeKey), w.payer), protocol.ClassBadSignature)
	hi := *w.paymentP
	hi.Sig = highS(hi.Sig)
	add("payment-bundle-p256-high-s", "The P-256 payment with s replaced by n-s.", base, bundle(&hi, w.payerP), protocol.ClassBadSignature)
	add("payment-bundle-unknown-version", "The payment inside the bundle has version 2 (the bundle has none of its own).", base,
		bundle(pay(func(q *protocol.Payment) { q.Version = 2 }, w.payerKey), w.payer), protocol.ClassUnknownVersion)
	add("payment-bundle-issuer-certificate", "The issuer's certificate where the payer's device certificate belongs.", base,
		bundle(w.payment, w.pki.Issuer), protocol.ClassBadField)
	return vs
}
