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
