package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/sqlite/replica"
)

func init() {
	register("ledger",
		command{"backup", "write a consistent copy of the ledger's database while it serves", ledgerBackup},
		command{"backup verify", "check a backup: integrity, and the reconciliation of the copy (without serving it)", ledgerBackupVerify},
		command{"restore", "put a backup in place of the ledger's database (the ledger stopped)", ledgerRestore},
	)
}

// ledgerBackup writes a backup: SQLite's VACUUM INTO from a snapshot (the
// ledger goes on serving), or PostgreSQL's pg_dump of the offpay schema.
func ledgerBackup(e *env, args []string) error {
	fs := newFlags(e, "ledger backup", "--data DIR [--db URL] --out FILE")
	data := fs.String("data", "", "the ledger's data folder")
	db := fs.String("db", "", "the PostgreSQL URL the ledger serves from; default: SQLite in the data folder")
	out := fs.String("out", "", "the backup file to write (must not exist)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("--out FILE is required")
	}
	ctx := context.Background()
	start := time.Now()
	if *db == "" {
		if err := sqlite.BackupFile(ctx, filepath.Join(*data, ledgerDBFile), *out); err != nil {
			return err
		}
	} else {
		st, err := postgres.OpenWith(ctx, *db, "offpay", postgres.Options{AllowAsyncCommit: true})
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Backup(ctx, *out); err != nil {
			return err
		}
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s (%d bytes in %s); check it with: offpay ledger backup verify --data %s %s\n",
		*out, fi.Size(), time.Since(start).Round(time.Millisecond), *data, *out)
	return nil
}

// ledgerBackupVerify checks a backup without serving it: SQLite's
// integrity check and the reconciliation of a scratch copy (a PostgreSQL
// dump is restored into a scratch database of the server --db names).
func ledgerBackupVerify(e *env, args []string) error {
	fs := newFlags(e, "ledger backup verify", "[--data DIR] [--db URL] FILE")
	data := fs.String("data", "", "the ledger's data folder: the backup must belong to its ledger")
	db := fs.String("db", "", "a PostgreSQL server to restore a pg_dump backup into a scratch database of (needed for those)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("name one backup file")
	}
	r, id, err := verifyBackup(context.Background(), pos[0], *db)
	if err != nil {
		return err
	}
	if *data != "" {
		want, err := ledgerID(*data)
		if err != nil {
			return err
		}
		if id != "" && id != want {
			return fmt.Errorf("%w: the backup is of ledger %s, the data folder's is %s", errNotBound, id, want)
		}
	}
	printReport(e.stdout, r)
	if !r.ConservationOK {
		return errors.New("the backup's reconciliation does not hold")
	}
	fmt.Fprintf(e.stdout, "backup %s is sound (ledger %s)\n", pos[0], id)
	return nil
}

// verifyBackup opens a scratch copy of the backup at path and returns its
// reconciliation and ledger id.
func verifyBackup(ctx context.Context, path, dbURL string) (*ledger.Report, string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, "", err
	}
	tmp, err := os.MkdirTemp("", "offpay-verify-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	switch {
	case sqlite.IsDatabase(path):
		copyPath := filepath.Join(tmp, ledgerDBFile)
		if err := copyFile(path, copyPath); err != nil {
			return nil, "", err
		}
		return verifyDatabase(ctx, copyPath)
	default:
		if dbURL == "" {
			return nil, "", usageErrorf("%s is not a SQLite database; for a PostgreSQL backup give --db URL (a server to restore it into a scratch database of)", path)
		}
		s, drop, err := postgres.Scratch(ctx, dbURL, path)
		if err != nil {
			return nil, "", err
		}
		defer drop()
		return reconcile(ctx, s)
	}
}

// verifyDatabase checks the SQLite database at path in place (opening it
// migrates it): integrity, and its reconciliation and ledger id.
func verifyDatabase(ctx context.Context, path string) (*ledger.Report, string, error) {
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, "", fmt.Errorf("the database does not open: %w", err)
	}
	defer s.Close()
	if err := s.Check(ctx); err != nil {
		return nil, "", err
	}
	return reconcile(ctx, s)
}

