package bank_test

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/offpay/offpay/bank"
)

// A bank's webhook endpoint: verify the raw body and the headers first
// (v2), then process each idempotency key once, and answer 2xx only after
// the effect is durable, since any other answer makes the ledger deliver
// again. An account's events come in event_seq order; one that skips a
// number means an event is missing (a dead letter at the ledger: ask for
// a resend) and is refused until it comes, so that the ledger retries.
func ExampleVerifyRequest() {
	secret := []byte("the shared secret from the ledger's configuration")
	var mu sync.Mutex
	done := map[string]bool{}  // in a bank: a unique index in its database
	last := map[string]int64{} // account -> the last event_seq booked

	http.HandleFunc("/offpay", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := bank.VerifyRequest(secret, r.Header, body, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		ev, err := bank.ParseEvent(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if done[ev.ID] {
			w.WriteHeader(http.StatusNoContent) // a repeat: already booked
			return
		}
		if ev.EventSeq != last[ev.Account]+1 {
			http.Error(w, "out of sequence", http.StatusConflict)
			return
		}
		// ... book the movement described by ev.Data, in one transaction
		// with done and last ...
		done[ev.ID], last[ev.Account] = true, ev.EventSeq
		w.WriteHeader(http.StatusNoContent)
	})
}
