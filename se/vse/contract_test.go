package vse_test

import (
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/secontract"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// TestContract holds the virtual SE to the se.SE contract (se/secontract).
// A new session is vse.Open of its folder, as a wallet restarting.
func TestContract(t *testing.T) {
	t.Parallel()
	o := setest.Options(&vse.Options{MaxPINTries: 3})
	secontract.Run(t, func(t *testing.T) *secontract.Device {
		dir := filepath.Join(t.TempDir(), "se")
		v, err := vse.Create(dir, setest.PIN, o)
		if err != nil {
			t.Fatal(err)
		}
		return &secontract.Device{
			SE:         v,
			Reopen:     func(pin string) (se.SE, error) { return vse.Open(dir, pin, o) },
			Unlock:     func(code, pin string) (se.SE, error) { return vse.ResetPIN(dir, code, pin, o) },
			UnlockCode: v.UnlockCode(),
			MaxTries:   3,
		}
	})
}
