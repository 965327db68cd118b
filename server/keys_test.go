package server

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// forger holds a public key nobody has a secret for and "signs" everything
// with R = identity, S = 0. Under the cofactored (ZIP-215) equation that
// signature verifies every message under every key of small order.
type forger struct{ key []byte }

func (f forger) Alg() protocol.Alg { return protocol.AlgEd25519 }
func (f forger) PublicKey() []byte { return f.key }
func (f forger) Sign([]byte) ([]byte, error) {
	sig := make([]byte, protocol.SigSize)
	sig[0] = 1 // R = the identity point's encoding, S = 0
	return sig, nil
}

// weakKeys are the 14 encodings of the 8 points of small order (the A
// values of the ZIP-215 test vectors: 8 canonical, 6 not), and a
// non-canonical encoding (y = p + 3) of a point that is not of small order.
var weakKeys = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

// TestSmallOrderKeyEnrolmentRefused enrols, over the real HTTP API on
// loopback and a real SQLite ledger, a device whose key is of small order
// (or non-canonical) and whose every signature is the fixed forgery. Before
// keys were checked, the ledger certified such keys, and the forger then
// reserved, synced and paid with no secret at all. Each attempt must get a
// typed 400 (invalid, bad_key) and change nothing; the forger's reserve and
// sync find no device.
func TestSmallOrderKeyEnrolmentRefused(t *testing.T) {
	svc, _ := realLedger(t)
	ts := httptest.NewServer(New(svc, Options{AdminToken: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	post := func(path string, auth bool, contentType string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	get := func(path string) []byte {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	body, _ := json.Marshal(CreateAccountRequest{Name: "mallory"})
	if code, b := post("/v1/admin/accounts", true, "application/json", body); code != 201 {
		t.Fatalf("create account: %d %s", code, b)
	}
	body, _ = json.Marshal(MoveRequest{Amount: 10000, Ref: "d-1"})
	if code, b := post("/v1/admin/accounts/mallory/deposit", true, "application/json", body); code != 200 {
		t.Fatalf("deposit: %d %s", code, b)
	}
	state := func() []byte {
		return append(get("/v1/admin/report"), get("/v1/admin/accounts/mallory/statement")...)
	}
	before := state()

	for _, h := range weakKeys {
		key, _ := hex.DecodeString(h)
		d := &ledgertest.Device{Key: forger{key}, ID: protocol.ComputeKeyID(protocol.AlgEd25519, key), Currency: "EUR", Time: prototest.Epoch}
		code, b := post("/v1/enrol", true, ContentType, protocol.Seal(d.EnrolmentAt("mallory", uint64(time.Now().Unix()))))
		var eb ErrorBody
		if err := json.Unmarshal(b, &eb); err != nil || code != http.StatusBadRequest ||
			eb.Error.Code != offpay.EINVALID || eb.Error.Class != protocol.ClassBadKey {
			t.Fatalf("enrol with key %s: %d %.300q, want 400 invalid bad_key", h, code, b)
		}
		// With no certificate there is nothing to reserve into or sync.
		if code, b := post("/v1/reserve", false, ContentType, protocol.Seal(d.Reserve(500, 1))); code != http.StatusUnauthorized {
			t.Fatalf("reserve by the refused device %s: %d %s", h, code, b)
		}
		if code, b := post("/v1/sync", false, ContentType, protocol.Seal(d.UploadAll())); code != http.StatusUnauthorized {
			t.Fatalf("sync by the refused device %s: %d %s", h, code, b)
		}
	}
	if after := state(); !bytes.Equal(before, after) {
		t.Fatalf("refused enrolments changed the ledger:\nbefore %s\nafter  %s", before, after)
	}

	// An ordinary key still enrols.
	honest := ledgertest.NewDevice("honest", "EUR")
	if code, b := post("/v1/enrol", true, ContentType, protocol.Seal(honest.EnrolmentAt("mallory", uint64(time.Now().Unix())))); code != 200 {
		t.Fatalf("honest enrolment: %d %s", code, b)
	}
}
