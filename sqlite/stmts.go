package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the statements a pool has run prepared, so that SQLite
// parses each text once rather than at every run (parsing was half of a
// small upload's work). A statement is prepared after the transaction
// that first ran it has ended: the writer has one connection, the
// transaction's until then, and a reader preparing while holding one of
// the readers' connections could wait for ever on the others.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	want  map[string]bool // run unprepared, to prepare after the transaction
}

// maxStmts bounds a pool's prepared statements: the ledger's texts are a
// few hundred (IN lists come in power-of-two sizes).
const maxStmts = 1024

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, want: map[string]bool{}}
}

// get returns q if it is prepared; if not, q is noted to be prepared once
// the transaction has ended.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.stmts[q]; p != nil {
		return p
	}
	if len(c.stmts)+len(c.want) < maxStmts {
		c.want[q] = true
	}
	return nil
}

// prepareWanted prepares the statements that ran unprepared. One that
// fails to prepare is parsed each time it runs, as before.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	if len(c.want) == 0 {
		c.mu.Unlock()
		return
	}
	want := c.want
	c.want = map[string]bool{}
	c.mu.Unlock()
	for q := range want {
		p, err := c.db.PrepareContext(context.WithoutCancel(ctx), q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q] = p
			p = nil
		}
		c.mu.Unlock()
		if p != nil {
			p.Close()
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.stmts {
		p.Close()
	}
}
