package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server/servertest"
)

// stubLedger answers every reserve with one precomputed Load, so that a
// benchmark through it measures the HTTP layer alone.
type stubLedger struct {
	*servertest.Ledger
	load *protocol.Load
}

func (s stubLedger) Reserve(context.Context, *protocol.ReserveRequest) (*protocol.Load, error) {
	return s.load, nil
}

// BenchmarkReserveHandler measures the HTTP layer's cost per device
// request: content type and size checks, decoding and validating the
// envelope, the per-device rate limiter, metrics, the JSON access log and
// sealing the answer. The ledger's work is excluded (a stub).
func BenchmarkReserveHandler(b *testing.B) {
	f := servertest.NewLedger()
	key := prototest.Ed25519Key("alice")
	rr := &protocol.ReserveRequest{Version: 1, Device: protocol.ComputeKeyID(key.Alg(), key.PublicKey()), Amount: 1, Currency: "EUR", Time: prototest.Epoch}
	if err := rr.Sign(key); err != nil {
		b.Fatal(err)
	}
	stub := stubLedger{Ledger: f, load: f.PKI.Load(rr.Device, 1, 1, prototest.Epoch)}
	srv := newServer(stub, Options{AdminToken: "t", Logger: discard(), RateLimit: RateLimit{PerSecond: 1e9, Burst: 1 << 30}})
	body := protocol.Seal(rr)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/reserve", bytes.NewReader(body))
		r.Header.Set("Content-Type", ContentType)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
