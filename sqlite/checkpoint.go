package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// checkpointer copies committed WAL frames into the database file on a
// connection of its own, once the writer's commits have changed
// checkpointRows rows since its last copy, so that the copy (reading the
// WAL, writing and syncing the database file: a sixth of a crowd's serial
// upload work when the writer did it) mostly runs beside the next write
// transaction instead of inside a commit.
//
// A PASSIVE checkpoint takes no lock a writer or a reader waits on. But
// SQLite starts the WAL again from its beginning only when a write
// transaction begins with every frame copied, and a busy writer begins
// the next one before the checkpointer is done: the WAL grows until the
// writer's own checkpoint (wal_autocheckpoint, after a commit) copies the
// rest and lets it restart. So the writer's bound is raised from SQLite's
// 1,000 pages to roomyPages, and the writer copies only what the
// checkpointer had not yet: the price is a WAL of up to roomyPages plus
// one commit (about 16 MiB plus a commit; more while a reader, such as
// Litestream's, holds an older snapshot, as with any bound). The WAL file
// keeps its largest size (SQLite reuses it, never shrinks it), and after a
// full disk the database file may need as much room to take the frames in.
//
// That price is paid only while the disk has room: with less than
// roomyFree bytes free when last looked (statfs, when woken by the end of
// a write transaction, at most every checkpointGap), the checkpointer
// copies nothing and the writer's bound is SQLite's default, as without
// it, so that a WAL grown by this never takes the last space of a filling
// disk (recoverytest's full-disk tests run there). Either way a commit
// that cannot be written fails whole, and a failed copy leaves the frames
// in the WAL, where they were already durable.
type checkpointer struct {
	db    *sql.DB
	dir   string
	free  func(dir string) (uint64, error) // diskFree when started
	roomy atomic.Bool
	// pending counts the rows committed since the last checkpoint here.
	pending atomic.Int64
	kick    chan struct{}
	stop    context.CancelFunc
	done    chan struct{}
}

const (
	// tightPages is the writer's bound without room: SQLite's default.
	tightPages = 1000
	// roomyPages is the writer's bound with room.
	roomyPages = 4000
	// roomyFree is the free space from which the WAL may grow.
	roomyFree = 1 << 30
)

// checkpointRows is the rows committed from which the checkpointer
// copies: a crowd's group commit changes thousands (about 12 pages an
// upload of 15 rows), while a quiet ledger's few rows stay in the WAL
// until the writer's own checkpoint, as without the checkpointer (a copy
// of ledger.db taken without its WAL then still holds nothing of them:
// cmd/offpay's script ledger_emptydb).
const checkpointRows = 1000

// checkpointGap is the least time between two background checkpoints: one
// after every commit would copy the pages that every commit changes (the
// b-trees' upper pages) again each time.
const checkpointGap = 20 * time.Millisecond

// diskFree returns the bytes free to this process on the file system of
// dir; a variable for tests, read when a store opens.
var diskFree = func(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

func startCheckpointer(path string, o Options) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, roleCheckpoint, o))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, dir: filepath.Dir(path), free: diskFree, kick: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	c.look()
	go c.run(ctx)
	return c, nil
}

// look decides, from the space free now, whether the WAL may grow. A
// failed look counts as no room.
func (c *checkpointer) look() {
	n, err := c.free(c.dir)
	c.roomy.Store(err == nil && n >= roomyFree)
}

// walBound is the statement that sets the writer's bound for its next
// transaction; it runs in every write transaction (a few microseconds), so
// the bound never depends on an earlier transaction having set it.
func (c *checkpointer) walBound() string {
	if c.roomy.Load() {
		return roomyBound
	}
	return tightBound
}

var (
	roomyBound = fmt.Sprintf(`PRAGMA wal_autocheckpoint(%d)`, roomyPages)
	tightBound = fmt.Sprintf(`PRAGMA wal_autocheckpoint(%d)`, tightPages)
)

// wake tells the checkpointer that a write transaction ended, having
// committed changes to rows (0 if it failed: it may have met a full disk,
// and the checkpointer looks again); it never waits.
func (c *checkpointer) wake(rows int64) {
	c.pending.Add(rows)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		c.look()
		if c.roomy.Load() && c.pending.Load() >= checkpointRows {
			c.pending.Store(0)
			// Errors are left: the frames stay in the WAL, durable, and
			// the writer's own checkpoint or the next one here copies
			// them.
			c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
		t.Reset(checkpointGap)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
