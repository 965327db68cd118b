package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
)

// FuzzSyncEndpoint posts arbitrary bodies to POST /v1/sync of the real
// HTTP API over a real ledger on SQLite. Seeds are valid uploads of a
// small fleet (so the fuzzer mutates well-formed, well-signed logs) and
// damaged copies of them. Whatever the body: no panic, never a 5xx, and
// an answer that is not a success leaves the ledger's whole state (its
// reconciliation report, every device's counters and totals) unchanged.
func FuzzSyncEndpoint(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		f.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{})
	off := server.RateLimit{Disabled: true}
	h := server.New(svc, server.Options{AdminToken: "fuzz", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RateLimit: off, ClientRateLimit: off})
	fleet, err := bench.NewFleet(ctx, bench.ServiceAdmin{Service: svc}, "EUR", 3, 2)
	if err != nil {
		f.Fatal(err)
	}
	for _, round := range fleet.Rounds {
		for _, up := range round {
			wire := protocol.Seal(up)
			f.Add(wire)
			f.Add(wire[:len(wire)/2])
			flipped := bytes.Clone(wire)
			flipped[len(flipped)-70] ^= 0x01 // inside the last entry's signature or body
			f.Add(flipped)
			tampered := *up
			tampered.Entries = append([]protocol.LogEntry(nil), up.Entries...)
			tampered.Entries[0].Time++ // an entry changed, upload re-signed: the entry's signature fails
			f.Add(protocol.Seal(fleet.Devices[0].Upload(tampered.Entries)))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{byte(protocol.TypeSyncUpload)})
	state := func(t *testing.T) []byte {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		r, err := svc.Report(ctx)
		if err != nil {
			buf := make([]byte, 1<<20)
			t.Fatalf("report: %v\n%s", err, buf[:runtime.Stack(buf, true)])
		}
		b, _ := json.Marshal(r)
		return b
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := state(t)
		req := httptest.NewRequest(http.MethodPost, "/v1/sync", bytes.NewReader(body))
		req.Header.Set("Content-Type", server.ContentType)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); h.ServeHTTP(w, req) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("no answer after 10 s to a %d-byte body %x\n%s", len(body), body, buf[:runtime.Stack(buf, true)])
		}
		if w.Code >= 500 {
			t.Fatalf("status %d for a %d-byte body: %s", w.Code, len(body), w.Body)
		}
		if w.Code/100 == 2 {
			return
		}
		if after := state(t); !bytes.Equal(before, after) {
			t.Fatalf("status %d, yet the ledger changed:\nbefore %s\nafter  %s", w.Code, before, after)
		}
	})
}
