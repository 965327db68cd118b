package vse_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

const day = 86400

func syncResult(p *prototest.PKI, dev protocol.KeyID, acked, t uint64, loads ...protocol.Load) *protocol.SyncResult {
	r := &protocol.SyncResult{
		Version: protocol.Version, Device: dev, Acked: acked, Time: t,
		Loads: loads, RevList: *p.RevList, Signer: p.Issuer.ID(),
	}
	if err := r.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return r
}

func TestSyncResetsOfflineLimitsAndPrunesLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	pay(t, f.a, f.b, 100)
	pay(t, f.a, f.b, 200)
	st := status(t, f.a)
	if st.OfflineCount != 2 || st.OfflineValue != 300 {
		t.Fatalf("offline %d/%d", st.OfflineCount, st.OfflineValue)
	}
	up, err := f.a.SyncUpload(1, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Verify(f.a.Certificate()); err != nil || len(up.Entries) != 5 {
		t.Fatalf("upload: %v, %d entries", err, len(up.Entries))
	}
	// The ledger acks the first payment only (counter 3: load, pay, confirm).
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 3, now+60)); err != nil {
		t.Fatal(err)
	}
	st = status(t, f.a)
	if st.OfflineCount != 1 || st.OfflineValue != 200 || st.LastSync != now+60 || st.Deadline != now+60+7*day {
		t.Fatalf("after partial ack: %+v", st)
	}
	// Acknowledged entries stay in the archive (a ledger that loses them
	// can be given them back): all 5 and the sync entry just added (6).
	es, _ := f.a.Log(1)
	if len(es) != 6 || es[0].Counter != 1 || es[5].Kind != protocol.EntrySync {
		t.Fatalf("archived entries: %d", len(es))
	}
	if up, err := f.a.SyncUpload(1, now); err != nil || len(up.Entries) != 6 {
		t.Fatalf("upload from below the ack: %v", err)
	}
	// That upload says the ledger lost the log; the result answering it
	// acknowledges it anew at its time (TestArchiveKeptFromReacknowledgement).
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 3, now+60)); err != nil {
		t.Fatal(err)
	}
	// A result ArchiveFor later prunes what the first one acknowledged:
	// kept are the unacked payment (4, 5) and the sync entries (6, 7).
	later := now + 60 + vse.ArchiveFor
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 3, later)); err != nil {
		t.Fatal(err)
	}
	es, _ = f.a.Log(1)
	if len(es) != 4 || es[0].Counter != 4 || es[3].Kind != protocol.EntrySync {
		t.Fatalf("acked entries must be pruned after the archive time: %d left", len(es))
	}
	if _, err := f.a.SyncUpload(3, later); !errors.Is(err, se.ErrLogPruned) {
		t.Fatalf("upload from a pruned counter: %v", err)
	}
	// The chain goes on from the kept head.
	payAt(t, f.a, f.b, 50, later)
	es, _ = f.a.Log(1)
	if es[4].Counter != 8 || es[4].Prev != es[3].Hash() {
		t.Fatal("chain broken after pruning")
	}
	// A result that acks beyond the log, one for another device, one that
	// is older than the last sync, one not signed by a trusted issuer: all
	// refused, nothing changes.
	before := status(t, f.a)
	forged := syncResult(prototest.NewPKI("rogue"), f.a.ID(), 7, later+60)
	for _, r := range []*protocol.SyncResult{
		syncResult(f.pki, f.a.ID(), 99, later+60),
		syncResult(f.pki, f.b.ID(), 7, later+60),
		syncResult(f.pki, f.a.ID(), 7, now),
		forged,
	} {
		if err := f.a.ApplySyncResult(r); err == nil {
			t.Fatalf("accepted bad result acked=%d", r.Acked)
		}
	}
	if status(t, f.a) != before {
		t.Fatal("a refused result changed the SE")
	}
}

