package fedtest

import (
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// mint certifies a new device key under issuer (a provider's issuer key,
// as a dishonest provider or a thief of its key would).
func mint(t *testing.T, issuer *protocol.Certificate, issuerKey protocol.Signer, account string) (*protocol.Certificate, protocol.Signer) {
	t.Helper()
	key := protocol.NewEd25519Signer()
	now := uint64(time.Now().Unix())
	c := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleDevice, Serial: 7, Issuer: issuer.ID(), KeyAlg: key.Alg(), Key: key.PublicKey(),
		NotBefore: now - 3600, NotAfter: now + 86400*365, Account: account, Class: protocol.SEVirtual, Currency: "EUR", Limits: prototest.DefaultLimits}
	if err := c.Sign(issuerKey); err != nil {
		t.Fatal(err)
	}
	return c, key
}

// payment is a payment from payer to payee signed by sig (the payer's key,
// or another in a forgery).
func payment(t *testing.T, payer, payee *protocol.Certificate, sig protocol.Signer, amount, counter uint64) *protocol.PaymentBundle {
	t.Helper()
	p := protocol.Payment{Version: protocol.Version, Payer: payer.ID(), Payee: payee.ID(), Amount: amount, Currency: "EUR", Counter: counter,
		Time: uint64(time.Now().Unix()), Hops: 1}
	p.Nonce[0] = byte(counter)
	if err := p.Sign(sig); err != nil {
		t.Fatal(err)
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *payer}
}

// forward is the evidence a payee's provider sends: the payee's receive
// entry (counter 1 of its log) signed by payeeKey.
func forward(t *testing.T, payee *protocol.Certificate, payeeKey protocol.Signer, b *protocol.PaymentBundle, counter uint64) []byte {
	t.Helper()
	e := protocol.LogEntry{Version: protocol.Version, Device: payee.ID(), Counter: counter, Kind: protocol.EntryReceive, Time: b.Payment.Time, Body: b.Marshal()}
	if counter > 1 {
		e.Prev[0] = 1
	}
	if err := e.Sign(payeeKey); err != nil {
		t.Fatal(err)
	}
	f := protocol.Forward{Version: protocol.Version, Payee: *payee, Entry: e}
	return f.Marshal()
}
