package sim

import (
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// The hop limit: how many times value received offline may be paid on
// before a ledger has seen it (protocol.Limits.MaxHops).

// HopsSupported says whether the ledger's limits have a hop limit (they
// do; kept for the curves' sweep table).
func HopsSupported() bool { return true }

// withHops returns pol with the hop limit set to hops for people and
// merchants (hops 0: pol unchanged).
func withHops(pol ledger.Policy, hops uint64) (ledger.Policy, error) {
	if hops == 0 {
		return pol, nil
	}
	for _, l := range []*protocol.Limits{&pol.Person, &pol.Merchant} {
		l.MaxHops = hops
	}
	return pol, nil
}
