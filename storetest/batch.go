package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// testGroupCommit: many devices upload at once, among them uploads that
// fail on their own (a gap, a broken chain, an equivocation). Uploads that
// wait while a transaction runs are applied together in the next one;
// each failing upload gets its own error and changes nothing, every other
// upload is settled exactly once, and money is conserved.
func testGroupCommit(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("shop", true, 0)
	m := e.Device("gc-m", "shop")
	const n = 40
	devs := make([]*ledgertest.Device, n)
	for i := range devs {
		name := "gc" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		e.Account(name, false, 1000)
		devs[i] = e.Device(name, name)
		e.Load(devs[i], 500)
		for range 3 {
			p := devs[i].Pay(m.ID, 10)
			m.Receive(p)
			devs[i].Confirm(m.Receipt(p))
		}
	}
	// Three bad uploads: a gap, a broken chain, a clone's equivocation.
	gap := devs[0].Upload(3, devs[0].Counter())
	broken := devs[1].UploadAll()
	broken.Entries[2].Prev[0] ^= 1
	devs[1].Sign(broken)
	clone := devs[2].Clone()
	clone.Log = clone.Log[:1]
	clone.Pay(m.ID, 7)
	e.SyncAll(devs[2])
	bad := map[int]*protocol.SyncUpload{0: gap, 1: broken, 2: clone.UploadAll()}
	want := map[int]offpay.Code{0: offpay.EBEHIND, 1: offpay.EINVALID, 2: offpay.EFORBIDDEN}
	before := e.Svc.Batches()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			up := devs[i].UploadAll()
			if b, ok := bad[i]; ok {
				up = b
			}
			_, errs[i] = e.Svc.Sync(e.Ctx, up)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if c, ok := want[i]; ok {
			Code(t, err, c)
		} else if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
	}
	after := e.Svc.Batches()
	t.Logf("%d uploads applied in %d transactions", after.Uploads-before.Uploads, after.Batches-before.Batches)
	// The good ones again (retries) and the shop: all settled once.
	for i := 3; i < n; i++ {
		e.SyncAll(devs[i])
	}
	e.SyncAll(m)
	r := e.Conserved()
	if r.Settled != 3*n {
		t.Fatalf("settled %d", r.Settled)
	}
	if len(r.DoubleSpends) != 1 {
		t.Fatalf("the clone's equivocation: %+v", r.DoubleSpends)
	}
}

// testSavepoints: a part of a transaction rolled back to its savepoint is
// undone alone; the rest commits (group commit rests on it).
func testSavepoints(t *testing.T, open Opener) {
	st := open(t)
	ctx := t.Context()
	err := st.Update(ctx, func(tx ledger.Tx) error {
		if err := tx.PutMeta(ctx, "kept", []byte("1")); err != nil {
			return err
		}
		for _, sp := range []string{"upload_0", "upload_1"} {
			if err := tx.Savepoint(ctx, sp); err != nil {
				return err
			}
			if err := tx.PutMeta(ctx, sp, []byte("x")); err != nil {
				return err
			}
		}
		if err := tx.RollbackTo(ctx, "upload_1"); err != nil {
			return err
		}
		return tx.Release(ctx, "upload_0")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(ctx, func(tx ledger.Tx) error {
		for key, want := range map[string]bool{"kept": true, "upload_0": true, "upload_1": false} {
			v, err := tx.Meta(ctx, key)
			if err != nil {
				return err
			}
			if (v != nil) != want {
				t.Errorf("%s: %q, want present %v", key, v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testGroupCommitAcrossServices: several Services over one store (as
// several ledger processes over one database) apply batches at once, so
// that PostgreSQL's serializable transactions fail and are run again,
// while uploads in their batches fail on their own (a gap: a second pass
// with savepoints), prove an equivocation (proof and revocation kept) or
// a broken SE (revoked with that reason, nothing of its upload kept), and
// the same log arrives twice through different Services. Every payment
// settles once, each fraud is found once, money is conserved.
func testGroupCommitAcrossServices(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("shop", true, 0)
	m := e.Device("gx-m", "shop")
	e.Account("sink", false, 0)
	sink := e.Device("gx-k", "sink")
	const n = 24
	devs := make([]*ledgertest.Device, n)
	var ups [][]*protocol.SyncUpload
	want := map[int]offpay.Code{}
	for i := range devs {
		name := fmt.Sprintf("gx%02d", i)
		e.Account(name, false, 1000)
		devs[i] = e.Device(name, name)
		e.Load(devs[i], 500)
		d := devs[i]
		for range 3 {
			p := d.Pay(m.ID, 10)
			m.Receive(p)
			d.Confirm(m.Receipt(p))
		}
		switch i % 6 {
		case 0: // a gap, then the whole log (behind, unless that came first)
			ups = append(ups, []*protocol.SyncUpload{d.Upload(3, d.Counter()), d.UploadAll()})
		case 1: // a copy equivocates after the original's log is recorded
			e.SyncAll(d)
			clone := d.Clone()
			clone.Log = clone.Log[:1]
			clone.Pay(sink.ID, 7)
			ups = append(ups, []*protocol.SyncUpload{clone.UploadAll()})
			want[len(ups)-1] = offpay.EFORBIDDEN
		case 2: // a copy whose entry signature is garbage: a broken SE
			e.SyncAll(d)
			clone := d.Clone()
			clone.Log = clone.Log[:1]
			clone.Pay(sink.ID, 7)
			clone.BreakSig(2)
			ups = append(ups, []*protocol.SyncUpload{clone.UploadAll()})
			want[len(ups)-1] = offpay.EFORBIDDEN
		default:
			ups = append(ups, []*protocol.SyncUpload{d.UploadAll(), d.UploadAll()})
		}
	}
	svcs := []*ledger.Service{e.Svc.Service}
	for range 2 {
		svcs = append(svcs, ledger.New(e.Store, testKeys(t), ledger.Options{Clock: e.Now}))
	}
	var wg sync.WaitGroup
	errs := make([][]error, len(ups))
	for i := range ups {
		errs[i] = make([]error, len(ups[i]))
		for k := range ups[i] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i][k] = svcs[(i+k)%len(svcs)].Sync(e.Ctx, ups[i][k])
			}()
		}
	}
	wg.Wait()
	for i, svc := range svcs {
		t.Logf("service %d: %+v", i, svc.Batches())
	}
	for i := range ups {
		for k, err := range errs[i] {
			switch c, ok := want[i]; {
			case ok:
				Code(t, err, c)
			case i%6 == 0 && k == 0 && offpay.ErrorCode(err) == offpay.EBEHIND:
			case err != nil:
				t.Fatalf("upload %d.%d: %v", i, k, err)
			}
		}
	}
	e.SyncAll(m)
	r := e.Conserved()
	if r.Settled != 3*n {
		t.Fatalf("settled %d, want %d", r.Settled, 3*n)
	}
	if len(r.DoubleSpends) != n/6 || len(r.RevokedDevices) != 2*n/6 {
		t.Fatalf("proofs %d, revoked %d", len(r.DoubleSpends), len(r.RevokedDevices))
	}
	for i, d := range devs {
		dr := e.Dev(d)
		switch {
		case i%6 == 2 && !strings.HasPrefix(dr.Reason, "broken SE"):
			t.Fatalf("broken SE %d: %+v", i, dr)
		case dr.Acked != d.Counter() || dr.Sent != 30:
			t.Fatalf("device %d: %+v", i, dr)
		}
	}
}
