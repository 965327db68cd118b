package bank

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
)

var update = flag.Bool("update", false, "rewrite spec/webhook/vectors.json")

const vectorFile = "../spec/webhook/vectors.json"

// webhookVector is one case of spec/webhook/vectors.json (SPEC.md
// section 19.6): a delivery as a receiver gets it, and whether it must
// accept it.
type webhookVector struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Secret      string            `json:"secret"`
	Now         int64             `json:"now"`
	Tolerance   int64             `json:"tolerance_seconds"`
	Headers     map[string]string `json:"headers"`
	Body        string            `json:"body"`
	Expect      string            `json:"expect"` // valid, no_signature, bad_signature, stale_signature
}

// vectorClasses maps the typed errors to the vectors' classes.
var vectorClasses = map[error]string{ErrNoSignature: "no_signature", ErrBadSignature: "bad_signature", ErrStaleSignature: "stale_signature"}

func makeVectors(t *testing.T) []webhookVector {
	const sec = "whsec-offpay-vector-secret-0001"
	now := time.Unix(1767225600, 0).UTC()
	n := &ledger.Notification{Kind: ledger.NotePaymentSettled, IdempotencyKey: "payment_settled:0f1e2d3c4b5a69788796a5b4c3d2e1f0:7:3b1c",
		Stream: "shop", Seq: 42, CreatedAt: now.Add(-2 * time.Second),
		Payload: []byte(`{"account":"shop","total_minor":1250,"currency":"EUR","booking_date":"2025-12-31","value_date":"2025-12-31","payments":[{"payer":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","counter":7,"payment_id":"3b1c","payee":"a1b2","amount_minor":1250,"currency":"EUR","status":"settled","payer_account":"alice","payee_account":"shop","paid_at":"2025-12-31T23:59:00Z","statement_line":{"account":"shop","seq":9}}]}`)}
	body, err := Body(n)
	if err != nil {
		t.Fatal(err)
	}
	headers := func(sig string) map[string]string {
		return map[string]string{"Content-Type": "application/json", SignatureHeader: sig, IdempotencyHeader: n.IdempotencyKey, EventHeader: n.Kind}
	}
	good := SignRequest([]byte(sec), now, n.IdempotencyKey, n.Kind, body)
	v2only := good[strings.Index(good, ",v2="):]
	v := func(name, desc string, h map[string]string, b []byte, nowOff time.Duration, expect string) webhookVector {
		return webhookVector{Name: name, Description: desc, Secret: sec, Now: now.Add(nowOff).Unix(), Tolerance: 300, Headers: h, Body: string(b), Expect: expect}
	}
	with := func(k, val string) map[string]string { h := headers(good); h[k] = val; return h }
	tampered := bytes.Replace(body, []byte(`"amount_minor":1250`), []byte(`"amount_minor":9250`), 1)
	rotated := "t=1767225600" + strings.Replace(SignRequest([]byte("an-old-secret-being-rotated-out"), now, n.IdempotencyKey, n.Kind, body), "t=1767225600", "", 1) + v2only
	return []webhookVector{
		v("valid", "a delivery as the ledger sends it", headers(good), body, time.Second, "valid"),
		v("valid-at-tolerance", "received 300 s after it was signed: still within the tolerance", headers(good), body, 300*time.Second, "valid"),
		v("valid-v2-only", "a header with t and v2 only", headers("t=1767225600"+v2only), body, 0, "valid"),
		v("valid-rotation", "two v2 values, one under an old secret, one under the receiver's", headers(rotated), body, 0, "valid"),
		v("valid-unknown-scheme", "an unknown scheme (v9) is ignored", headers(good+",v9=00"), body, 0, "valid"),
		v("body-changed", "one digit of an amount changed", headers(good), tampered, 0, "bad_signature"),
		v("body-whitespace", "a space added after the body", headers(good), append(append([]byte{}, body...), ' '), 0, "bad_signature"),
		v("key-header-changed", "the idempotency key header names another notification", with(IdempotencyHeader, "payment_settled:other"), body, 0, "bad_signature"),
		v("event-header-changed", "the event header says another kind", with(EventHeader, ledger.NotePaymentExpired), body, 0, "bad_signature"),
		v("timestamp-changed", "t moved by one second: the MACs no longer match", headers(strings.Replace(good, "t=1767225600", "t=1767225601", 1)), body, 0, "bad_signature"),
		v("wrong-secret", "signed under another secret", headers(SignRequest([]byte("not-the-receivers-secret-00000"), now, n.IdempotencyKey, n.Kind, body)), body, 0, "bad_signature"),
		v("stale", "received 301 s after it was signed: a replay", headers(good), body, 301*time.Second, "stale_signature"),
		v("from-the-future", "signed 301 s ahead of the receiver's clock", headers(good), body, -301*time.Second, "stale_signature"),
		v("v1-only", "v2 stripped: a v1 MAC does not cover the headers, so it is refused", headers(good[:strings.Index(good, ",v2=")]), body, 0, "no_signature"),
		v("no-header", "no signature header", with(SignatureHeader, ""), body, 0, "no_signature"),
		v("no-timestamp", "v2 without t", headers(v2only[1:]), body, 0, "no_signature"),
		v("two-timestamps", "t twice", headers("t=1767225600,"+good), body, 0, "no_signature"),
		v("short-mac", "a v2 of 2 bytes", headers("t=1767225600,v2=abcd"), body, 0, "no_signature"),
		v("negative-timestamp", "t below 0", headers("t=-1"+v2only), body, 0, "no_signature"),
		v("signed-timestamp", "t with a plus sign: digits only", headers("t=+1767225600"+v2only), body, 0, "no_signature"),
	}
}

func checkVector(v webhookVector) string {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	err := VerifyRequestAt([]byte(v.Secret), h, []byte(v.Body), time.Duration(v.Tolerance)*time.Second, time.Unix(v.Now, 0))
	if err == nil {
		return "valid"
	}
	for e, c := range vectorClasses {
		if errors.Is(err, e) {
			return c
		}
	}
	return "untyped: " + err.Error()
}

// TestWebhookVectors: spec/webhook/vectors.json is what this package
// generates, and VerifyRequest gives each vector its expected class
// (go test ./bank -run TestWebhookVectors -update rewrites the file).
func TestWebhookVectors(t *testing.T) {
	vs := makeVectors(t)
	b, err := json.MarshalIndent(map[string]any{"vectors": vs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(vectorFile)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("%s is not what this package generates (run go test ./bank -run TestWebhookVectors -update): %v", vectorFile, err)
	}
	for _, v := range vs {
		if c := checkVector(v); c != v.Expect {
			t.Errorf("%s: %s, want %s", v.Name, c, v.Expect)
		}
	}
}

// TestWebhookVectorsPython runs spec/webhook/verify.py, a receiver's
// check written from SPEC.md alone (standard library only), over the
// vectors; skipped where python3 is not installed.
func TestWebhookVectorsPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	out, err := exec.Command(py, "../spec/webhook/verify.py", vectorFile).CombinedOutput()
	if err != nil {
		t.Fatalf("spec/webhook/verify.py: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "20 vectors, 0 wrong") {
		t.Fatalf("spec/webhook/verify.py said:\n%s", out)
	}
}
