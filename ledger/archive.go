package ledger

import (
	"context"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Archiving moves settled history older than a cut out of the hot tables
// into archive tables of the same database (README "Storage and
// archiving"): the settled payments resolved before it, the log entries
// written before it (by their SE's time) up to what their device's log is
// recorded to, the statement lines and the delivered notifications
// written before it. Nothing the ledger still decides on moves with them:
// pending payments, double-spent ones (conflicts), receipts awaiting
// their payee, sales still refundable, refunds, proofs, devices and their
// counters, accounts, dead letters. And the keyed reads of payments,
// entries and lines read the archive too, so a double spend whose first
// half was archived is still proven, a replayed upload of an archived
// payment is still recognised as recorded, a re-sent entry is still
// compared with the recorded one, and a statement still lists its lines.

// Tables ArchiveStep moves rows of.
const (
	ArchivePayments = "payments"
	ArchiveEntries  = "entries"
	ArchiveLines    = "lines"
	ArchiveOutbox   = "outbox"
)

// ArchiveTables are the tables Archive moves rows of, in its order.
var ArchiveTables = []string{ArchivePayments, ArchiveEntries, ArchiveLines, ArchiveOutbox}

// MinRetention is the least age of what Archive moves: a payment's claim
// window. (Nothing younger is needed to be archived, and the claim window
// is where a payment's status can still change.)
const MinRetention = time.Duration(protocol.ClaimWindow) * time.Second

// DefaultArchiveBatch is how many rows an archive transaction looks at.
const DefaultArchiveBatch = 5000

// ArchiveResult counts the rows Archive moved, by table, and the
// transactions it took.
type ArchiveResult struct {
	Moved        map[string]int64
	Transactions int
}

// Archive moves the settled history older than before into the archive
// tables, in transactions of at most batch rows looked at (0:
// DefaultArchiveBatch). before must be at least MinRetention before the
// ledger's time. Each transaction moves whole rows (a copy and a delete),
// and a row already archived is skipped, so Archive may be stopped at any
// point (a crash, ctx) and run again: it goes on where it stopped.
// progress, if set, is called after each transaction.
func (s *Service) Archive(ctx context.Context, before time.Time, batch int, progress func(table string, moved int64)) (*ArchiveResult, error) {
	if latest := s.now().Add(-MinRetention); before.After(latest) {
		return nil, offpay.Errorf(offpay.EINVALID, "archive: %s is within the claim window (the latest cut now is %s)",
			before.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
	}
	if batch <= 0 {
		batch = DefaultArchiveBatch
	}
	res := &ArchiveResult{Moved: map[string]int64{}}
	for _, table := range ArchiveTables {
		var cursor []byte
		for first := true; first || cursor != nil; first = false {
			var moved int
			var next []byte
			err := s.update(ctx, func(tx Tx) error {
				var err error
				moved, next, err = tx.ArchiveStep(ctx, table, before.UnixNano(), cursor, batch)
				return err
			})
			if err != nil {
				return res, err
			}
			res.Transactions++
			res.Moved[table] += int64(moved)
			cursor = next
			if progress != nil {
				progress(table, res.Moved[table])
			}
		}
	}
	return res, nil
}

// Archived counts the rows of each archive table.
func (s *Service) Archived(ctx context.Context) (map[string]int64, error) {
	var out map[string]int64
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ArchivedCounts(ctx)
		return err
	})
	return out, internal(err)
}
