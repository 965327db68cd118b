package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/postgres/pgtest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// batchWorld is two ledgers, each over a store of its own, given the
// same requests by the setup of a scenario (same keys, same fixed clock):
// the first then applies a batch of uploads in one group commit, the
// second syncs them one by one (TestGroupCommitIsSequential).
type batchWorld struct {
	t    *testing.T
	ctx  context.Context
	keys *ledger.Keys
	now  time.Time
	sts  [2]ledger.Store
	svcs [2]*ledger.Service
	devs map[string]*ledgertest.Device
}

// batchStores opens a fresh store of the kind name (sqlite, postgres).
func batchStore(t *testing.T, name string) ledger.Store {
	ctx := context.Background()
	if name == "sqlite" {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return pgtest.Open(t)
}

// storeNames are the stores a test runs on: SQLite, and PostgreSQL when
// pgtest.Env names one.
func storeNames() []string {
	if os.Getenv(pgtest.Env) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// sqliteLedger opens a SQLite store and makes a ledger's keys (EUR) in a
// folder of the test's, closed when the test ends.
func sqliteLedger(t *testing.T) (*sqlite.Store, *ledger.Keys) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	return st, keys
}

// newBatchWorld opens the two ledgers on stores of the kind store; if
// retry, every transaction of the first is run twice, the first attempt
// rolled back, as PostgreSQL runs one again that failed to serialize.
func newBatchWorld(t *testing.T, keys *ledger.Keys, store string, retry bool) *batchWorld {
	w := &batchWorld{t: t, ctx: context.Background(), keys: keys, now: time.Now().Truncate(time.Second), devs: map[string]*ledgertest.Device{}}
	for i := range w.sts {
		w.sts[i] = batchStore(t, store)
		st := w.sts[i]
		if retry && i == 0 {
			st = retryStore{st}
		}
		w.svcs[i] = ledger.New(st, keys, ledger.Options{Clock: func() time.Time { return w.now }})
	}
	return w
}

// both runs fn on each ledger and returns the first's answer.
func both[T any](w *batchWorld, fn func(*ledger.Service) (T, error)) T {
	var out T
	for i, svc := range w.svcs {
		v, err := fn(svc)
		if err != nil {
			w.t.Fatal(err)
		}
		if i == 0 {
			out = v
		}
	}
	return out
}

// enrol creates account (a merchant's if merchant), deposits and loads
// load onto a new device of it.
func (w *batchWorld) enrol(label, account string, merchant bool, load int64) *ledgertest.Device {
	ctx := w.ctx
	both(w, func(s *ledger.Service) (*ledger.Account, error) { return s.CreateAccount(ctx, account, merchant) })
	if load > 0 {
		w.deposit(account, load, "d:"+account)
	}
	d := ledgertest.NewDevice(label, "EUR")
	d.Time = uint64(w.now.Unix())
	req := d.Enrolment(account)
	d.Cert = both(w, func(s *ledger.Service) (*protocol.Certificate, error) {
		en, err := s.Enrol(ctx, req)
		if err != nil {
			return nil, err
		}
		return en.Device, nil
	})
	if load > 0 {
		r := d.Reserve(uint64(load), 1)
		d.ApplyLoad(both(w, func(s *ledger.Service) (*protocol.Load, error) { return s.Reserve(ctx, r) }))
	}
	w.devs[label] = d
	return d
}

func (w *batchWorld) deposit(account string, amount int64, ref string) {
	both(w, func(s *ledger.Service) (*ledger.Account, error) { return s.Deposit(w.ctx, account, amount, ref) })
}

func (w *batchWorld) sync(d *ledgertest.Device) *protocol.SyncResult {
	up := d.UploadAll()
	return both(w, func(s *ledger.Service) (*protocol.SyncResult, error) { return s.Sync(w.ctx, up) })
}

func (w *batchWorld) setPolicy(change func(*ledger.Policy)) {
	for _, svc := range w.svcs {
		p := svc.Policy()
		change(&p)
		if err := svc.SetPolicy(p); err != nil {
			w.t.Fatal(err)
		}
	}
}

// retryStore runs fn of every Update once in a transaction it rolls
// back, then again in one that commits.
type retryStore struct{ ledger.Store }

var errRetry = errors.New("roll back the first attempt")

func (r retryStore) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	err := r.Store.Update(ctx, func(tx ledger.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errRetry
	})
	if !errors.Is(err, errRetry) {
		return err
	}
	return r.Store.Update(ctx, fn)
}

