package storetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
)

// testEntrySigByUpload: the ledger authenticates entries by their upload's
// signature. An entry whose own signature is garbage, inside an upload
// its SE signed, settles; the same change made by anyone without the SE
// key breaks the upload's signature and is refused. A resend of the entry
// with its valid signature is a harmless retry (the entry hash excludes
// the signature).
func testEntrySigByUpload(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100)
	e.Account("bob", false, 0)
	a, b := e.Device("es-a", "alice"), e.Device("es-b", "bob")
	e.Load(a, 100)
	good := a.Clone()
	b.Receive(a.Pay(b.ID, 30))
	good.Pay(b.ID, 30)
	a.BreakSig(2)
	forged := good.UploadAll()
	forged.Entries[1].Sig = a.Log[1].Sig
	before := e.Conserved()
	_, err := e.Svc.Sync(e.Ctx, forged)
	Code(t, err, offpay.EUNAUTHORIZED)
	if after := e.Conserved(); len(after.Devices) != len(before.Devices) || e.Dev(a).Acked != 0 {
		t.Fatalf("refused upload changed the ledger: %+v", e.Dev(a))
	}
	e.SyncAll(a)
	if d := e.Dev(a); d.Acked != 2 || d.Sent != 30 || d.Position != 70 {
		t.Fatalf("payer after its upload: %+v", d)
	}
	e.SyncAll(good) // same entries, valid signatures: a retry
	e.SyncAll(b)
	r := e.Conserved()
	if d := e.Dev(b); d.Received != 30 || len(r.RevokedDevices) != 0 || len(r.DoubleSpends) != 0 {
		t.Fatalf("payee %+v, report %+v", d, r)
	}
}

// testBrokenEvidence: an entry with a garbage signature (a broken SE)
// that becomes evidence of equivocation is never stored as a proof; the
// device whose SE signed the upload carrying it is revoked, with a reason
// that says so. If it is the uploader's, nothing of that upload is
// recorded; if it is another device's, the upload settles.
func testBrokenEvidence(t *testing.T, open Opener) {
	setup := func(t *testing.T) (*Env, [4]*ledgertest.Device) {
		e := NewEnv(t, open)
		e.Account("alice", false, 150)
		e.Account("bob", false, 0)
		e.Account("carol", false, 0)
		a, b, c := e.Device("be-a", "alice"), e.Device("be-b", "bob"), e.Device("be-c", "carol")
		e.Load(a, 100)
		a2 := a.Clone()
		b.Receive(a.Pay(b.ID, 80))
		c.Receive(a2.Pay(c.ID, 80))
		return e, [4]*ledgertest.Device{a, a2, b, c}
	}
	t.Run("uploader's entry in this upload", func(t *testing.T) {
		e, d := setup(t)
		a, a2, b, c := d[0], d[1], d[2], d[3]
		a2.BreakSig(2)
		e.SyncAll(b)
		_, err := e.Svc.Sync(e.Ctx, a2.UploadAll())
		Code(t, err, offpay.EFORBIDDEN)
		checkBroken(t, e, a, 2)
		if e.Dev(a).Acked != 0 {
			t.Fatalf("the broken upload was recorded: %+v", e.Dev(a))
		}
		// c's receive entry and b's are valid evidence of a's two
		// payments with counter 2: that proof is stored.
		e.SyncAll(c)
		r := e.Conserved()
		if len(r.DoubleSpends) != 1 || len(r.RevokedDevices) != 1 {
			t.Fatalf("after the payees' uploads: proofs %+v, revoked %v", r.DoubleSpends, r.RevokedDevices)
		}
		checkProof(t, a.Cert, r.DoubleSpends[0].EntryA, r.DoubleSpends[0].EntryB, b.Cert, c.Cert)
	})
	t.Run("uploader's stored entry", func(t *testing.T) {
		e, d := setup(t)
		a, a2 := d[0], d[1]
		a.BreakSig(2)
		e.SyncAll(a)
		_, err := e.Svc.Sync(e.Ctx, a2.UploadAll())
		Code(t, err, offpay.EFORBIDDEN)
		checkBroken(t, e, a, 2)
	})
	t.Run("another device's stored entry", func(t *testing.T) {
		e, d := setup(t)
		a, b, c := d[0], d[2], d[3]
		a.BreakSig(2)
		e.SyncAll(a)
		e.SyncAll(c) // honoured; a's stored pay entry is the broken evidence
		e.SyncAll(b)
		checkBroken(t, e, a, 2)
		if e.Dev(b).Position != 80 || e.Dev(c).Position != 80 {
			t.Fatalf("payees not both honoured: %+v %+v", e.Dev(b), e.Dev(c))
		}
	})
}

// checkBroken checks that dev alone is revoked, as a broken SE (entry at
// counter), that no proof is stored and that money is conserved.
func checkBroken(t *testing.T, e *Env, dev *ledgertest.Device, counter uint64) {
	t.Helper()
	r := e.Conserved()
	if len(r.RevokedDevices) != 1 || r.RevokedDevices[0] != dev.ID.String() || len(r.DoubleSpends) != 0 {
		t.Fatalf("revoked %v, proofs %+v", r.RevokedDevices, r.DoubleSpends)
	}
	notes := e.list(ledger.OutboxQuery{Kind: ledger.NoteDeviceRevoked})
	for _, n := range notes {
		var p struct{ Device, Reason string }
		if n.Kind == ledger.NoteDeviceRevoked && json.Unmarshal(n.Payload, &p) == nil && p.Device == dev.ID.String() {
			if want := "broken SE: entry " + strconv.FormatUint(counter, 10); !strings.HasPrefix(p.Reason, want) {
				t.Fatalf("revocation reason %q, want %q...", p.Reason, want)
			}
			return
		}
	}
	t.Fatalf("no revocation notice for %v in %d notes", dev.ID, len(notes))
}
