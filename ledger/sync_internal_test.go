package ledger

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

func TestMarshalEntryMatchesCanonical(t *testing.T) {
	k := prototest.Ed25519Key("me")
	for _, body := range [][]byte{{}, {1}, bytes.Repeat([]byte{7}, 300)} {
		e := protocol.LogEntry{Version: protocol.Version, Counter: 3, Kind: protocol.EntryPay, Time: 99, Body: body}
		if err := e.Sign(k); err != nil {
			t.Fatal(err)
		}
		if got, want := marshalEntry(e.SigningInput(), &e), e.Marshal(); !bytes.Equal(got, want) {
			t.Fatalf("marshalEntry differs from Marshal for a %d-byte body", len(body))
		}
	}
}
