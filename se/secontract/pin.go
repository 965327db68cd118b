package secontract

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// PIN: a wrong PIN is refused and counted, a right one resets the count;
// MaxTries wrong PINs in a row lock the SE, even against the right PIN;
// the unlock code (a wrong one changes nothing) sets a new PIN and ends
// the lockout, with the purse as it was.
func testPIN(t *testing.T, f Factory) {
	p := newPKI("contract")
	d := f(t)
	p.enrol(t, d.SE, "alice")
	p.load(t, d.SE, 700)
	want := status(t, d.SE)
	for range d.MaxTries - 1 {
		if _, err := d.Reopen("000000"); !errors.Is(err, se.ErrBadPIN) {
			t.Fatalf("wrong PIN: %v", err)
		}
	}
	s, err := d.Reopen(setest.PIN)
	if err != nil {
		t.Fatalf("the right PIN after %d wrong ones: %v", d.MaxTries-1, err)
	}
	if st := status(t, s); st != want {
		t.Fatalf("status in a new session:\n%+v\nwant %+v", st, want)
	}
	for i := range d.MaxTries {
		if _, err := d.Reopen("000000"); !errors.Is(err, se.ErrBadPIN) {
			t.Fatalf("wrong PIN %d: %v", i+1, err)
		}
	}
	if _, err := d.Reopen(setest.PIN); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("the right PIN on a locked SE: %v", err)
	}
	if _, err := d.Unlock("0000-0000-0000-0000", "135790"); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("a wrong unlock code: %v", err)
	}
	if _, err := d.Reopen(setest.PIN); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("a wrong unlock code unlocked: %v", err)
	}
	if _, err := d.Unlock(d.UnlockCode, "12"); !errors.Is(err, se.ErrWeakPIN) {
		t.Fatalf("unlock to a weak PIN: %v", err)
	}
	s, err = d.Unlock(d.UnlockCode, "135790")
	if err != nil {
		t.Fatal(err)
	}
	if st := status(t, s); st.Balance != 700 || st.Counter != want.Counter {
		t.Fatalf("after unlock: %+v", st)
	}
	if _, err := d.Reopen(setest.PIN); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("the old PIN after unlock: %v", err)
	}
	if _, err := d.Reopen("135790"); err != nil {
		t.Fatalf("the new PIN: %v", err)
	}
}

// ChangePIN: the SE opened with its PIN takes a new one (not a weak one);
// only the new PIN opens it then. A new unlock code replaces the old.
func testChangePIN(t *testing.T, f Factory) {
	p := newPKI("contract")
	d := f(t)
	p.enrol(t, d.SE, "alice")
	pc, ok := d.SE.(se.PINChanger)
	if !ok {
		t.Fatalf("%T is not an se.PINChanger", d.SE)
	}
	if _, err := pc.ChangePIN("123"); !errors.Is(err, se.ErrWeakPIN) {
		t.Fatalf("a PIN shorter than the certificate's MinPIN: %v", err)
	}
	if code, err := pc.ChangePIN("975310"); err != nil || code != "" {
		t.Fatalf("change PIN: %q, %v", code, err)
	}
	if _, err := d.Reopen(setest.PIN); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("the old PIN: %v", err)
	}
	s, err := d.Reopen("975310")
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.(se.PINChanger).NewUnlockCode()
	if err != nil || code == "" || code == d.UnlockCode {
		t.Fatalf("new unlock code %q: %v", code, err)
	}
	if _, err := d.Unlock(d.UnlockCode, "112233"); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("the old unlock code: %v", err)
	}
	if _, err := d.Unlock(code, "112233"); err != nil {
		t.Fatalf("the new unlock code: %v", err)
	}
}

// SealData: data sealed under a label opens under that label only, in a
// new session too, and by no other SE; a changed blob, or one never
// sealed, is refused (CodeBadData).
func testSealData(t *testing.T, f Factory) {
	d, other := f(t), f(t)
	ds, ok := d.SE.(se.DataSealer)
	if !ok {
		t.Fatalf("%T is not an se.DataSealer", d.SE)
	}
	plain := []byte(`{"records":[{"counterparty":"bob","amount_minor":1250}]}`)
	sealed, err := ds.SealData("wallet/history", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("counterparty")) {
		t.Fatal("sealed data shows the plain text")
	}
	s, err := d.Reopen(setest.PIN)
	if err != nil {
		t.Fatal(err)
	}
	ds = s.(se.DataSealer)
	got, err := ds.OpenData("wallet/history", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open in a new session: %q %v", got, err)
	}
	for name, try := range map[string]func() error{
		"another label":  func() error { _, err := ds.OpenData("wallet/archive", sealed); return err },
		"another SE":     func() error { _, err := other.SE.(se.DataSealer).OpenData("wallet/history", sealed); return err },
		"a changed byte": func() error { _, err := ds.OpenData("wallet/history", flip(sealed, len(sealed)-1)); return err },
		"not sealed":     func() error { _, err := ds.OpenData("wallet/history", plain); return err },
	} {
		if err := try(); !errors.Is(err, se.ErrBadData) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
