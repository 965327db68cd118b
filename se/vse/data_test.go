package vse_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// TestSealData: what the app seals with the SE opens again after a
// restart (the key lives in the sealed state), under its own label only;
// a changed byte, another label or another SE refuse it (bad_data).
func TestSealData(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	plain := []byte(`{"records":[{"counterparty":"bob","amount_minor":1250}]}`)
	sealed, err := f.a.SealData("wallet/history", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("counterparty")) || !vse.IsSealedData(sealed) {
		t.Fatal("not sealed")
	}
	a := setest.Open(t, f.dirA, nil)
	got, err := a.OpenData("wallet/history", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("after reopen: %q %v", got, err)
	}
	for name, try := range map[string]func() error{
		"another label": func() error { _, err := a.OpenData("wallet/archive", sealed); return err },
		"another SE":    func() error { _, err := f.b.OpenData("wallet/history", sealed); return err },
		"a changed byte": func() error {
			x := append([]byte{}, sealed...)
			x[len(x)-1] ^= 1
			_, err := a.OpenData("wallet/history", x)
			return err
		},
		"not sealed": func() error { _, err := a.OpenData("wallet/history", plain); return err },
	} {
		if err := try(); !errors.Is(err, se.ErrBadData) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
