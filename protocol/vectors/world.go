package vectors

import (
	"crypto/ecdh"
	"crypto/sha256"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// world is the fixed cast of the vectors: one trusted PKI, an untrusted
// one, a payer (Ed25519 and P-256 devices), a payee, and the messages of
// one payment's life. Construction order is fixed: serial numbers depend
// on it.
type world struct {
	pki, other *prototest.PKI
	rl         *protocol.RevocationList // the trusted PKI's list 1, empty, issued at Epoch
	now        uint64

	payerKey, payeeKey protocol.Signer
	p256Key            detP256
	payer, payee       *protocol.Certificate
	payerP             *protocol.Certificate // P-256 payer device

	load     *protocol.Load
	payment  *protocol.Payment // Ed25519 payer to payee, counter 2
	paymentP *protocol.Payment // P-256 payer to payee
	receipt  *protocol.Receipt
	entries  []protocol.LogEntry // payer's log 1..3: load, pay, confirm
}

func label(s string) []byte { h := sha256.Sum256([]byte("offpay-vectors/" + s)); return h[:] }

func nonce(s string) protocol.Nonce {
	var n protocol.Nonce
	copy(n[:], label(s))
	return n
}

func newWorld() *world {
	w := &world{pki: prototest.NewPKI("vectors"), now: prototest.Epoch + 60}
	w.rl = w.pki.RevList
	w.other = prototest.NewPKI("vectors-untrusted")
	w.payerKey = prototest.Ed25519Key("vectors/payer")
	w.payeeKey = prototest.Ed25519Key("vectors/payee")
	w.p256Key = detP256{prototest.P256Key("vectors/payer-p256")}
	w.payer = w.pki.Device(w.payerKey, "alice-0001")
	w.payee = w.pki.Merchant(w.payeeKey, "shop-0001", "Corner Shop")
	w.payerP = w.pki.Device(w.p256Key, "bob-0001")

	w.load = w.pki.Load(w.payer.ID(), 1, 50000, prototest.Epoch)
	w.payment = w.newPayment(w.payer, w.payerKey, 1250, 2)
	w.paymentP = w.newPayment(w.payerP, w.p256Key, 990, 5)
	w.receipt = &protocol.Receipt{Version: protocol.Version, Payment: w.payment.ID(), Payee: w.payee.ID(), Counter: 1, Time: w.payment.Time + 1}
	must(w.receipt.Sign(w.payeeKey))

	bodies := []struct {
		kind protocol.EntryKind
		body []byte
	}{{protocol.EntryLoad, w.load.Marshal()}, {protocol.EntryPay, w.payment.Marshal()}, {protocol.EntryConfirm, w.receipt.Marshal()}}
	var prev protocol.Hash
	for i, b := range bodies {
		e := protocol.LogEntry{Version: protocol.Version, Device: w.payer.ID(), Counter: uint64(i + 1), Prev: prev,
			Kind: b.kind, Time: prototest.Epoch + uint64(i), Body: b.body}
		must(e.Sign(w.payerKey))
		prev = e.Hash()
		w.entries = append(w.entries, e)
	}
	return w
}

func (w *world) newPayment(payer *protocol.Certificate, key protocol.Signer, amount, counter uint64) *protocol.Payment {
	p := &protocol.Payment{Version: protocol.Version, Payer: payer.ID(), Payee: w.payee.ID(), Amount: amount, Hops: 1,
		Currency: "EUR", Counter: counter, Nonce: nonce("request"), Time: prototest.Epoch}
	must(p.Sign(key))
	return p
}

// channel returns a deterministic X25519 public key and pairing secret.
func channel() ([]byte, []byte) {
	k, err := ecdh.X25519().NewPrivateKey(label("channel"))
	must(err)
	return k.PublicKey().Bytes(), label("pairing")
}

// trust fills the trusted PKI's root and issuer.
func (w *world) trust(in Input) Input {
	in.RootsHex = []string{hexOf(protocol.Seal(w.pki.Root))}
	in.IssuersHex = []string{hexOf(protocol.Seal(w.pki.Issuer))}
	return in
}

// payeeView fills the payee's view for a bundle check: trust, its
// revocation list, its own ID, currency and list age limit, and now.
func (w *world) payeeView(in Input) Input {
	in = w.trust(in)
	in.RevocationListHex = hexOf(protocol.Seal(w.rl))
	in.Now = w.now
	self := w.payee.ID()
	in.Payee = &Payee{SelfKeyIDHex: hexOf(self[:]), Currency: "EUR", MaxRevListAge: w.payee.Limits.MaxRevListAge}
	return in
}

// deviceView fills what VerifyDevice needs.
func (w *world) deviceView(in Input) Input {
	in = w.trust(in)
	in.RevocationListHex = hexOf(protocol.Seal(w.rl))
	in.Now = w.now
	return in
}

// signed returns the input for a message verified against signer's key.
func signed(m protocol.Message, signer *protocol.Certificate) Input {
	return Input{EnvelopeHex: hexOf(protocol.Seal(m)), SignerCertHex: hexOf(protocol.Seal(signer))}
}

// resign signs m with key under ctx instead of m's own context.
func resignUnder(ctx string, input []byte, own string, key protocol.Signer) []byte {
	if string(input[:len(own)]) != own {
		panic("vectors: signing input does not start with its context")
	}
	x := append([]byte(ctx), input[len(own):]...)
	sig, err := key.Sign(x)
	must(err)
	return sig
}

// flip returns a copy of b with one bit of byte i inverted.
func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x01
	return out
}
