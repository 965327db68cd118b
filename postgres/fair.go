package postgres

import (
	"context"
	"database/sql"
	"hash/fnv"
)

// escalateAfter is how many times a transaction may lose to others before
// it runs alone (see fairLock).
const escalateAfter = 6

// fairLock keeps a transaction that keeps losing from starving. Every
// writing transaction takes a shared advisory lock on the store's key when
// it begins; one that has lost escalateAfter times takes it exclusively
// instead. PostgreSQL queues new shared requests behind a waiting
// exclusive one, so the loser waits for the writers in flight to end and
// then runs with no other writer: with no concurrent writer it cannot lose
// a serialization check, a deadlock or a uniqueness race, and it commits.
// The price is one round trip per transaction (group commit applies many
// uploads in one), and, while a loser runs alone, the other writers wait
// for it. Read-only snapshots (View) take no lock.
//
// Advisory locks are database-wide, so the key is the schema's: stores in
// separate schemas of one database do not wait for each other. A server
// without advisory locks (the probe at Open fails) runs without fairness:
// the retries alone, as before.
type fairLock struct {
	on  bool
	key int32
}

// fairClass is the first half of the two-part advisory lock key
// ("op" in ASCII), the second is the schema's hash.
const fairClass = 0x6f70

func newFairLock(ctx context.Context, db *sql.DB, schema string) fairLock {
	h := fnv.New32a()
	h.Write([]byte(schema))
	f := fairLock{key: int32(h.Sum32())}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return f
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1, $2)`, fairClass, f.key)
	f.on = err == nil
	return f
}

// take locks inside tx: exclusively once the transaction has lost
// escalateAfter times, shared before.
func (f fairLock) take(ctx context.Context, tx *sql.Tx, attempt int) error {
	if !f.on {
		return nil
	}
	q := `SELECT pg_advisory_xact_lock_shared($1, $2)`
	if attempt >= escalateAfter {
		q = `SELECT pg_advisory_xact_lock($1, $2)`
	}
	_, err := tx.ExecContext(ctx, q, fairClass, f.key)
	return err
}
