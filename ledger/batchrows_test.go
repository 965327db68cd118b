package ledger_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres/pgtest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
	"pgregory.net/rapid"
)

// TestBatchRows: a group commit answers device, payment (by key) and meta
// reads from the rows it has read and written, and holds log entries
// until it ends (batchrows.go). Whatever sequence of reads, writes
// (UpdateDevice, UpdateDevices, RenewDevice, each given values for every
// field, also those it must not write; PutMeta; InsertEntries;
// InsertPayments, ResolvePayments and SetPaymentStatus, of the payment
// stored under that key or of another; InsertLoad, MoveLoad), savepoints,
// rollbacks
// and changes to returned copies, every read through the batch equals the
// store's own read in the same transaction, entries read through it are
// the store's and those inserted and not rolled back, and the end of the
// batch writes exactly those: on both stores.
func TestBatchRows(t *testing.T) {
	ctx := context.Background()
	stores := map[string]ledger.Store{}
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	stores["sqlite"] = sq
	if os.Getenv(pgtest.Env) != "" {
		stores["postgres"] = pgtest.Open(t)
	}
	const n = 5
	ids := make([]protocol.KeyID, n+1) // the last is never enrolled
	for i := range ids {
		ids[i][0], ids[i][1] = 0xde, byte(i)
	}
	for name, st := range stores {
		t.Run(name, func(t *testing.T) {
			if err := st.Update(ctx, func(tx ledger.Tx) error {
				for i, acc := range []string{"a", "b"} {
					if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: acc, Merchant: i == 1}); err != nil {
						return err
					}
				}
				for i := range n {
					d := &ledger.DeviceRow{ID: ids[i], Account: []string{"a", "b"}[i%2], Merchant: i%2 == 1, Cert: []byte{byte(i)}, CreatedAt: int64(i)}
					if i == 1 { // payments resolved before 50 are older than its status rows (batchranges.go)
						d.SyncTime = 650
					}
					if err := tx.InsertDevice(ctx, d); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			rapid.Check(t, func(rt *rapid.T) { checkBatchRows(ctx, rt, st, ids) })
		})
	}
}

var errUndo = errors.New("undo the transaction")

type devOp struct {
	op      int
	rows    []*ledger.DeviceRow
	key     string
	val     []byte
	entries []ledger.EntryRow
	pays    []ledger.PaymentRow
	other   bool // ResolvePayments, SetPaymentStatus: of another payment under the key
	load    ledger.LoadRow
	rcpt    ledger.ReceiptRow
	check   bool // compare every read after the step (a read through the store writes held device rows)
}

// checkBatchRows draws a sequence, runs it in a transaction it then
// rolls back, and reports a difference after the transaction has ended.
func checkBatchRows(ctx context.Context, rt *rapid.T, st ledger.Store, ids []protocol.KeyID) {
	enrolled := ids[:len(ids)-1]
	row := func(rt *rapid.T) *ledger.DeviceRow {
		d := &ledger.DeviceRow{
			ID: rapid.SampledFrom(enrolled).Draw(rt, "id"), Account: rapid.SampledFrom([]string{"a", "b"}).Draw(rt, "account"),
			Merchant: rapid.Bool().Draw(rt, "merchant"), Cert: rapid.SliceOfN(rapid.Byte(), 1, 4).Draw(rt, "cert"),
			Revoked: rapid.Bool().Draw(rt, "revoked"), Reason: rapid.StringMatching(`[a-z]{0,4}`).Draw(rt, "reason"),
			CreatedAt: rapid.Int64Range(0, 9).Draw(rt, "created"),
		}
		ints := []*int64{&d.RevokedAt, &d.Loaded, &d.Sent, &d.Received, &d.Redeemed, &d.Swept, &d.Drawn, &d.MaxPerPayment, &d.MaxHolding, &d.Forfeit, &d.Restored}
		for i, p := range ints {
			*p = rapid.Int64Range(0, 1000).Draw(rt, fmt.Sprint("int", i))
		}
		uints := []*uint64{&d.Acked, &d.LoadSeq, &d.LoadsIn, &d.MaxSent, &d.SyncTime, &d.CertTime, &d.LastSeen, &d.AssessBy, &d.MaxDays, &d.NotAfter, &d.MaxHops, &d.MaxCount, &d.MaxValue, &d.RestoreBy}
		for i, p := range uints {
			*p = rapid.Uint64Range(0, 1000).Draw(rt, fmt.Sprint("uint", i))
		}
		d.LastHash[0] = rapid.Byte().Draw(rt, "hash")
		return d
	}
	var payKeys []ledger.PayKey // 1..3 of the first two devices; 1 of the first stored, 1 of the second archived
	for _, id := range enrolled[:2] {
		for c := range uint64(3) {
			payKeys = append(payKeys, ledger.PayKey{Payer: id, Counter: c + 1})
		}
	}
	payment := func(rt *rapid.T, k ledger.PayKey) ledger.PaymentRow {
		p := ledger.PaymentRow{Payer: k.Payer, Counter: k.Counter, Payee: rapid.SampledFrom(enrolled).Draw(rt, "payee"),
			Amount: rapid.Int64Range(1, 100).Draw(rt, "amount"), Status: uint8(rapid.IntRange(1, 4).Draw(rt, "status")),
			SrcDevice: rapid.SampledFrom(enrolled).Draw(rt, "src"), SrcCounter: rapid.Uint64Range(1, 9).Draw(rt, "src counter"),
			CreatedAt: rapid.Int64Range(0, 99).Draw(rt, "created"), Time: rapid.Uint64Range(0, 99).Draw(rt, "time"),
			Resolved: rapid.Int64Range(0, 99).Draw(rt, "resolved")}
		p.ID[0], p.ID[1] = byte(k.Counter), rapid.Byte().Draw(rt, "pid")
		if rapid.Bool().Draw(rt, "refund") {
			p.Sale[0] = 1
		}
		return p
	}
	var loadKeys []ledger.LoadKey // 1..3 of the first two devices; 1 of the first stored
	for _, k := range payKeys {
		loadKeys = append(loadKeys, ledger.LoadKey{Device: k.Payer, Seq: k.Counter})
	}
	// Every draw comes before the transaction: a draw can end the check
	// (rapid, while shrinking) and must not leave it open.
	prefetch := rapid.Bool().Draw(rt, "prefetch")
	prefetchPays := rapid.IntRange(0, len(payKeys)).Draw(rt, "prefetched payments")
	prefetchLoads := rapid.IntRange(0, len(loadKeys)).Draw(rt, "prefetched loads")
	counter := uint64(rapid.IntRange(3, 5).Draw(rt, "first counter")) // 1..3 of the first device are stored
	hold := rapid.Bool().Draw(rt, "hold device writes")
	ranges := rapid.Bool().Draw(rt, "prefetch ranges")
	var ops []devOp
	for range rapid.IntRange(1, 12).Draw(rt, "steps") {
		// Savepoints and rollbacks twice as often: a rollback after a
		// write is where kept rows go stale.
		o := devOp{op: rapid.SampledFrom([]int{0, 1, 2, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}).Draw(rt, "op"),
			check: rapid.IntRange(0, 2).Draw(rt, "check") > 0}
		switch o.op {
		case 0, 2:
			o.rows = []*ledger.DeviceRow{row(rt)}
		case 1:
			o.rows = []*ledger.DeviceRow{row(rt), row(rt)}
		case 7:
			o.key = rapid.SampledFrom([]string{"x", "y"}).Draw(rt, "key")
			o.val = rapid.SliceOfN(rapid.Byte(), 0, 3).Draw(rt, "val")
		case 8:
			for range rapid.IntRange(1, 3).Draw(rt, "entries") {
				counter++
				o.entries = append(o.entries, ledger.EntryRow{Device: rapid.SampledFrom(enrolled).Draw(rt, "entry device"),
					Counter: counter, Kind: 1, Data: []byte{byte(counter)}})
			}
		case 9, 10, 11: // the keys not stored yet are left out when the op runs (9)
			for _, k := range rapid.SliceOfNDistinct(rapid.SampledFrom(payKeys), 1, 2, func(k ledger.PayKey) ledger.PayKey { return k }).Draw(rt, "payment keys") {
				o.pays = append(o.pays, payment(rt, k))
			}
			o.other = rapid.Bool().Draw(rt, "other payment")
		case 13, 14: // a load under a key not stored yet (13), or one moved there (14) from a stored one
			k := rapid.SampledFrom(loadKeys).Draw(rt, "load key")
			o.load = ledger.LoadRow{Device: k.Device, Seq: k.Seq, Amount: rapid.Int64Range(1, 99).Draw(rt, "load amount"),
				Data: rapid.SliceOfN(rapid.Byte(), 1, 4).Draw(rt, "load data"), CreatedAt: rapid.Int64Range(0, 9).Draw(rt, "load created")}
		case 15: // a receipt under a key not stored yet (left out when the op runs)
			k := rapid.SampledFrom(payKeys).Draw(rt, "receipt key")
			o.rcpt = ledger.ReceiptRow{Payee: k.Payer, Counter: k.Counter, SrcDevice: rapid.SampledFrom(enrolled).Draw(rt, "receipt src"),
				SrcCounter: rapid.Uint64Range(1, 9).Draw(rt, "receipt src counter")}
			o.rcpt.PID[0] = rapid.Byte().Draw(rt, "receipt pid")
		}
		ops = append(ops, o)
	}
	var diff error
	err := st.Update(ctx, func(tx ledger.Tx) error {
		b := ledger.BatchTxForTest(tx)
		// Stored before: entries 1..3 of the first device.
		var held []ledger.EntryRow // the model: inserted through b, not rolled back
		var marks []int
		if err := tx.InsertPayments(ctx, []ledger.PaymentRow{{Payer: ids[0], Counter: 1, ID: protocol.Hash{1}, Payee: ids[1], Amount: 5,
			Status: 1, SrcDevice: ids[1], SrcCounter: 2, CreatedAt: 1, Time: 1}}); err != nil {
			return err
		}
		if err := tx.InsertLoad(ctx, &ledger.LoadRow{Device: ids[0], Seq: 1, RequestID: protocol.Nonce{1}, Amount: 7, Data: []byte{7}, CreatedAt: 1}); err != nil {
			return err
		}
		if err := tx.InsertReceipts(ctx, []ledger.ReceiptRow{{Payee: ids[0], Counter: 2, PID: protocol.Hash{2}, SrcDevice: ids[1], SrcCounter: 4}}); err != nil {
			return err
		}
		// And 1 of the second, settled and archived: the payments
		// table's writes (ResolvePayments, SetPaymentStatus) leave it as
		// it is, and so must the batch's reads of it.
		if err := tx.InsertPayments(ctx, []ledger.PaymentRow{{Payer: ids[1], Counter: 1, ID: protocol.Hash{1, 1}, Payee: ids[0], Amount: 6,
			Status: protocol.StatusSettled, SrcDevice: ids[0], SrcCounter: 2, CreatedAt: 1, Time: 1, Resolved: 2}}); err != nil {
			return err
		}
		if moved, _, err := tx.ArchiveStep(ctx, ledger.ArchivePayments, 1e18, nil, 100); err != nil || moved != 1 {
			return fmt.Errorf("archiving: %d moved, %v", moved, err)
		}
		// A payment no key of the batch names: ranges over it are read
		// from the store.
		if err := tx.InsertPayments(ctx, []ledger.PaymentRow{{Payer: ids[0], Counter: 5, ID: protocol.Hash{5}, Payee: ids[1], Amount: 5,
			Status: protocol.StatusSettled, SrcDevice: ids[1], SrcCounter: 3, CreatedAt: 1, Time: 1, Resolved: 70}}); err != nil {
			return err
		}
		if err := tx.InsertEntries(ctx, []ledger.EntryRow{{Device: ids[0], Counter: 1, Kind: 1, Data: []byte{1}},
			{Device: ids[0], Counter: 2, Kind: 1, Data: []byte{2}}, {Device: ids[0], Counter: 3, Kind: 1, Data: []byte{3}}}); err != nil {
			return err
		}
		// The model of the device rows: what the store must hold after
		// every step, held writes or not (models[i] as savepoint i+1 saw it).
		stored, err := tx.Devices(ctx, ids)
		if err != nil {
			return err
		}
		model := map[protocol.KeyID]ledger.DeviceRow{}
		for id, d := range stored {
			model[id] = *d
		}
		var models []map[protocol.KeyID]ledger.DeviceRow
		// And of the payments under payKeys (the archived one is left
		// alone by the payments table's writes).
		storedP, err := tx.Payments(ctx, payKeys)
		if err != nil {
			return err
		}
		payModel := map[ledger.PayKey]ledger.PaymentRow{}
		for k, p := range storedP {
			payModel[k] = *p
		}
		archived := ledger.PayKey{Payer: ids[1], Counter: 1}
		var payModels []map[ledger.PayKey]ledger.PaymentRow
		resolve := func(p ledger.PaymentRow) {
			if m, ok := payModel[p.Key()]; ok && p.Key() != archived && m.ID == p.ID {
				m.Status, m.Resolved = p.Status, p.Resolved
				payModel[p.Key()] = m
			}
		}
		samePayments := func(what string, r interface {
			Payments(context.Context, []ledger.PayKey) (map[ledger.PayKey]*ledger.PaymentRow, error)
		}) error {
			got, err := r.Payments(ctx, payKeys)
			if err != nil {
				return err
			}
			for _, k := range payKeys {
				if want, ok := payModel[k]; (got[k] == nil) == ok || (ok && !reflect.DeepEqual(*got[k], want)) {
					return fmt.Errorf("after %s: payment %x/%d\nread %+v\nmodel %+v", what, k.Payer[:2], k.Counter, got[k], want)
				}
			}
			return nil
		}
		write := func(d *ledger.DeviceRow, renew bool) {
			m := model[d.ID]
			ledger.DeviceWritesForTest(&m, d, renew)
			model[d.ID] = m
		}
		// Through the batch, only the enrolled: a device not found is
		// read from the store each time, which writes held rows first.
		sameDevices := func(what string, r interface {
			Devices(context.Context, []protocol.KeyID) (map[protocol.KeyID]*ledger.DeviceRow, error)
		}, ids []protocol.KeyID) error {
			got, err := r.Devices(ctx, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if want, ok := model[id]; (got[id] == nil) == ok || (ok && !reflect.DeepEqual(*got[id], want)) {
					return fmt.Errorf("after %s: device %x\nread %+v\nmodel %+v", what, id[:2], got[id], want)
				}
			}
			return nil
		}
		entries := func(r interface {
			Entries(context.Context, protocol.KeyID, uint64, uint64) ([]ledger.EntryRow, error)
		}, model []ledger.EntryRow) (map[protocol.KeyID][]ledger.EntryRow, error) {
			out := map[protocol.KeyID][]ledger.EntryRow{}
			for _, id := range ids {
				es, err := r.Entries(ctx, id, 2, 50)
				if err != nil {
					return nil, err
				}
				for _, e := range model {
					if e.Device == id && e.Counter >= 2 {
						es = append(es, e)
					}
				}
				slices.SortFunc(es, func(a, b ledger.EntryRow) int { return cmp.Compare(a.Counter, b.Counter) })
				out[id] = es
			}
			return out, nil
		}
		same := func(what string) error {
			for _, k := range []string{"x", "y"} {
				want, err := tx.Meta(ctx, k)
				if err != nil {
					return err
				}
				got, err := b.Meta(ctx, k)
				if err != nil {
					return err
				}
				if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
					return fmt.Errorf("after %s: meta %s: batch %v, store %v", what, k, got, want)
				}
			}
			want, err := entries(tx, held)
			if err != nil {
				return err
			}
			got, err := entries(b, nil)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("after %s: entries\nbatch %v\nstore and held %v", what, got, want)
			}
			// Ranges first: reading payKeys through the batch keeps them all.
			if err := sameRanges(ctx, what, b, tx, ids[:2]); err != nil {
				return err
			}
			wantP, err := tx.Payments(ctx, payKeys)
			if err != nil {
				return err
			}
			gotP, err := b.Payments(ctx, payKeys)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(gotP, wantP) {
				rows := func(m map[ledger.PayKey]*ledger.PaymentRow) (out []ledger.PaymentRow) {
					for _, k := range payKeys {
						if p := m[k]; p != nil {
							out = append(out, *p)
						}
					}
					return out
				}
				return fmt.Errorf("after %s: payments\nbatch %+v\nstore %+v", what, rows(gotP), rows(wantP))
			}
			for _, k := range loadKeys {
				want, err := tx.Load(ctx, k.Device, k.Seq)
				if err != nil {
					return err
				}
				got, err := b.Load(ctx, k.Device, k.Seq)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(got, want) {
					return fmt.Errorf("after %s: load %x/%d\nbatch %+v\nstore %+v", what, k.Device[:2], k.Seq, got, want)
				}
				if got != nil { // a copy: changing it changes nothing kept
					got.Data[0]++
					got.Amount++
				}
			}
			if err := sameDevices(what+", through the batch", b, enrolled); err != nil {
				return err
			}
			if err := samePayments(what+", in the store", tx); err != nil {
				return err
			}
			return sameDevices(what+", in the store", tx, ids)
		}
		if prefetch {
			if _, err := b.Devices(ctx, ids); err != nil {
				return err
			}
			if err := ledger.PrefetchForTest(ctx, b, nil, payKeys[:prefetchPays], loadKeys[:prefetchLoads]); err != nil {
				return err
			}
			if ranges {
				if err := ledger.PrefetchRangesForTest(ctx, b, payKeys, ids[:2]); err != nil {
					return err
				}
			}
		}
		if hold && !ledger.HoldDevicesForTest(b) {
			return errors.New("the store cannot hold device writes")
		}
		savepoints := 0
		for step, o := range ops {
			var err error
			switch o.op {
			case 0:
				err = b.UpdateDevice(ctx, o.rows[0])
				write(o.rows[0], false)
			case 1:
				err = b.UpdateDevices(ctx, o.rows)
				if o.rows[0].ID == o.rows[1].ID && !hold {
					o.rows = o.rows[1:] // which of two rows an UPDATE ... FROM takes is the database's choice
					if err == nil {
						err = b.UpdateDevice(ctx, o.rows[0])
					}
				}
				for _, d := range o.rows {
					write(d, false)
				}
			case 2:
				err = b.RenewDevice(ctx, o.rows[0])
				write(o.rows[0], true)
			case 3: // change a copy read from the batch without writing it
				var m map[protocol.KeyID]*ledger.DeviceRow
				if m, err = b.Devices(ctx, ids[:1]); err == nil {
					m[ids[0]].Sent += 7
					m[ids[0]].LastHash[1]++
				}
			case 4:
				savepoints++
				err = b.Savepoint(ctx, fmt.Sprint("sp", savepoints))
				marks = append(marks, len(held))
				models = append(models, maps.Clone(model))
				payModels = append(payModels, maps.Clone(payModel))
			case 5:
				if savepoints > 0 {
					err = b.RollbackTo(ctx, fmt.Sprint("sp", savepoints))
					held = held[:marks[len(marks)-1]]
					model = maps.Clone(models[len(models)-1])
					payModel = maps.Clone(payModels[len(payModels)-1])
				}
			case 6:
				if savepoints > 0 {
					err = b.Release(ctx, fmt.Sprint("sp", savepoints))
					savepoints--
					marks = marks[:len(marks)-1]
					models = models[:len(models)-1]
					payModels = payModels[:len(payModels)-1]
				}
			case 7:
				err = b.PutMeta(ctx, o.key, o.val)
			case 8:
				err = b.InsertEntries(ctx, o.entries)
				held = append(held, o.entries...)
			case 9: // (the model says which are stored: a read of the store would write held rows)
				var fresh []ledger.PaymentRow
				for _, p := range o.pays {
					if _, ok := payModel[p.Key()]; !ok {
						fresh = append(fresh, p)
						payModel[p.Key()] = p
					}
				}
				err = b.InsertPayments(ctx, fresh)
			case 10, 11:
				var ps []ledger.PaymentRow
				for _, p := range o.pays {
					if s, ok := payModel[p.Key()]; ok && !o.other {
						p.ID = s.ID
					}
					ps = append(ps, p)
				}
				if o.op == 10 {
					err = b.ResolvePayments(ctx, ps)
				} else {
					ps = ps[:1]
					err = b.SetPaymentStatus(ctx, ps[0].Key(), ps[0].ID, ps[0].Status, ps[0].Resolved)
				}
				for _, p := range ps {
					resolve(p)
				}
			case 13, 14:
				if o.op == 14 {
					o.load.Device = ids[0] // moved from the first device's load 1
				}
				var at *ledger.LoadRow
				if at, err = tx.Load(ctx, o.load.Device, o.load.Seq); err == nil && at == nil {
					if o.op == 13 {
						o.load.RequestID[0], o.load.RequestID[1] = byte(step), 0xaa // unique per device
						err = b.InsertLoad(ctx, &o.load)
					} else {
						err = b.MoveLoad(ctx, 1, &ledger.LoadRow{Device: o.load.Device, Seq: o.load.Seq, Data: o.load.Data})
					}
				}
			case 15:
				var at map[ledger.PayKey]*ledger.ReceiptRow
				if at, err = tx.Receipts(ctx, []ledger.PayKey{o.rcpt.Key()}); err == nil && len(at) == 0 {
					err = b.InsertReceipts(ctx, []ledger.ReceiptRow{o.rcpt})
				}
			case 12: // change a copy read from the batch without writing it
				var m map[ledger.PayKey]*ledger.PaymentRow
				if m, err = b.Payments(ctx, payKeys); err == nil {
					for _, p := range m {
						p.Status++
						p.Amount += 3
					}
				}
			}
			if err != nil {
				return err
			}
			if !o.check {
				if diff = sameDevices(fmt.Sprintf("step %d (op %d), through the batch", step, o.op), b, enrolled); diff != nil {
					return errUndo
				}
				continue
			}
			if diff = samePayments(fmt.Sprintf("step %d (op %d), through the batch", step, o.op), b); diff != nil {
				return errUndo
			}
			if diff = same(fmt.Sprintf("step %d (op %d)", step, o.op)); diff != nil {
				return errUndo
			}
		}
		want, err := entries(b, nil)
		if err != nil {
			return err
		}
		if err := ledger.FlushBatchForTest(ctx, b); err != nil {
			return err
		}
		got, err := entries(tx, nil)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			diff = fmt.Errorf("the batch wrote entries\n%v\nwhile it read\n%v", got, want)
		} else if diff = sameDevices("the end of the batch, in the store", tx, ids); diff == nil {
			diff = samePayments("the end of the batch, in the store", tx)
		}
		return errUndo
	})
	if diff != nil {
		rt.Fatal(diff)
	}
	if !errors.Is(err, errUndo) {
		rt.Fatal(err)
	}
}

