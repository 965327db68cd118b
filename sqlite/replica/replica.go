// Package replica replicates the ledger's SQLite database continuously
// to a folder (another disk, a network mount), the way Litestream does:
// Litestream's own library runs in the ledger's process, copies each
// commit's pages from the WAL into LTX files and ships them to the
// replica, which holds a snapshot and every later change. A dead disk
// then loses the last moments (README "Operating the ledger" measures
// how many), not everything since the last backup.
//
// It is the adapter of github.com/benbjohnson/litestream: nothing else
// imports it. Litestream uses modernc.org/sqlite, the driver the ledger's
// store uses, so both live in one process on the same file; it keeps a
// read transaction open and runs the checkpoints itself.
package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/superfly/ltx"
)

// IDFile names, in a replica folder, the ledger whose replica it is. A
// folder holding another ledger's replica, or something else, is refused.
const IDFile = "offpay-ledger.id"

// DefaultInterval is how often the WAL is shipped (each of its two
// stages: WAL to local LTX files, LTX files to the replica).
const DefaultInterval = time.Second

var (
	// ErrNoReplica: the folder holds no replica.
	ErrNoReplica = errors.New("replica: no replica in that folder")
	// ErrNotAReplica: the folder holds files, but no offpay replica.
	ErrNotAReplica = errors.New("replica: the folder is not empty and holds no offpay replica")
	// ErrOutOfRange: the point in time asked for is not held by the replica.
	ErrOutOfRange = errors.New("replica: the replica holds no state at that time")
)

// OtherLedgerError is the refusal of a replica folder that belongs to
// another ledger.
type OtherLedgerError struct {
	Dir, Have, Want string
}

func (e *OtherLedgerError) Error() string {
	return fmt.Sprintf("replica: %s holds the replica of ledger %s, not of ledger %s", e.Dir, e.Have, e.Want)
}

// Options tune a Replicator.
type Options struct {
	// Interval is how often changes are shipped (DefaultInterval if 0).
	Interval time.Duration
	// Logger receives Litestream's log (errors while shipping among it);
	// nil discards Info and below and writes warnings to stderr.
	Logger *slog.Logger
	// Cut, if set, cuts the replica off while it holds true: every
	// shipment fails from then on, as if the disk or the process had died
	// at that instant (tests and measurements of what a dead disk loses).
	Cut *atomic.Bool
}

// Replicator ships a database's changes to a replica folder while the
// ledger serves from the database.
type Replicator struct {
	dir   string
	db    *litestream.DB
	store *litestream.Store
}

