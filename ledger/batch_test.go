package ledger_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// TestGroupCommitIsolatesFailures: uploads applied in one transaction,
// each in its savepoint. An upload that fails on its own (a gap, an
// equivocation proven by the upload itself) is answered with its error
// and leaves nothing half done, while the others of the batch commit; the
// equivocation's proof and revocation are kept, as outside a batch.
func TestGroupCommitIsolatesFailures(t *testing.T) {
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
	now := uint64(time.Now().Unix())
	enrol := func(label, account string, deposit int64) *ledgertest.Device {
		if _, err := svc.CreateAccount(ctx, account, false); err != nil {
			t.Fatal(err)
		}
		if deposit > 0 {
			if _, err := svc.Deposit(ctx, account, deposit, "d:"+account); err != nil {
				t.Fatal(err)
			}
		}
		d := ledgertest.NewDevice(label, "EUR")
		d.Time = now
		en, err := svc.Enrol(ctx, d.Enrolment(account))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert = en.Device
		if deposit > 0 {
			l, err := svc.Reserve(ctx, d.Reserve(uint64(deposit), 1))
			if err != nil {
				t.Fatal(err)
			}
			d.ApplyLoad(l)
		}
		return d
	}
	a, b, c, shop := enrol("gc-a", "alice", 100), enrol("gc-b", "bob", 100), enrol("gc-c", "carol", 100), enrol("gc-s", "shop", 0)
	for _, d := range []*ledgertest.Device{a, b, c} {
		p := d.Pay(shop.ID, 10)
		shop.Receive(p)
		d.Confirm(shop.Receipt(p))
	}
	clone := b.Clone()
	clone.Log = clone.Log[:1]
	clone.Pay(shop.ID, 99)
	if _, err := svc.Sync(ctx, b.UploadAll()); err != nil {
		t.Fatal(err)
	}
	res, errs := svc.SyncBatchForTest(ctx, []*protocol.SyncUpload{
		a.UploadAll(),
		c.Upload(3, 3),    // a gap of its own: behind
		clone.UploadAll(), // equivocation: proof, revocation
		c.UploadAll(),
		shop.UploadAll(),
	})
	for i, want := range []offpay.Code{"", offpay.EBEHIND, offpay.EFORBIDDEN, "", ""} {
		if got := offpay.ErrorCode(errs[i]); got != want {
			t.Fatalf("upload %d: %v, want %q", i, errs[i], want)
		}
		if want == "" && (res[i] == nil || res[i].Acked == 0) {
			t.Fatalf("upload %d: no result", i)
		}
	}
	// One pass without savepoints, found the gap, one more with them.
	got := svc.Batches()
	if got.Batches == 0 || got.Uploads < 4 || got.Reruns != 1 {
		t.Fatalf("batches %+v", got)
	}
	// carol's upload failed on its own: a batch with another of hers is
	// applied with savepoints at once, no second pass.
	for range 2 {
		p := c.Pay(shop.ID, 5)
		shop.Receive(p)
	}
	res, errs = svc.SyncBatchForTest(ctx, []*protocol.SyncUpload{c.Upload(c.Counter(), c.Counter()), shop.UploadAll()})
	if offpay.ErrorCode(errs[0]) != offpay.EBEHIND || errs[1] != nil || res[1] == nil {
		t.Fatalf("carol's gap again: %v; shop %v", errs[0], errs[1])
	}
	if again := svc.Batches(); again.Reruns != 1 || again.Batches != got.Batches+1 {
		t.Fatalf("batches %+v after %+v", again, got)
	}
	got = svc.Batches()
	// The serial part's time, and its CPU time on its thread (Linux).
	if got.ApplyWall <= 0 || (runtime.GOOS == "linux" && (got.ApplyCPU <= 0 || got.ApplyCPU > got.ApplyWall)) {
		t.Fatalf("apply: wall %v, CPU %v", got.ApplyWall, got.ApplyCPU)
	}
	r, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ConservationOK || r.Settled != 5 || len(r.DoubleSpends) != 1 || len(r.RevokedDevices) != 1 {
		t.Fatalf("report %+v", r)
	}
}