// reconcile returns the report and the ledger id of the store st.
func reconcile(ctx context.Context, st ledger.Store) (*ledger.Report, string, error) {
	tmp, err := os.MkdirTemp("", "offpay-verify-keys-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	keys, err := ledger.Init(filepath.Join(tmp, "keys"), "EUR", nil) // the report signs nothing
	if err != nil {
		return nil, "", err
	}
	var id string
	if err := st.View(ctx, func(tx ledger.Tx) error {
		b, err := tx.Meta(ctx, metaLedgerID)
		id = string(b)
		return err
	}); err != nil {
		return nil, "", err
	}
	r, err := ledger.New(st, keys, ledger.Options{}).Report(ctx)
	return r, id, err
}

// ledgerRestore puts a verified backup, or the state a replica holds, in
// place of the ledger's database. Devices give the ledger back, at their
// next sync, what the backup lacks (README "Operating the ledger").
func ledgerRestore(e *env, args []string) error {
	fs := newFlags(e, "ledger restore", "--data DIR [--db URL] (--from FILE | --from-replica DIR [--at TIME] | --recovered) [--force]")
	data := fs.String("data", "", "the ledger's data folder")
	db := fs.String("db", "", "the PostgreSQL URL the ledger serves from; default: SQLite in the data folder")
	from := fs.String("from", "", "the backup to restore")
	fromReplica := fs.String("from-replica", "", "a replica folder written by ledger serve --replicate: restore the newest state it holds")
	at := fs.String("at", "", "with --from-replica: restore the state at this time instead (RFC 3339, e.g. 2026-05-01T12:00:00Z)")
	force := fs.Bool("force", false, "restore a backup of another ledger")
	recovered := fs.Bool("recovered", false, "the database was put back by other means (a PostgreSQL point-in-time recovery, a failover to an asynchronous standby): only record the restore, so that assessment deadlines count from now")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	var when time.Time
	switch {
	case *recovered && (*from != "" || *fromReplica != "" || *at != "" || *force):
		return usageErrorf("--recovered only records a restore done by other means: it takes no --from, --from-replica, --at or --force")
	case *recovered:
	case (*from == "") == (*fromReplica == ""):
		return usageErrorf("give one of --from FILE, --from-replica DIR and --recovered")
	case *fromReplica != "" && *db != "":
		return usageErrorf("--from-replica is for the embedded SQLite database; PostgreSQL recovers to a point in time with its own WAL archive")
	case *at != "" && *fromReplica == "":
		return usageErrorf("--at goes with --from-replica")
	case *at != "":
		var err error
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageErrorf("--at %q: want a time like 2026-05-01T12:00:00Z (RFC 3339)", *at)
		}
	}
	if serving(*data) {
		return fmt.Errorf("the ledger of %s is serving: stop it first (a restore replaces the database under it)", *data)
	}
	// Held until the restore is done: no ledger serve starts meanwhile.
	release, err := lockData(*data)
	if err != nil {
		return fmt.Errorf("the ledger of %s is serving: stop it first (a restore replaces the database under it): %w", *data, err)
	}
	defer release()
	want, err := ledgerID(*data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if *recovered {
		return recordRecovered(ctx, e, *data, *db, want)
	}
	if *fromReplica != "" {
		return restoreFromReplica(ctx, e, *data, *fromReplica, want, when, *force)
	}
	r, id, err := verifyBackup(ctx, *from, *db)
	if err != nil {
		return fmt.Errorf("the backup does not verify: %w", err)
	}
	if id != want && !*force {
		return fmt.Errorf("%w: the backup is of ledger %s, the data folder's is %s (--force to restore it all the same)", errNotBound, id, want)
	}
	if *db == "" {
		path := filepath.Join(*data, ledgerDBFile)
		if err := setAside(e, path); err != nil {
			return err
		}
		if err := sqlite.RestoreFile(*from, path); err != nil {
			return err
		}
		if err := replica.ForgetLocal(path); err != nil {
			return err
		}
		if err := markRestoredFile(ctx, path, ""); err != nil {
			return err
		}
	} else {
		st, err := postgres.OpenWith(ctx, *db, "offpay", postgres.Options{AllowAsyncCommit: true})
		if err != nil {
			return err
		}
		err = st.Restore(ctx, *from)
		if err == nil {
			err = markRestored(ctx, st, "")
		}
		st.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "restored %s (issued %s, %d settled payments); serve it again: devices give the ledger back what the backup lacks at their next sync\n",
		*from, fmtMinor(r.Issued, r.Currency), r.Settled)
	return nil
}

// restoreFromReplica writes the replica's state (the newest, or at when)
// into a staging folder inside the data folder, verifies it there, and
// only then moves it in place of the database.
func restoreFromReplica(ctx context.Context, e *env, data, dir, want string, when time.Time, force bool) error {
	if id, err := replica.LedgerID(dir); err != nil {
		return err
	} else if id != want && !force {
		return fmt.Errorf("%w: the replica is of ledger %s, the data folder's is %s (--force to restore it all the same)", errNotBound, id, want)
	}
	start := time.Now()
	staging, err := os.MkdirTemp(data, "restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	staged := filepath.Join(staging, ledgerDBFile)
	res, err := replica.Restore(ctx, dir, staged, when)
	if err != nil {
		return err
	}
	r, id, err := verifyDatabase(ctx, staged)
	if err != nil {
		return fmt.Errorf("the replica's copy does not verify: %w", err)
	}
	if id != want && !force {
		return fmt.Errorf("%w: the replica's database is of ledger %s, the data folder's is %s", errNotBound, id, want)
	}
	path := filepath.Join(data, ledgerDBFile)
	if err := setAside(e, path); err != nil {
		return err
	}
	if err := sqlite.MoveFile(staged, path); err != nil {
		return err
	}
	if err := replica.ForgetLocal(path); err != nil {
		return err
	}
	if err := markRestoredFile(ctx, path, ""); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored the state of %s from the replica %s in %s (issued %s, %d settled payments, conservation %s); serve it again (with --replicate %s): devices give the ledger back at their next sync what the replica lacked\n",
		res.At.UTC().Format(time.RFC3339), dir, time.Since(start).Round(time.Millisecond), fmtMinor(r.Issued, r.Currency), r.Settled, holds(r), dir)
	return nil
}

// recordRecovered records a restore the operator did by other means (a
// PostgreSQL point-in-time recovery, a failover to an asynchronous
// standby, a file copied back): the database changes in nothing else.
func recordRecovered(ctx context.Context, e *env, data, db, want string) error {
	if db == "" {
		path := filepath.Join(data, ledgerDBFile)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: no database to record a restore in (restore one with --from or --from-replica): %w", path, err)
		}
		if err := markRestoredFile(ctx, path, want); err != nil {
			return err
		}
	} else {
		st, err := postgres.OpenWith(ctx, db, "offpay", postgres.Options{AllowAsyncCommit: true})
		if err != nil {
			return err
		}
		err = markRestored(ctx, st, want)
		st.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "recorded the restore at %s: assessment deadlines count from no earlier than now; serve it again: devices give the ledger back what it lost at their next sync\n",
		time.Now().UTC().Format(time.RFC3339))
	return nil
}

