package bank

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
)

func TestVerify(t *testing.T) {
	now := time.Unix(1767225600, 0)
	body := []byte(`{"id":"pay-1","kind":"payment_settled","data":{"amount_minor":1250}}`)
	good := Sign(secret, now, body)
	other := Sign([]byte("another-secret-0123456789"), now, body)
	cases := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, good, body, now, nil},
		{"valid within tolerance", secret, good, body, now.Add(4 * time.Minute), nil},
		{"tampered body", secret, good, []byte(`{"id":"pay-1","kind":"payment_settled","data":{"amount_minor":9250}}`), now, ErrBadSignature},
		{"body with trailing space", secret, good, append(append([]byte{}, body...), ' '), now, ErrBadSignature},
		{"wrong secret", []byte("another-secret-0123456789"), good, body, now, ErrBadSignature},
		{"timestamp moved", secret, "t=1767225601," + good[len("t=1767225600,"):], body, now, ErrBadSignature},
		{"stale replay", secret, good, body, now.Add(6 * time.Minute), ErrStaleSignature},
		{"from the future", secret, good, body, now.Add(-6 * time.Minute), ErrStaleSignature},
		{"rotation: old and new", secret, other + "," + good[len("t=1767225600,"):], body, now, nil},
		{"empty header", secret, "", body, now, ErrNoSignature},
		{"no v1", secret, "t=1767225600", body, now, ErrNoSignature},
		{"no t", secret, good[len("t=1767225600,"):], body, now, ErrNoSignature},
		{"two t", secret, "t=1767225600," + good, body, now, ErrNoSignature},
		{"bad hex", secret, "t=1767225600,v1=zz", body, now, ErrNoSignature},
		{"short mac", secret, "t=1767225600,v1=abcd", body, now, ErrNoSignature},
		{"negative t", secret, "t=-5,v1=" + good[len("t=1767225600,v1="):], body, now, ErrNoSignature},
	}
	for _, c := range cases {
		err := VerifyAt(c.secret, c.header, c.body, 5*time.Minute, c.now)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzVerify: whatever the header, Verify accepts only when the header
// names the correct MAC of the body for its timestamp, and every refusal is
// one of the three typed errors.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1767225600, 0)
	f.Add(Sign(secret, now, []byte("{}")), []byte("{}"))
	f.Add("t=1767225600,v1=00", []byte(""))
	f.Add("v0=x, t=1767225600 ,v1="+strings.Repeat("ab", 32), []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := VerifyAt(secret, header, body, time.Minute, now)
		if err == nil {
			var ts string
			for _, part := range strings.Split(header, ",") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
					ts = v
				}
			}
			if !strings.Contains(header, "v1="+hex.EncodeToString(mac(secret, ts, body))) {
				t.Fatalf("header %q accepted without the body's MAC", header)
			}
			return
		}
		if !errors.Is(err, ErrNoSignature) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrStaleSignature) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// TestHeadersAreSigned: v2 covers the idempotency key and event headers,
// so a receiver keying by them cannot be fed a delivery under another
// key or kind; v1 covers the body only (it still verifies such a
// delivery, which is why VerifyRequest refuses a header without v2).
func TestHeadersAreSigned(t *testing.T) {
	now := time.Unix(1767225600, 0)
	body := []byte(`{"schema_version":2,"id":"account_changed:alice:3","kind":"account_changed"}`)
	sig := SignRequest(secret, now, "account_changed:alice:3", "account_changed", body)
	h := func(key, kind, sig string) http.Header {
		return http.Header{SignatureHeader: {sig}, IdempotencyHeader: {key}, EventHeader: {kind}}
	}
	if err := VerifyRequestAt(secret, h("account_changed:alice:3", "account_changed", sig), body, time.Minute, now); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []http.Header{
		h("account_changed:alice:4", "account_changed", sig),
		h("account_changed:alice:3", "payment_settled", sig),
	} {
		if err := VerifyRequestAt(secret, bad, body, time.Minute, now); !errors.Is(err, ErrBadSignature) {
			t.Errorf("headers %v: %v, want a bad signature", bad, err)
		}
		if err := VerifyAt(secret, bad.Get(SignatureHeader), body, time.Minute, now); err != nil {
			t.Errorf("v1 refused a delivery whose body is intact: %v", err)
		}
	}
	v1 := sig[:strings.Index(sig, ",v2=")]
	if err := VerifyRequestAt(secret, h("account_changed:alice:3", "account_changed", v1), body, time.Minute, now); !errors.Is(err, ErrNoSignature) {
		t.Errorf("v2 stripped: %v, want no signature", err)
	}
	two := http.Header{SignatureHeader: {sig}, IdempotencyHeader: {"account_changed:alice:3", "x"}, EventHeader: {"account_changed"}}
	if err := VerifyRequestAt(secret, two, body, time.Minute, now); !errors.Is(err, ErrNoSignature) {
		t.Errorf("two key headers: %v", err)
	}
}

// TestLegacyBody: a notification written before streams existed (a ledger
// upgraded with notifications pending) goes out as the body it would have
// had then, which ParseEvent refuses as of no known schema version.
func TestLegacyBody(t *testing.T) {
	n := &ledger.Notification{IdempotencyKey: "account_changed:alice:1", Kind: "account_changed", CreatedAt: time.Unix(1767225600, 0),
		Payload: []byte(`{"account":"alice","seq":1}`)}
	b, err := Body(n)
	if err != nil || string(b) != `{"id":"account_changed:alice:1","kind":"account_changed","created_at":"2026-01-01T00:00:00Z","data":{"account":"alice","seq":1}}` {
		t.Fatalf("legacy body %s, %v", b, err)
	}
	if _, err := ParseEvent(b); err == nil {
		t.Fatal("ParseEvent took a body without schema_version")
	}
	n.Stream, n.Seq = "alice", 1
	if b, err = Body(n); err != nil || !strings.HasPrefix(string(b), `{"schema_version":2,`) {
		t.Fatalf("body %s, %v", b, err)
	}
}
