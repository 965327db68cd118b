package sqlite_test

import (
	"context"
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
	for _, mode := range []string{"payer", "payee"} {
		b.Run(mode, func(b *testing.B) { storetest.Bench(b, open, n, mode) })
	}
}