// Start replicates the database at dbPath (open, in WAL mode) to dir,
// for the ledger named ledgerID. It claims an empty (or new) dir, refuses
// a dir holding another ledger's replica or other files, and returns once
// the replica holds the database as it is now, so a folder that cannot be
// written is an error here rather than a log line later.
func Start(ctx context.Context, dbPath, dir, ledgerID string, o Options) (*Replicator, error) {
	if err := claim(dir, ledgerID); err != nil {
		return nil, err
	}
	every := o.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	logger = logger.With("replica", dir)
	db := litestream.NewDB(dbPath)
	db.MonitorInterval = every
	db.BusyTimeout = 10 * time.Second // the ledger's writer holds its lock no longer
	db.Logger = logger
	fc := file.NewReplicaClient(dir)
	r := litestream.NewReplicaWithClient(db, fc)
	fc.Replica = r
	if o.Cut != nil {
		r.Client = &cutClient{fc, o.Cut}
	}
	r.SyncInterval = every
	db.Replica = r
	st := litestream.NewStore([]*litestream.DB{db}, litestream.DefaultCompactionLevels)
	st.Logger = logger
	db.SetLogger(logger)
	if err := st.Open(ctx); err != nil {
		st.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("replica: starting: %w", err)
	}
	rep := &Replicator{dir: dir, db: db, store: st}
	if err := rep.Sync(ctx); err != nil {
		st.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return rep, nil
}

// claim checks that dir is this ledger's replica folder, or makes it one.
func claim(dir, ledgerID string) error {
	ours, err := CheckFolder(dir, ledgerID)
	if err != nil || ours {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	return atomicfile.Write(dir, IDFile, []byte(ledgerID+"\n"), nil)
}

// CheckFolder checks, changing nothing, that dir can hold the replica of
// the ledger ledgerID: it reports true if it already does, false if dir is
// empty or absent, and an error (*OtherLedgerError, ErrNotAReplica)
// otherwise.
func CheckFolder(dir, ledgerID string) (bool, error) {
	if ledgerID == "" {
		return false, fmt.Errorf("replica: no ledger id")
	}
	have, err := LedgerID(dir)
	switch {
	case err == nil && have == ledgerID:
		return true, nil
	case err == nil:
		return false, &OtherLedgerError{Dir: dir, Have: have, Want: ledgerID}
	case !errors.Is(err, ErrNoReplica):
		return false, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("replica: %w", err)
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("%w: %s", ErrNotAReplica, dir)
	}
	return false, nil
}

// LedgerID returns the id of the ledger whose replica dir holds
// (ErrNoReplica if none).
func LedgerID(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, IDFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: %s", ErrNoReplica, dir)
	}
	if err != nil {
		return "", fmt.Errorf("replica: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ForgetLocal removes the state Litestream keeps next to the database at
// dbPath (its LTX files of the WAL it has read). Call it whenever the
// database is replaced (a restore): the next replication starts from the
// database as it is then, with a snapshot.
func ForgetLocal(dbPath string) error {
	meta := filepath.Join(filepath.Dir(dbPath), "."+filepath.Base(dbPath)+litestream.MetaDirSuffix)
	if err := os.RemoveAll(meta); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	return nil
}

// Sync ships every change committed so far and returns when the replica
// holds them.
func (r *Replicator) Sync(ctx context.Context) error {
	if err := r.db.SyncAndWait(ctx); err != nil {
		return fmt.Errorf("replica: shipping to %s: %w", r.dir, err)
	}
	return nil
}

// Status is how far the replica is behind the database.
type Status struct {
	Local, Replicated uint64    // Litestream's transaction ids: captured from the WAL, held by the replica
	LastSync          time.Time // the last successful shipment (zero: none yet)
}

// Status reports the replica's position.
func (r *Replicator) Status(ctx context.Context) (Status, error) {
	s, err := r.db.SyncStatus(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("replica: %w", err)
	}
	return Status{Local: uint64(s.LocalTXID), Replicated: uint64(s.RemoteTXID), LastSync: r.db.LastSuccessfulSyncAt()}, nil
}

// Close ships what is left and stops. Close the ledger's own store first:
// Litestream's last sync and checkpoint come after the last write.
func (r *Replicator) Close(ctx context.Context) error {
	return r.store.Close(ctx)
}

// Bounds returns the times of the oldest and newest states the replica
// in dir holds.
func Bounds(ctx context.Context, dir string) (oldest, newest time.Time, err error) {
	c, err := openClient(dir)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return litestream.NewReplicaWithClient(nil, c).TimeBounds(ctx)
}

func openClient(dir string) (*file.ReplicaClient, error) {
	if _, err := LedgerID(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "ltx")); err != nil {
		return nil, fmt.Errorf("%w: %s has no replicated data", ErrNoReplica, dir)
	}
	return file.NewReplicaClient(dir), nil
}

// Restored says what Restore wrote.
type Restored struct {
	Path string
	At   time.Time // the newest change's shipping time, or the time asked for
}

// Restore writes the database the replica in dir holds to out (which
// must not exist): its newest state, or with at set, the newest state
// shipped at or before at. out is written whole and synced, or not at
// all.
func Restore(ctx context.Context, dir, out string, at time.Time) (*Restored, error) {
	c, err := openClient(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(out); err == nil {
		return nil, fmt.Errorf("replica: restore: %s exists", out)
	}
	r := litestream.NewReplicaWithClient(nil, c)
	oldest, newest, err := r.TimeBounds(ctx)
	if err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	if newest.IsZero() {
		return nil, fmt.Errorf("%w: %s has no replicated data", ErrNoReplica, dir)
	}
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = out
	res := &Restored{Path: out, At: newest}
	if !at.IsZero() {
		if at.Before(oldest) {
			return nil, fmt.Errorf("%w: %s is before the oldest state held (%s)", ErrOutOfRange, at.UTC().Format(time.RFC3339), oldest.UTC().Format(time.RFC3339))
		}
		if at.Before(newest) {
			opt.Timestamp = at
			res.At = at
		}
	}
	if err := r.Restore(ctx, opt); err != nil {
		return nil, fmt.Errorf("replica: restoring from %s: %w", dir, err)
	}
	return res, nil
}

// errCut is every shipment's error once Options.Cut holds true.
var errCut = errors.New("replica: cut off")

// cutClient is a replica client whose writes fail once cut holds true.
type cutClient struct {
	*file.ReplicaClient
	cut *atomic.Bool
}

func (c *cutClient) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.ReplicaClient.WriteLTXFile(ctx, level, minTXID, maxTXID, r)
}

func (c *cutClient) DeleteLTXFiles(ctx context.Context, a []*ltx.FileInfo) error {
	if c.cut.Load() {
		return errCut
	}
	return c.ReplicaClient.DeleteLTXFiles(ctx, a)
}
