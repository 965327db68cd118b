package card_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/secontract"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// newCardSE makes the virtual SE of a new card (its memory) in a fresh
// folder and returns the folder and the unlock code made with it.
func newCardSE(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "card")
	v, err := vse.Create(dir, setest.PIN, opts())
	if err != nil {
		t.Fatal(err)
	}
	return dir, v.UnlockCode()
}

// cardDevice is the contract's Device for the card behind tr: a new
// session is SELECT and VERIFY again, unlocking RESET RETRY COUNTER.
func cardDevice(t *testing.T, tr card.Transmitter, code string) *secontract.Device {
	t.Helper()
	c, err := card.Open(tr, setest.PIN)
	if err != nil {
		t.Fatalf("open the card: %v\n%s", err, pcsctest.Log())
	}
	return &secontract.Device{
		SE:         c,
		Reopen:     func(pin string) (se.SE, error) { return card.Open(tr, pin) },
		Unlock:     func(code, pin string) (se.SE, error) { return card.Unlock(tr, code, pin) },
		UnlockCode: code,
		MaxTries:   opts().MaxPINTries,
	}
}

// TestContract holds the card to the se.SE contract (se/secontract)
// through the APDU interface alone, the applet in this process.
func TestContract(t *testing.T) {
	t.Parallel()
	secontract.Run(t, func(t *testing.T) *secontract.Device {
		dir, code := newCardSE(t)
		return cardDevice(t, direct{applet.New(dir, opts())}, code)
	})
}

// TestPCSCContract holds the card to the se.SE contract through pcscd,
// vsmartcard's virtual reader and a card process per SE: each Device a
// card in one of the reader's two slots, taken out when its test ends.
func TestPCSCContract(t *testing.T) {
	p := pcsctest.Daemon(t)
	var mu sync.Mutex
	used := make([]bool, len(pcsctest.Readers))
	secontract.Run(t, func(t *testing.T) *secontract.Device {
		mu.Lock()
		slot := -1
		for i, u := range used {
			if !u {
				slot = i
				break
			}
		}
		if slot < 0 {
			mu.Unlock()
			t.Fatalf("the contract asked for more cards than the reader's %d slots", len(used))
		}
		used[slot] = true
		mu.Unlock()
		// Registered first, so it runs last: after the card is out.
		t.Cleanup(func() { mu.Lock(); used[slot] = false; mu.Unlock() })
		dir, code := newCardSE(t)
		pcsctest.StartCard(t, dir, pcsctest.Readers[slot], 0)
		k := pcsctest.Connect(t, p, pcsctest.Readers[slot].Name)
		return cardDevice(t, k, code)
	})
}
