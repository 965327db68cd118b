package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server/servertest"
)

// FuzzDeviceEndpoints sends arbitrary bodies to the device endpoints: the
// answer is always a 2xx envelope or a JSON error with a known code, never
// a 500, and nothing that fails to decode reaches the ledger.
func FuzzDeviceEndpoints(f *testing.F) {
	key := prototest.Ed25519Key("fuzz")
	rr := &protocol.ReserveRequest{Version: 1, Device: protocol.ComputeKeyID(key.Alg(), key.PublicKey()), Amount: 5, Currency: "EUR", Time: prototest.Epoch}
	if err := rr.Sign(key); err != nil {
		f.Fatal(err)
	}
	up := &protocol.SyncUpload{Version: 1, Device: rr.Device, Time: prototest.Epoch}
	if err := up.Sign(key); err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{protocol.Seal(rr), protocol.Seal(up), {}, {0}, {13, 0x80}, {10, 0x9f, 0xff}} {
		for which := range uint8(4) {
			f.Add(which, seed)
		}
	}
	fake := servertest.NewLedger()
	if _, err := fake.CreateAccount(context.Background(), "fuzz", false); err != nil {
		f.Fatal(err)
	}
	en := &protocol.EnrolmentRequest{Version: 1, KeyAlg: key.Alg(), Key: key.PublicKey(), Account: "fuzz", Class: protocol.SEVirtual, Time: prototest.Epoch}
	if err := en.Sign(key); err != nil {
		f.Fatal(err)
	}
	if _, err := fake.Enrol(context.Background(), en); err != nil {
		f.Fatal(err)
	}
	// Without limits the ledger authenticates; with them the server does
	// first, on the bytes (PeekDeviceSignature), and keeps a replay cache.
	open := newServer(fake, Options{AdminToken: token, Logger: discard(), RateLimit: RateLimit{Disabled: true}, ClientRateLimit: RateLimit{Disabled: true}})
	many := RateLimit{PerSecond: 1e9, Burst: 1 << 30}
	limited := newServer(fake, Options{AdminToken: token, Logger: discard(), RateLimit: many, ClientRateLimit: many})
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path, typ := "/v1/reserve", protocol.TypeReserve
		if which%2 == 1 {
			path, typ = "/v1/sync", protocol.TypeSyncUpload
		}
		srv := open
		if which%4 >= 2 {
			srv = limited
		}
		fake.Lock()
		before := fake.Calls
		fake.Unlock()
		r := httptest.NewRequest("POST", path, bytes.NewReader(body))
		r.Header.Set("Content-Type", ContentType)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		fake.Lock()
		called := fake.Calls != before
		fake.Unlock()
		if w.Code/100 == 2 {
			return
		}
		var eb ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || statusOf[eb.Error.Code] != w.Code || w.Code == 500 {
			t.Fatalf("status %d, body %s", w.Code, w.Body)
		}
		if called && protocol.OpenAs(body, mustNew(typ)) != nil {
			t.Fatal("an undecodable body reached the ledger")
		}
	})
}

func mustNew(t protocol.Type) protocol.Message {
	m, err := protocol.New(t)
	if err != nil {
		panic(err)
	}
	return m
}
