package vse_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// sweptResult is syncResult with a cumulative sweep.
func sweptResult(p *prototest.PKI, dev protocol.KeyID, acked, t, swept uint64) *protocol.SyncResult {
	r := &protocol.SyncResult{
		Version: protocol.Version, Device: dev, Acked: acked, Time: t, Swept: swept,
		RevList: *p.RevList, Signer: p.Issuer.ID(),
	}
	if err := r.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return r
}

func logLen(t *testing.T, v *vse.VSE) int {
	t.Helper()
	es, err := v.Log(0)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestSweepDebitsOnce: the cumulative sweep debits the purse by what is
// new, once; a repeated, older or lower result takes nothing more, and a
// sweep above the balance is refused with nothing changed.
func TestSweepDebitsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	pay(t, f.a, f.b, 1000)
	res := sweptResult(f.pki, f.b.ID(), 1, now+60, 600)
	if err := f.b.ApplySyncResult(res); err != nil {
		t.Fatal(err)
	}
	st := status(t, f.b)
	if st.Balance != 400 || st.Swept != 600 || st.Counter != 2 || st.Acked != 1 {
		t.Fatalf("after sweep: %+v", st)
	}
	n := logLen(t, f.b)
	// Re-applied (a retried sync): nothing changes, the log does not grow.
	if err := f.b.ApplySyncResult(res); err != nil {
		t.Fatal(err)
	}
	if status(t, f.b) != st || logLen(t, f.b) != n {
		t.Fatal("re-applying the same result changed the SE")
	}
	// An older result is refused; one as late with a lower sweep (the
	// ledger's sweep never drops) takes nothing back and adds nothing.
	refused(t, se.ErrBadSync, func() error { return f.b.ApplySyncResult(sweptResult(f.pki, f.b.ID(), 1, now+30, 0)) }, f.b)
	if err := f.b.ApplySyncResult(sweptResult(f.pki, f.b.ID(), 1, now+60, 100)); err != nil {
		t.Fatal(err)
	}
	if status(t, f.b) != st || logLen(t, f.b) != n {
		t.Fatal("a lower sweep changed the SE")
	}
	// More than the purse holds: the ledger can only sweep what this SE
	// received.
	refused(t, se.ErrBadSync, func() error { return f.b.ApplySyncResult(sweptResult(f.pki, f.b.ID(), 2, now+120, 600+401)) }, f.b)
	if logLen(t, f.b) != n {
		t.Fatal("refused sweep grew the log")
	}
	// Exactly the balance is fine; it survives a reopen.
	if err := f.b.ApplySyncResult(sweptResult(f.pki, f.b.ID(), 2, now+120, 1000)); err != nil {
		t.Fatal(err)
	}
	if st := status(t, setest.Open(t, f.dirB, nil)); st.Balance != 0 || st.Swept != 1000 || st.Counter != 3 {
		t.Fatalf("after full sweep and reopen: %+v", st)
	}
}

