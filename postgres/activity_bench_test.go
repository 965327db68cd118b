package postgres_test

import (
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/storetest"
)

// BenchmarkActivity: the console's chart query over 100,000 payments of a
// week (README "Operator console").
func BenchmarkActivity(b *testing.B) {
	storetest.BenchActivity(b, func(tb testing.TB) ledger.Store { return open(tb) }, 100000)
}