// serials numbers certificate serials (random) in the order they are
// first seen: two runs that issue the same certificates in the same order
// number them alike.
type serials map[uint64]int

func (n serials) of(s uint64) uint64 {
	if _, ok := n[s]; !ok {
		n[s] = len(n) + 1
	}
	return uint64(n[s])
}

// dump is everything the ledger holds that settlement writes, with what
// is random (certificate serials, signatures of certificates, row ids)
// left out or renumbered.
func (w *batchWorld) dump(i int, ser serials) string {
	var b strings.Builder
	err := w.sts[i].View(w.ctx, func(tx ledger.Tx) error {
		devs, err := tx.AllDevices(w.ctx)
		if err != nil {
			return err
		}
		for _, d := range devs {
			var c protocol.Certificate
			if err := protocol.Unmarshal(d.Cert, &c); err != nil {
				return err
			}
			c.Serial, c.Sig = ser.of(c.Serial), nil
			d.Cert = nil
			fmt.Fprintf(&b, "device %+v cert %+v\n", d, c)
			es, err := tx.Entries(w.ctx, d.ID, 0, 1<<40)
			if err != nil {
				return err
			}
			for _, e := range es {
				fmt.Fprintf(&b, "  entry %d %x %d\n", e.Counter, e.Hash[:6], e.Kind)
			}
			ps, err := tx.PaymentsOf(w.ctx, d.ID, 0, 1<<40)
			if err != nil {
				return err
			}
			for _, p := range ps {
				fmt.Fprintf(&b, "  payment %+v\n", p)
			}
			ls, err := tx.LoadsAfter(w.ctx, d.ID, 0, 1000)
			if err != nil {
				return err
			}
			for _, l := range ls {
				fmt.Fprintf(&b, "  load %d %d\n", l.Seq, l.Amount)
			}
		}
		accts, err := tx.Accounts(w.ctx)
		if err != nil {
			return err
		}
		for _, a := range accts {
			fmt.Fprintf(&b, "account %+v\n", a)
			ls, err := tx.Lines(w.ctx, a.Name)
			if err != nil {
				return err
			}
			for _, l := range ls {
				fmt.Fprintf(&b, "  line %+v\n", l)
			}
		}
		proofs, err := tx.Proofs(w.ctx)
		if err != nil {
			return err
		}
		for _, p := range proofs {
			fmt.Fprintf(&b, "proof %v %d %x %x\n", p.Device, p.Counter, p.EntryA, p.EntryB)
		}
		notes, err := tx.OutboxRows(w.ctx, ledger.OutboxFilter{}, 100000)
		if err != nil {
			return err
		}
		var ns []string // row ids are random: order by stream
		for _, n := range notes {
			ns = append(ns, fmt.Sprintf("note %s %d %s %s %d %s\n", n.Stream, n.Seq, n.Kind, n.Key, n.CreatedAt, n.Payload))
		}
		slices.Sort(ns)
		b.WriteString(strings.Join(ns, ""))
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	r, err := w.svcs[i].Report(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if !r.ConservationOK {
		w.t.Errorf("money not conserved: %+v", r)
	}
	r.Outbox = nil
	fmt.Fprintf(&b, "report %+v\n", *r)
	return b.String()
}

// answerText is an upload's answer with what is random left out.
func answerText(res *protocol.SyncResult, err error, ser serials) string {
	if err != nil {
		return "error: " + err.Error()
	}
	r := *res
	r.Sig = nil
	var certs []string
	for _, c := range r.Cert {
		c.Serial, c.Sig = ser.of(c.Serial), nil
		certs = append(certs, fmt.Sprintf("%+v", c))
	}
	r.Cert = nil
	return fmt.Sprintf("%+v certs %v", r, certs)
}

// TestGroupCommitIsSequential: uploads applied in one group commit leave
// the ledger exactly as the same uploads synced one after another, and
// get the same answers. The batch reads device rows, log entries and meta
// values from what it holds (batchrows.go) and may be applied twice
// (without savepoints, then with them): every scenario runs as it is and
// with an upload that fails on its own inserted first, in the middle and
// last (which forces the second pass). The scenarios are those where the
// uploads of one batch read what an earlier one wrote: payer and payee in
// one batch (both orders), a device twice (consecutive parts, a resend),
// an equivocation whose evidence is an entry held by the batch, a double
// spend proven from a payee's held entry, revocations in the middle of a
// batch, renewals (a device renewed twice in a batch), a broken SE, a
// payment the batch keeps (read by key) claimed by its payer's receipt
// or expired by its payee's sync entry before a later upload of the
// batch shows it received.
// Compared: every device row, log entry, payment, load, account, line,
// proof, notification and the report, and every answer (certificate
// serials and signatures aside).
func TestGroupCommitIsSequential(t *testing.T) {
	type scenario struct {
		name string
		// setup builds the world and returns the uploads of the batch.
		setup func(w *batchWorld) []*protocol.SyncUpload
	}
	scenarios := []scenario{
		{"payer and payee", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 200)
			shop := w.enrol("sq-s", "shop", true, 0)
			for range 2 {
				p := a.Pay(shop.ID, 40)
				shop.Receive(p)
				a.Confirm(shop.Receipt(p))
				q := b.Pay(a.ID, 25)
				a.Receive(q)
				r := a.Pay(b.ID, 10)
				b.Receive(r)
				b.Confirm(a.Receipt(q))
			}
			b.Pay(shop.ID, 5) // awaiting its claim
			return []*protocol.SyncUpload{shop.UploadAll(), a.UploadAll(), b.UploadAll(), a.UploadAll()}
		}},
		{"a device twice", func(w *batchWorld) []*protocol.SyncUpload {
			a, shop := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-s", "shop", true, 0)
			var ps []*protocol.PaymentBundle
			for range 4 {
				p := a.Pay(shop.ID, 30)
				shop.Receive(p)
				ps = append(ps, p)
			}
			a.Confirm(shop.Receipt(ps[0]))
			return []*protocol.SyncUpload{a.Upload(1, 3), shop.Upload(1, 2), a.Upload(4, a.Counter()), a.UploadAll(),
				shop.UploadAll(), a.Upload(2, 4)}
		}},
		{"equivocation against a held entry", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 100)
			shop := w.enrol("sq-s", "shop", true, 0)
			clone := a.Clone()
			shop.Receive(a.Pay(shop.ID, 50))
			other := clone.Pay(shop.ID, 70) // same counter, another payment
			b.Receive(a.Pay(b.ID, 20))
			p := b.Pay(shop.ID, 10)
			shop.Receive(p)
			return []*protocol.SyncUpload{a.UploadAll(), b.UploadAll(), clone.UploadAll(), shop.UploadAll(),
				func() *protocol.SyncUpload { shop.Receive(other); return shop.UploadAll() }(), a.UploadAll()}
		}},
		{"double spend proven from a payee's held entry", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 0)
			shop := w.enrol("sq-s", "shop", true, 0)
			clone := a.Clone()
			shop.Receive(clone.Pay(shop.ID, 80))
			b.Receive(a.Pay(b.ID, 60))
			b.Receive(a.Pay(b.ID, 10)) // after the double spend
			// The payees first: the payer's upload finds the other
			// payment, shown by the shop's entry this batch holds.
			return []*protocol.SyncUpload{shop.UploadAll(), a.UploadAll(), b.UploadAll(), clone.UploadAll()}
		}},
		{"revocation in the middle", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 100)
			shop := w.enrol("sq-s", "shop", true, 0)
			w.sync(a)
			clone := a.Clone()
			b.Receive(a.Pay(b.ID, 30))
			shop.Receive(clone.Pay(shop.ID, 30))
			w.sync(a)
			// clone's upload proves the equivocation; later a pays on
			b.Receive(a.Pay(b.ID, 40))
			shop.Receive(b.Pay(shop.ID, 50))
			return []*protocol.SyncUpload{b.Upload(1, 2), clone.UploadAll(), a.UploadAll(), shop.UploadAll(), b.UploadAll()}
		}},
		{"renewals", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 100)
			shop := w.enrol("sq-s", "shop", true, 0)
			p := a.Pay(shop.ID, 40)
			shop.Receive(p)
			b.Receive(a.Pay(b.ID, 15))
			w.setPolicy(func(p *ledger.Policy) { p.Person.PerPayment++; p.Merchant.Holding++ })
			w.now = w.now.Add(time.Hour)
			return []*protocol.SyncUpload{a.Upload(1, 2), shop.UploadAll(), a.UploadAll(), b.UploadAll(), a.UploadAll()}
		}},
		{"refunds", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 100)
			shop := w.enrol("sq-s", "shop", true, 0)
			sale := a.Pay(shop.ID, 90)
			shop.Receive(sale)
			w.sync(a)
			w.sync(shop)
			a.Receive(shop.Refund(sale, 40)) // of a sale already settled
			sale2 := b.Pay(shop.ID, 60)
			shop.Receive(sale2)
			b.Receive(shop.Refund(sale2, 60)) // of a sale of this batch
			b.Receive(shop.Refund(sale2, 1))  // beyond it
			return []*protocol.SyncUpload{b.UploadAll(), shop.UploadAll(), a.UploadAll(), b.UploadAll()}
		}},
		{"overspend", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 100), w.enrol("sq-b", "bob", false, 0)
			shop := w.enrol("sq-s", "shop", true, 0)
			w.deposit("alice", 30, "more")
			shop.Receive(a.Pay(shop.ID, 80))
			b.Receive(a.Pay(b.ID, 70)) // beyond the purse: its own log shows it
			b.Receive(a.Pay(b.ID, 5))
			return []*protocol.SyncUpload{shop.UploadAll(), b.UploadAll(), a.Upload(1, 2), a.UploadAll(), b.UploadAll()}
		}},
		{"redeems and sync entries", func(w *batchWorld) []*protocol.SyncUpload {
			a, shop := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-s", "shop", true, 0)
			p := a.Pay(shop.ID, 50)
			shop.Receive(p)
			a.ApplySync(w.sync(a))
			shop.ApplySync(w.sync(shop))
			a.Redeem(100)
			a.Confirm(shop.Receipt(p))
			shop.Receive(a.Pay(shop.ID, 20))
			w.now = w.now.Add(time.Minute)
			return []*protocol.SyncUpload{a.UploadAll(), shop.UploadAll(), a.UploadAll(),
				func() *protocol.SyncUpload { a.Redeem(10); return a.UploadAll() }()}
		}},
		{"claimed by receipt, then received", func(w *batchWorld) []*protocol.SyncUpload {
			// Payments pending before the batch, read by key (prefetched)
			// by their payee's upload: the payer's confirm claims one
			// first (ResolvePayments), the payee's receive then finds it
			// claimed, not pending (it must not credit it twice); the other
			// the other way round.
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 100)
			shop := w.enrol("sq-s", "shop", true, 0)
			p, q := a.Pay(shop.ID, 40), b.Pay(shop.ID, 30)
			w.sync(a)
			w.sync(b)
			shop.Receive(p)
			shop.Receive(q)
			a.Confirm(shop.Receipt(p))
			b.Confirm(shop.Receipt(q))
			return []*protocol.SyncUpload{a.UploadAll(), shop.UploadAll(), b.UploadAll()}
		}},
		{"expired, then received", func(w *batchWorld) []*protocol.SyncUpload {
			// A payment pending before the batch expires by its payee's
			// sync entry (SetPaymentStatus) in one upload; the payee's
			// next upload shows it received after that: read by key, it
			// is expired (its value went back to the payer), not pending.
			a, shop := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-s", "shop", true, 0)
			b := w.enrol("sq-b", "bob", false, 100)
			p := a.Pay(shop.ID, 40)
			w.sync(a)
			shop.Receive(b.Pay(shop.ID, 5))
			w.now = w.now.Add(time.Duration(protocol.ClaimWindow+60) * time.Second)
			shop.ApplySync(w.sync(shop))
			n := shop.Counter()
			shop.Receive(p)
			return []*protocol.SyncUpload{b.UploadAll(), shop.Upload(1, n), shop.UploadAll(), a.UploadAll()}
		}},
		{"broken SE", func(w *batchWorld) []*protocol.SyncUpload {
			a, b := w.enrol("sq-a", "alice", false, 300), w.enrol("sq-b", "bob", false, 100)
			c := w.enrol("sq-c", "carol", false, 0)
			shop := w.enrol("sq-s", "shop", true, 0)
			a2 := a.Clone()
			shop.Receive(a.Pay(shop.ID, 80))
			c.Receive(a2.Pay(c.ID, 80))
			a2.BreakSig(2)
			q := b.Pay(shop.ID, 20)
			shop.Receive(q)
			// After a2's upload proves its SE broken, the same device's
			// other copy uploads its own log, and c its receive from a2.
			return []*protocol.SyncUpload{b.UploadAll(), shop.UploadAll(), a2.UploadAll(), b.UploadAll(), a.UploadAll(), c.UploadAll()}
		}},
	}
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, store := range storeNames() {
		for _, sc := range scenarios {
			for _, v := range []int{-1, 0, 1, 1 << 10, -2, 2 << 10} {
				at, retry := v, v == -2 || v == 2<<10
				if retry {
					at >>= 1
				}
				if store == "postgres" && (at == 0 || at == 1) {
					continue // the machine is shared: first and last suffice
				}
				// Under the race detector (CI), half of the cases: this
				// test runs no two things at once, so the detector finds
				// nothing more in the rest, which go test ./... runs.
				if raceEnabled && v != -1 && v != 1 && v != 2<<10 {
					continue
				}
				name := store + "/" + sc.name
				if at >= 0 {
					name += fmt.Sprintf("/own failure at %d", min(at, 9))
				}
				if retry {
					name += "/transactions retried"
				}
				t.Run(name, func(t *testing.T) { checkBatchIsSequential(t, newBatchWorld(t, keys, store, retry), sc.setup, at) })
			}
		}
	}
}

