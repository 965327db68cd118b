package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/offpay/offpay/se/atomicfile"
)

// Backup writes a consistent copy of the database to out while the store
// serves (VACUUM INTO, from a snapshot: writers go on). out must not
// exist. The copy is synced to disk, with its folder, before Backup
// returns. A plain file copy of ledger.db is not a backup: the last
// commits live in its WAL.
func (s *Store) Backup(ctx context.Context, out string) error {
	return BackupFile(ctx, s.path, out)
}

// BackupFile is Backup of the database at path, from any process.
func BackupFile(ctx context.Context, path, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists", out)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tmp := out + ".partial"
	os.Remove(tmp)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(out))
}

// Restore replaces the store's database with the backup at from and
// reopens it: the ledger goes back to the moment of the backup. Only for a
// store nothing else is using (offpay ledger restore runs with the ledger
// stopped; tests restore in place).
func (s *Store) Restore(ctx context.Context, from string) error {
	s.Close()
	if err := RestoreFile(from, s.path); err != nil {
		return err
	}
	n, err := OpenWith(ctx, s.path, s.opts)
	if err != nil {
		return err
	}
	*s = *n
	return nil
}

// RestoreFile puts the backup at from in place of the database at path
// (with its WAL and shared-memory files removed), atomically: a copy is
// written and synced next to path, then renamed over it.
func RestoreFile(from, path string) error {
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	tmp := path + ".restoring"
	if err := copySynced(from, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}

// copySynced copies the file at from to a new file at to (0600), synced.
func copySynced(from, to string) error {
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
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// MoveAside renames the database at path, with its WAL, to aside (and
// aside-wal), so that it opens there as it was, and removes its
// shared-memory file. It reports whether there was a database to move.
func MoveAside(path, aside string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err := os.Rename(path, aside); err != nil {
		return false, err
	}
	if err := os.Rename(path+"-wal", aside+"-wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, err
	}
	if err := os.Remove(path + "-shm"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, err
	}
	return true, atomicfile.SyncDir(filepath.Dir(path))
}

// MoveFile moves a closed database with no WAL from from to path (the
// same file system), replacing what is there, and syncs the folder.
func MoveFile(from, path string) error {
	if _, err := os.Stat(from + "-wal"); err == nil {
		return fmt.Errorf("sqlite: %s still has a WAL: close it first", from)
	}
	if err := syncFile(from); err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(from, path); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Check runs SQLite's integrity check on the database: nil, or what is
// wrong with it.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite: integrity check: %v", problems)
	}
	return nil
}

// IsDatabase reports whether the file at path starts like a SQLite
// database.
func IsDatabase(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	return n == 16 && string(head) == "SQLite format 3\x00"
}
