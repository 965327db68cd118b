package vectors

import (
	"bytes"

	"github.com/offpay/offpay/protocol"
)

// orderVectors each break two rules at once; the expected class is the
// one SPEC.md's order checks first, so that every implementation reports
// the same class for the same input.
func (w *world) orderVectors() []Vector {
	var vs []Vector
	pin := signed(w.payment, w.payer)
	add := func(name, desc string, env []byte, class protocol.Class) {
		vs = append(vs, bad(name, "payment", desc, withEnvelope(pin, env), class))
	}
	pay := func(f func(q *protocol.Payment), key protocol.Signer) []byte {
		q := *w.payment
		f(&q)
		if key != nil {
			must(q.Sign(key))
		}
		return protocol.Seal(&q)
	}
	env := protocol.Seal(w.payment)

	add("order-version-before-fields", "Version 2 and amount 0: the version peek (step 5) comes first.",
		pay(func(q *protocol.Payment) { q.Version, q.Amount = 2, 0 }, w.payerKey), protocol.ClassUnknownVersion)
	v256 := append([]byte{byte(protocol.TypePayment), 0x8b, 0x19, 0x01, 0x00}, env[3:]...)
	add("order-version-256", "Version 256 (too large for its uint8 field): the version peek reads any uint, so unknown_version.", v256, protocol.ClassUnknownVersion)
	nullCur := replaceOnce(env, []byte{0x63, 'E', 'U', 'R'}, []byte{0xf6})
	add("order-trailing-before-shape", "A null currency and a trailing byte: well-formedness (step 6) comes before shape (step 7).",
		append(nullCur, 0), protocol.ClassTrailingBytes)
	big := pay(func(q *protocol.Payment) { q.Currency = string(bytes.Repeat([]byte{'X'}, 100)) }, nil)
	add("order-size-before-everything", "An oversize payment that is also truncated: the size check (step 4) comes first.",
		big[:len(big)-1], protocol.ClassOversize)
	nc := pay(func(q *protocol.Payment) { q.Counter = 0 }, w.payerKey)
	add("order-canonical-before-fields", "Counter 0 and a non-minimal amount: canonical form (step 8) comes before field domains (step 9).",
		replaceOnce(nc, []byte{0x19, 0x04, 0xe2}, []byte{0x1a, 0, 0, 0x04, 0xe2}), protocol.ClassNonCanonical)

	base := w.payeeView(Input{})
	bundleVec := func(name, desc string, in Input, env []byte, class protocol.Class) {
		in.EnvelopeHex = hexOf(env)
		vs = append(vs, bad(name, "payment_bundle", desc, in, class))
	}
	stale := base
	stale.Now += base.Payee.MaxRevListAge + 1
	bundleVec("order-stale-list-before-chain", "A stale revocation list and a payer from an untrusted PKI: the list's age (step 3) comes first.",
		stale, bundle(w.payment, w.other.Device(w.payerKey, "alice-0001")), protocol.ClassStaleRevList)
	over := *w.payment
	over.Amount = 20001
	over.Payee = w.payer.ID()
	must(over.Sign(w.payerKey))
	bundleVec("order-payee-before-limit", "Addressed to another device and above the per-payment limit: the payee (step 7) comes first.",
		base, bundle(&over, w.payer), protocol.ClassWrongPayee)
	forged := over
	forged.Sig = flip(forged.Sig, 10)
	bundleVec("order-signature-before-payee", "A bad signature on a payment addressed to another device: the signature (step 6) comes first.",
		base, bundle(&forged, w.payer), protocol.ClassBadSignature)

	expired := w.device(w.payerKey, "alice-0001", 0, w.now-1)
	in := w.deviceView(Input{EnvelopeHex: hexOf(protocol.Seal(expired))})
	in.RevocationListHex = hexOf(protocol.Seal(w.revocationList(4, w.payer.ID())))
	vs = append(vs, bad("order-validity-before-revocation", "certificate",
		"An expired device certificate whose key is also revoked: validity (step 5) comes before revocation (step 6).", in, protocol.ClassExpired))
	return vs
}