// sameRanges compares the range reads of payments and receipts of payers
// through the batch b and in the store (batchranges.go).
func sameRanges(ctx context.Context, what string, b, tx ledger.Tx, payers []protocol.KeyID) error {
	differ := func(read string, got, want any) error {
		if reflect.DeepEqual(got, want) {
			return nil
		}
		return fmt.Errorf("after %s: %s\nbatch %+v\nstore %+v", what, read, got, want)
	}
	for _, p := range payers {
		for _, r := range [][2]uint64{{1, 3}, {2, 3}, {1, 1}, {0, 5}, {3, 2}} {
			got, err := b.PaymentsOf(ctx, p, r[0], r[1])
			if err != nil {
				return err
			}
			want, err := tx.PaymentsOf(ctx, p, r[0], r[1])
			if err != nil {
				return err
			}
			if err := differ(fmt.Sprintf("PaymentsOf(%x, %d, %d)", p[:2], r[0], r[1]), got, want); err != nil {
				return err
			}
			gotR, err := b.ReceiptsOf(ctx, p, r[0], r[1])
			if err != nil {
				return err
			}
			wantR, err := tx.ReceiptsOf(ctx, p, r[0], r[1])
			if err != nil {
				return err
			}
			if err := differ(fmt.Sprintf("ReceiptsOf(%x, %d, %d)", p[:2], r[0], r[1]), gotR, wantR); err != nil {
				return err
			}
		}
		for _, below := range []uint64{2, 1 << 62} {
			got, err := b.PendingOf(ctx, p, below)
			if err != nil {
				return err
			}
			want, err := tx.PendingOf(ctx, p, below)
			if err != nil {
				return err
			}
			if err := differ(fmt.Sprintf("PendingOf(%x, %d)", p[:2], below), got, want); err != nil {
				return err
			}
		}
		for _, since := range []int64{0, 20, 50, 60} {
			for _, skip := range [][2]uint64{{1, 0}, {2, 2}, {1, 3}} {
				got, err := b.ResolvedOf(ctx, p, since, skip[0], skip[1])
				if err != nil {
					return err
				}
				want, err := tx.ResolvedOf(ctx, p, since, skip[0], skip[1])
				if err != nil {
					return err
				}
				if err := differ(fmt.Sprintf("ResolvedOf(%x, %d, %d, %d)", p[:2], since, skip[0], skip[1]), got, want); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
