package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// TestVerifyDeviceSignature: a server's check of who sent a sync upload
// (VerifyDeviceSignature) spares the Sync that follows a second
// verification of the same signature, and never vouches for anything
// else: a forged signature is refused and remembered nowhere, and an
// upload altered under a remembered signature is refused by Sync.
func TestVerifyDeviceSignature(t *testing.T) {
	ctx := context.Background()
	svc, enrol := newSigLedger(t)
	a, b := enrol("vds-a", "alice"), enrol("vds-b", "bob")
	b.Receive(a.Pay(b.ID, 10))
	peek := func(up *protocol.SyncUpload) protocol.DeviceSignature {
		ds, ok := protocol.PeekDeviceSignature(protocol.Seal(up))
		if !ok {
			t.Fatal("upload not in the canonical layout")
		}
		return ds
	}

	// Forged: refused, nothing remembered.
	forged := b.UploadAll()
	forged.Sig = append([]byte(nil), forged.Sig...)
	forged.Sig[0] ^= 1
	if err := svc.VerifyDeviceSignature(ctx, peek(forged)); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("forged signature: %v, want EUNAUTHORIZED", err)
	}
	if n := svc.UploadSigsForTest(); n != 0 {
		t.Fatalf("%d signatures remembered after a forgery", n)
	}

	// Altered under a remembered signature: the entry's payment amount
	// is the same bytes' neighbour, the signature the genuine one.
	up := b.UploadAll()
	if err := svc.VerifyDeviceSignature(ctx, peek(up)); err != nil {
		t.Fatal(err)
	}
	alt := *up
	alt.Entries = append([]protocol.LogEntry(nil), up.Entries...)
	last := &alt.Entries[len(alt.Entries)-1]
	last.Body = append([]byte(nil), last.Body...)
	last.Body[len(last.Body)-1] ^= 1
	if _, err := svc.Sync(ctx, &alt); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("altered upload: %v, want EUNAUTHORIZED", err)
	}

	// The genuine upload: its remembered signature is used, and forgotten.
	if n := svc.UploadSigsForTest(); n != 1 {
		t.Fatalf("%d signatures remembered, want 1", n)
	}
	res, err := svc.Sync(ctx, up)
	if err != nil || res.Acked != b.Counter() {
		t.Fatalf("sync: %v, %+v", err, res)
	}
	if n := svc.UploadSigsForTest(); n != 0 {
		t.Fatalf("%d signatures remembered after the sync, want 0 (verified twice)", n)
	}

	// Another device's key never vouches for b's upload.
	if err := svc.VerifyDeviceSignature(ctx, protocol.DeviceSignature{Type: protocol.TypeSyncUpload, Device: a.ID, Input: peek(up).Input, Sig: up.Sig}); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("b's signature under a's key: %v, want EUNAUTHORIZED", err)
	}
}

// newSigLedger is a ledger on SQLite and a function that enrols a device
// with 100 in its account and loads all of it.
func newSigLedger(t *testing.T) (*ledger.Service, func(label, account string) *ledgertest.Device) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{})
	enrol := func(label, account string) *ledgertest.Device {
		if _, err := svc.CreateAccount(ctx, account, false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Deposit(ctx, account, 100, "d:"+account); err != nil {
			t.Fatal(err)
		}
		d := ledgertest.NewDevice(label, "EUR")
		d.Time = uint64(time.Now().Unix())
		en, err := svc.Enrol(ctx, d.Enrolment(account))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert = en.Device
		l, err := svc.Reserve(ctx, d.Reserve(100, 1))
		if err != nil {
			t.Fatal(err)
		}
		d.ApplyLoad(l)
		return d
	}
	return svc, enrol
}

// TestForgedLoadRefused: a load entry whose ledger signature does not
// verify (flipped, or over another amount), in an upload whose other
// signatures are good, makes the whole upload EINVALID and records
// nothing; the genuine load is accepted.
func TestForgedLoadRefused(t *testing.T) {
	ctx := context.Background()
	svc, enrol := newSigLedger(t)
	a := enrol("fl-a", "alice")
	for i, forge := range []func(l *protocol.Load){
		func(l *protocol.Load) { l.Sig = append([]byte(nil), l.Sig...); l.Sig[5] ^= 1 },
		func(l *protocol.Load) { l.Amount++ },
	} {
		acct := fmt.Sprintf("bob%d", i)
		b := enrol("fl-"+acct, acct)
		if _, err := svc.Deposit(ctx, acct, 50, "d2:"+acct); err != nil {
			t.Fatal(err)
		}
		// b's log: its genuine load (entry 1), a payment received, then
		// a second load, forged.
		b.Receive(a.Pay(b.ID, 10))
		l, err := svc.Reserve(ctx, b.Reserve(50, 2))
		if err != nil {
			t.Fatal(err)
		}
		forged := *l
		forge(&forged)
		b.ApplyLoad(&forged)
		if _, err := svc.Sync(ctx, b.UploadAll()); offpay.ErrorCode(err) != offpay.EINVALID {
			t.Fatalf("forged load: %v, want EINVALID", err)
		}
		if _, err := svc.Sync(ctx, b.Upload(1, 2)); err != nil {
			t.Fatalf("genuine entries: %v", err)
		}
	}
	r, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ConservationOK || r.Settled != 2 {
		t.Fatalf("report: settled %d, conservation %v", r.Settled, r.ConservationOK)
	}
}