// checkBatchIsSequential sets w up, inserts an upload failing on its own
// at at (none if negative; beyond the end: last) and compares the batch
// with the uploads synced one by one.
func checkBatchIsSequential(t *testing.T, w *batchWorld, setup func(*batchWorld) []*protocol.SyncUpload, at int) {
	ups := setup(w)
	if at >= 0 {
		// A gap of its own: the ledger does not hold z's first entry.
		z := w.enrol("sq-z", "zed", false, 50)
		z.Pay(w.devs["sq-s"].ID, 5)
		gap := z.Upload(2, 2)
		i := min(at, len(ups))
		if at == 1 {
			i = len(ups) / 2
		}
		ups = append(ups[:i], append([]*protocol.SyncUpload{gap}, ups[i:]...)...)
	}
	// One after another.
	var seq []string
	seqSer, batchSer := serials{}, serials{}
	for _, up := range ups {
		res, err := w.svcs[1].Sync(w.ctx, up)
		seq = append(seq, answerText(res, err, seqSer))
	}
	want := w.dump(1, seqSer)
	// In one group commit.
	svc := w.svcs[0]
	before := svc.Batches()
	res, errs := svc.SyncBatchForTest(w.ctx, ups)
	if after := svc.Batches(); after.Batches-before.Batches != 1 {
		t.Fatalf("batches %+v -> %+v", before, after)
	}
	for i := range ups {
		if os.Getenv("BATCHDIFF_LOG") != "" {
			t.Logf("upload %d: %.160s", i, answerText(res[i], errs[i], serials{}))
		}
		if got := answerText(res[i], errs[i], batchSer); got != seq[i] {
			t.Errorf("upload %d answered\n%s\nin a batch, and\n%s\nalone", i, got, seq[i])
		}
	}
	if got := w.dump(0, batchSer); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d differs:\nbatch: %s\nalone: %s", i, g, w)
			}
		}
	}
}

