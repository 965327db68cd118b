package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

const deviceCols = `id, account, merchant, cert, revoked, revoked_at, reason, acked, last_hash, loaded, sent, received, redeemed, swept, load_seq, loads_in, max_sent, created_at, sync_time, cert_time, max_per_payment, max_holding, last_seen, assess_by, max_days, not_after, forfeit, max_hops, max_count, max_value, restore_by, restored, drawn`

const deviceNCols = 33

func scanDevice(sc interface{ Scan(...any) error }) (*ledger.DeviceRow, error) {
	d := new(ledger.DeviceRow)
	var idb, lh []byte
	var acked, loadSeq, loadsIn, maxSent, syncTime, certTime, lastSeen, assessBy, maxDays, notAfter, maxHops, maxCount, maxValue, restoreBy int64
	err := sc.Scan(&idb, &d.Account, &d.Merchant, &d.Cert, &d.Revoked, &d.RevokedAt, &d.Reason, &acked, &lh,
		&d.Loaded, &d.Sent, &d.Received, &d.Redeemed, &d.Swept, &loadSeq, &loadsIn, &maxSent, &d.CreatedAt, &syncTime,
		&certTime, &d.MaxPerPayment, &d.MaxHolding, &lastSeen, &assessBy, &maxDays, &notAfter, &d.Forfeit, &maxHops, &maxCount, &maxValue, &restoreBy, &d.Restored, &d.Drawn)
	d.ID, d.LastHash = keyID(idb), hash(lh)
	d.Acked, d.LoadSeq, d.LoadsIn, d.MaxSent, d.SyncTime = uint64(acked), uint64(loadSeq), uint64(loadsIn), uint64(maxSent), uint64(syncTime)
	d.CertTime, d.LastSeen, d.AssessBy, d.MaxDays, d.NotAfter = uint64(certTime), uint64(lastSeen), uint64(assessBy), uint64(maxDays), uint64(notAfter)
	d.MaxHops, d.MaxCount, d.MaxValue, d.RestoreBy = uint64(maxHops), uint64(maxCount), uint64(maxValue), uint64(restoreBy)
	return d, err
}

