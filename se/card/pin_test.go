package card_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
)

// checkLockout runs wrong PINs against the card behind tr until it locks:
// 63C2, 63C1, 63C0, then 6983 even for the right PIN, and no operation
// without a verified PIN (6982).
func checkLockout(t *testing.T, tr card.Transmitter) {
	t.Helper()
	for want := 2; want >= 0; want-- {
		_, err := card.Open(tr, "999999")
		var r *card.Refusal
		if !errors.As(err, &r) || r.Tries != want || !errors.Is(err, se.ErrBadPIN) {
			t.Fatalf("wrong PIN with %d tries left: %v", want, err)
		}
	}
	if _, err := card.Open(tr, setest.PIN); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("the right PIN on a locked card: %v", err)
	}
	raw, err := tr.Transmit(apdu.Command{Cla: apdu.ClaProprietary, Ins: apdu.InsStatus, Data: []byte{0x81, 0x01}, Le: 256}.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := apdu.ParseResponse(raw); r.SW != apdu.SWNotVerified || len(r.Data) != 0 {
		t.Fatalf("GET STATUS on a locked card: %X", raw)
	}
	raw, _ = tr.Transmit(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsVerify, P2: 0x80}.Marshal())
	if r, _ := apdu.ParseResponse(raw); r.SW != apdu.SWLocked {
		t.Fatalf("VERIFY without data on a locked card: %X", raw)
	}
}

func TestPINRetriesLockTheCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := applet.New(e.seDir("alice"), opts())
	c, err := card.Open(direct{a}, setest.PIN)
	if err != nil {
		t.Fatal(err)
	}
	// A right PIN resets the count: two wrong, one right, then the full three.
	for range 2 {
		if err := c.Login("000000"); !errors.Is(err, se.ErrBadPIN) {
			t.Fatal(err)
		}
	}
	if err := c.Login(setest.PIN); err != nil {
		t.Fatal(err)
	}
	if n, err := c.TriesLeft(); err != nil || n != -1 {
		t.Fatalf("tries left after the right PIN: %d, %v", n, err)
	}
	checkLockout(t, direct{a})
	// A reset (power cycle) does not give tries back.
	a.Reset()
	if _, err := card.Open(direct{a}, setest.PIN); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("after a reset: %v", err)
	}
}

func TestPCSCPINRetriesLockTheCard(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	k, _, _ := e.reader(p, "alice", 0, 0)
	checkLockout(t, k)
}