// markRestored records the restore in the restored database (ledger
// recovery.go): the commits it lost may have given devices ledger times up
// to now, so their assessment deadlines count from no earlier than now.
// With want set (--recovered: nothing was verified) the database must be
// that ledger's: a restore recorded in another ledger's database would
// put off its deadlines (and its revocations) for nothing.
func markRestored(ctx context.Context, st ledger.Store, want string) error {
	return st.Update(ctx, func(tx ledger.Tx) error {
		if want != "" {
			have, err := tx.Meta(ctx, metaLedgerID)
			if err != nil {
				return err
			}
			if string(have) != want {
				if have == nil {
					have = []byte("none (it never served)")
				}
				return fmt.Errorf("%w: the database belongs to ledger %s, this data folder to %s: nothing recorded", errNotBound, have, want)
			}
		}
		return ledger.MarkRestored(ctx, tx, time.Now())
	})
}

// markRestoredFile is markRestored on the SQLite database at path.
func markRestoredFile(ctx context.Context, path, want string) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	err = markRestored(ctx, st, want)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return err
}

func holds(r *ledger.Report) string {
	if r.ConservationOK {
		return "HOLDS"
	}
	return "does not hold"
}

// setAside keeps the database at path (with its WAL) under another name
// before a restore replaces it.
func setAside(e *env, path string) error {
	aside := fmt.Sprintf("%s.before-restore-%d", path, time.Now().Unix())
	ok, err := sqlite.MoveAside(path, aside)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(e.stdout, "the database it replaces is kept as %s\n", aside)
	}
	return nil
}

// serving reports whether the data folder's ledger answers.
func serving(dir string) bool {
	u, err := os.ReadFile(filepath.Join(dir, ledgerURLFile))
	if err != nil {
		return false
	}
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(strings.TrimSpace(string(u)) + "/healthz")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return true
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
