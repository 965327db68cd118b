package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server/servertest"
)

func enrolmentRequest(t *testing.T, key protocol.Signer, account string) *protocol.EnrolmentRequest {
	t.Helper()
	r := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: key.Alg(), Key: key.PublicKey(),
		Account: account, Class: protocol.SEVirtual, Time: prototest.Epoch}
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	return r
}

func keyID(key protocol.Signer) protocol.KeyID {
	return protocol.ComputeKeyID(key.Alg(), key.PublicKey())
}

func reserveRequest(t *testing.T, key protocol.Signer, id byte, amount uint64) *protocol.ReserveRequest {
	t.Helper()
	r := &protocol.ReserveRequest{Version: protocol.Version, Device: keyID(key), RequestID: protocol.Nonce{id},
		Amount: amount, Currency: "EUR", Time: prototest.Epoch}
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	return r
}

func syncUpload(t *testing.T, key protocol.Signer) *protocol.SyncUpload {
	t.Helper()
	u := &protocol.SyncUpload{Version: protocol.Version, Device: keyID(key), Time: prototest.Epoch}
	if err := u.Sign(key); err != nil {
		t.Fatal(err)
	}
	return u
}

// decodeSet is what a client does with an application/offpay-set+cbor answer.
func decodeSet(t *testing.T, w *httptest.ResponseRecorder, n int) []protocol.Message {
	t.Helper()
	if w.Code != 200 || w.Header().Get("Content-Type") != ContentTypeSet {
		t.Fatalf("status %d, Content-Type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var set [][]byte
	if err := cbor.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set) != n {
		t.Fatalf("set of %d (want %d): %v", len(set), n, err)
	}
	out := make([]protocol.Message, n)
	for i, env := range set {
		m, err := protocol.Open(env)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		out[i] = m
	}
	return out
}

func enrolAlice(t *testing.T, h *harness, key protocol.Signer) *protocol.Certificate {
	t.Helper()
	w := h.do("POST", "/v1/enrol", "Bearer "+token, ContentType, protocol.Seal(enrolmentRequest(t, key, "alice")))
	ms := decodeSet(t, w, 4)
	return ms[0].(*protocol.Certificate)
}

func openEnvelope(t *testing.T, w *httptest.ResponseRecorder, m protocol.Message) {
	t.Helper()
	if w.Code != 200 || w.Header().Get("Content-Type") != ContentType {
		t.Fatalf("status %d, Content-Type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if err := protocol.OpenAs(w.Body.Bytes(), m); err != nil {
		t.Fatal(err)
	}
}

func TestDeviceRoundTrip(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{})
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	alice := prototest.Ed25519Key("alice")

	w := h.do("POST", "/v1/enrol", "Bearer "+token, ContentType, protocol.Seal(enrolmentRequest(t, alice, "alice")))
	ms := decodeSet(t, w, 4)
	dev, issuer, root, rl := ms[0].(*protocol.Certificate), ms[1].(*protocol.Certificate), ms[2].(*protocol.Certificate), ms[3].(*protocol.RevocationList)
	trust, err := protocol.NewTrust(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.AddIssuer(issuer); err != nil {
		t.Fatal(err)
	}
	if err := trust.VerifyDevice(dev, prototest.Epoch, rl); err != nil || dev.ID() != keyID(alice) {
		t.Fatalf("enrolled certificate does not verify: %v", err)
	}

	var load protocol.Load
	openEnvelope(t, h.device("/v1/reserve", reserveRequest(t, alice, 1, 2500)), &load)
	if load.Verify(issuer) != nil || load.Amount != 2500 || load.Device != dev.ID() {
		t.Fatalf("load %+v", load)
	}
	var res protocol.SyncResult
	openEnvelope(t, h.device("/v1/sync", syncUpload(t, alice)), &res)
	if res.Verify(issuer) != nil || res.Device != dev.ID() {
		t.Fatalf("sync result %+v", res)
	}
	var got protocol.RevocationList
	openEnvelope(t, h.do("GET", "/v1/revocation-list", "", "", nil), &got)
	if trust.VerifyRevocationList(&got) != nil {
		t.Fatal("revocation list does not verify")
	}
	ms = decodeSet(t, h.do("GET", "/v1/trust", "", "", nil), 2)
	if ms[0].(*protocol.Certificate).ID() != root.ID() || ms[1].(*protocol.Certificate).ID() != issuer.ID() {
		t.Fatal("trust answer is not [root, issuer]")
	}
	w = h.do("POST", "/v1/reserve", "", ContentType, protocol.Seal(reserveRequest(t, prototest.Ed25519Key("stranger"), 1, 5)))
	wantError(t, w, 401, offpay.EUNAUTHORIZED, "")
}

func TestBadDeviceBodies(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{RateLimit: RateLimit{Disabled: true}, ClientRateLimit: RateLimit{Disabled: true}})
	alice := prototest.Ed25519Key("alice")
	good := protocol.Seal(reserveRequest(t, alice, 1, 100))
	tampered := append([]byte{}, good...)
	tampered[len(tampered)-1] ^= 1 // in the signature: decodes, fails verification in the ledger
	noncanonical := append([]byte{good[0]}, append([]byte{0x9f}, good[2:]...)...)
	payment := protocol.Seal(&protocol.Payment{Version: 1, Amount: 1, Currency: "EUR", SigAlg: protocol.AlgEd25519, Sig: make([]byte, 64)})

	cases := []struct {
		name, path, ct string
		body           []byte
		status         int
		code           offpay.Code
		class          protocol.Class
	}{
		{"empty", "/v1/reserve", ContentType, nil, 400, offpay.EINVALID, protocol.ClassMalformed},
		{"garbage", "/v1/reserve", ContentType, []byte{byte(protocol.TypeReserve), 0xff, 0xfe, 0x00}, 400, offpay.EINVALID, protocol.ClassMalformed},
		{"unknown type", "/v1/sync", ContentType, []byte{0xee, 0x80}, 400, offpay.EINVALID, protocol.ClassUnknownType},
		{"payment to sync", "/v1/sync", ContentType, payment, 400, offpay.EINVALID, protocol.ClassUnknownType},
		{"reserve to sync", "/v1/sync", ContentType, good, 400, offpay.EINVALID, protocol.ClassUnknownType},
		{"trailing byte", "/v1/reserve", ContentType, append(append([]byte{}, good...), 0), 400, offpay.EINVALID, protocol.ClassTrailingBytes},
		{"non-canonical", "/v1/reserve", ContentType, noncanonical, 400, offpay.EINVALID, protocol.ClassMalformed},
		{"truncated", "/v1/reserve", ContentType, good[:len(good)-10], 400, offpay.EINVALID, protocol.ClassMalformed},
		{"wrong media type", "/v1/reserve", "application/json", good, 415, CodeUnsupportedMedia, ""},
		{"no media type", "/v1/reserve", "", good, 415, CodeUnsupportedMedia, ""},
		{"enrol without token", "/v1/enrol", ContentType, protocol.Seal(enrolmentRequest(t, alice, "alice")), 401, offpay.EUNAUTHORIZED, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.Calls
			w := h.do("POST", c.path, "", c.ct, c.body)
			if c.class == protocol.ClassMalformed && c.name == "non-canonical" {
				// An indefinite-length array is refused; which of the two
				// classes the decoder names is the protocol's business.
				d := errorOf(t, w)
				if w.Code != 400 || d.Code != offpay.EINVALID || (d.Class != protocol.ClassMalformed && d.Class != protocol.ClassNonCanonical) {
					t.Fatalf("non-canonical: %d %+v", w.Code, d)
				}
			} else {
				wantError(t, w, c.status, c.code, c.class)
			}
			if f.Calls != before {
				t.Fatal("a refused body reached the ledger")
			}
		})
	}
	// A body that decodes but whose signature is wrong reaches the ledger,
	// which refuses it: the server never trusts the device key it names.
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	enrolAlice(t, h, alice)
	wantError(t, h.do("POST", "/v1/reserve", "", ContentType, tampered), 401, offpay.EUNAUTHORIZED, protocol.ClassBadSignature)
}

