// Package simse lets the simulator (internal/sim, `offpay sim`) create
// virtual SEs below the PIN-KDF floor (vse.MinKDF). A simulated world
// creates and reopens thousands of SEs that hold nobody's money, in a
// temporary folder removed after the run; at the floor's cost (about
// 0.1 s of CPU an unlock) a few thousand seeds would take hours.
//
// Only internal/sim may import this package; TestNoProductionPackageImportsSetest
// in se/vse fails if any other package does, so a wallet, a terminal or
// any other command of the offpay binary cannot reach the escape.
package simse

import (
	"github.com/offpay/offpay/se/internal/kdfescape"
	"github.com/offpay/offpay/se/vse"
)

// Options returns a copy of o whose KDF may be below the floor.
func Options(o vse.Options) *vse.Options {
	o.BelowFloorForTests = kdfescape.Get()
	return &o
}
