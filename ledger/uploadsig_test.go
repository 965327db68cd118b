package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
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

// TestForgedLoadRefusedAnyShape (it holds what TestForgedLoadRefused
// checked: a flipped signature and another amount after a received
// payment, the genuine entries accepted, the report conserved): a load
// entry that is not the ledger's
// (signature flipped, another amount, the signing algorithm or the signer
// named changed: Load.Verify's rules) makes its upload EINVALID whatever
// else the upload carries: nothing else to verify, a few payments (the
// shared pool) or more than the pool takes (verified apart); the genuine
// entries before it are then accepted.
func TestForgedLoadRefusedAnyShape(t *testing.T) {
	ctx := context.Background()
	svc, enrol := newSigLedger(t)
	a := enrol("fs-a", "alice")
	if _, err := svc.Deposit(ctx, "alice", 1000, "d2:alice"); err != nil {
		t.Fatal(err)
	}
	l, err := svc.Reserve(ctx, a.Reserve(1000, 2))
	if err != nil {
		t.Fatal(err)
	}
	a.ApplyLoad(l)
	forges := []func(l *protocol.Load){
		func(l *protocol.Load) { l.Sig = append([]byte(nil), l.Sig...); l.Sig[5] ^= 1 },
		func(l *protocol.Load) { l.Amount++ },
		func(l *protocol.Load) { l.SigAlg = protocol.AlgECDSAP256 },
		func(l *protocol.Load) { l.Signer[0] ^= 1 },
		func(l *protocol.Load) { l.Signer = l.Device },
	}
	settled := 0
	for _, receives := range []int{0, 3, 70} {
		for i, forge := range forges {
			acct := fmt.Sprintf("b%d-%d", receives, i)
			b := enrol("fs-"+acct, acct)
			if _, err := svc.Deposit(ctx, acct, 50, "d2:"+acct); err != nil {
				t.Fatal(err)
			}
			for range receives {
				b.Receive(a.Pay(b.ID, 1))
			}
			l, err := svc.Reserve(ctx, b.Reserve(50, 2))
			if err != nil {
				t.Fatal(err)
			}
			forged := *l
			forge(&forged)
			b.ApplyLoad(&forged)
			// After the genuine load, then alone (its check the first
			// of the loads').
			if _, err := svc.Sync(ctx, b.UploadAll()); offpay.ErrorCode(err) != offpay.EINVALID {
				t.Fatalf("%d receives, forgery %d: %v, want EINVALID", receives, i, err)
			}
			if _, err := svc.Sync(ctx, b.Upload(1, b.Counter()-1)); err != nil {
				t.Fatalf("%d receives, forgery %d: genuine entries: %v", receives, i, err)
			}
			if _, err := svc.Sync(ctx, b.Upload(b.Counter(), b.Counter())); offpay.ErrorCode(err) != offpay.EINVALID {
				t.Fatalf("%d receives, forgery %d alone: %v, want EINVALID", receives, i, err)
			}
			settled += receives
		}
	}
	r, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ConservationOK || r.Settled != int64(settled) {
		t.Fatalf("report: settled %d (want %d), conservation %v", r.Settled, settled, r.ConservationOK)
	}
}

// TestSharedVerificationConcurrent: uploads and request signatures
// verified at the same time share batches (protocol.Pool) while batches
// are applied (each holding a processor token the pool's batches need
// too); forgeries among them (a forged load, a payment whose signature is
// not its payer's, a forged request signature) are refused, and only
// they: each honest upload is settled, each forged payment left out, and
// no caller waits for ever (run it with GOMAXPROCS=1 and -race too).
func TestSharedVerificationConcurrent(t *testing.T) {
	ctx := context.Background()
	svc, enrol := newSigLedger(t)
	const n = 12
	payers := make([]*ledgertest.Device, n)
	payees := make([]*ledgertest.Device, n)
	for i := range n {
		payers[i] = enrol(fmt.Sprintf("sv-a%d", i), fmt.Sprintf("alice%d", i))
		payees[i] = enrol(fmt.Sprintf("sv-b%d", i), fmt.Sprintf("bob%d", i))
	}
	type job struct {
		up      *protocol.SyncUpload
		ds      protocol.DeviceSignature
		want    offpay.Code // "" : accepted
		wantReq offpay.Code
	}
	jobs := make([]job, n)
	credited := int64(0)
	for i := range n {
		a, b := payers[i], payees[i]
		p := a.Pay(b.ID, 7)
		switch i % 4 {
		case 1: // a payment whose signature is not its payer's: left out
			p.Payment.Sig = append([]byte(nil), p.Payment.Sig...)
			p.Payment.Sig[3] ^= 1
		default:
			credited += 7
		}
		b.Receive(p)
		b.Receive(a.Pay(b.ID, 3))
		credited += 3
		want := offpay.Code("")
		if i%4 == 2 { // a forged load: the whole upload refused
			if _, err := svc.Deposit(ctx, fmt.Sprintf("bob%d", i), 50, fmt.Sprint("d2:", i)); err != nil {
				t.Fatal(err)
			}
			l, err := svc.Reserve(ctx, b.Reserve(50, 2))
			if err != nil {
				t.Fatal(err)
			}
			forged := *l
			forged.Sig = append([]byte(nil), l.Sig...)
			forged.Sig[9] ^= 1
			b.ApplyLoad(&forged)
			want = offpay.EINVALID
			credited -= 10
		}
		up := b.UploadAll()
		ds, ok := protocol.PeekDeviceSignature(protocol.Seal(up))
		if !ok {
			t.Fatal("upload not in the canonical layout")
		}
		wantReq := offpay.Code("")
		if i%3 == 0 {
			ds.Sig = append([]byte(nil), ds.Sig...)
			ds.Sig[1] ^= 1
			wantReq = offpay.EUNAUTHORIZED
		}
		jobs[i] = job{up, ds, want, wantReq}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	start := make(chan struct{})
	for i := range jobs {
		j := jobs[i]
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			if err := svc.VerifyDeviceSignature(ctx, j.ds); offpay.ErrorCode(err) != j.wantReq {
				errs <- fmt.Errorf("request %d: %v, want %q", i, err, j.wantReq)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			if _, err := svc.Sync(ctx, j.up); offpay.ErrorCode(err) != j.want {
				errs <- fmt.Errorf("upload %d: %v, want %q", i, err, j.want)
			}
		}()
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("callers still waiting after 2 minutes")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var received int64
	for _, d := range r.Devices {
		received += d.Received
	}
	if !r.ConservationOK || received != credited {
		t.Fatalf("report: received %d, want %d; conservation %v", received, credited, r.ConservationOK)
	}
}