// TestOversizeRefusedBeforeParsing sends bodies one byte above the limit,
// with and without a Content-Length: the server must refuse them with 413
// without handing anything to the decoder or the ledger.
func TestOversizeRefusedBeforeParsing(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{})
	for _, path := range []string{"/v1/reserve", "/v1/sync", "/v1/enrol"} {
		t.Run(path, func(t *testing.T) {
			typ := map[string]protocol.Type{"/v1/reserve": protocol.TypeReserve, "/v1/sync": protocol.TypeSyncUpload, "/v1/enrol": protocol.TypeEnrolment}[path]
			body := make([]byte, 2+protocol.MaxSize(typ))
			body[0] = byte(typ)
			for _, chunked := range []bool{false, true} {
				r := httptest.NewRequest("POST", path, bytes.NewReader(body))
				if chunked {
					r.ContentLength = -1
				}
				r.Header.Set("Content-Type", ContentType)
				r.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				h.srv.ServeHTTP(w, r)
				wantError(t, w, http.StatusRequestEntityTooLarge, CodeTooLarge, protocol.ClassOversize)
			}
			// Exactly at the limit is read and handed to the decoder.
			w := h.do("POST", path, "Bearer "+token, ContentType, body[:len(body)-1])
			if d := errorOf(t, w); w.Code != 400 || d.Class == protocol.ClassOversize || d.Class == "" {
				t.Fatalf("a body at the limit: %d %+v", w.Code, d)
			}
		})
	}
	if f.Calls != 0 {
		t.Fatal("oversize bodies reached the ledger")
	}
}

