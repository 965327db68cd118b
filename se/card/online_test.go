package card_test

import (
	"testing"
	"time"
)

// A wallet whose SE is a card pays a request online (PAY ONLINE over
// APDUs): the account pays, the card's purse and log are unchanged, and a
// retry pays nothing twice.
func TestWalletPaysOnlineFromCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca, _ := e.inProcess("alice")
	cb, _ := e.inProcess("bob")
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	before := status(t, ca, e.now.Load())
	req, err := b.Request(700, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rc, repeat, err := a.PayOnline(ctx, req, 0, nil)
		if err != nil || repeat != (i == 1) || rc.Amount != 700 {
			t.Fatalf("pay online %d: %v (repeat %v)", i, err, repeat)
		}
	}
	if after := status(t, ca, e.now.Load()); after.Balance != before.Balance || after.Counter != before.Counter {
		t.Fatalf("the card changed: %+v -> %+v", before, after)
	}
	if e.led.Balance("alice") != startBalance-700 || e.led.Balance("bob") != startBalance+700 {
		t.Fatalf("alice %d, bob %d", e.led.Balance("alice"), e.led.Balance("bob"))
	}
	if _, err := b.OnlineReceipt(ctx, req); err != nil {
		t.Fatal(err)
	}
	e.led.Check()
}
