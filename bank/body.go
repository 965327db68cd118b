package bank

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/offpay/offpay/ledger"
)

// SchemaVersion is the version of the webhook body: schema_version in
// every body. The body before it had no schema_version, account or
// event_seq; a receiver refuses versions it does not know.
const SchemaVersion = 2

// Body returns the webhook body of n (an Event). It holds nothing that
// changes between attempts, so every attempt of one notification sends
// the same bytes.
func Body(n *ledger.Notification) ([]byte, error) {
	if !json.Valid(n.Payload) {
		return nil, errors.New("payload is not JSON")
	}
	if n.Stream == "" && n.Seq == 0 {
		// Written before streams existed: the body it would have had then.
		return json.Marshal(struct {
			ID        string          `json:"id"`
			Kind      string          `json:"kind"`
			CreatedAt time.Time       `json:"created_at"`
			Data      json.RawMessage `json:"data"`
		}{n.IdempotencyKey, n.Kind, n.CreatedAt.UTC(), json.RawMessage(n.Payload)})
	}
	return json.Marshal(Event{SchemaVersion: SchemaVersion, ID: n.IdempotencyKey, Kind: n.Kind, Account: n.Stream, EventSeq: n.Seq,
		CreatedAt: n.CreatedAt.UTC(), Data: json.RawMessage(n.Payload)})
}

// setHeaders sets the headers of a delivery of n with body at time t.
func setHeaders(h http.Header, secret []byte, t time.Time, n *ledger.Notification, body []byte) {
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "offpay-ledger")
	h.Set(IdempotencyHeader, n.IdempotencyKey)
	h.Set(EventHeader, n.Kind)
	h.Set(SignatureHeader, SignRequest(secret, t, n.IdempotencyKey, n.Kind, body))
}
