package bank

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a delivery's signature, in the
// form "t=<unix seconds>,v1=<hex HMAC-SHA256>". The MAC covers the
// timestamp, a dot and the exact body bytes, so a receiver must verify the
// raw body before decoding it.
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

// Sign returns the signature header value for body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a signature header against the raw body with the shared
// secret, and that its timestamp is within tolerance of the current time
// (DefaultTolerance if tolerance <= 0), which bounds how long a captured
// delivery can be replayed. Several v1 values are accepted so that a
// sender can sign with an old and a new secret during a rotation.
func Verify(secret []byte, header string, body []byte, tolerance time.Duration) error {
	return VerifyAt(secret, header, body, tolerance, time.Now())
}

// VerifyAt is Verify with the receiver's clock given.
func VerifyAt(secret []byte, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: element %q", ErrNoSignature, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two timestamps", ErrNoSignature)
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return fmt.Errorf("%w: v1 is not a hex SHA-256 MAC", ErrNoSignature)
			}
			sigs = append(sigs, b)
		}
		// Other schemes are ignored so that a sender can add one later.
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: need t and v1", ErrNoSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 {
		return fmt.Errorf("%w: bad timestamp", ErrNoSignature)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		// Compare every candidate, in constant time, before deciding.
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	// The timestamp is checked after the MAC so that only an authentic but
	// old delivery is reported as stale.
	d := now.Sub(time.Unix(sec, 0))
	if d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off", ErrStaleSignature, d.Round(time.Second))
	}
	return nil
}
