package ledger_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
	"pgregory.net/rapid"
)

// TestBatchDeviceRows: a group commit answers device reads from the rows
// it has read and written (batchdevices.go). Whatever sequence of reads,
// writes (UpdateDevice, UpdateDevices, RenewDevice, each given values for
// every field, also those it must not write), savepoints, rollbacks and
// changes to returned copies, every read through the batch equals the
// store's own read in the same transaction, on both stores.
func TestBatchDeviceRows(t *testing.T) {
	ctx := context.Background()
	stores := map[string]ledger.Store{}
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	stores["sqlite"] = sq
	if url := os.Getenv("OFFPAY_TEST_POSTGRES"); url != "" {
		b := make([]byte, 6)
		rand.Read(b)
		schema := "offpay_test_" + hex.EncodeToString(b)
		pg, err := postgres.Open(ctx, url, schema)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			pg.Close()
			if c, err := pgx.Connect(ctx, url); err == nil {
				c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
				c.Close(ctx)
			}
		}()
		stores["postgres"] = pg
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
					if err := tx.InsertDevice(ctx, d); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			rapid.Check(t, func(rt *rapid.T) { checkBatchDevices(ctx, rt, st, ids) })
		})
	}
}

var errUndo = errors.New("undo the transaction")

type devOp struct {
	op   int
	rows []*ledger.DeviceRow
}

// checkBatchDevices draws a sequence, runs it in a transaction it then
// rolls back, and reports a difference after the transaction has ended.
func checkBatchDevices(ctx context.Context, rt *rapid.T, st ledger.Store, ids []protocol.KeyID) {
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
	prefetch := rapid.Bool().Draw(rt, "prefetch")
	var ops []devOp
	for range rapid.IntRange(1, 12).Draw(rt, "steps") {
		o := devOp{op: rapid.IntRange(0, 6).Draw(rt, "op")}
		switch o.op {
		case 0, 2:
			o.rows = []*ledger.DeviceRow{row(rt)}
		case 1:
			o.rows = []*ledger.DeviceRow{row(rt), row(rt)}
		}
		ops = append(ops, o)
	}
	var diff error
	err := st.Update(ctx, func(tx ledger.Tx) error {
		b := ledger.BatchTxForTest(tx)
		same := func(what string) error {
			want, err := tx.Devices(ctx, ids)
			if err != nil {
				return err
			}
			got, err := b.Devices(ctx, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if !reflect.DeepEqual(got[id], want[id]) {
					return fmt.Errorf("after %s: device %x\nbatch %+v\nstore %+v", what, id[:2], got[id], want[id])
				}
			}
			return nil
		}
		if prefetch {
			if _, err := b.Devices(ctx, ids); err != nil {
				return err
			}
		}
		savepoints := 0
		for step, o := range ops {
			var err error
			switch o.op {
			case 0:
				err = b.UpdateDevice(ctx, o.rows[0])
			case 1:
				err = b.UpdateDevices(ctx, o.rows)
			case 2:
				err = b.RenewDevice(ctx, o.rows[0])
			case 3: // change a copy read from the batch without writing it
				var m map[protocol.KeyID]*ledger.DeviceRow
				if m, err = b.Devices(ctx, ids[:1]); err == nil {
					m[ids[0]].Sent += 7
					m[ids[0]].LastHash[1]++
				}
			case 4:
				savepoints++
				err = b.Savepoint(ctx, fmt.Sprint("sp", savepoints))
			case 5:
				if savepoints > 0 {
					err = b.RollbackTo(ctx, fmt.Sprint("sp", savepoints))
				}
			case 6:
				if savepoints > 0 {
					err = b.Release(ctx, fmt.Sprint("sp", savepoints))
					savepoints--
				}
			}
			if err != nil {
				return err
			}
			if diff = same(fmt.Sprintf("step %d (op %d)", step, o.op)); diff != nil {
				break
			}
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
