package ledger

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/internal/threadcpu"
	"github.com/offpay/offpay/protocol"
)

// Group commit. Uploads are verified in parallel by their callers
// (prepare); applying them is serialized per Service, since uploads contend
// on popular payees' rows. Rather than one transaction per upload, the
// uploads that queue up while one transaction runs are applied together in
// the next: one commit (and, on SQLite, one fsync of the WAL) for many
// uploads, which is what a crowd of devices with a few entries each needs
// after an outage. Each upload's answer is given only after its batch has
// committed. An upload that fails on its own (a bad chain, a gap) must not
// fail the others: a batch is first applied without savepoints (they cost
// an eighth of a small upload's serial work on SQLite), and if an upload
// fails on its own the transaction is rolled back and the batch applied
// again with each upload in a savepoint, the failing one rolled back to
// its own and answered with its error while the others commit (an upload
// that proved its SE broken revokes it there, so that the uploads after
// it see it revoked, as they would one by one). So a bad
// upload costs its batch at most one second pass, never more, and a
// device whose upload failed so is applied with savepoints straight away
// for a while (failingDevices). A failure
// of the store fails the batch, and the store's retry (a serialization
// failure on PostgreSQL) runs the whole batch again from the start. When
// nothing waits, an upload is applied alone at once: no latency is added.
// Within a batch, what each upload reads is read for all of them before
// the first (batchrows.go, batchranges.go), and the rows they write are
// held and written a statement a table (entries, lines and notifications
// here; device rows and payments by the store: WriteHolder), so that on
// PostgreSQL a crowd of small uploads makes a few round trips a batch,
// not several an upload.

// Bounds of one batch (Options.MaxBatch overrides the uploads).
const (
	defaultMaxBatch = 128
	maxBatchEntries = 4 * protocol.MaxSyncEntries
)

type job struct {
	ctx    context.Context
	u      *upload
	res    *protocol.SyncResult
	fraud  error
	err    error
	broken *brokenSE
	done   chan struct{}
}

// applyQueued queues j and waits for its batch. The first caller to find
// no batch running applies batches until the queue is empty (there is no
// goroutine of its own to stop).
func (s *Service) applyQueued(j *job) {
	j.done = make(chan struct{})
	s.bmu.Lock()
	s.queue = append(s.queue, j)
	if s.leading {
		s.bmu.Unlock()
		<-j.done
		return
	}
	s.leading = true
	for {
		n, entries := 0, 0
		for n < len(s.queue) && n < s.maxBatch() && (n == 0 || entries+len(s.queue[n].u.entries) <= maxBatchEntries) {
			entries += len(s.queue[n].u.entries)
			n++
		}
		if n == 0 {
			s.leading = false
			s.bmu.Unlock()
			break
		}
		batch := append([]*job(nil), s.queue[:n]...)
		s.queue = s.queue[n:]
		s.bmu.Unlock()
		s.applyBatch(batch)
		s.bmu.Lock()
	}
	<-j.done
}

// ownFailure says whether err fails only the upload it came from.
func ownFailure(err error) bool {
	var b *brokenSE
	if errors.As(err, &b) {
		return true
	}
	var oe *offpay.Error
	return errors.As(err, &oe) && oe.Code != offpay.EINTERNAL && oe.Code != offpay.EUNAVAILABLE
}

// BatchStats counts group commits: transactions, the uploads they
// applied, and the batches applied a second time, with savepoints, because
// an upload failed on its own. ApplyWall is the time spent applying
// batches, the part of settlement that runs one batch at a time;
// ApplyCPU the CPU time of that work on the applying thread (0 where the
// system has no thread CPU clock), without the time it waited for a core,
// and without a database server's work. Uploads over ApplyCPU is the most
// syncs a second one ledger process could give with cores to spare.
type BatchStats struct {
	Batches, Uploads, Reruns int64
	ApplyWall, ApplyCPU      time.Duration
}

// Batches reports the group commits so far.
func (s *Service) Batches() BatchStats {
	return BatchStats{Batches: s.batches.Load(), Uploads: s.batched.Load(), Reruns: s.reruns.Load(),
		ApplyWall: time.Duration(s.applyWall.Load()), ApplyCPU: time.Duration(s.applyCPU.Load())}
}

func (s *Service) maxBatch() int {
	if s.opts.MaxBatch > 0 {
		return s.opts.MaxBatch
	}
	return defaultMaxBatch
}