func TestRateLimitPerDevice(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{RateLimit: RateLimit{PerSecond: 1, Burst: 2}})
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	alice, bob := prototest.Ed25519Key("alice"), prototest.Ed25519Key("bob")
	enrolAlice(t, h, alice)
	enrolAlice(t, h, bob)
	// Enrolment is the operator's request: the device's bucket is full.
	if w := h.device("/v1/reserve", reserveRequest(t, alice, 1, 1)); w.Code != 200 {
		t.Fatalf("first request: %d %s", w.Code, w.Body)
	}
	if w := h.device("/v1/reserve", reserveRequest(t, alice, 2, 1)); w.Code != 200 {
		t.Fatalf("second request: %d %s", w.Code, w.Body)
	}
	w := h.device("/v1/sync", syncUpload(t, alice))
	wantError(t, w, http.StatusTooManyRequests, CodeRateLimited, "")
	if ra := w.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1", ra)
	}
	if w := h.device("/v1/sync", syncUpload(t, bob)); w.Code != 200 {
		t.Fatalf("another device was limited too: %d", w.Code)
	}
	h.advance(time.Second)
	if w := h.device("/v1/sync", syncUpload(t, alice)); w.Code != 200 {
		t.Fatalf("after the refill: %d %s", w.Code, w.Body)
	}
}

func TestRateLimitPerClientOnReads(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{ClientRateLimit: RateLimit{PerSecond: 1, Burst: 2}})
	for i, want := range []int{200, 200, 429} {
		if w := h.do("GET", "/v1/trust", "", "", nil); w.Code != want {
			t.Fatalf("read %d: %d, want %d", i, w.Code, want)
		}
	}
	r := httptest.NewRequest("GET", "/v1/revocation-list", nil)
	r.RemoteAddr = "198.51.100.7:4000"
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("another client was limited too: %d", w.Code)
	}
}

// TestForgeriesDoNotDrainADevice: requests naming alice's key but signed by
// another key must not use up alice's bucket; they use up the sender's.
func TestForgeriesDoNotDrainADevice(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{RateLimit: RateLimit{PerSecond: 1, Burst: 3}, ClientRateLimit: RateLimit{PerSecond: 1, Burst: 3}})
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	alice := prototest.Ed25519Key("alice")
	enrolAlice(t, h, alice)
	forged := reserveRequest(t, alice, 9, 1)
	if err := forged.Sign(prototest.Ed25519Key("mallory")); err != nil {
		t.Fatal(err)
	}
	forged.Device = keyID(alice)
	codes := ""
	for range 6 {
		w := h.do("POST", "/v1/reserve", "", ContentType, protocol.Seal(forged))
		codes += fmt.Sprint(w.Code, " ")
	}
	if codes != "401 401 401 429 429 429 " {
		t.Fatalf("forgeries answered %s", codes)
	}
	// Alice, from another address, still has her two tokens.
	for i := range 2 {
		r := httptest.NewRequest("POST", "/v1/reserve", bytes.NewReader(protocol.Seal(reserveRequest(t, alice, byte(i), 1))))
		r.RemoteAddr = "198.51.100.7:4000"
		r.Header.Set("Content-Type", ContentType)
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("alice's request %d after forgeries: %d %s", i, w.Code, w.Body)
		}
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(RateLimit{PerSecond: 1, Burst: 1, MaxKeys: 100}, func() time.Time { return now }, 2, 20)
	for i := range 10000 {
		l.allow(fmt.Sprint("dev:", i))
		if l.size() > 100 {
			t.Fatalf("%d buckets held, limit 100", l.size())
		}
	}
	// A drained bucket is still remembered right after eviction rounds
	// when it is among the newest.
	if ok, _ := l.allow("dev:9999"); ok {
		t.Fatal("the newest drained bucket was forgotten")
	}
	if !strings.HasPrefix(retryAfterHeader(l, "dev:9999"), "1") {
		t.Fatal("retry after not computed")
	}
}

func retryAfterHeader(l *limiter, key string) string {
	_, wait := l.allow(key)
	return fmt.Sprint(retryAfterSeconds(wait))
}
