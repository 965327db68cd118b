package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/ledger"
)

// TestStatementsStayPrepared: a statement a transaction ran is prepared
// once that transaction has ended, on the writer and on the readers, and
// later transactions run it without preparing more; IN lists of any
// length share a few texts and still find exactly the rows named.
func TestStatementsStayPrepared(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("acct-%02d", i))
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		for _, n := range names {
			if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: n}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	count := func(c *stmtCache) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.stmts)
	}
	for _, side := range []struct {
		name string
		c    *stmtCache
		run  func(context.Context, func(ledger.Tx) error) error
	}{{"writer", s.ws, s.Update}, {"readers", s.rs, s.View}} {
		lookup := func(k int) {
			t.Helper()
			if err := side.run(ctx, func(tx ledger.Tx) error {
				got, err := tx.AccountsNamed(ctx, append(names[:k:k], "nobody"))
				if err != nil {
					return err
				}
				if len(got) != k {
					return fmt.Errorf("%d accounts found for %d names", len(got), k)
				}
				for _, n := range names[:k] {
					if got[n] == nil {
						return fmt.Errorf("%s not found", n)
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("%s, %d names: %v", side.name, k, err)
			}
		}
		lookup(5)
		before := count(side.c)
		lookup(5)
		lookup(6) // 6 and 7 names with "nobody": padded to 8 like 5+1
		if after := count(side.c); after != before {
			t.Fatalf("%s: %d statements prepared, then %d for the same texts", side.name, before, after)
		}
		lookup(30)
		if after := count(side.c); after == before {
			t.Fatalf("%s: a new text was not prepared after its transaction", side.name)
		}
	}
}
