package vse_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// checkChain verifies the retained log: consecutive counters from
// FirstLog, each entry signed and linked, ending at the status head.
func checkChain(t *testing.T, v *vse.VSE) []protocol.LogEntry {
	t.Helper()
	st := status(t, v)
	es, err := v.Log(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return es
	}
	for i, e := range es {
		if err := e.Verify(v.Certificate()); err != nil {
			t.Fatal(err)
		}
		if i > 0 && (e.Counter != es[i-1].Counter+1 || e.Prev != es[i-1].Hash()) {
			t.Fatalf("chain broken at %d", e.Counter)
		}
	}
	if last := es[len(es)-1]; last.Counter != st.Counter || last.Hash() != st.Head {
		t.Fatalf("log ends at %d, SE counter %d", last.Counter, st.Counter)
	}
	return es
}

func TestLogSpillsToFileAndSurvivesReopenAndPrune(t *testing.T) {
	t.Parallel()
	o := &vse.Options{LogSpill: 3}
	f := newFixture(t, o)
	f.load(t, f.a, 5000)
	for i := 0; i < 6; i++ {
		pay(t, f.a, f.b, 100)
	}
	if fi, err := os.Stat(filepath.Join(f.dirA, vse.LogFile)); err != nil || fi.Size() == 0 {
		t.Fatalf("nothing spilled: %v", err)
	}
	es := checkChain(t, f.a)
	if len(es) != 13 || es[0].Counter != 1 {
		t.Fatalf("%d entries", len(es))
	}
	a := setest.Open(t, f.dirA, o)
	if got := checkChain(t, a); len(got) != 13 {
		t.Fatalf("after reopen %d entries", len(got))
	}
	// Ack into the spilled part, then pass the archive time: the file is
	// rewritten without it.
	if err := a.ApplySyncResult(syncResult(f.pki, a.ID(), 5, now)); err != nil {
		t.Fatal(err)
	}
	if got := checkChain(t, a); len(got) != 14 {
		t.Fatalf("archived: %d entries", len(got))
	}
	if err := a.ApplySyncResult(syncResult(f.pki, a.ID(), 5, now+vse.ArchiveFor)); err != nil {
		t.Fatal(err)
	}
	// Kept: 6..13, and the sync entries the results added (14, 15).
	if got := checkChain(t, a); len(got) != 10 || got[0].Counter != 6 || got[9].Kind != protocol.EntrySync {
		t.Fatalf("after prune %d entries from %d", len(got), got[0].Counter)
	}
	a = setest.Open(t, f.dirA, o)
	checkChain(t, a)
	payAt(t, a, f.b, 100, now+vse.ArchiveFor)
	a = setest.Open(t, f.dirA, o)
	if got := checkChain(t, a); len(got) != 12 {
		t.Fatalf("%d entries", len(got))
	}
	// Ack everything, and again after the archive time (at the same
	// ledger time: no new sync entry): the log is empty, the chain goes on
	// from the head.
	if err := a.ApplySyncResult(syncResult(f.pki, a.ID(), status(t, a).Counter, now+vse.ArchiveFor)); err != nil {
		t.Fatal(err)
	}
	if err := a.ApplySyncResult(syncResult(f.pki, a.ID(), status(t, a).Counter, now+2*vse.ArchiveFor)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(f.dirA, vse.LogFile)); fi.Size() != 0 {
		t.Fatalf("log file keeps %d bytes after a full ack", fi.Size())
	}
	payAt(t, a, f.b, 100, now+2*vse.ArchiveFor)
	checkChain(t, setest.Open(t, f.dirA, o))
}

func TestLogFileTamperIsDetected(t *testing.T) {
	t.Parallel()
	o := &vse.Options{LogSpill: 2}
	f := newFixture(t, o)
	f.load(t, f.a, 5000)
	for i := 0; i < 3; i++ {
		pay(t, f.a, f.b, 100)
	}
	path := filepath.Join(f.dirA, vse.LogFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{20, 40, len(b) / 2, len(b) - 1} {
		bad := append([]byte(nil), b...)
		bad[i] ^= 1
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := vse.Open(f.dirA, setest.PIN, setest.Options(o)); err == nil {
			t.Fatalf("byte %d of the log flipped: opened", i)
		}
	}
	// A deleted log file is noticed too: the state says what it must hold.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := vse.Open(f.dirA, setest.PIN, setest.Options(o)); err == nil {
		t.Fatal("missing log file: opened")
	}
}

// TestCrashAtEveryLogWrite kills the SE at every write (state and log
// file, before and after the rename) of payments, a partial sync and more
// payments, with a log that spills every two entries. After each crash
// the SE reopens with an unbroken chain and goes on paying.
func TestCrashAtEveryLogWrite(t *testing.T) {
	t.Parallel()
	seen := 0
	// One fixture, restored from a snapshot before each run.
	base := newFixture(t, &vse.Options{LogSpill: 2})
	base.load(t, base.a, 5000)
	snapA, snapB := snapshot(t, base.dirA), snapshot(t, base.dirB)
	for k := 1; ; k++ {
		crashed := false
		for _, stage := range []atomicfile.Stage{atomicfile.BeforeRename, atomicfile.AfterRename} {
			n, armed := 0, false
			hook := func(name string, s atomicfile.Stage) bool {
				if !armed {
					return false
				}
				if name == vse.LogFile && s == atomicfile.AfterRename {
					n++ // the append is one event
					if n == k && stage == atomicfile.AfterRename {
						return true
					}
					return false
				}
				if s == atomicfile.BeforeRename {
					n++
				}
				return n == k && s == stage
			}
			restoreExact(t, base.dirA, snapA)
			restoreExact(t, base.dirB, snapB)
			f := &fixture{pki: base.pki, dirA: base.dirA, dirB: base.dirB, b: setest.Open(t, base.dirB, nil)}
			a := setest.Open(t, f.dirA, &vse.Options{LogSpill: 2, Hook: hook})
			armed = true
			err := func() error {
				for i := 0; i < 4; i++ {
					if i == 2 {
						if err := a.ApplySyncResult(syncResult(f.pki, a.ID(), 4, now)); err != nil {
							return err
						}
					}
					req := request(t, f.b, 100)
					b, err := a.Pay(req, 0, now)
					if err != nil {
						return err
					}
					rc, err := f.b.Receive(b, now)
					if err != nil {
						t.Fatal(err)
					}
					if err := a.ConfirmReceipt(rc, now); err != nil {
						return err
					}
				}
				return nil
			}()
			if err == nil {
				continue
			}
			if !errors.Is(err, atomicfile.ErrCrash) {
				t.Fatalf("write %d: %v", k, err)
			}
			crashed = true
			seen++
			a2 := setest.Open(t, f.dirA, &vse.Options{LogSpill: 2})
			checkChain(t, a2)
			st := status(t, a2)
			if st.Balance+st.PendingValue > 5000 || (5000-st.Balance-st.PendingValue)%100 != 0 {
				t.Fatalf("write %d: balance %d pending %d", k, st.Balance, st.PendingValue)
			}
			pay(t, a2, f.b, 100)
			checkChain(t, setest.Open(t, f.dirA, &vse.Options{LogSpill: 2}))
		}
		if !crashed {
			if seen < 12 {
				t.Fatalf("only %d crash points", seen)
			}
			t.Logf("%d crash points", seen)
			return
		}
	}
}

// restoreExact makes dir hold exactly files.
func restoreExact(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if _, ok := files[e.Name()]; !ok {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	restore(t, dir, files)
}
