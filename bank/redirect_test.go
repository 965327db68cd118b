package bank

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRedirectIsAFailure: a receiver whose URL redirects (/hook ->
// /hook/, or http -> https at a load balancer) never got the POST. Go's
// client would follow a 302 with a GET, and a 2xx to that GET marked the
// notification delivered: dropped. Every 3xx must count as a failed
// attempt, retried, with the Location in the error so that the operator
// can fix the URL.
func TestRedirectIsAFailure(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var mu sync.Mutex
			var posts, others int
			mux := http.NewServeMux()
			mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/hook/", code)
			})
			mux.HandleFunc("/hook/", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if r.Method == http.MethodPost {
					posts++
				} else {
					others++
				}
				w.WriteHeader(http.StatusOK)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			c := &clock{t: time.Unix(1767225600, 0)}
			o := newFakeOutbox(c, 1)
			w := newTestWorker(t, o, c, srv.URL+"/hook")
			if _, err := w.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			it := o.items[0]
			mu.Lock()
			defer mu.Unlock()
			if it.delivered {
				t.Fatalf("a %d redirect marked the notification delivered (the receiver saw %d POSTs, %d other requests)", code, posts, others)
			}
			if posts+others != 0 {
				t.Fatalf("the worker followed the redirect: %d POSTs, %d other requests at the new location", posts, others)
			}
			if !strings.Contains(it.lastErr, "redirect") || !strings.Contains(it.lastErr, "/hook/") {
				t.Fatalf("last error %q does not say where it was redirected", it.lastErr)
			}
		})
	}
}
