package qr_test

import (
	"crypto/sha256"
	"math"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/transport/qr"
)

// TestCertifiedNamesFitTheCodes: with the payee's certified name at its
// longest (protocol.MaxCertNameLen) and the realistic maximum of the other
// fields (P-256 key, 16-byte account, 3-letter currency, integers below
// 2^32, a 9-byte random serial as the ledger issues), a payment request
// still fits one QR code of version 13 at level M in its text form, and
// one carrying the channel pairing and an IPv4 (or Bluetooth LE) address
// to reach it version 15 (SPEC.md section 12). A
// payment bundle carries the payer's certificate, a person's, which has
// no name: its budget is TestBundleBudgetRealisticMaximum's.
func TestCertifiedNamesFitTheCodes(t *testing.T) {
	const u32 = math.MaxUint32
	p := prototest.P256Key("budget")
	// Random-looking bytes, as real signatures, keys and nonces are: runs
	// of zeros would encode as digits and flatter the QR version.
	sig := noise("sig", protocol.SigSize)
	c := protocol.Certificate{Version: 1, Role: protocol.RoleDevice, Serial: math.MaxInt64, KeyAlg: protocol.AlgECDSAP256, Key: p.PublicKey(),
		NotBefore: u32 - 1, NotAfter: u32, Account: strings.Repeat("a", protocol.MaxAccountLen), Class: protocol.SETEE,
		Currency: "EUR", Limits: protocol.Limits{Holding: u32, PerPayment: 0, MaxOfflineCount: 65535, MaxOfflineValue: u32,
			MaxOfflineDays: 255, MaxRevListAge: u32, MaxHops: 23, MinPIN: 23}, Name: strings.Repeat("n", protocol.MaxCertNameLen),
		SigAlg: protocol.AlgECDSAP256, Sig: sig}
	req := protocol.PaymentRequest{Version: 1, Payee: c, Amount: u32, Currency: "EUR", Expiry: u32,
		SigAlg: protocol.AlgECDSAP256, Sig: noise("req-sig", protocol.SigSize)}
	copy(req.Nonce[:], noise("nonce", protocol.NonceSize))
	paired := req
	paired.ChannelKey, paired.Pairing = prototest.Ed25519Key("x25519-stand-in").PublicKey(), noise("pairing", 32)
	paired.Address = []byte{protocol.AddrTCP4, 192, 168, 100, 200, 0xff, 0xff}
	for _, m := range []struct {
		name string
		req  *protocol.PaymentRequest
		max  int
	}{{"request", &req, 13}, {"request with pairing", &paired, 15}} {
		env := protocol.Seal(m.req)
		if err := protocol.OpenAs(env, new(protocol.PaymentRequest)); err != nil && protocol.ClassOf(err) != protocol.ClassBadSignature {
			t.Fatalf("%s: %v", m.name, err)
		}
		v, err := qr.Version(qr.EncodeText(env), qr.M)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s, longest certified name: %d bytes, QR version %d-M", m.name, len(env), v)
		if v > m.max {
			t.Errorf("%s: %d bytes need QR version %d, budget %d", m.name, len(env), v, m.max)
		}
	}
}

// noise is n bytes of SHA-256 output seeded by label.
func noise(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256([]byte(label + string(rune('a'+i))))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// TestRefundFitsTheCodes: a refund (SPEC.md 7.5.1) carries the merchant
// device's certificate, with its certified name, and the sale's 32-byte
// PaymentID instead of a 16-byte nonce: 43 bytes more than a typical
// bundle with an 11-character name. In its text form it fits one QR code
// of version 14 at level M typically, and version 15 with the longest
// name and the realistic maximum of every other field (SPEC.md section 12).
func TestRefundFitsTheCodes(t *testing.T) {
	const u32 = math.MaxUint32
	sig := noise("sig", protocol.SigSize)
	for _, c := range []struct {
		name   string
		alg    protocol.Alg
		key    []byte
		cert   protocol.Certificate
		amount uint64
		max    int
	}{
		{"typical (Ed25519, 11-character name)", protocol.AlgEd25519, prototest.Ed25519Key("till").PublicKey(), protocol.Certificate{
			Serial: 4242, NotBefore: 1767225600, NotAfter: 1767225600 + 2*365*86400, Account: "shop-0001", Class: protocol.SEVirtual,
			Limits: protocol.Limits{Holding: 5000000, MaxOfflineCount: 100000, MaxOfflineValue: 5000000, MaxOfflineDays: 14,
				MaxRevListAge: 2 * 86400, MinPIN: 6}, Name: "Corner Shop"}, 1250, 14},
		{"realistic maximum, longest name", protocol.AlgECDSAP256, prototest.P256Key("till").PublicKey(), protocol.Certificate{
			Serial: math.MaxInt64, NotBefore: u32 - 1, NotAfter: u32, Account: strings.Repeat("a", protocol.MaxAccountLen),
			Class: protocol.SETEE, Limits: protocol.Limits{Holding: u32, MaxOfflineCount: 65535, MaxOfflineValue: u32,
				MaxOfflineDays: 255, MaxRevListAge: u32, MaxHops: 23, MinPIN: 23}, Name: strings.Repeat("n", protocol.MaxCertNameLen)}, u32, 15},
	} {
		cert := c.cert
		cert.Version, cert.Role, cert.KeyAlg, cert.Key, cert.Currency, cert.SigAlg, cert.Sig = 1, protocol.RoleDevice, c.alg, c.key, "EUR", c.alg, sig
		var sale protocol.Hash
		copy(sale[:], noise("sale", protocol.HashSize))
		r := protocol.Payment{Version: 1, Payer: cert.ID(), Amount: c.amount, Currency: "EUR", Counter: u32, Sale: sale,
			Time: u32, Hops: 1, SigAlg: c.alg, Sig: noise("refund-sig", protocol.SigSize)}
		copy(r.Payee[:], noise("payer", protocol.KeyIDSize))
		env := protocol.Seal(&protocol.PaymentBundle{Payment: r, Cert: cert})
		if err := protocol.OpenAs(env, new(protocol.PaymentBundle)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v, err := qr.Version(qr.EncodeText(env), qr.M)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("refund bundle, %s: %d bytes, QR version %d-M", c.name, len(env), v)
		if v > c.max {
			t.Errorf("refund bundle, %s: %d bytes need QR version %d, budget %d", c.name, len(env), v, c.max)
		}
	}
}
