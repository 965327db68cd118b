package card_test

import (
	"os"
	"testing"

	"github.com/offpay/offpay/se/card/pcsctest"
)

func TestMain(m *testing.M) {
	pcsctest.CardMain(opts()) // the test binary run again as a card process
	code := m.Run()
	pcsctest.Stop()
	os.Exit(code)
}
