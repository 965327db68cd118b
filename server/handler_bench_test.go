package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server/servertest"
)

// BenchmarkReserveHandler measures the HTTP layer's cost per device
// request (size check, decoding, rate limiter, metrics, access log,
// encoding) over the in-memory fake, whose own work is one Ed25519
// verification and one signature.
func BenchmarkReserveHandler(b *testing.B) {
	f := servertest.NewLedger()
	srv := newServer(f, Options{AdminToken: "t", Logger: discard(), RateLimit: RateLimit{Disabled: true}})
	if _, err := f.CreateAccount(b.Context(), "alice", false); err != nil {
		b.Fatal(err)
	}
	key := prototest.Ed25519Key("alice")
	er := &protocol.EnrolmentRequest{Version: 1, KeyAlg: key.Alg(), Key: key.PublicKey(), Account: "alice", Class: protocol.SEVirtual, Time: prototest.Epoch}
	if err := er.Sign(key); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Enrol(b.Context(), er); err != nil {
		b.Fatal(err)
	}
	rr := &protocol.ReserveRequest{Version: 1, Device: protocol.ComputeKeyID(key.Alg(), key.PublicKey()), Amount: 1, Currency: "EUR", Time: prototest.Epoch}
	if err := rr.Sign(key); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkReserveFakeAlone is the fake's own work, to subtract.
func BenchmarkReserveFakeAlone(b *testing.B) {
	f := servertest.NewLedger()
	if _, err := f.CreateAccount(b.Context(), "alice", false); err != nil {
		b.Fatal(err)
	}
	key := prototest.Ed25519Key("alice")
	er := &protocol.EnrolmentRequest{Version: 1, KeyAlg: key.Alg(), Key: key.PublicKey(), Account: "alice", Class: protocol.SEVirtual, Time: prototest.Epoch}
	if err := er.Sign(key); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Enrol(b.Context(), er); err != nil {
		b.Fatal(err)
	}
	rr := &protocol.ReserveRequest{Version: 1, Device: protocol.ComputeKeyID(key.Alg(), key.PublicKey()), Amount: 1, Currency: "EUR", Time: prototest.Epoch}
	if err := rr.Sign(key); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Reserve(b.Context(), rr); err != nil {
			b.Fatal(err)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
