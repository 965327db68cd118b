package wallet_test

import (
	"errors"
	"flag"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

// TestConservationProperty runs random sequences of reserves, payments
// (completed, torn after the payee accepted, or lost before it), late
// deliveries, redeems, syncs and clock jumps (a claim window at a time
// too, so that unclaimed payments expire) over four wallets, and checks
// after every step that value is conserved: the purses plus the payments
// no payee has accepted equal what was loaded minus what was redeemed or
// returned to the payer's account by expiry.
//
// Every step fsyncs, so the default is a modest number of runs; pass
// -rapid.checks=N for more.
func TestConservationProperty(t *testing.T) {
	t.Parallel()
	setDefaultFlag("rapid.checks", "10")
	rapid.Check(t, func(rt *rapid.T) {
		e := newEnv(t)
		e.t = rt
		names := []string{"w0", "w1", "w2", "w3"}
		ws := make([]*wallet.Wallet, len(names))
		for i, n := range names {
			ws[i] = e.wallet(fmt.Sprintf("%s-%d", n, e.now.Load()))
		}
		var loaded, redeemed uint64
		inFlight := map[protocol.Hash]uint64{} // paid, not accepted by the payee
		payer := map[protocol.Hash]int{}
		lost := map[protocol.Hash][]byte{} // bundle never delivered
		lostTo := map[protocol.Hash]int{}
		pick := func(label string) int { return rapid.IntRange(0, len(ws)-1).Draw(rt, label) }

		rt.Repeat(map[string]func(*rapid.T){
			"reserve": func(rt *rapid.T) {
				amt := rapid.Uint64Range(1, 40000).Draw(rt, "amount")
				err := ws[pick("who")].Reserve(ctx, amt)
				if err == nil {
					loaded += amt
				} else if !errors.Is(err, se.ErrLimit) {
					rt.Fatal(err)
				}
			},
			"pay": func(rt *rapid.T) {
				i, j := pick("from"), pick("to")
				if i == j {
					rt.Skip("self")
				}
				amt := rapid.Uint64Range(1, 25000).Draw(rt, "amount")
				mode := rapid.SampledFrom([]string{"full", "torn", "lost"}).Draw(rt, "mode")
				req, err := ws[j].Request(amt, time.Minute)
				if err != nil {
					rt.Fatal(err)
				}
				wire, err := ws[i].Pay(req, 0)
				if err != nil {
					if se.CodeOf(err) == "" {
						rt.Fatal(err)
					}
					return // refused: limits, balance, days offline
				}
				var b protocol.PaymentBundle
				if err := protocol.OpenAs(wire, &b); err != nil {
					rt.Fatal(err)
				}
				id := b.Payment.ID()
				inFlight[id], payer[id] = amt, i
				if mode == "lost" {
					lost[id], lostTo[id] = wire, j
					return
				}
				rc, err := ws[j].Accept(wire)
				if err != nil {
					if se.CodeOf(err) == "" {
						rt.Fatal(err)
					}
					return // e.g. the payee's holding limit
				}
				delete(inFlight, id)
				if mode == "full" {
					if err := ws[i].Confirm(rc); err != nil {
						rt.Fatal(err)
					}
				}
			},
			"deliver late": func(rt *rapid.T) {
				for id, wire := range lost {
					if _, err := ws[lostTo[id]].Accept(wire); err == nil {
						delete(inFlight, id)
					}
					delete(lost, id)
					return
				}
			},
			"redeem": func(rt *rapid.T) {
				amt := rapid.Uint64Range(1, 20000).Draw(rt, "amount")
				if err := ws[pick("who")].Redeem(amt); err == nil {
					redeemed += amt
				} else if !errors.Is(err, se.ErrInsufficientFunds) {
					rt.Fatal(err)
				}
			},
			"sync": func(rt *rapid.T) {
				if err := ws[pick("who")].Sync(ctx); err != nil {
					rt.Fatal(err)
				}
			},
			"time passes": func(rt *rapid.T) {
				e.now.Add(uint64(rapid.IntRange(1, 72).Draw(rt, "hours")) * 3600)
			},
			"claim window passes": func(rt *rapid.T) {
				e.now.Add(protocol.ClaimWindow)
			},
			"everyone syncs twice": func(rt *rapid.T) {
				for range 2 {
					for _, w := range ws {
						if err := w.Sync(ctx); err != nil {
							rt.Fatal(err)
						}
					}
				}
			},
			"": func(rt *rapid.T) {
				// A payment its payee can no longer claim expires: the
				// ledger returns it to the payer's account, as a redeem.
				for id, v := range inFlight {
					for _, r := range ws[payer[id]].History() {
						if r.ID == id.String() && r.State == wallet.Expired {
							redeemed += v
							delete(inFlight, id)
						}
					}
				}
				var purses, pending, flying uint64
				for _, w := range ws {
					s := st(rt, w)
					purses += s.Available
					pending += s.Pending
				}
				for _, v := range inFlight {
					flying += v
				}
				if purses+flying != loaded-redeemed {
					rt.Fatalf("purses %d + in flight %d != loaded %d - redeemed %d", purses, flying, loaded, redeemed)
				}
				if flying > pending {
					rt.Fatalf("in flight %d but only %d pending on payers", flying, pending)
				}
			},
		})
	})
}

// setDefaultFlag sets a flag unless the command line set it.
func setDefaultFlag(name, value string) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if !set {
		if err := flag.Set(name, value); err != nil {
			panic(err)
		}
	}
}
