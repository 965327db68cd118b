package vse_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
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
	// Kept: the unacked payment (4, 5) and the sync entry just added (6).
	es, _ := f.a.Log(1)
	if len(es) != 3 || es[0].Counter != 4 || es[2].Kind != protocol.EntrySync {
		t.Fatalf("acked entries must be pruned: %d left", len(es))
	}
	// The chain goes on from the kept head.
	pay(t, f.a, f.b, 50)
	es, _ = f.a.Log(1)
	if es[3].Counter != 7 || es[3].Prev != es[2].Hash() {
		t.Fatal("chain broken after pruning")
	}
	// A result that acks beyond the log, one for another device, one that
	// is older than the last sync, one not signed by a trusted issuer: all
	// refused, nothing changes.
	before := status(t, f.a)
	forged := syncResult(prototest.NewPKI("rogue"), f.a.ID(), 7, now+120)
	for _, r := range []*protocol.SyncResult{
		syncResult(f.pki, f.a.ID(), 99, now+120),
		syncResult(f.pki, f.b.ID(), 7, now+120),
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

func TestSyncAppliesLoadsOnceAndInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	l1 := *f.pki.Load(f.a.ID(), 1, 100, now)
	l2 := *f.pki.Load(f.a.ID(), 2, 200, now)
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now, l2, l1)); err != nil {
		t.Fatal(err)
	}
	// Applying the same result again (a retried sync) changes nothing.
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), 0, now, l1, l2)); err != nil {
		t.Fatal(err)
	}
	if st := status(t, f.a); st.Balance != 300 || st.LoadSeq != 2 {
		t.Fatalf("balance %d seq %d", st.Balance, st.LoadSeq)
	}
	// A load out of order, or for another device, is refused.
	if err := f.a.ApplyLoad(f.pki.Load(f.a.ID(), 4, 1, now)); !errors.Is(err, se.ErrBadLoad) {
		t.Fatalf("gap: %v", err)
	}
	if err := f.a.ApplyLoad(f.pki.Load(f.b.ID(), 3, 1, now)); !errors.Is(err, se.ErrBadLoad) {
		t.Fatalf("other device: %v", err)
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
