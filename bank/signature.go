package bank

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a delivery's signature, in the
// form "t=<unix seconds>,v1=<hex HMAC-SHA256>,v2=<hex HMAC-SHA256>" (SPEC.md
// section 19). v2 covers the timestamp, the idempotency key, the event kind
// and the exact body bytes (VerifyRequest); v1, kept for receivers written
// before v2, covers the timestamp and the body only (Verify). A receiver
// verifies the raw body before decoding it.
const SignatureHeader = "Offpay-Signature"

// IdempotencyHeader carries the notification's idempotency key: every
// attempt of one notification carries the same key, so a receiver that
// records the keys it has processed turns at-least-once into exactly-once.
const IdempotencyHeader = "Offpay-Idempotency-Key"

// EventHeader names the notification's kind (payment_settled, ...).
const EventHeader = "Offpay-Event"

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Verification failures. Every error Verify returns matches exactly one of
// them with errors.Is.
var (
	ErrNoSignature    = errors.New("bank: missing or malformed signature header")
	ErrBadSignature   = errors.New("bank: signature does not match the body")
	ErrStaleSignature = errors.New("bank: signature timestamp outside the tolerance")
)

// Sign returns a signature header value for body at time t with v1 only
// (body and timestamp). The worker signs with SignRequest.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// SignRequest returns the signature header value of a delivery of the
// notification key of kind with body at time t: v1 and v2.
func SignRequest(secret []byte, t time.Time, key, kind string, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body)) + ",v2=" + hex.EncodeToString(mac2(secret, ts, key, kind, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// v2Context starts the v2 signing input: a v2 MAC cannot be taken for a
// MAC of anything else the secret signs.
const v2Context = "offpay-webhook-v2"

// mac2 is the v2 MAC: over the context, the timestamp, the key and the
// kind, each followed by a line feed (which no header value holds), then
// the body.
func mac2(secret []byte, ts, key, kind string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, s := range []string{v2Context, ts, key, kind} {
		m.Write([]byte(s))
		m.Write([]byte{'\n'})
	}
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a signature header's v1 MAC against the raw body with the
// shared secret, and that its timestamp is within tolerance of the current
// time (DefaultTolerance if tolerance <= 0), which bounds how long a
// captured delivery can be replayed. It does not cover the idempotency key
// and event headers: a receiver that reads them from the headers uses
// VerifyRequest. Several v1 values are accepted so that a sender can sign
// with an old and a new secret during a rotation.
func Verify(secret []byte, header string, body []byte, tolerance time.Duration) error {
	return VerifyAt(secret, header, body, tolerance, time.Now())
}

// VerifyAt is Verify with the receiver's clock given.
func VerifyAt(secret []byte, header string, body []byte, tolerance time.Duration, now time.Time) error {
	sig, err := parseSignature(header)
	if err != nil {
		return err
	}
	if len(sig.v1) == 0 {
		return fmt.Errorf("%w: no v1", ErrNoSignature)
	}
	return sig.check(sig.v1, mac(secret, sig.ts, body), tolerance, now)
}

// VerifyRequest checks a delivery's v2 MAC, which covers the timestamp,
// the Offpay-Idempotency-Key and Offpay-Event headers and the raw body,
// and the timestamp's distance from the current time as Verify does. A
// header without v2 is refused (ErrNoSignature), so that stripping v2
// cannot downgrade a delivery to v1.
func VerifyRequest(secret []byte, h http.Header, body []byte, tolerance time.Duration) error {
	return VerifyRequestAt(secret, h, body, tolerance, time.Now())
}

// VerifyRequestAt is VerifyRequest with the receiver's clock given.
func VerifyRequestAt(secret []byte, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	sig, err := parseSignature(h.Get(SignatureHeader))
	if err != nil {
		return err
	}
	if len(sig.v2) == 0 {
		return fmt.Errorf("%w: no v2", ErrNoSignature)
	}
	for _, name := range []string{IdempotencyHeader, EventHeader} {
		if len(h.Values(name)) != 1 {
			return fmt.Errorf("%w: %d %s headers", ErrNoSignature, len(h.Values(name)), name)
		}
	}
	return sig.check(sig.v2, mac2(secret, sig.ts, h.Get(IdempotencyHeader), h.Get(EventHeader), body), tolerance, now)
}

type signature struct {
	ts     string
	sec    int64
	v1, v2 [][]byte
}

func parseSignature(header string) (*signature, error) {
	sig := &signature{}
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%w: element %q", ErrNoSignature, part)
		}
		switch k {
		case "t":
			if sig.ts != "" {
				return nil, fmt.Errorf("%w: two timestamps", ErrNoSignature)
			}
			sig.ts = v
		case "v1", "v2":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("%w: %s is not a hex SHA-256 MAC", ErrNoSignature, k)
			}
			if k == "v1" {
				sig.v1 = append(sig.v1, b)
			} else {
				sig.v2 = append(sig.v2, b)
			}
		}
		// Other schemes are ignored so that a sender can add one later.
	}
	if sig.ts == "" {
		return nil, fmt.Errorf("%w: no t", ErrNoSignature)
	}
	sec, err := strconv.ParseInt(sig.ts, 10, 64)
	if err != nil || strings.Trim(sig.ts, "0123456789") != "" {
		return nil, fmt.Errorf("%w: bad timestamp", ErrNoSignature)
	}
	sig.sec = sec
	return sig, nil
}

// check compares every candidate with want, in constant time, then the
// timestamp: only an authentic but old delivery is reported as stale.
func (s *signature) check(cands [][]byte, want []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ok := false
	for _, c := range cands {
		if hmac.Equal(c, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	d := now.Sub(time.Unix(s.sec, 0))
	if d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off", ErrStaleSignature, d.Round(time.Second))
	}
	return nil
}