func TestClockTurnedBackDoesNotExtendOfflineLife(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	deadline := status(t, f.a).Deadline
	r, err := f.b.NewRequest(se.RequestParams{Amount: 10, Expiry: deadline + 10*day}, now)
	if err != nil {
		t.Fatal(err)
	}
	// Past the deadline the purse stops paying ...
	if _, err := f.a.Pay(r, 0, deadline+day); !errors.Is(err, se.ErrOfflineTooLong) {
		t.Fatalf("past deadline: %v", err)
	}
	// ... and turning the wallet's clock back does not reopen it, in this
	// process or after a restart.
	if _, err := f.a.Pay(r, 0, now+day); !errors.Is(err, se.ErrOfflineTooLong) {
		t.Fatalf("clock turned back: %v", err)
	}
	a2 := setest.Open(t, f.dirA, nil)
	if _, err := a2.Pay(r, 0, now); !errors.Is(err, se.ErrOfflineTooLong) {
		t.Fatalf("clock turned back after reopen: %v", err)
	}
	// A ledger-signed time the SE has seen is a floor too: a load signed
	// after the deadline ends offline life whatever the wallet's clock says.
	g := newFixture(t, nil)
	if err := g.a.ApplyLoad(g.pki.Load(g.a.ID(), 1, 500, now+8*day)); err != nil {
		t.Fatal(err)
	}
	r2, _ := g.b.NewRequest(se.RequestParams{Amount: 10, Expiry: now + 20*day}, now)
	if _, err := g.a.Pay(r2, 0, now); !errors.Is(err, se.ErrOfflineTooLong) {
		t.Fatalf("clock below a ledger time: %v", err)
	}
	if st := status(t, g.a); st.Clock != now+8*day {
		t.Fatalf("SE clock %d, want the ledger's %d", st.Clock, now+8*day)
	}
	// A sync reopens it.
	if err := g.a.ApplySyncResult(syncResult(g.pki, g.a.ID(), 1, now+8*day)); err != nil {
		t.Fatal(err)
	}
	if _, err := g.a.Pay(r2, 0, now); err != nil {
		t.Fatalf("after sync: %v", err)
	}
}

func TestReplayStillRefusedAfterAcceptedSetIsPruned(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 500)
	bundle := pay(t, f.a, f.b, 100)
	// Two hours on, the payee's next write prunes the request's nonce and
	// the record of the payment; a replay is still refused, for its nonce.
	later := now + 2*3600
	if _, err := f.b.NewRequest(se.RequestParams{Amount: 1, Expiry: later + 60}, later); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrNonceUnknown, func() error { _, err := f.b.Receive(bundle, later); return err }, f.b)
	refused(t, se.ErrNonceUnknown, func() error { _, err := f.b.Receive(bundle, now); return err }, f.b)
}

func TestRevokedPayerStopsPayingOnceItKnows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 500)
	f.pki.Revoke(now+10, f.a.ID())
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 1, now+10)); err != nil {
		t.Fatal(err)
	}
	if st := status(t, f.a); st.RevListNum != f.pki.RevList.Number {
		t.Fatalf("revocation list %d not installed", st.RevListNum)
	}
	r, err := f.b.NewRequest(se.RequestParams{Amount: 10, Expiry: now + 600}, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrRevoked, func() error { _, err := f.a.Pay(r, 0, now); return err }, f.a)
}

// TestLoadRecognisedByContent: a load the SE applied is recognised by its
// bytes, not its sequence number. The same load again (a retry after a
// crash) is a no-op; another load with a number the SE already applied
// (the ledger reissued it after losing data) is refused as a conflict,
// alone or in a sync result, and changes nothing.
func TestLoadRecognisedByContent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	l1 := f.pki.Load(f.a.ID(), 1, 100, now)
	if err := f.a.ApplyLoad(l1); err != nil {
		t.Fatal(err)
	}
	if err := f.a.ApplyLoad(l1); err != nil {
		t.Fatalf("the same load again: %v", err)
	}
	other := f.pki.Load(f.a.ID(), 1, 70, now+1)
	refused(t, se.ErrLoadConflict, func() error { return f.a.ApplyLoad(other) }, f.a)
	refused(t, se.ErrLoadConflict, func() error {
		return f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now+2, *other))
	}, f.a)
	if st := status(t, f.a); st.Balance != 100 || st.LoadSeq != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestArchiveKeptFromReacknowledgement: a ledger that went back in time is
