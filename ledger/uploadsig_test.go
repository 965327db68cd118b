package ledger_test

import (
	"context"
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
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
