package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/pcsctest"
)

// [pcsc]: pcscd, the vpcd driver and libpcsclite are here; with
// OFFPAY_REQUIRE_PCSC=1 (CI) their absence fails the script.
func pcscCondition() (bool, error) {
	err := pcsctest.Available()
	if err != nil && pcsctest.Required() {
		return false, fmt.Errorf("%v, and OFFPAY_REQUIRE_PCSC=1", err)
	}
	return err == nil, nil
}

// pcscd: run pcscd with the virtual reader for this script (waiting for
// any other test binary using it to finish); it stops when the script
// ends. $READER_A and $READER_B are its two slots' addresses, for card
// emulate --reader.
// Scripts run in parallel, and the virtual reader's slots are fixed: one
// script at a time has it (pcsctest's lock is per process).
func cmdPCSCD(ts *testscript.TestScript, neg bool, args []string) {
	pcscScript.Lock()
	if err := pcsctest.Start(); err != nil {
		pcscScript.Unlock()
		ts.Fatalf("pcscd: %v\n%s", err, pcsctest.Log())
	}
	ts.Setenv("READER_A", pcsctest.Readers[0].Addr())
	ts.Setenv("READER_B", pcsctest.Readers[1].Addr())
	ts.Defer(func() {
		pcsctest.Stop()
		pcscScript.Unlock()
	})
}

var pcscScript sync.Mutex

// cardout READER: wait (up to 10 s) until pcscd sees no card in the
// reader named READER: a card process stopped, before another card is put
// in its slot (else pcscd may take the new card for the old one).
func cmdCardOut(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: cardout READER")
	}
	ctx, err := pcsc.New()
	ts.Check(err)
	defer ctx.Close()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		k, err := ctx.Connect(args[0])
		if err != nil {
			return
		}
		k.Close()
	}
	ts.Fatalf("a card is still in %s", args[0])
}