func (t *Tx) devices(ctx context.Context, q string, args ...any) ([]ledger.DeviceRow, error) {
	rows, err := t.query(ctx, `SELECT `+deviceCols+` FROM devices `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.DeviceRow
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// Devices implements ledger.Tx.
func (t *Tx) Devices(ctx context.Context, ids []protocol.KeyID) (map[protocol.KeyID]*ledger.DeviceRow, error) {
	out := map[protocol.KeyID]*ledger.DeviceRow{}
	seen := map[protocol.KeyID]bool{}
	var uniq []protocol.KeyID
	for _, k := range ids {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	const per = 1000
	for lo := 0; lo < len(uniq); lo += per {
		chunk := uniq[lo:min(lo+per, len(uniq))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = id(k)
		}
		in, args := t.inList(args, 1)
		ds, err := t.devices(ctx, `WHERE id IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for i := range ds {
			out[ds[i].ID] = &ds[i]
		}
	}
	return out, nil
}

// DevicesOf implements ledger.Tx.
func (t *Tx) DevicesOf(ctx context.Context, account string) ([]ledger.DeviceRow, error) {
	return t.devices(ctx, `WHERE account = $1 ORDER BY id`, account)
}

// DevicesToRestore implements ledger.Tx.
func (t *Tx) DevicesToRestore(ctx context.Context, now int64, limit int) ([]ledger.DeviceRow, error) {
	return t.devices(ctx, `WHERE restore_by > 0 AND restore_by <= $1 ORDER BY restore_by, id LIMIT $2`, now, limit)
}

// DevicesToAssess implements ledger.Tx.
func (t *Tx) DevicesToAssess(ctx context.Context, now int64, limit int) ([]ledger.DeviceRow, error) {
	return t.devices(ctx, `WHERE assess_by > 0 AND assess_by <= $1 AND NOT revoked ORDER BY assess_by, id LIMIT $2`, now, limit)
}

// AllDevices implements ledger.Tx.
func (t *Tx) AllDevices(ctx context.Context) ([]ledger.DeviceRow, error) {
	return t.devices(ctx, `ORDER BY id`)
}

func deviceArgs(d *ledger.DeviceRow) []any {
	return []any{id(d.ID), d.Account, d.Merchant, d.Cert, d.Revoked, d.RevokedAt, d.Reason, int64(d.Acked), d.LastHash[:],
		d.Loaded, d.Sent, d.Received, d.Redeemed, d.Swept, int64(d.LoadSeq), int64(d.LoadsIn), int64(d.MaxSent), d.CreatedAt, int64(d.SyncTime),
		int64(d.CertTime), d.MaxPerPayment, d.MaxHolding, int64(d.LastSeen), int64(d.AssessBy), int64(d.MaxDays), int64(d.NotAfter), d.Forfeit, int64(d.MaxHops), int64(d.MaxCount), int64(d.MaxValue), int64(d.RestoreBy), d.Restored, d.Drawn}
}

// InsertDevice implements ledger.Tx.
func (t *Tx) InsertDevice(ctx context.Context, d *ledger.DeviceRow) error {
	_, err := t.exec(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES `+t.values(1, deviceNCols), deviceArgs(d)...)
	return err
}

// RenewDevice implements ledger.Tx.
func (t *Tx) RenewDevice(ctx context.Context, d *ledger.DeviceRow) error {
	_, err := t.exec(ctx, `UPDATE devices SET cert = $2, cert_time = $3, max_per_payment = $4, max_holding = $5, max_days = $6, not_after = $7, max_hops = $8, max_count = $9, max_value = $10 WHERE id = $1`,
		id(d.ID), d.Cert, int64(d.CertTime), d.MaxPerPayment, d.MaxHolding, int64(d.MaxDays), int64(d.NotAfter), int64(d.MaxHops),
		int64(d.MaxCount), int64(d.MaxValue))
	return err
}

// UpdateDevice implements ledger.Tx. Identity and account never change;
// the certificate only through RenewDevice.
func (t *Tx) UpdateDevice(ctx context.Context, d *ledger.DeviceRow) error {
	if t.holdDevices(d) {
		return nil
	}
	_, err := t.exec(ctx, `UPDATE devices SET revoked = $2, revoked_at = $3, reason = $4, acked = $5, last_hash = $6,
		loaded = $7, sent = $8, received = $9, redeemed = $10, swept = $11, load_seq = $12, loads_in = $13, max_sent = $14,
		sync_time = $15, last_seen = $16, assess_by = $17, forfeit = $18, restore_by = $19, restored = $20, drawn = $21 WHERE id = $1`, id(d.ID), d.Revoked, d.RevokedAt, d.Reason, int64(d.Acked), d.LastHash[:],
		d.Loaded, d.Sent, d.Received, d.Redeemed, d.Swept, int64(d.LoadSeq), int64(d.LoadsIn), int64(d.MaxSent), int64(d.SyncTime),
		int64(d.LastSeen), int64(d.AssessBy), d.Forfeit, int64(d.RestoreBy), d.Restored, d.Drawn)
	return err
}

// deviceTypes are the PostgreSQL types of the columns UpdateDevices sets,
// in order: parameters in a VALUES list need them spelled out.
var deviceTypes = []string{"bytea", "boolean", "bigint", "text", "bigint", "bytea", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint"}

// UpdateDevices implements ledger.Tx: one UPDATE ... FROM (VALUES ...)
// per chunk instead of a round trip per device.
func (t *Tx) UpdateDevices(ctx context.Context, ds []*ledger.DeviceRow) error {
	if t.holdDevices(ds...) {
		return nil
	}
	return t.updateDevices(ctx, ds)
}

func (t *Tx) updateDevices(ctx context.Context, ds []*ledger.DeviceRow) error {
	cols := []string{"revoked", "revoked_at", "reason", "acked", "last_hash", "loaded", "sent", "received", "redeemed", "swept", "load_seq", "loads_in", "max_sent", "sync_time", "last_seen", "assess_by", "forfeit", "restore_by", "restored", "drawn"}
	var set strings.Builder
	for i, c := range cols {
		if i > 0 {
			set.WriteString(", ")
		}
		fmt.Fprintf(&set, "%s = v.column%d", c, i+2)
	}
	for lo, hi := range t.pieces(len(ds), 500) {
		chunk := ds[lo:hi]
		var vals strings.Builder
		args := make([]any, 0, len(chunk)*len(deviceTypes))
		for i, d := range chunk {
			if i > 0 {
				vals.WriteByte(',')
			}
			vals.WriteByte('(')
			for j, typ := range deviceTypes {
				if j > 0 {
					vals.WriteByte(',')
				}
				if t.d == SQLite {
					vals.WriteByte('?')
				} else {
					fmt.Fprintf(&vals, "$%d::%s", len(args)+j+1, typ)
				}
			}
			vals.WriteByte(')')
			args = append(args, id(d.ID), d.Revoked, d.RevokedAt, d.Reason, int64(d.Acked), d.LastHash[:],
				d.Loaded, d.Sent, d.Received, d.Redeemed, d.Swept, int64(d.LoadSeq), int64(d.LoadsIn), int64(d.MaxSent), int64(d.SyncTime),
				int64(d.LastSeen), int64(d.AssessBy), d.Forfeit, int64(d.RestoreBy), d.Restored, d.Drawn)
		}
		q := `UPDATE devices SET ` + set.String() + ` FROM (VALUES ` + vals.String() + `) AS v WHERE devices.id = v.column1`
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// Load implements ledger.Tx.
func (t *Tx) Load(ctx context.Context, device protocol.KeyID, seq uint64) (*ledger.LoadRow, error) {
	ls, err := t.loads(ctx, `WHERE device = $1 AND seq = $2`, id(device), int64(seq))
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	return &ls[0], nil
}

// Loads implements ledger.Tx: as Payments, one statement per chunk.
func (t *Tx) Loads(ctx context.Context, keys []ledger.LoadKey) (map[ledger.LoadKey]*ledger.LoadRow, error) {
	out := map[ledger.LoadKey]*ledger.LoadRow{}
	const per = 500
	for lo := 0; lo < len(keys); lo += per {
		chunk := keys[lo:min(lo+per, len(keys))]
		var ls []ledger.LoadRow
		var err error
		if t.d == Postgres {
			devs, seqs := make([][]byte, len(chunk)), make([]int64, len(chunk))
			for i, k := range chunk {
				devs[i], seqs[i] = id(k.Device), int64(k.Seq)
			}
			ls, err = t.loadsQuery(ctx, `SELECT loads.device, loads.seq, request_id, amount, data, created_at FROM loads
				JOIN unnest($1::bytea[], $2::bigint[]) AS k(device, seq) ON loads.device = k.device AND loads.seq = k.seq`, devs, seqs)
		} else {
			args := make([]any, 0, 2*len(chunk))
			for _, k := range chunk {
				args = append(args, id(k.Device), int64(k.Seq))
			}
			var in string
			in, args = t.inList(args, 2)
			ls, err = t.loads(ctx, `WHERE (device, seq) IN `+in, args...)
		}
		if err != nil {
			return nil, err
		}
		for i := range ls {
			out[ledger.LoadKey{Device: ls[i].Device, Seq: ls[i].Seq}] = &ls[i]
		}
	}
	return out, nil
}

// LoadByRequest implements ledger.Tx.
func (t *Tx) LoadByRequest(ctx context.Context, device protocol.KeyID, req protocol.Nonce) (*ledger.LoadRow, error) {
	ls, err := t.loads(ctx, `WHERE device = $1 AND request_id = $2`, id(device), req[:])
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	return &ls[0], nil
}

// LoadsAfter implements ledger.Tx.
func (t *Tx) LoadsAfter(ctx context.Context, device protocol.KeyID, seq uint64, limit int) ([]ledger.LoadRow, error) {
	return t.loads(ctx, `WHERE device = $1 AND seq > $2 ORDER BY seq LIMIT $3`, id(device), int64(seq), limit)
}

func (t *Tx) loads(ctx context.Context, q string, args ...any) ([]ledger.LoadRow, error) {
	return t.loadsQuery(ctx, `SELECT device, seq, request_id, amount, data, created_at FROM loads `+q, args...)
}

func (t *Tx) loadsQuery(ctx context.Context, q string, args ...any) ([]ledger.LoadRow, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.LoadRow
	for rows.Next() {
		var l ledger.LoadRow
		var dev, req []byte
		var seq int64
		if err := rows.Scan(&dev, &seq, &req, &l.Amount, &l.Data, &l.CreatedAt); err != nil {
			return nil, err
		}
		l.Device, l.Seq = keyID(dev), uint64(seq)
		copy(l.RequestID[:], req)
		out = append(out, l)
	}
	return out, rows.Err()
}

// MoveLoad implements ledger.Tx.
func (t *Tx) MoveLoad(ctx context.Context, from uint64, l *ledger.LoadRow) error {
	_, err := t.exec(ctx, `UPDATE loads SET seq = $3, data = $4 WHERE device = $1 AND seq = $2`, id(l.Device), int64(from), int64(l.Seq), l.Data)
	return err
}

// InsertLoad implements ledger.Tx.
func (t *Tx) InsertLoad(ctx context.Context, l *ledger.LoadRow) error {
	_, err := t.exec(ctx, `INSERT INTO loads (device, seq, request_id, amount, data, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		id(l.Device), int64(l.Seq), l.RequestID[:], l.Amount, l.Data, l.CreatedAt)
	return err
}
