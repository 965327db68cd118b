package vse_test

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

var codeForm = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

// payAndSpill gives a an enrolled purse whose log has spilled to its log
// file (LogSpill 3), and sealed data: what a new PIN must keep readable.
func payAndSpill(t *testing.T, f *fixture) []byte {
	t.Helper()
	f.load(t, f.a, 5000)
	for range 3 {
		pay(t, f.a, f.b, 100)
	}
	sealed, err := f.a.SealData("history", []byte("alice's history"))
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// TestUnlockCodeSetsANewPINAfterLockout: Create shows an unlock code once;
// after MaxPINTries wrong PINs the SE is locked, a wrong code changes
// nothing, and the right one sets a new PIN and ends the lockout. The
// purse, the log (its file too) and the sealed data are all there, under
// the new PIN only.
func TestUnlockCodeSetsANewPINAfterLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &vse.Options{LogSpill: 3})
	code := f.a.UnlockCode()
	if !codeForm.MatchString(code) {
		t.Fatalf("unlock code %q", code)
	}
	if again := f.a.UnlockCode(); again != "" {
		t.Fatalf("the code shown twice: %q", again)
	}
	sealed := payAndSpill(t, f)
	before := status(t, f.a)
	for range 5 {
		_, _ = vse.Open(f.dirA, "000000", setest.Options(nil))
	}
	if _, err := vse.Open(f.dirA, setest.PIN, setest.Options(nil)); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("after 5 wrong PINs: %v", err)
	}
	for _, wrong := range []string{"0000-0000-0000-0000", code[:len(code)-1], "not a code"} {
		if _, err := vse.ResetPIN(f.dirA, wrong, "135799", setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
			t.Fatalf("wrong code %q: %v", wrong, err)
		}
	}
	if _, err := vse.Open(f.dirA, setest.PIN, setest.Options(nil)); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("a wrong code lifted the lockout: %v", err)
	}
	// Typed in lower case, with spaces and O for 0: the same code.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	typed = strings.ReplaceAll(typed, "0", "o")
	v, err := vse.ResetPIN(f.dirA, typed, "135799", setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	if status(t, v) != before {
		t.Fatal("the reset changed the purse")
	}
	v2, err := vse.Open(f.dirA, "135799", setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	if status(t, v2) != before {
		t.Fatal("reopened with the new PIN, the purse differs")
	}
	if es, err := v2.Log(1); err != nil || uint64(len(es)) != before.Counter {
		t.Fatalf("log after the reset: %d entries, %v", len(es), err)
	}
	if plain, err := v2.OpenData("history", sealed); err != nil || string(plain) != "alice's history" {
		t.Fatalf("sealed data after the reset: %q %v", plain, err)
	}
	if _, err := vse.Open(f.dirA, setest.PIN, setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("the old PIN after the reset: %v", err)
	}
	// The code still works, for the next lockout; a new code replaces it.
	v3, err := vse.ResetPIN(f.dirA, code, "246802", setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := v3.NewUnlockCode()
	if err != nil || !codeForm.MatchString(fresh) || fresh == code {
		t.Fatalf("new code %q: %v", fresh, err)
	}
	if _, err := vse.ResetPIN(f.dirA, code, "111111", setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("the replaced code: %v", err)
	}
	if _, err := vse.ResetPIN(f.dirA, fresh, "111111", setest.Options(nil)); err != nil {
		t.Fatal(err)
	}
}

// TestChangePIN: the new PIN opens the SE, the old one no longer does;
// the purse, the log file and the sealed data stay; a PIN shorter than
// the certificate asks is refused and changes nothing.
func TestChangePIN(t *testing.T) {
	t.Parallel()
	p := prototest.NewPKI("vse")
	p.Limits.MinPIN = 6
	f := &fixture{pki: p, dirA: filepath.Join(t.TempDir(), "a"), dirB: filepath.Join(t.TempDir(), "b"), seq: map[protocol.KeyID]uint64{}}
	f.a = setest.New(t, p, f.dirA, "alice", 10, &vse.Options{LogSpill: 3})
	f.b = setest.New(t, p, f.dirB, "bob", 11, nil)
	sealed := payAndSpill(t, f)
	before := status(t, f.a)
	if _, err := f.a.ChangePIN("12345"); !errors.Is(err, se.ErrWeakPIN) {
		t.Fatalf("a 5-character PIN under a 6-character policy: %v", err)
	}
	code, err := f.a.ChangePIN("97531864")
	if err != nil || code != "" {
		t.Fatalf("change: code %q, %v", code, err)
	}
	if status(t, f.a) != before {
		t.Fatal("the change moved the purse")
	}
	dirA := f.dirA
	if _, err := vse.Open(dirA, setest.PIN, setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("the old PIN: %v", err)
	}
	v, err := vse.Open(dirA, "97531864", setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	if status(t, v) != before {
		t.Fatal("reopened, the purse differs")
	}
	if es, err := v.Log(1); err != nil || uint64(len(es)) != before.Counter {
		t.Fatalf("log: %d entries, %v", len(es), err)
	}
	if plain, err := v.OpenData("history", sealed); err != nil || string(plain) != "alice's history" {
		t.Fatalf("sealed data: %q %v", plain, err)
	}
}

// TestOldSEGetsAnUnlockCode: an SE made before unlock codes (version 1
// state file) opens as before, cannot be reset, and gets its code at its
// first PIN change, its device key kept.
func TestOldSEGetsAnUnlockCode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "old")
	old, err := vse.CreateV1ForTest(dir, setest.PIN, setest.Options(&vse.Options{LogSpill: 3}))
	if err != nil {
		t.Fatal(err)
	}
	id := old.ID()
	if n, _ := vse.StateVersionForTest(dir); n != 1 {
		t.Fatalf("format %d", n)
	}
	if _, err := vse.ResetPIN(dir, "0000-0000-0000-0000", "135799", setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
		t.Fatalf("reset without a code: %v", err)
	}
	v, err := vse.Open(dir, setest.PIN, setest.Options(&vse.Options{LogSpill: 3}))
	if err != nil {
		t.Fatal(err)
	}
	code, err := v.ChangePIN("135799")
	if err != nil || !codeForm.MatchString(code) {
		t.Fatalf("first change of an old SE: code %q, %v", code, err)
	}
	if n, _ := vse.StateVersionForTest(dir); n != 2 {
		t.Fatalf("format %d after the change", n)
	}
	if w, err := vse.Open(dir, "135799", setest.Options(nil)); err != nil || w.ID() != id {
		t.Fatalf("reopened after the change: %v", err)
	}
	if _, err := vse.ResetPIN(dir, code, "246802", setest.Options(nil)); err != nil {
		t.Fatal(err)
	}
}

// TestChangePINCrash: a crash at the state write of a PIN change leaves
// the old PIN (before the rename) or the new one (after), never neither.
func TestChangePINCrash(t *testing.T) {
	t.Parallel()
	for _, stage := range []atomicfile.Stage{atomicfile.BeforeRename, atomicfile.AfterRename} {
		f := newFixture(t, nil)
		f.load(t, f.a, 5000)
		crash := false
		v, err := vse.Open(f.dirA, setest.PIN, setest.Options(&vse.Options{Hook: func(name string, s atomicfile.Stage) bool {
			return crash && name == vse.StateFile && s == stage
		}}))
		if err != nil {
			t.Fatal(err)
		}
		crash = true
		if _, err := v.ChangePIN("135799"); err == nil {
			t.Fatalf("%v: the crash did not happen", stage)
		}
		want, other := setest.PIN, "135799"
		if stage == atomicfile.AfterRename {
			want, other = other, want
		}
		w, err := vse.Open(f.dirA, want, setest.Options(nil))
		if err != nil {
			t.Fatalf("%v: %v", stage, err)
		}
		if st := status(t, w); st.Balance != 5000 {
			t.Fatalf("%v: balance %d", stage, st.Balance)
		}
		if _, err := vse.Open(f.dirA, other, setest.Options(nil)); !errors.Is(err, se.ErrBadPIN) {
			t.Fatalf("%v: the other PIN: %v", stage, err)
		}
	}
}
