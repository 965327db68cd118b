package ledgerclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// recorder is a transport that records what would have been sent and
// answers 503, so that nothing leaves the process.
type recorder struct {
	mu   sync.Mutex
	sent []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent = append(r.sent, req)
	r.mu.Unlock()
	return &http.Response{StatusCode: 503, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// TestNoTokenOrEnrolmentOverPlainRemoteHTTP: the administrator token and
// enrolments never go over plain HTTP to a host that is not loopback (the
// finding: wallet init --ledger http://... handed the token to a fake
// server). Nothing is sent: no request reaches the transport. HTTPS, the
// loopback addresses and an explicit AllowInsecure are let through.
func TestNoTokenOrEnrolmentOverPlainRemoteHTTP(t *testing.T) {
	p := prototest.NewPKI("insecure")
	enrol := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: protocol.AlgEd25519,
		Key: p.Issuer.Key, Account: "alice", Class: protocol.SEVirtual, Time: 1}
	ctx := context.Background()
	for _, remote := range []string{"http://192.0.2.1:8420", "http://ledger.example", "http://10.0.0.7:8420/base"} {
		rec := &recorder{}
		_, err := New(remote, Options{AdminToken: "secret", HTTPClient: &http.Client{Transport: rec}})
		if !errors.Is(err, ErrInsecure) {
			t.Fatalf("%s: New with a token: %v", remote, err)
		}
		c, err := New(remote, Options{HTTPClient: &http.Client{Transport: rec}, Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Enrol(ctx, enrol); !errors.Is(err, ErrInsecure) {
			t.Fatalf("%s: enrol: %v", remote, err)
		}
		if _, err := c.Report(ctx); !errors.Is(err, ErrInsecure) {
			t.Fatalf("%s: admin call: %v", remote, err)
		}
		if _, err := c.EnrolWithCode(ctx, enrol, "ABCD-EFGH"); !errors.Is(err, ErrInsecure) {
			t.Fatalf("%s: enrolment with a code: %v", remote, err)
		}
		if rec.count() != 0 {
			t.Fatalf("%s: %d requests sent", remote, rec.count())
		}
		// Device calls carry no secret: signed messages, still allowed.
		c.Health(ctx)
		if rec.count() != 1 {
			t.Fatalf("%s: health not sent", remote)
		}
		// Explicitly allowed, the token goes.
		rec2 := &recorder{}
		c2, err := New(remote, Options{AdminToken: "secret", AllowInsecure: true, HTTPClient: &http.Client{Transport: rec2}, Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		c2.Report(ctx)
		if rec2.count() != 1 || !strings.Contains(rec2.sent[0].Header.Get("Authorization"), "secret") {
			t.Fatalf("%s: insecure allowed, token not sent", remote)
		}
	}
	for _, ok := range []string{"https://ledger.example", "http://127.0.0.1:8420", "http://127.9.9.9", "http://localhost:1", "http://[::1]:8420"} {
		rec := &recorder{}
		c, err := New(ok, Options{AdminToken: "secret", HTTPClient: &http.Client{Transport: rec}, Retries: -1})
		if err != nil {
			t.Fatalf("%s: %v", ok, err)
		}
		c.Enrol(ctx, enrol)
		if rec.count() != 1 {
			t.Fatalf("%s: enrolment not sent", ok)
		}
		u, _ := url.Parse(ok)
		if PlainRemote(u) {
			t.Fatalf("%s counted as plain remote", ok)
		}
	}
}
