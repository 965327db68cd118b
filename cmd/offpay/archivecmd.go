package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/sqlite"
)

func init() {
	register("ledger",
		command{"archive", "move settled history older than a date out of the hot tables, into archive tables of the same database (safe while serving)", ledgerArchive},
	)
}

// ledgerArchive runs ledger.Service.Archive on the ledger's database.
// It signs nothing, so it needs none of the ledger's keys.
func ledgerArchive(e *env, args []string) error {
	fs := newFlags(e, "ledger archive", "--data DIR [--db URL] (--before DATE | --retain DAYS) [--batch N]")
	data := fs.String("data", "", "the ledger's data folder")
	db := fs.String("db", "", "the PostgreSQL URL the ledger serves from; default: SQLite in the data folder")
	before := fs.String("before", "", "archive what was settled before this date (2006-01-02 or RFC 3339, UTC)")
	retain := fs.Int("retain", 0, "archive what was settled more than this many days ago (at least 3: the claim window)")
	batch := fs.Int("batch", ledger.DefaultArchiveBatch, "rows looked at per transaction")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	var cut time.Time
	switch {
	case (*before == "") == (*retain == 0):
		return usageErrorf("give one of --before DATE and --retain DAYS")
	case *retain < 0:
		return usageErrorf("--retain must be a number of days above 0")
	case *retain > 0:
		cut = time.Now().Add(-time.Duration(*retain) * 24 * time.Hour)
	default:
		t, err := time.Parse("2006-01-02", *before)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, *before); err != nil {
				return usageErrorf("--before: %q is neither a date (2006-01-02) nor an RFC 3339 time", *before)
			}
		}
		cut = t
	}
	ctx := context.Background()
	var st ledger.Store
	if *db == "" {
		s, err := sqlite.Open(ctx, filepath.Join(*data, ledgerDBFile))
		if err != nil {
			return err
		}
		st = s
	} else {
		// Run again, archiving goes on where it stopped: it needs no more
		// durability than the server gives (as ledger backup).
		s, err := postgres.OpenWith(ctx, *db, "offpay", postgres.Options{AllowAsyncCommit: true})
		if err != nil {
			return err
		}
		st = s
	}
	defer st.Close()
	tmp, err := os.MkdirTemp("", "offpay-archive-keys-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	keys, err := ledger.Init(filepath.Join(tmp, "keys"), "EUR", nil) // archiving signs nothing
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := ledger.New(st, keys, ledger.Options{}).Archive(ctx, cut, *batch, nil)
	if res != nil {
		fmt.Fprintf(e.stdout, "archived settled history before %s: %d payments, %d log entries, %d statement lines, %d delivered notifications (%d transactions, %s)\n",
			cut.UTC().Format(time.RFC3339), res.Moved[ledger.ArchivePayments], res.Moved[ledger.ArchiveEntries], res.Moved[ledger.ArchiveLines],
			res.Moved[ledger.ArchiveOutbox], res.Transactions, time.Since(start).Round(time.Millisecond))
	}
	if err != nil && res == nil {
		return err // refused before anything moved (a cut inside the claim window)
	}
	var oe *offpay.Error
	if errors.As(err, &oe) && oe.Code == offpay.EUNAVAILABLE {
		// Not the storage error's own "nothing was changed": only the
		// transaction that failed changed nothing.
		detail := oe.Message
		if oe.Err != nil {
			detail = oe.Err.Error()
		}
		return fmt.Errorf("archive stopped: the database's disk is full, read-only or failing (%s); the batch being moved stayed whole where it was, "+
			"and what was archived before it stays archived: free space and run it again to go on", detail)
	}
	if err != nil {
		return fmt.Errorf("archive stopped (what was archived stays archived; run it again to go on): %w", err)
	}
	return nil
}
