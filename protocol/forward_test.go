package protocol_test

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// validForward is a payee's receive entry of a payment, with its
// certificate, as a payee's provider forwards it.
func validForward(t testing.TB) *protocol.Forward {
	p := prototest.NewPKI("forward")
	payerKey, payeeKey := prototest.Ed25519Key("forward/payer"), prototest.Ed25519Key("forward/payee")
	payer, payee := p.Device(payerKey, "alice"), p.Device(payeeKey, "bob")
	pay := protocol.Payment{Version: protocol.Version, Payer: payer.ID(), Payee: payee.ID(), Amount: 100, Currency: "EUR", Counter: 2,
		Time: prototest.Epoch, Hops: 1}
	if err := pay.Sign(payerKey); err != nil {
		t.Fatal(err)
	}
	b := protocol.PaymentBundle{Payment: pay, Cert: *payer}
	e := protocol.LogEntry{Version: protocol.Version, Device: payee.ID(), Counter: 1, Kind: protocol.EntryReceive, Time: prototest.Epoch, Body: b.Marshal()}
	if err := e.Sign(payeeKey); err != nil {
		t.Fatal(err)
	}
	return &protocol.Forward{Version: protocol.Version, Payee: *payee, Entry: e}
}

// TestForward: a forward decodes to itself; one that is not a receive
// entry of its payee's device, oversize, or with trailing bytes is
// refused.
func TestForward(t *testing.T) {
	f := validForward(t)
	b := f.Marshal()
	if len(b) > protocol.MaxForwardSize {
		t.Fatalf("%d bytes, limit %d", len(b), protocol.MaxForwardSize)
	}
	g, err := protocol.UnmarshalForward(b)
	if err != nil || !bytes.Equal(g.Marshal(), b) {
		t.Fatalf("round trip: %v", err)
	}
	other := *f
	other.Entry.Device[0] ^= 1
	if _, err := protocol.UnmarshalForward(other.Marshal()); err == nil {
		t.Fatal("an entry of another device accepted")
	}
	other = *f
	other.Entry.Kind = protocol.EntryPay
	if _, err := protocol.UnmarshalForward(other.Marshal()); err == nil {
		t.Fatal("a pay entry accepted")
	}
	if _, err := protocol.UnmarshalForward(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if _, err := protocol.UnmarshalForward(make([]byte, protocol.MaxForwardSize+1)); err == nil {
		t.Fatal("oversize accepted")
	}
}

// FuzzUnmarshalForward: whatever decodes re-encodes to the same bytes.
func FuzzUnmarshalForward(f *testing.F) {
	f.Add(validForward(f).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := protocol.UnmarshalForward(b)
		if err != nil {
			return
		}
		if !bytes.Equal(g.Marshal(), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