// failEntriesStore fails every InsertEntries with an error that is not
// the store's: one an upload could fail with on its own.
type failEntriesStore struct{ ledger.Store }

type failEntriesTx struct{ ledger.Tx }

func (failEntriesTx) InsertEntries(context.Context, []ledger.EntryRow) error {
	return offpay.Errorf(offpay.ELIMIT, "entries refused")
}

func (f failEntriesStore) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	return f.Store.Update(ctx, func(tx ledger.Tx) error { return fn(failEntriesTx{tx}) })
}

// TestGroupCommitAnswersOnlyCommitted: an upload is answered with a
// result only if its batch committed. When the end of a batch fails (here
// writing the held log entries, with an error of a kind an upload fails
// with on its own), nothing of it is recorded and every upload of it gets
// the error, none a signed result.
func TestGroupCommitAnswersOnlyCommitted(t *testing.T) {
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newBatchWorld(t, keys, "sqlite", false)
	a, shop := w.enrol("ac-a", "alice", false, 100), w.enrol("ac-s", "shop", true, 0)
	shop.Receive(a.Pay(shop.ID, 30))
	svc := ledger.New(failEntriesStore{w.sts[0]}, w.keys, ledger.Options{Clock: func() time.Time { return w.now }})
	res, errs := svc.SyncBatchForTest(w.ctx, []*protocol.SyncUpload{a.UploadAll(), shop.UploadAll()})
	for i := range errs {
		if errs[i] == nil || res[i] != nil {
			t.Errorf("upload %d: result %v, error %v", i, res[i], errs[i])
		}
	}
	r, err := w.svcs[0].Report(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Devices {
		if d.Acked != 0 {
			t.Fatalf("recorded: %+v", d)
		}
	}
}
