package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// batchWorld is a ledger on SQLite with a fixed clock, for
// TestGroupCommitIsSequential.
type batchWorld struct {
	t    *testing.T
	ctx  context.Context
	path string
	keys *ledger.Keys
	now  time.Time
	st   *sqlite.Store
	svc  *ledger.Service
	devs map[string]*ledgertest.Device
	pol  *ledger.Policy // set on every Service opened
}

func newBatchWorld(t *testing.T) *batchWorld {
	ctx := context.Background()
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &batchWorld{t: t, ctx: ctx, path: filepath.Join(t.TempDir(), "setup.db"), keys: keys,
		now: time.Now().Truncate(time.Second), devs: map[string]*ledgertest.Device{}}
	w.open(w.path)
	return w
}

func (w *batchWorld) open(path string) { w.openRetrying(path, false) }

// openRetrying opens path; if retry, every transaction of the Service is
// run twice, the first attempt rolled back, as PostgreSQL's retry of a
// transaction that failed to serialize runs it.
func (w *batchWorld) openRetrying(path string, retry bool) {
	st, err := sqlite.Open(w.ctx, path)
	if err != nil {
		w.t.Fatal(err)
	}
	w.st = st
	var store ledger.Store = st
	if retry {
		store = retryStore{st}
	}
	w.svc = ledger.New(store, w.keys, ledger.Options{Clock: func() time.Time { return w.now }})
	if w.pol != nil {
		if err := w.svc.SetPolicy(*w.pol); err != nil {
			w.t.Fatal(err)
		}
	}
}

// enrol creates account (a merchant's if merchant), deposits and loads
// load onto a new device of it.
func (w *batchWorld) enrol(label, account string, merchant bool, load int64) *ledgertest.Device {
	t, ctx := w.t, w.ctx
	if _, err := w.svc.CreateAccount(ctx, account, merchant); err != nil {
		t.Fatal(err)
	}
	if load > 0 {
		if _, err := w.svc.Deposit(ctx, account, load, "d:"+account); err != nil {
			t.Fatal(err)
		}
	}
	d := ledgertest.NewDevice(label, "EUR")
	d.Time = uint64(w.now.Unix())
	en, err := w.svc.Enrol(ctx, d.Enrolment(account))
	if err != nil {
		t.Fatal(err)
	}
	d.Cert = en.Device
	if load > 0 {
		l, err := w.svc.Reserve(ctx, d.Reserve(uint64(load), 1))
		if err != nil {
			t.Fatal(err)
		}
		d.ApplyLoad(l)
	}
	w.devs[label] = d
	return d
}

func (w *batchWorld) sync(d *ledgertest.Device) *protocol.SyncResult {
	res, err := w.svc.Sync(w.ctx, d.UploadAll())
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// fork closes the setup store and copies it twice.
func (w *batchWorld) fork() (a, b string) {
	if err := w.st.Close(); err != nil {
		w.t.Fatal(err)
	}
	dir := w.t.TempDir()
	a, b = filepath.Join(dir, "batch.db"), filepath.Join(dir, "seq.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		for _, to := range []string{a, b} {
			copyFile(w.t, w.path+suffix, to+suffix)
		}
	}
	return a, b
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// retryStore runs fn of every Update once in a transaction it rolls
// back, then again in one that commits.
type retryStore struct{ *sqlite.Store }

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
func (w *batchWorld) dump(ser serials) string {
	var b strings.Builder
	err := w.st.View(w.ctx, func(tx ledger.Tx) error {
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
	r, err := w.svc.Report(w.ctx)
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
// batch, renewals (a device renewed twice in a batch), a broken SE.
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
			pol := w.svc.Policy()
			pol.Person.PerPayment++
			pol.Merchant.Holding++
			w.pol = &pol
			if err := w.svc.SetPolicy(pol); err != nil {
				w.t.Fatal(err)
			}
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
			if _, err := w.svc.Deposit(w.ctx, "alice", 30, "more"); err != nil {
				w.t.Fatal(err)
			}
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
	for _, sc := range scenarios {
		for _, v := range []int{-1, 0, 1, 1 << 10, -2, 2 << 10} {
			at, retry := v, v == -2 || v == 2<<10
			if retry {
				at >>= 1
			}
			name := sc.name
			if at >= 0 {
				name += fmt.Sprintf("/own failure at %d", min(at, 9))
			}
			if retry {
				name += "/transactions retried"
			}
			t.Run(name, func(t *testing.T) {
				w := newBatchWorld(t)
				ups := sc.setup(w)
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
				pa, pb := w.fork()
				// One after another.
				w.open(pb)
				var seq []string
				seqSer, batchSer := serials{}, serials{}
				for _, up := range ups {
					res, err := w.svc.Sync(w.ctx, up)
					seq = append(seq, answerText(res, err, seqSer))
				}
				want := w.dump(seqSer)
				w.st.Close()
				// In one group commit.
				w.openRetrying(pa, retry)
				defer w.st.Close()
				before := w.svc.Batches()
				res, errs := w.svc.SyncBatchForTest(w.ctx, ups)
				if after := w.svc.Batches(); after.Batches-before.Batches != 1 {
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
				if got := w.dump(batchSer); got != want {
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
			})
		}
	}
}

// failEntriesStore fails every InsertEntries with an error that is not
// the store's: one an upload could fail with on its own.
type failEntriesStore struct{ *sqlite.Store }

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
	w := newBatchWorld(t)
	a, shop := w.enrol("ac-a", "alice", false, 100), w.enrol("ac-s", "shop", true, 0)
	shop.Receive(a.Pay(shop.ID, 30))
	svc := ledger.New(failEntriesStore{w.st}, w.keys, ledger.Options{Clock: func() time.Time { return w.now }})
	res, errs := svc.SyncBatchForTest(w.ctx, []*protocol.SyncUpload{a.UploadAll(), shop.UploadAll()})
	for i := range errs {
		if errs[i] == nil || res[i] != nil {
			t.Errorf("upload %d: result %v, error %v", i, res[i], errs[i])
		}
	}
	r, err := w.svc.Report(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Devices {
		if d.Acked != 0 {
			t.Fatalf("recorded: %+v", d)
		}
	}
	w.st.Close()
}
