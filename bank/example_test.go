package bank_test

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/offpay/offpay/bank"
)

// A bank's webhook endpoint: verify the raw body first, then process each
// idempotency key once, and answer 2xx only after the effect is durable,
// since any other answer makes the ledger deliver again.
func ExampleVerify() {
	secret := []byte("the shared secret from the ledger's configuration")
	var mu sync.Mutex
	done := map[string]bool{} // in a bank: a unique index in its database

	http.HandleFunc("/offpay", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := bank.Verify(secret, r.Header.Get(bank.SignatureHeader), body, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(bank.IdempotencyHeader)
		mu.Lock()
		defer mu.Unlock()
		if !done[key] {
			// ... book the movement described by body ...
			done[key] = true
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