// given the log again from its counter and acknowledges it anew; the
// archive keeps those entries ArchiveFor from that new acknowledgement,
// not from the first one. Otherwise a ledger that goes back a second time,
// to a copy taken before this device gave the log back (within the claim
// window of the second loss), strands it: found by the simulator's
// regress fault (internal/sim/regress.go).
func TestArchiveKeptFromReacknowledgement(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	pay(t, f.a, f.b, 100) // counters 1 (load), 2 (pay)
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 2, now+60)); err != nil {
		t.Fatal(err)
	}
	// The ledger loses everything; the device finds out just before the
	// archive time ends and uploads again from counter 1, which the
	// ledger acknowledges anew.
	again := now + vse.ArchiveFor
	if _, err := f.a.SyncUpload(1, again); err != nil {
		t.Fatal(err)
	}
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 3, again)); err != nil {
		t.Fatal(err)
	}
	// A result past the first acknowledgement's archive time prunes
	// nothing the ledger acknowledged again since: the ledger can still
	// go back to a copy from before the re-upload.
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 3, now+60+vse.ArchiveFor+3600)); err != nil {
		t.Fatal(err)
	}
	if up, err := f.a.SyncUpload(1, now+60+vse.ArchiveFor+3600); err != nil || len(up.Entries) == 0 || up.Entries[0].Counter != 1 {
		t.Fatalf("upload from 1 after the first archive time, within the second: %v", err)
	}
	// That upload went from below the acknowledgement too, so the result
	// that answers it renews the archive time once more; ArchiveFor after
	// that result, the entries go.
	third := now + 60 + vse.ArchiveFor + 3600
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 3, third)); err != nil {
		t.Fatal(err)
	}
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 4, third+vse.ArchiveFor)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.SyncUpload(3, third+vse.ArchiveFor); !errors.Is(err, se.ErrLogPruned) {
		t.Fatalf("upload from a counter acknowledged again longer ago than ArchiveFor: %v", err)
	}
}

// TestLoadThatNoLongerFitsWaits: a load the ledger issued that the SE
// never applied (the wallet crashed in between) comes back in every sync
// result. If value received offline meanwhile leaves no room for it under
// the holding limit, the SE used to refuse the whole result, and with it
// every later sync: a device stranded until it spent offline. The load now
// waits (unapplied, still issued) while the rest of the result applies,
// and applies in a later result once it fits.
func TestLoadThatNoLongerFitsWaits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	hold := status(t, f.a).Limits.Holding
	f.load(t, f.b, 100)
	l1 := *f.pki.Load(f.a.ID(), 1, hold-50, now) // issued; the wallet crashed before applying it
	pay(t, f.b, f.a, 100)                        // alice now holds 100
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now+10, l1)); err != nil {
		t.Fatalf("a result whose load does not fit yet: %v", err)
	}
	st := status(t, f.a)
	if st.Balance != 100 || st.LoadSeq != 0 || st.LastSync != now+10 {
		t.Fatalf("after the result: balance %d load seq %d last sync %d", st.Balance, st.LoadSeq, st.LastSync)
	}
	pay(t, f.a, f.b, 60) // room for the load now
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now+20, l1)); err != nil {
		t.Fatal(err)
	}
	if st := status(t, f.a); st.Balance != 40+hold-50 || st.LoadSeq != 1 {
		t.Fatalf("after room was made: balance %d load seq %d", st.Balance, st.LoadSeq)
	}
	// Applied once: the same result again adds nothing.
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now+30, l1)); err != nil {
		t.Fatal(err)
	}
	if st := status(t, f.a); st.Balance != 40+hold-50 {
		t.Fatalf("the load applied twice: balance %d", st.Balance)
	}
}
