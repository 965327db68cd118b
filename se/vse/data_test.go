package vse_test

import (
	"testing"

	"github.com/offpay/offpay/se/vse"
)

// TestSealData: what the virtual SE seals is recognisable as its sealed
// data (a wallet tells old plain files from sealed ones). What any SE's
// sealing gives its user is in the se.SE contract (se/secontract).
func TestSealData(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	plain := []byte(`{"records":[]}`)
	sealed, err := f.a.SealData("wallet/history", plain)
	if err != nil {
		t.Fatal(err)
	}
	if !vse.IsSealedData(sealed) || vse.IsSealedData(plain) {
		t.Fatal("IsSealedData does not tell sealed data from plain")
	}
}