// applyBatch applies the uploads of batch in one transaction and answers
// each.
func (s *Service) applyBatch(batch []*job) {
	s.batches.Add(1)
	s.batched.Add(int64(len(batch)))
	ctx := context.WithoutCancel(batch[0].ctx)
	s.cpu <- struct{}{} // see Service.cpu
	// On its own thread, the batch's CPU time is measured apart from the
	// time it waited for a core (BatchStats.ApplyCPU).
	runtime.LockOSThread()
	t0 := time.Now()
	c0, measured := threadcpu.Now()
	now := s.now()
	savepoints := len(batch) > 1 && s.failing.any(batch, now)
	err := s.applyTx(ctx, batch, savepoints)
	if errors.Is(err, errOwnFailure) {
		s.reruns.Add(1)
		err = s.applyTx(ctx, batch, true)
	}
	if measured {
		c1, _ := threadcpu.Now()
		s.applyCPU.Add(int64(c1 - c0))
	}
	s.applyWall.Add(int64(time.Since(t0)))
	runtime.UnlockOSThread()
	<-s.cpu
	for _, j := range batch {
		if err != nil { // nothing of the batch committed
			j.err = err
		}
		if ownFailure(j.err) {
			s.failing.add(j.u.id, now)
		}
		if b := (*brokenSE)(nil); errors.As(j.err, &b) {
			j.broken = b
		}
		close(j.done)
	}
}

// failingDevices remembers the devices whose uploads failed on their own
// lately. A batch holding an upload of one of them is applied with
// savepoints at once: a device that keeps sending uploads that fail (a gap
// costs it nothing to send) would otherwise make every batch it lands in
// run twice. Each device is remembered for failingFor; at most
// maxFailing of them (beyond, the oldest are forgotten, and a forgotten
// one costs its next batch one more pass).
type failingDevices struct {
	mu sync.Mutex
	m  map[protocol.KeyID]time.Time
}

const (
	failingFor = 10 * time.Minute
	maxFailing = 4096
)

func (f *failingDevices) add(id protocol.KeyID, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[protocol.KeyID]time.Time{}
	}
	if _, ok := f.m[id]; !ok && len(f.m) >= maxFailing {
		oldest, at := protocol.KeyID{}, now
		for k, t := range f.m {
			if now.Sub(t) >= failingFor {
				delete(f.m, k)
			} else if !t.After(at) {
				oldest, at = k, t
			}
		}
		if len(f.m) >= maxFailing {
			delete(f.m, oldest)
		}
	}
	f.m[id] = now
}

func (f *failingDevices) any(batch []*job, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range batch {
		if t, ok := f.m[j.u.id]; ok && now.Sub(t) < failingFor {
			return true
		}
	}
	return false
}

// errOwnFailure ends a batch applied without savepoints in which an
// upload failed on its own.
var errOwnFailure = errors.New("an upload of the batch failed on its own")

// applyTx applies batch in one transaction. Without savepoints, an upload
// that fails on its own fails the transaction with errOwnFailure (the
// batch is then applied again with them); with savepoints, each upload is
// in its own and one that fails on its own is rolled back to it alone.
func (s *Service) applyTx(ctx context.Context, batch []*job, savepoints bool) error {
	return s.update(ctx, func(stx Tx) error {
		tx := &batchTx{Tx: stx}
		if h, ok := stx.(WriteHolder); ok {
			h.HoldWrites()
		}
		if len(batch) > 1 {
			ups := make([]*upload, len(batch))
			for i, j := range batch {
				ups[i] = j.u
			}
			if err := tx.prefetchUploads(ctx, ups); err != nil {
				return err
			}
		}
		for i, j := range batch {
			j.res, j.fraud, j.err, j.broken = nil, nil, nil, nil
			if !savepoints {
				res, fraud, err := s.apply(ctx, tx, j.u)
				if err != nil {
					if len(batch) > 1 && ownFailure(err) {
						return errOwnFailure
					}
					return err
				}
				j.res, j.fraud = res, fraud
				continue
			}
			sp := fmt.Sprintf("upload_%d", i)
			if err := tx.Savepoint(ctx, sp); err != nil {
				return err
			}
			res, fraud, err := s.apply(ctx, tx, j.u)
			if err != nil {
				if !ownFailure(err) {
					return err
				}
				if rerr := tx.RollbackTo(ctx, sp); rerr != nil {
					return rerr
				}
				// A broken SE is revoked at once, as Sync alone revokes
				// it before the next upload: the uploads after it in the
				// batch (its device's other copies among them) see it
				// revoked.
				if b := (*brokenSE)(nil); errors.As(err, &b) {
					if rerr := s.revokeBrokenTx(ctx, tx, b); rerr != nil {
						return rerr
					}
					err = brokenErr(b)
				}
				j.err = err
				continue
			}
			if err := tx.Release(ctx, sp); err != nil {
				return err
			}
			j.res, j.fraud = res, fraud
		}
		return tx.flush(ctx)
	})
}

