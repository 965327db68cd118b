package storetest

import (
	"flag"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"pgregory.net/rapid"
)

var world atomic.Int64

// testOrderIndependence uploads one set of device logs (payments between
// persons and a merchant, spending of received value, a redeem, and a
// cloned SE paying twice) in random orders, with prefixes and repeats, and
// checks that the ledger always ends in the same state. Each run lives in
// its own accounts and keys on one store, so runs are cheap.
func testOrderIndependence(t *testing.T, open Opener) {
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == f.DefValue {
		// Many runs over a real database cost seconds: 20 by default
		// (5 with -short), more with -rapid.checks.
		checks := "20"
		if testing.Short() {
			checks = "5"
		}
		f.Value.Set(checks)
		defer f.Value.Set(f.DefValue)
	}
	e := NewEnv(t, open)
	rapid.Check(t, func(rt *rapid.T) {
		n := world.Add(1)
		acct := func(x string) string { return fmt.Sprintf("w%d%s", n, x) }
		e.Account(acct("a"), false, 200)
		e.Account(acct("b"), false, 50)
		e.Account(acct("c"), false, 0)
		e.Account(acct("m"), true, 0)
		e.Account(acct("d"), false, 60)
		dev := func(x string) *ledgertest.Device { return e.Device(fmt.Sprintf("world%d-%s", n, x), acct(x)) }
		a, b, c, m, d := dev("a"), dev("b"), dev("c"), dev("m"), dev("d")
		e.Load(a, 100)
		e.Load(b, 50)
		e.Load(d, 50)
		d2 := d.Clone()
		b.Receive(a.Pay(b.ID, 30))
		m.Receive(a.Pay(m.ID, 20))
		c.Receive(b.Pay(c.ID, 60))
		c.Redeem(40)
		m.Receive(d.Pay(m.ID, 40))
		c.Receive(d2.Pay(c.ID, 40))
		devs := []*ledgertest.Device{a, b, c, m, d, d2}
		upload := func(x *ledgertest.Device, to uint64) {
			_, err := e.Svc.Sync(e.Ctx, x.Upload(1, to))
			if err != nil && !((x == d || x == d2) && offpay.ErrorCode(err) == offpay.EFORBIDDEN) {
				rt.Fatalf("sync: %v", err)
			}
		}
		steps := rapid.SliceOfN(rapid.IntRange(0, 1000), 0, 12).Draw(rt, "steps")
		for _, s := range steps {
			x := devs[s%len(devs)]
			upload(x, uint64(1+(s/len(devs))%int(x.Counter())))
		}
		for _, i := range rapid.Permutation([]int{0, 1, 2, 3, 4, 5}).Draw(rt, "final") {
			upload(devs[i], devs[i].Counter())
		}
		r := e.Conserved()
		got := map[string]string{}
		for _, dr := range r.Devices {
			got[dr.Device] = fmt.Sprintf("L%d S%d R%d D%d W%d P%d %s", dr.Loaded, dr.Sent, dr.Received, dr.Redeemed, dr.Swept, dr.Position, dr.Status)
		}
		want := map[*ledgertest.Device]string{
			a: "L100 S50 R0 D0 W0 P50 active",
			b: "L50 S60 R30 D0 W0 P20 active",
			c: "L0 S0 R100 D40 W0 P60 active",
			m: "L0 S0 R60 D0 W60 P0 active",
			d: "L50 S80 R0 D0 W0 P-30 revoked",
		}
		for x, w := range want {
			if got[x.ID.String()] != w {
				rt.Fatalf("device %v: %s, want %s", x.ID, got[x.ID.String()], w)
			}
		}
		for x, w := range map[string]int64{"a": 100, "b": 0, "c": 40, "m": 60, "d": 0} {
			if bal := e.Balance(acct(x)); bal != w {
				rt.Fatalf("account %s: %d, want %d", x, bal, w)
			}
		}
		proofs := 0
		for _, p := range r.DoubleSpends {
			if p.Device == d.ID.String() {
				proofs++
				if p.Counter != 2 {
					rt.Fatalf("proof at counter %d", p.Counter)
				}
			}
		}
		if proofs != 1 {
			rt.Fatalf("%d proofs for the clone", proofs)
		}
		// Every payment of the honest devices reads settled.
		for _, x := range []*ledgertest.Device{a, b, c, m} {
			res := e.SyncAll(x)
			for _, st := range res.Statuses {
				if st.Status != protocol.StatusSettled {
					rt.Fatalf("status %d for a payment of %v", st.Status, x.ID)
				}
			}
			if len(res.Missing) != 0 {
				rt.Fatalf("missing %v", res.Missing)
			}
		}
	})
}
