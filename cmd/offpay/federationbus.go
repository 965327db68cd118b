package main

import (
	"encoding/hex"
	"strings"

	"github.com/offpay/offpay/natsfwd"
	"github.com/offpay/offpay/protocol"
)

// busConfig names the scheme's JetStream stream and subjects after its
// root (README "Currencies"): a provider in several schemes runs one
// ledger per scheme, under the same provider name in each register, and
// the schemes may share a NATS server; with one stream for all, the
// ledger of one scheme would read (and refuse for good) the evidence
// meant for its ledger in another. Every provider of a scheme holds the
// same root, so they agree on the names without configuration.
func busConfig(root *protocol.Certificate) natsfwd.Config {
	id := root.ID()
	tag := hex.EncodeToString(id[:8])
	return natsfwd.Config{Stream: natsfwd.DefaultStream + "_" + strings.ToUpper(tag), Prefix: "offpay.forward." + tag + "."}
}