// TestSyncEntryChainsAndIsUploaded: the EntrySync entry is a signed link
// of the chain, its body names the result, and the next upload carries it
// where a ledger expects it (counter acked+1, Prev the acked head).
func TestSyncEntryChainsAndIsUploaded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	pay(t, f.a, f.b, 1000)
	up1, err := f.b.SyncUpload(1, now)
	if err != nil {
		t.Fatal(err)
	}
	ackedHead := up1.Entries[len(up1.Entries)-1].Hash()
	res := sweptResult(f.pki, f.b.ID(), 1, now+60, 250)
	if err := f.b.ApplySyncResult(res); err != nil {
		t.Fatal(err)
	}
	st := status(t, f.b)
	up2, err := f.b.SyncUpload(st.Acked+1, now+70)
	if err != nil {
		t.Fatal(err)
	}
	var w protocol.SyncUpload
	if err := protocol.Unmarshal(up2.Marshal(), &w); err != nil {
		t.Fatal(err)
	}
	if err := w.Verify(f.b.Certificate()); err != nil || len(w.Entries) != 1 {
		t.Fatalf("upload: %v, %d entries", err, len(w.Entries))
	}
	e := w.Entries[0]
	if err := e.Verify(f.b.Certificate()); err != nil {
		t.Fatal(err)
	}
	if e.Kind != protocol.EntrySync || e.Counter != 2 || e.Prev != ackedHead || e.Hash() != st.Head || e.Time != now+60 {
		t.Fatalf("sync entry %+v does not follow the acked head", e)
	}
	var a protocol.SyncApplied
	if err := protocol.Unmarshal(e.Body, &a); err != nil {
		t.Fatal(err)
	}
	want := protocol.SyncApplied{Version: protocol.Version, Device: f.b.ID(), Result: res.ID(), Time: now + 60, Swept: 250}
	if a != want {
		t.Fatalf("body %+v, want %+v", a, want)
	}
	// The next sync acks it and, the ledger time having moved, logs one
	// more sync entry with the sweep unchanged.
	if err := f.b.ApplySyncResult(sweptResult(f.pki, f.b.ID(), 2, now+120+vse.ArchiveFor, 250)); err != nil {
		t.Fatal(err)
	}
	// The first result's acknowledgement has passed the archive time: kept
	// are the entry the second acknowledged (2) and the new sync entry (3).
	es, _ := f.b.Log(0)
	if len(es) != 2 || es[0].Counter != 2 || es[1].Counter != 3 || es[1].Prev != e.Hash() || status(t, f.b).Balance != 750 {
		t.Fatalf("after the second sync (and the archive time): %d entries", len(es))
	}
}

// TestCrashDuringSweep: the debit, the sync entry and the new ack are one
// write; a crash before or after the rename leaves all or none of them.
func TestCrashDuringSweep(t *testing.T) {
	t.Parallel()
	for _, stage := range []atomicfile.Stage{atomicfile.BeforeRename, atomicfile.AfterRename} {
		f := newFixture(t, nil)
		f.load(t, f.a, 5000)
		pay(t, f.a, f.b, 1000)
		before := status(t, f.b)
		crash := func(name string, s atomicfile.Stage) bool { return name == vse.StateFile && s == stage }
		b := setest.Open(t, f.dirB, &vse.Options{Hook: crash})
		if err := b.ApplySyncResult(sweptResult(f.pki, b.ID(), 1, now+60, 600)); !errors.Is(err, atomicfile.ErrCrash) {
			t.Fatalf("stage %v: %v", stage, err)
		}
		st := status(t, setest.Open(t, f.dirB, nil))
		switch {
		case st.Counter == before.Counter && st.Balance == 1000 && st.Swept == 0:
		case st.Counter == before.Counter+1 && st.Balance == 400 && st.Swept == 600 && st.Acked == 1:
		default:
			t.Fatalf("stage %v: torn state %+v", stage, st)
		}
		if stage == atomicfile.AfterRename && st.Swept != 600 {
			t.Fatal("a write that reached the disk was lost")
		}
	}
}

// TestToUploadIgnoresTrailingSyncEntry: the sync entry an SE appends when
// it applies a result is beyond Acked, but alone it does not make the
// device "have something to upload" (a POS would sync for ever); with
// other entries after the acked ones it goes along with them.
func TestToUploadIgnoresTrailingSyncEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	pay(t, f.a, f.b, 1000)
	if st := status(t, f.b); st.ToUpload != 1 {
		t.Fatalf("after a receive: ToUpload %d, want 1", st.ToUpload)
	}
	if err := f.b.ApplySyncResult(sweptResult(f.pki, f.b.ID(), 1, now+60, 0)); err != nil {
		t.Fatal(err)
	}
	st := status(t, f.b)
	if st.Counter != st.Acked+1 || st.ToUpload != 0 {
		t.Fatalf("after sync: counter %d acked %d ToUpload %d, want a lone unacked sync entry and ToUpload 0", st.Counter, st.Acked, st.ToUpload)
	}
	pay(t, f.a, f.b, 500)
	if st := status(t, f.b); st.ToUpload != 2 {
		t.Fatalf("sync entry then a receive: ToUpload %d, want 2", st.ToUpload)
	}
}
