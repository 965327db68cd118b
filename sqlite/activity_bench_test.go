package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/storetest"
)

// BenchmarkActivity: the console's chart query over 100,000 payments of a
// week (README "Operator console").
func BenchmarkActivity(b *testing.B) {
	storetest.BenchActivity(b, func(tb testing.TB) ledger.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ledger.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}, 100000)
}
