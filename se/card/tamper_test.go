package card_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/wallet"
)

// snapshot is what a refused command must leave as it was.
type snapshot struct {
	Status  se.Status
	Log     int
	Pending []se.Pending
}

func snap(t *testing.T, c *card.Card, now uint64) snapshot {
	t.Helper()
	es, err := c.Log(0)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{status(t, c, now), len(es), ps}
}

func enc(t *testing.T, v any) []byte {
	t.Helper()
	b, err := apdu.Enc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tamperCases are commands a card must refuse with exactly sw. req is a
// valid request from the payee; bundle a valid payment to the payer's card.
func tamperCases(t *testing.T, req *protocol.PaymentRequest, bundle *protocol.PaymentBundle, now uint64) []struct {
	name string
	cmds [][]byte
	sw   uint16
} {
	pay := enc(t, apdu.PayArgs{Request: req.Marshal(), Now: now})
	unsigned := *req
	unsigned.Sig = append([]byte(nil), req.Sig...)
	unsigned.Sig[0] ^= 1
	forged := *bundle
	forged.Payment.Sig = append([]byte(nil), bundle.Payment.Sig...)
	forged.Payment.Sig[5] ^= 0x80
	c := func(cla, ins, p1, p2 byte, data []byte) []byte {
		return apdu.Command{Cla: cla, Ins: ins, P1: p1, P2: p2, Data: data, Le: 256}.Marshal()
	}
	full := c(apdu.ClaProprietary, apdu.InsPay, 0, 0, pay[:200])
	return []struct {
		name string
		cmds [][]byte
		sw   uint16
	}{
		{"Lc longer than the data", one(full[:len(full)-10]), apdu.SWWrongLength},
		{"extended length", one([]byte{0x80, apdu.InsPay, 0, 0, 0, 0, 3, 1, 2, 3, 0, 0}), apdu.SWWrongLength},
		{"header cut short", one([]byte{0x80, apdu.InsPay, 0}), apdu.SWWrongLength},
		{"unknown INS", one(c(apdu.ClaProprietary, 0x60, 0, 0, []byte{0x80})), apdu.SWInsNotSupp},
		{"odd INS", one(c(apdu.ClaProprietary, apdu.InsPay+1, 0, 0, []byte{0x80})), apdu.SWInsNotSupp},
		{"unknown CLA", one(c(0x40, apdu.InsPay, 0, 0, []byte{0x80})), apdu.SWClaNotSupp},
		{"P1 not 0", one(c(apdu.ClaProprietary, apdu.InsStatus, 1, 0, enc(t, apdu.NowArgs{Now: now}))), apdu.SWWrongP1P2},
		{"data not CBOR", one(c(apdu.ClaProprietary, apdu.InsPay, 0, 0, []byte{0xFF, 0x00})), apdu.SWWrongData},
		{"data of another command", one(c(apdu.ClaProprietary, apdu.InsPay, 0, 0, enc(t, apdu.NowArgs{Now: now}))), apdu.SWWrongData},
		{"non-canonical CBOR", one(c(apdu.ClaProprietary, apdu.InsStatus, 0, 0, []byte{0x81, 0x1B, 0, 0, 0, 0, 0, 0, 0, 1})), apdu.SWWrongData},
		{"GET RESPONSE with nothing pending", one(c(apdu.ClaISO, apdu.InsGetResponse, 0, 0, nil)), apdu.SWNoState},
		{"request not signed by its payee", chained(apdu.ClaProprietary, apdu.InsPay, enc(t, apdu.PayArgs{Request: unsigned.Marshal(), Now: now})), apdu.SWOf(se.CodeProtocol, 0)},
		{"payment with a forged signature", chained(apdu.ClaProprietary, apdu.InsReceive, enc(t, apdu.MessageArgs{Msg: forged.Marshal(), Now: now})), apdu.SWOf(se.CodeProtocol, 0)},
		{"chain broken off by another INS", [][]byte{apdu.Command{Cla: apdu.ClaProprietary | apdu.Chain, Ins: apdu.InsPay, Data: pay[:100]}.Marshal(), c(apdu.ClaProprietary, apdu.InsRedeem, 0, 0, enc(t, apdu.AmountArgs{Amount: 1, Now: now}))}, apdu.SWChainLast},
	}
}

// chained is the command as blocks of 255 bytes.
func chained(cla, ins byte, data []byte) [][]byte {
	var out [][]byte
	for len(data) > apdu.MaxBlock {
		out = append(out, apdu.Command{Cla: cla | apdu.Chain, Ins: ins, Data: data[:apdu.MaxBlock]}.Marshal())
		data = data[apdu.MaxBlock:]
	}
	return append(out, apdu.Command{Cla: cla, Ins: ins, Data: data, Le: 256}.Marshal())
}

func one(b []byte) [][]byte { return [][]byte{b} }

// sendAll sends the APDUs in turn and returns the last answer's status
// word.
func sendAll(t *testing.T, tr card.Transmitter, cmds [][]byte) uint16 {
	t.Helper()
	var sw uint16
	for _, p := range cmds {
		raw, err := tr.Transmit(p)
		if err != nil {
			t.Fatalf("transmit %X: %v", p, err)
		}
		r, err := apdu.ParseResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		sw = r.SW
	}
	return sw
}

// checkTampered refuses each tampered command on the payer's card (or the
// payee's, for the payment) and checks that neither card changed.
func checkTampered(t *testing.T, e *env, ta, tb card.Transmitter, ca, cb *card.Card, a, b *wallet.Wallet) {
	t.Helper()
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	reqWire, err := b.Request(700, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var req protocol.PaymentRequest
	if err := protocol.OpenAs(reqWire, &req); err != nil {
		t.Fatal(err)
	}
	// A valid payment from a's card, to forge; b has not seen it.
	bundle, err := ca.Pay(&req, 0, e.now.Load())
	if err != nil {
		t.Fatal(err)
	}
	now := e.now.Load()
	beforeA, beforeB := snap(t, ca, now), snap(t, cb, now)
	for _, tc := range tamperCases(t, &req, bundle, now) {
		tr := ta
		if tc.name == "payment with a forged signature" {
			tr = tb
		}
		if got := sendAll(t, tr, tc.cmds); got != tc.sw {
			t.Errorf("%s: SW %04X, want %04X", tc.name, got, tc.sw)
		}
	}
	if got := snap(t, ca, now); !reflect.DeepEqual(got, beforeA) {
		t.Fatalf("the payer's card changed:\n%+v\n%+v", got, beforeA)
	}
	if got := snap(t, cb, now); !reflect.DeepEqual(got, beforeB) {
		t.Fatalf("the payee's card changed:\n%+v\n%+v", got, beforeB)
	}
	// The real payment still goes through.
	if _, err := cb.Receive(bundle, now); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Pay(&req, 0, now); err != nil { // the same payment again, not a second one
		t.Fatal(err)
	}
	if s := status(t, ca, now); s.Balance != 4300 {
		t.Fatalf("payer's balance %d", s.Balance)
	}
}

func TestTamperedAPDUsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca, aa := e.inProcess("alice")
	cb, ab := e.inProcess("bob")
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	checkTampered(t, e, direct{aa}, direct{ab}, ca, cb, a, b)
}

func TestPCSCTamperedAPDUsChangeNothing(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	ka, _, _ := e.reader(p, "alice", 0, 0)
	kb, _, _ := e.reader(p, "bob", 1, 0)
	ca, cb := login(t, ka), login(t, kb)
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	checkTampered(t, e, ka, kb, ca, cb, a, b)
}

// The refusal the host reads back is the SE's own error, code and class.
func TestRefusalCarriesTheSEError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca, _ := e.inProcess("alice")
	cb, _ := e.inProcess("bob")
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	_ = a
	reqWire, err := b.Request(700, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var req protocol.PaymentRequest
	if err := protocol.OpenAs(reqWire, &req); err != nil {
		t.Fatal(err)
	}
	_, err = ca.Pay(&req, 0, e.now.Load()) // nothing reserved
	if !errors.Is(err, se.ErrInsufficientFunds) {
		t.Fatalf("pay from an empty purse: %v", err)
	}
	req.Sig[3] ^= 1
	_, err = ca.Pay(&req, 0, e.now.Load())
	if !errors.Is(err, protocol.ErrBadSignature) || se.CodeOf(err) != se.CodeProtocol {
		t.Fatalf("pay a request with a broken signature: %v", err)
	}
}
