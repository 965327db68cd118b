package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/storetest"
)

func open(t *testing.T) ledger.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

func BenchmarkSettle(b *testing.B) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	open := func(tb testing.TB) ledger.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ledger.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}
	for _, mode := range []string{"payer", "payee", "claim"} {
		b.Run(mode, func(b *testing.B) { storetest.Bench(b, open, n, mode) })
	}
}

// TestReopen: reopening a database applies no migration twice and keeps
// the data.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "x", []byte("y")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v []byte
	if err := s.View(ctx, func(tx ledger.Tx) (err error) { v, err = tx.Meta(ctx, "x"); return err }); err != nil || string(v) != "y" {
		t.Fatalf("after reopen: %q %v", v, err)
	}
}

// TestScenarios replays the stateful conformance vectors of
// spec/scenarios (SPEC.md section 17) on SQLite.
func TestScenarios(t *testing.T) { storetest.RunScenarios(t, open, "../spec/scenarios") }

func BenchmarkPayOnline(b *testing.B) {
	open := func(tb testing.TB) ledger.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ledger.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}
	for _, w := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { storetest.BenchOnline(b, open, w) })
	}
}
