package storetest

import (
	"reflect"
	"testing"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"pgregory.net/rapid"
)

// testP256: a smart-card SE (ECDSA P-256) pays an Ed25519 one and back;
// both directions settle from either side.
func testP256(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("card", false, 500)
	e.Account("phone", false, 500)
	c := ledgertest.NewP256Device("p256-card", "EUR")
	en, err := e.Svc.Enrol(e.Ctx, e.enrolment(c, "card"))
	if err != nil {
		t.Fatal(err)
	}
	c.Cert = en.Device
	if c.Cert.KeyAlg != protocol.AlgECDSAP256 {
		t.Fatalf("certificate algorithm %v", c.Cert.KeyAlg)
	}
	p := e.Device("p256-phone", "phone")
	e.Load(c, 100)
	e.Load(p, 100)
	p.Receive(c.Pay(p.ID, 30))
	c.Receive(p.Pay(c.ID, 12))
	e.SyncAll(p)
	e.SyncAll(c)
	if d := e.Dev(c); d.Sent != 30 || d.Received != 12 || d.Position != 82 {
		t.Fatalf("card %+v", d)
	}
	if d := e.Dev(p); d.Sent != 12 || d.Received != 30 || d.Position != 118 {
		t.Fatalf("phone %+v", d)
	}
}

// testTamper: any change to the bytes of a signed upload that still
// decodes is refused, and the ledger stays exactly as it was.
func testTamper(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("shop", true, 0)
	a, b, m := e.Device("t-a", "alice"), e.Device("t-b", "bob"), e.Device("t-m", "shop")
	e.Load(a, 100)
	m.Receive(a.Pay(m.ID, 20))
	b.Receive(a.Pay(b.ID, 30))
	b.Redeem(10)
	e.Sync(a, 1, 2)
	before := e.Conserved()
	rapid.Check(t, func(rt *rapid.T) {
		d := []*ledgertest.Device{a, b, m}[rapid.IntRange(0, 2).Draw(rt, "device")]
		enc := d.UploadAll().Marshal()
		i := rapid.IntRange(0, len(enc)-1).Draw(rt, "byte")
		enc[i] ^= byte(rapid.IntRange(1, 255).Draw(rt, "xor"))
		var up protocol.SyncUpload
		if protocol.Unmarshal(enc, &up) != nil {
			return // the decoder refused it: nothing reaches the ledger
		}
		if _, err := e.Svc.Sync(e.Ctx, &up); err == nil {
			rt.Fatalf("tampered upload accepted (byte %d)", i)
		}
		if after := e.Conserved(); !reflect.DeepEqual(before, after) {
			rt.Fatalf("tampered upload changed the ledger (byte %d)", i)
		}
	})
}