// batchTx holds back the statement lines and notifications of a whole
// batch and writes them in one statement each before it commits (a
// notification per settled payment made them a quarter of a small
// upload's work). Settlement only appends these rows, never reads them
// back, so holding them changes nothing the uploads see; an upload rolled
// back to its savepoint drops its own (RollbackTo).
type batchTx struct {
	Tx
	lines   []LineRow
	notes   []OutboxRow
	entries []EntryRow                    // batchrows.go
	devs    map[protocol.KeyID]*DeviceRow // batchrows.go
	pays    map[PayKey]*PaymentRow        // batchrows.go: nil where known to be absent
	loads   map[LoadKey]*LoadRow          // batchrows.go: nil where known to be absent
	meta    map[string][]byte             // batchrows.go
	rcpts   map[PayKey]*ReceiptRow        // batchranges.go: nil where known to be absent
	sets    map[protocol.KeyID]*statusSet // batchranges.go
	sps     []savepoint
}

func (b *batchTx) InsertLines(_ context.Context, ls []LineRow) error {
	b.lines = append(b.lines, ls...)
	return nil
}

func (b *batchTx) InsertOutbox(_ context.Context, rs []OutboxRow) error {
	b.notes = append(b.notes, rs...)
	return nil
}

type batchMark struct{ lines, notes, entries int }

type savepoint struct {
	name string
	at   batchMark
}

// Savepoint implements Tx.
func (b *batchTx) Savepoint(ctx context.Context, name string) error {
	if err := b.Tx.Savepoint(ctx, name); err != nil {
		return err
	}
	b.sps = append(b.sps, savepoint{name, batchMark{len(b.lines), len(b.notes), len(b.entries)}})
	return nil
}

// RollbackTo implements Tx: the rows held since the savepoint go too, and
// the rows kept as the store holds them are read again (batchrows.go).
func (b *batchTx) RollbackTo(ctx context.Context, name string) error {
	b.devs, b.pays, b.loads, b.meta, b.rcpts, b.sets = nil, nil, nil, nil, nil, nil
	if err := b.Tx.RollbackTo(ctx, name); err != nil {
		return err
	}
	if i := b.savepoint(name); i >= 0 {
		m := b.sps[i].at
		b.lines, b.notes, b.entries = b.lines[:m.lines], b.notes[:m.notes], b.entries[:m.entries]
		b.sps = b.sps[:i+1] // the savepoint stays, as in SQL
	}
	return nil
}

// Release implements Tx.
func (b *batchTx) Release(ctx context.Context, name string) error {
	if err := b.Tx.Release(ctx, name); err != nil {
		return err
	}
	if i := b.savepoint(name); i >= 0 {
		b.sps = b.sps[:i]
	}
	return nil
}

// savepoint returns the index of the newest savepoint named name, or -1.
func (b *batchTx) savepoint(name string) int {
	for i := len(b.sps) - 1; i >= 0; i-- {
		if b.sps[i].name == name {
			return i
		}
	}
	return -1
}

func (b *batchTx) flush(ctx context.Context) error {
	if h, ok := b.Tx.(WriteHolder); ok {
		if err := h.FlushWrites(ctx); err != nil {
			return err
		}
	}
	if len(b.entries) > 0 {
		if err := b.Tx.InsertEntries(ctx, b.entries); err != nil {
			return err
		}
	}
	if len(b.lines) > 0 {
		if err := b.Tx.InsertLines(ctx, b.lines); err != nil {
			return err
		}
	}
	if len(b.notes) > 0 {
		return b.Tx.InsertOutbox(ctx, b.notes)
	}
	return nil
}
