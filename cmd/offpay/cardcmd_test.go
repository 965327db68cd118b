package main

import (
	"fmt"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

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
