package card_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/pcsctest"
)

// checkLongData seals and opens 2,000 bytes: a chained command of 8
// blocks each way and an answer fetched with GET RESPONSE.
func checkLongData(t *testing.T, s interface {
	se.DataSealer
	RoundTrips() uint64
}) {
	t.Helper()
	plain := bytes.Repeat([]byte("offpay card "), 170)[:2000]
	n := s.RoundTrips()
	sealed, err := s.SealData("history", plain)
	if err != nil {
		t.Fatal(err)
	}
	// The command in blocks of 255 bytes, the answer in pieces of 256:
	// the first with the last block's answer, the others by GET RESPONSE.
	args := len(enc(t, apdu.DataArgs{Label: "history", Data: plain}))
	want := (args+254)/255 + (len(sealed)+255)/256 - 1
	if trips := s.RoundTrips() - n; trips != uint64(want) || want < 14 {
		t.Fatalf("sealing 2,000 bytes took %d APDUs, want %d (args %d, sealed %d)", trips, want, args, len(sealed))
	}
	got, err := s.OpenData("history", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.OpenData("history", sealed); !errors.Is(err, se.ErrBadData) {
		t.Fatalf("open a changed blob: %v", err)
	}
}

func TestLongMessagesChained(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _ := e.inProcess("alice")
	checkLongData(t, c)
}

func TestPCSCLongMessagesChained(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	k, _, _ := e.reader(p, "alice", 0, 0)
	checkLongData(t, login(t, k))
}
