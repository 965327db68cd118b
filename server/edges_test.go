package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server/servertest"
)

// live is a harness served over a real listener on loopback (wrapped by
// Listener, as ledger serve does): every request comes from 127.0.0.1.
type live struct {
	*harness
	url string
	hc  *http.Client
}

func newLive(t *testing.T, l Ledger, opts Options) *live {
	h := newHarness(t, l, opts)
	ts := httptest.NewUnstartedServer(h.srv)
	ts.Listener = Listener(ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	return &live{harness: h, url: ts.URL, hc: ts.Client()}
}

// send sends one request and returns the status, the error code (if the
// answer is a JSON error) and the body.
func (l *live) send(method, path, auth, ct string, body []byte, hdr ...string) (int, offpay.Code, []byte) {
	l.t.Helper()
	req, err := http.NewRequest(method, l.url+path, bytes.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.t.Fatal(err)
	}
	var eb ErrorBody
	if resp.Header.Get("Content-Type") == "application/json" {
		_ = json.Unmarshal(b, &eb)
	}
	return resp.StatusCode, eb.Error.Code, b
}

func (l *live) adminJSON(method, path string, v any) (int, offpay.Code, []byte) {
	l.t.Helper()
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	return l.send(method, path, "Bearer "+token, "application/json", body)
}

func (l *live) envelope(path string, m protocol.Message) (int, offpay.Code, []byte) {
	l.t.Helper()
	return l.send(http.MethodPost, path, "", ContentType, protocol.Seal(m))
}

// enrolLive opens account with deposit and enrols a simulated device for
// it through the API.
func enrolLive(t *testing.T, l *live, label, account string, deposit int64) *ledgertest.Device {
	t.Helper()
	if st, _, b := l.adminJSON("POST", "/v1/admin/accounts", CreateAccountRequest{Name: account}); st != 201 {
		t.Fatalf("create %s: %d %s", account, st, b)
	}
	if deposit > 0 {
		if st, _, b := l.adminJSON("POST", "/v1/admin/accounts/"+account+"/deposit", MoveRequest{Amount: deposit, Ref: "dep-" + account}); st != 200 {
			t.Fatalf("deposit: %d %s", st, b)
		}
	}
	d := ledgertest.NewDevice(label, "EUR")
	st, _, b := l.send("POST", "/v1/enrol", "Bearer "+token, ContentType, protocol.Seal(d.EnrolmentAt(account, uint64(time.Now().Unix()))))
	if st != 200 {
		t.Fatalf("enrol: %d %s", st, b)
	}
	return d
}

// forgedUpload is d's upload signed by another key: it names d.
func forgedUpload(d *ledgertest.Device, i int) *protocol.SyncUpload {
	u := d.UploadAll()
	u.Time += uint64(i)
	if err := u.Sign(prototest.Ed25519Key(fmt.Sprint("mallory", i))); err != nil {
		panic(err)
	}
	return u
}

// counting is a Ledger that counts (and may slow) the calls that do work.
type counting struct {
	Ledger
	syncs, reserves atomic.Int64
	delay           time.Duration
}

func (c *counting) Sync(ctx context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error) {
	c.syncs.Add(1)
	time.Sleep(c.delay)
	return c.Ledger.Sync(ctx, up)
}

func (c *counting) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	c.reserves.Add(1)
	return c.Ledger.Reserve(ctx, r)
}

// TestFloodFromOneAddressLocksOutNobody (issue 17, finding 1): from one
// address over loopback, a flood of forged device signatures (naming an
// enrolled device, and naming nobody) and of wrong administrator tokens,
// on a real ledger; then an honest device and the operator, from the same
// address, are served, and the device has its whole budget. The flood
// itself is refused once its own buckets are empty. Before, forgeries and
// wrong tokens shared one bucket per address that every request from the
// address was refused by.
func TestFloodFromOneAddressLocksOutNobody(t *testing.T) {
	svc, _ := realLedger(t)
	l := newLive(t, svc, Options{RateLimit: RateLimit{PerSecond: 1, Burst: 3}, ClientRateLimit: RateLimit{PerSecond: 1, Burst: 5}})
	alice := enrolLive(t, l, "flood-alice", "alice", 10000)

	got := map[string][]int{}
	for i := range 40 {
		st, _, _ := l.envelope("/v1/sync", forgedUpload(alice, i))
		got["forged"] = append(got["forged"], st)
		nobody := ledgertest.NewDevice(fmt.Sprint("nobody", i), "EUR")
		st, _, _ = l.envelope("/v1/reserve", nobody.Reserve(5, 1))
		got["unknown"] = append(got["unknown"], st)
		st, _, _ = l.send("GET", "/v1/admin/report", fmt.Sprint("Bearer guess-", i), "", nil)
		got["token"] = append(got["token"], st)
	}
	// Forged and unknown signers share the address's forgery bucket (5).
	count := func(sts []int, code int) (n int) {
		for _, s := range sts {
			if s == code {
				n++
			}
		}
		return n
	}
	if n401 := count(got["forged"], 401) + count(got["unknown"], 401); n401 != 5 || count(got["forged"], 429)+count(got["unknown"], 429) != 75 {
		t.Fatalf("forgeries answered %v / %v", got["forged"], got["unknown"])
	}
	if count(got["token"], 401) != 5 || count(got["token"], 429) != 35 {
		t.Fatalf("wrong tokens answered %v", got["token"])
	}

	// The operator, from the same address.
	if st, _, b := l.adminJSON("GET", "/v1/admin/report", nil); st != 200 {
		t.Fatalf("the operator's token after the flood: %d %s", st, b)
	}
	if st, _, b := l.adminJSON("POST", "/v1/admin/accounts/alice/deposit", MoveRequest{Amount: 5, Ref: "after-flood"}); st != 200 {
		t.Fatalf("the operator's deposit after the flood: %d %s", st, b)
	}
	// The device, from the same address: its three tokens are all there.
	st, _, b := l.envelope("/v1/reserve", alice.Reserve(2500, 1))
	if st != 200 {
		t.Fatalf("honest reserve after the flood: %d %s", st, b)
	}
	var load protocol.Load
	if err := protocol.OpenAs(b, &load); err != nil {
		t.Fatal(err)
	}
	alice.ApplyLoad(&load)
	for i := range 2 {
		alice.Time++
		if st, _, b := l.envelope("/v1/sync", alice.UploadAll()); st != 200 {
			t.Fatalf("honest sync %d after the flood: %d %s", i, st, b)
		}
	}
	alice.Time++
	if st, code, _ := l.envelope("/v1/sync", alice.UploadAll()); st != 429 || code != CodeRateLimited {
		t.Fatalf("the device's fourth request: %d %s (its own budget is 3)", st, code)
	}
	// Reads that name no device, from the same address, are served too.
	if st, _, _ := l.send("GET", "/v1/trust", "", "", nil); st != 200 {
		t.Fatalf("trust after the flood: %d", st)
	}
	if r, err := svc.Report(context.Background()); err != nil || !r.ConservationOK || r.Settled != 0 {
		t.Fatalf("report after the flood: %v %+v", err, r)
	}
}

// TestReplayedUploadCostsNothing (issue 17, finding 1): a captured sync
// upload replayed 20 times over loopback is answered each time with the
// stored answer, without the ledger, and the device can still sync: it
// used to exhaust the device's budget (4th replay: 429), and the device's
// next sync was refused.
func TestReplayedUploadCostsNothing(t *testing.T) {
	svc, _ := realLedger(t)
	c := &counting{Ledger: svc}
	l := newLive(t, c, Options{RateLimit: RateLimit{PerSecond: 1, Burst: 3}, ClientRateLimit: RateLimit{PerSecond: 1, Burst: 5}})
	alice := enrolLive(t, l, "replay-alice", "alice", 10000)
	reserved := protocol.Seal(alice.Reserve(2500, 1))
	st, _, b := l.send("POST", "/v1/reserve", "", ContentType, reserved)
	if st != 200 {
		t.Fatalf("reserve: %d %s", st, b)
	}
	var load protocol.Load
	if err := protocol.OpenAs(b, &load); err != nil {
		t.Fatal(err)
	}
	alice.ApplyLoad(&load)
	captured := protocol.Seal(alice.UploadAll())
	st, _, first := l.send("POST", "/v1/sync", "", ContentType, captured)
	if st != 200 {
		t.Fatalf("sync: %d %s", st, first)
	}
	for i := range 20 {
		st, _, again := l.send("POST", "/v1/sync", "", ContentType, captured)
		if st != 200 || !bytes.Equal(again, first) {
			t.Fatalf("replay %d: %d, same answer %v", i, st, bytes.Equal(again, first))
		}
	}
	if n := c.syncs.Load(); n != 1 {
		t.Fatalf("the ledger synced %d times for one upload and 20 replays", n)
	}
	// Other bytes under the same signature are not a replay: a forgery.
	tampered := bytes.Clone(captured)
	tampered[len(tampered)-80] ^= 1
	if st, code, _ := l.send("POST", "/v1/sync", "", ContentType, tampered); st != 401 || code != offpay.EUNAUTHORIZED {
		t.Fatalf("a tampered replay: %d %s", st, code)
	}
	// The device's own budget (3) is untouched by the replays: reserve and
	// sync took two tokens, one is left.
	alice.Time++
	if st, _, b := l.envelope("/v1/sync", alice.UploadAll()); st != 200 {
		t.Fatalf("the device's next sync after 20 replays: %d %s", st, b)
	}
	// A replayed reserve request is answered the same way.
	for range 5 {
		if st, _, again := l.send("POST", "/v1/reserve", "", ContentType, reserved); st != 200 || !bytes.Equal(again, b) {
			t.Fatalf("replayed reserve: %d %s", st, again)
		}
	}
	if n := c.reserves.Load(); n != 1 {
		t.Fatalf("the ledger reserved %d times for one request and 5 replays", n)
	}
	// The budget is real: a fourth new request is refused.
	alice.Time++
	if st, code, _ := l.envelope("/v1/sync", alice.UploadAll()); st != 429 || code != CodeRateLimited {
		t.Fatalf("a new sync beyond the budget: %d %s", st, code)
	}
	if b := mustBalance(t, svc, "alice"); b != 7500 {
		t.Fatalf("balance %d", b)
	}
}

// TestReplayForgottenOnRevocation: a stored answer does not outlive the
// device's revocation, nor a refusal of the device's requests.
func TestReplayForgottenOnRevocation(t *testing.T) {
	svc, _ := realLedger(t)
	l := newLive(t, svc, Options{})
	alice := enrolLive(t, l, "forget-alice", "alice", 0)
	up := protocol.Seal(alice.UploadAll())
	if st, _, b := l.send("POST", "/v1/sync", "", ContentType, up); st != 200 {
		t.Fatalf("sync: %d %s", st, b)
	}
	if st, _, b := l.adminJSON("POST", "/v1/admin/devices/"+alice.ID.String()+"/revoke", RevokeRequest{Reason: "lost"}); st != 204 {
		t.Fatalf("revoke: %d %s", st, b)
	}
	if st, code, b := l.send("POST", "/v1/sync", "", ContentType, up); st != 403 || code != offpay.EFORBIDDEN {
		t.Fatalf("the same upload after the revocation: %d %s", st, b)
	}
}

func mustBalance(t *testing.T, svc *ledger.Service, name string) int64 {
	t.Helper()
	a, err := svc.Account(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// TestConcurrentReplaysReachTheLedgerOnce: identical requests in flight at
// once wait for the first one's answer; the device pays for one.
func TestConcurrentReplaysReachTheLedgerOnce(t *testing.T) {
	f := servertest.NewLedger()
	c := &counting{Ledger: f, delay: 50 * time.Millisecond}
	h := newHarness(t, c, Options{RateLimit: RateLimit{PerSecond: 1, Burst: 2}})
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	alice := prototest.Ed25519Key("alice")
	enrolAlice(t, h, alice)
	body := protocol.Seal(syncUpload(t, alice))
	var wg sync.WaitGroup
	codes := make([]int, 10)
	answers := make([][]byte, 10)
	for i := range codes {
		wg.Go(func() {
			w := h.do("POST", "/v1/sync", "", ContentType, body)
			codes[i], answers[i] = w.Code, w.Body.Bytes()
		})
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != 200 || !bytes.Equal(answers[i], answers[0]) {
			t.Fatalf("request %d: %d", i, codes[i])
		}
	}
	if n := c.syncs.Load(); n != 1 {
		t.Fatalf("%d syncs reached the ledger", n)
	}
	if w := h.device("/v1/reserve", reserveRequest(t, alice, 1, 1)); w.Code != 200 {
		t.Fatalf("the device's second request: %d", w.Code)
	}
}

// readTracker is a request body that records whether it was read.
type readTracker struct {
	r    io.Reader
	read bool
}

func (b *readTracker) Read(p []byte) (int, error) { b.read = true; return b.r.Read(p) }

// TestBodyChargedBeforeItIsRead (issue 17, finding 2): every device
// request costs its address a token before the body is read; malformed
// bodies keep it (they used to be read and parsed whole, and never
// counted), so once the budget is spent the next body is refused unread.
// A request that authenticates gets its token back.
func TestBodyChargedBeforeItIsRead(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{ClientRateLimit: RateLimit{PerSecond: 1, Burst: 4}})
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	alice := prototest.Ed25519Key("alice")
	enrolAlice(t, h, alice)
	// Well-formed, authenticated requests do not use up the address.
	for i := range 6 {
		if w := h.device("/v1/reserve", reserveRequest(t, alice, byte(i), 1)); w.Code != 200 {
			t.Fatalf("reserve %d: %d %s", i, w.Code, w.Body)
		}
	}
	big := make([]byte, 1+protocol.MaxSize(protocol.TypeSyncUpload))
	big[0] = byte(protocol.TypeSyncUpload)
	for i := range big[1:] {
		big[1+i] = 0xff
	}
	send := func(body []byte, ct string) (*httptest.ResponseRecorder, *readTracker) {
		tr := &readTracker{r: bytes.NewReader(body)}
		r := httptest.NewRequest("POST", "/v1/sync", tr)
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, r)
		return w, tr
	}
	codes := ""
	for range 3 {
		w, _ := send(big, ContentType)
		codes += fmt.Sprint(w.Code, " ")
	}
	w, _ := send([]byte("x"), "text/plain") // a wrong media type counts too
	codes += fmt.Sprint(w.Code, " ")
	if codes != "400 400 400 415 " {
		t.Fatalf("malformed bodies answered %s", codes)
	}
	for i := range 3 {
		w, tr := send(big, ContentType)
		if w.Code != 429 || tr.read || errorOf(t, w).Code != CodeRateLimited {
			t.Fatalf("malformed body %d after the budget: %d, read %v", i, w.Code, tr.read)
		}
	}
	// The same goes for a well-formed request from that address now: its
	// signature cannot be checked without reading it.
	if w := h.device("/v1/reserve", reserveRequest(t, alice, 9, 1)); w.Code != 429 {
		t.Fatalf("request from the spent address: %d", w.Code)
	}
	// Another address is not affected.
	r := httptest.NewRequest("POST", "/v1/reserve", bytes.NewReader(protocol.Seal(reserveRequest(t, alice, 9, 1))))
	r.RemoteAddr = "198.51.100.7:4000"
	r.Header.Set("Content-Type", ContentType)
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("another address: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(h.do("GET", "/metrics", "", "", nil).Body.String(), `offpay_http_unauthenticated_total{kind="malformed"} 4`) {
		t.Fatal("malformed bodies not counted in /metrics")
	}
}

// TestTrustedProxy: behind a trusted proxy the client's address comes
// from X-Forwarded-For (its right-most untrusted entry); from any other
// peer the header is ignored. IPv6 clients are keyed by their /64.
func TestTrustedProxy(t *testing.T) {
	s := newServer(servertest.NewLedger(), Options{AdminToken: token, Logger: discard(),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1:5000", nil, "ip:192.0.2.1"},
		{"192.0.2.1:5000", []string{"203.0.113.9"}, "ip:192.0.2.1"}, // untrusted peer: header ignored
		{"10.1.2.3:5000", nil, "ip:10.1.2.3"},
		{"10.1.2.3:5000", []string{"203.0.113.9"}, "ip:203.0.113.9"},
		{"10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.9"}, "ip:203.0.113.9"},           // spoofed left part
		{"10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.9, 10.9.9.9"}, "ip:203.0.113.9"}, // two proxies
		{"10.1.2.3:5000", []string{"1.1.1.1", "203.0.113.9:4711"}, "ip:203.0.113.9"},    // two headers, a port
		{"10.1.2.3:5000", []string{"junk"}, "ip:10.1.2.3"},
		{"[::1]:5000", []string{"2001:db8:1:2:aaaa::1"}, "ip:2001:db8:1:2::/64"},
		{"[2001:db8:1:2::5]:5000", nil, "ip:2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.1]:5000", nil, "ip:192.0.2.1"},
	} {
		r := httptest.NewRequest("GET", "/v1/trust", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientKey(r); got != c.want {
			t.Errorf("%s %q: key %s, want %s", c.remote, c.xff, got, c.want)
		}
	}

	// Over loopback with 127.0.0.1 trusted: a client flooding through the
	// proxy is limited, another client through the same proxy is not.
	l := newLive(t, servertest.NewLedger(), Options{ClientRateLimit: RateLimit{PerSecond: 1, Burst: 3},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	codes := ""
	for range 5 {
		st, _, _ := l.send("POST", "/v1/sync", "", ContentType, []byte{10, 0xff}, "X-Forwarded-For", "198.51.100.7")
		codes += fmt.Sprint(st, " ")
	}
	if codes != "400 400 400 429 429 " {
		t.Fatalf("flooding client answered %s", codes)
	}
	if st, _, _ := l.send("GET", "/v1/trust", "", "", nil, "X-Forwarded-For", "203.0.113.9"); st != 200 {
		t.Fatalf("another client through the proxy: %d", st)
	}
}

// TestAdminJSONIsStrict (issue 17, finding 3), on a real ledger: invalid
// UTF-8 in a reference, duplicate member names, names in another case,
// and any media type but JSON are refused with a typed 400 or 415, and
// change nothing. Before, the second of two references differing only in
// invalid bytes answered 200 and credited nothing (both read as U+FFFD);
// {"amount_minor":5,"amount_minor":500000} deposited 500000;
// {"AMOUNT_MINOR":5,"REF":"x"} was a deposit; text/plain was read as JSON.
func TestAdminJSONIsStrict(t *testing.T) {
	svc, _ := realLedger(t)
	h := newHarness(t, svc, Options{})
	if w := h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"}); w.Code != 201 {
		t.Fatal(w.Body)
	}
	post := func(ct, body string) *httptest.ResponseRecorder {
		return h.do("POST", "/v1/admin/accounts/alice/deposit", "Bearer "+token, ct, []byte(body))
	}
	if w := post("application/json", "{\"amount_minor\":100,\"ref\":\"wire-\xff\"}"); w.Code != 400 || !strings.Contains(errorOf(t, w).Message, "UTF-8") {
		t.Fatalf("invalid UTF-8: %d %s", w.Code, w.Body)
	}
	if w := post("application/json", "{\"amount_minor\":100,\"ref\":\"wire-\xfe\"}"); w.Code != 400 {
		t.Fatalf("invalid UTF-8: %d %s", w.Code, w.Body)
	}
	for _, c := range []struct{ body, says string }{
		{`{"amount_minor":5,"ref":"a","amount_minor":500000}`, "twice"},
		{`{"amount_minor":5,"ref":"a","r\u0065f":"b"}`, "twice"},
		{`{"AMOUNT_MINOR":5,"REF":"x"}`, "case-sensitive"},
		{`{"amount_minor":5,"Ref":"x"}`, "case-sensitive"},
		{`{"amount_minor":5,"ref":"\ud800"}`, "surrogate"},
		{`{"amount_minor":5,"ref":"\udc00\ud800"}`, "surrogate"},
		{`{"amount_minor":5,"ref":null}`, "must be a string"},
		{`{"amount_minor":"12.50","ref":"x"}`, "whole number"},
		{`{"amount_minor":1e3,"ref":"x"}`, "whole number"},
		{`{"amount_minor":5.0,"ref":"x"}`, "whole number"},
		{`{"amount_minor":99999999999999999999,"ref":"x"}`, "whole number"},
		{`{"amount_minor":5,"ref":"x","extra":1}`, "unknown field"},
		{`[{"amount_minor":5,"ref":"x"}]`, "one JSON object"},
		{`{"amount_minor":5,"ref":"x"} {}`, "after the JSON object"},
		{`{"amount_minor":5,"ref":"x",}`, "not valid JSON"},
		{`{"amount_minor":5,"ref":"bell\u0007"}`, "control character"},
		{"{\"amount_minor\":5,\"ref\":\"esc\x1b[31m\"}", "not valid JSON"}, // raw: JSON itself forbids it
		{`{"amount_minor":5,"ref":"\u202egnp.exe"}`, "control character"},
	} {
		w := post("application/json", c.body)
		d := wantError(t, w, 400, offpay.EINVALID, "")
		if !strings.Contains(d.Message, c.says) {
			t.Errorf("%s: message %q does not say %q", c.body, d.Message, c.says)
		}
		for _, goWord := range []string{"int64", "server.", "string into", "Go "} {
			if strings.Contains(d.Message, goWord) {
				t.Errorf("%s: message %q names a Go type", c.body, d.Message)
			}
		}
	}
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx"} {
		wantError(t, post(ct, `{"amount_minor":5,"ref":"ct"}`), 415, CodeUnsupportedMedia, "")
	}
	if b := mustBalance(t, svc, "alice"); b != 0 {
		t.Fatalf("refused requests deposited %d", b)
	}
	// What is allowed: the charset utf-8, any order, printable Unicode,
	// escapes of the same characters.
	if w := post("application/json; charset=UTF-8", `{"ref":"caf\u00e9 \ud83d\ude00 n°1","amount_minor":5}`); w.Code != 200 {
		t.Fatalf("valid deposit: %d %s", w.Code, w.Body)
	}
	if w := post("application/json", `{"amount_minor":5,"ref":"café 😀 n°1"}`); w.Code != 200 || mustBalance(t, svc, "alice") != 5 {
		t.Fatalf("the same ref, unescaped, is the same deposit: %d %s", w.Code, w.Body)
	}
	wantError(t, h.do("POST", "/v1/admin/accounts", "Bearer "+token, "application/json", []byte(`{"name":"bob","merchant":"yes"}`)), 400, offpay.EINVALID, "")
	if d := errorOf(t, h.do("POST", "/v1/admin/accounts", "Bearer "+token, "application/json", []byte(`{"name":"bob","merchant":1}`))); !strings.Contains(d.Message, "true or false") {
		t.Fatalf("bool message %q", d.Message)
	}
}

// TestReportSurvivesLargeDeposits (issue 17, finding 4) over the API on
// SQLite (storetest's Issuance scenario runs on both stores): deposits
// beyond the bound on the money issued are refused with 422 and change
// nothing, and the report keeps answering.
func TestReportSurvivesLargeDeposits(t *testing.T) {
	svc, _ := realLedger(t)
	h := newHarness(t, svc, Options{})
	for _, n := range []string{"a", "b"} {
		if w := h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: n}); w.Code != 201 {
			t.Fatal(w.Body)
		}
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts/a/deposit", MoveRequest{Amount: math.MaxInt64, Ref: "max-a"}), 422, offpay.ELIMIT, "")
	wantError(t, h.admin("POST", "/v1/admin/accounts/b/deposit", MoveRequest{Amount: math.MaxInt64, Ref: "max-b"}), 422, offpay.ELIMIT, "")
	bound := ledger.DefaultPolicy.MaxIssued
	if w := h.admin("POST", "/v1/admin/accounts/a/deposit", MoveRequest{Amount: bound, Ref: "bound-a"}); w.Code != 200 {
		t.Fatalf("deposit at the bound: %d %s", w.Code, w.Body)
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts/b/deposit", MoveRequest{Amount: 1, Ref: "one-b"}), 422, offpay.ELIMIT, "")
	if w := h.admin("POST", "/v1/admin/accounts/a/withdraw", MoveRequest{Amount: bound, Ref: "out-a"}); w.Code != 200 {
		t.Fatalf("withdraw: %d %s", w.Code, w.Body)
	}
	w := h.admin("GET", "/v1/admin/report", nil)
	var rep ledger.Report
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &rep) != nil || !rep.ConservationOK || rep.Issued != 0 {
		t.Fatalf("report: %d %s", w.Code, w.Body)
	}
}

// TestRateLimitRefusalsAreLoggedAtABoundedRate (issue 17, finding 5):
// 2000 refused requests make at most a summary line at WARN a minute, not
// an INFO line each (a flood made 34 MB of log).
func TestRateLimitRefusalsAreLoggedAtABoundedRate(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{ClientRateLimit: RateLimit{PerSecond: 1, Burst: 2}})
	for range 1000 {
		h.do("GET", "/v1/trust", "", "", nil)
		h.do("GET", "/v1/admin/report", "Bearer guess", "", nil)
	}
	lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
	levels := map[string]int{}
	for _, l := range lines {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		levels[rec.Level]++
	}
	// 2 trust reads and 2 wrong tokens answered, then one summary.
	if levels["INFO"] != 4 || levels["WARN"] != 1 || levels["ERROR"] != 0 {
		t.Fatalf("log levels %v", levels)
	}
	if !strings.Contains(h.logs.String(), `"refused":1,"address":1`) {
		t.Fatalf("first summary missing:\n%s", lines[len(lines)-1])
	}
	// A minute later (the wrong-token bucket has refilled its 2), the
	// next refusal brings the summary of the 1995 before it.
	h.advance(refusalSummaryEvery)
	for range 3 {
		h.do("GET", "/v1/admin/report", "Bearer guess", "", nil)
	}
	if !strings.Contains(h.logs.String(), `"refused":1996,"address":997,"token":999,"top":"ip:192.0.2.1=1996","since":60000000000}`) {
		t.Fatalf("second summary missing or wrong:\n%s", h.logs.String()[len(h.logs.String())-600:])
	}
}

// TestAdminAnswersAreNotCached (issue 17, finding 5): every administrator
// answer, and every device answer, says Cache-Control: no-store.
func TestAdminAnswersAreNotCached(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{})
	h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"})
	alice := prototest.Ed25519Key("alice")
	enrolAlice(t, h, alice)
	for _, w := range []*httptest.ResponseRecorder{
		h.admin("GET", "/v1/admin/accounts/alice", nil),
		h.admin("POST", "/v1/admin/accounts/alice/deposit", MoveRequest{Amount: 5, Ref: "r"}),
		h.admin("GET", "/v1/admin/accounts/alice/statement", nil),
		h.admin("GET", "/v1/admin/report", nil),
		h.admin("GET", "/v1/admin/accounts/nobody", nil),
		h.do("GET", "/v1/admin/report", "Bearer wrong", "", nil),
		h.do("POST", "/v1/enrol", "Bearer "+token, ContentType, protocol.Seal(enrolmentRequest(t, alice, "alice"))),
		h.device("/v1/reserve", reserveRequest(t, alice, 1, 1)),
		h.device("/v1/sync", syncUpload(t, alice)),
	} {
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("answer %d %.60s has Cache-Control %q", w.Code, w.Body, cc)
		}
	}
}

// TestGoOwnErrorsAreJSON (issue 17, finding 5): the answers Go's HTTP
// server gives by itself are the API's JSON errors, on a real listener:
// a path that is not canonical (ServeMux redirected it, in HTML), a
// malformed request (plain text 400), headers above the limit (plain
// text 431), an unknown transfer coding (501), an unknown HTTP version
// (505).
func TestGoOwnErrorsAreJSON(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := HTTPServer("", h.srv)
	go srv.Serve(Listener(ln))
	t.Cleanup(func() { srv.Close() })
	raw := func(req string) (int, http.Header, ErrorBody) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		go io.WriteString(c, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: %v", req[:min(len(req), 40)], err)
		}
		defer resp.Body.Close()
		var eb ErrorBody
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &eb); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%q: %d %q is not a JSON error: %q", req[:min(len(req), 40)], resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		return resp.StatusCode, resp.Header, eb
	}
	for _, c := range []struct {
		req    string
		status int
		code   offpay.Code
	}{
		{"GET /v1//trust HTTP/1.1\r\nHost: x\r\n\r\n", 400, offpay.EINVALID},
		{"GET /v1/admin/accounts/../report HTTP/1.1\r\nHost: x\r\n\r\n", 400, offpay.EINVALID},
		{"POST /v1/./sync HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 400, offpay.EINVALID},
		{"BLAH\r\n\r\n", 400, offpay.EINVALID},
		{"GET /v1/trust HTTP/1.1\r\n\r\n", 400, offpay.EINVALID}, // no Host
		{"GET /v1/trust HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", 431, CodeHeaderTooLarge},
		{"POST /v1/sync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, CodeNotImplemented},
		{"GET /v1/trust HTTP/2.5\r\nHost: x\r\n\r\n", 505, CodeHTTPVersion},
	} {
		st, _, eb := raw(c.req)
		if st != c.status || eb.Error.Code != c.code || eb.Error.Message == "" {
			t.Errorf("%q: %d %+v, want %d %s", c.req[:min(len(c.req), 40)], st, eb.Error, c.status, c.code)
		}
		if statusOf[eb.Error.Code] != st {
			t.Errorf("%q: code %s is not the table's for %d", c.req[:min(len(c.req), 40)], eb.Error.Code, st)
		}
	}
	// Ordinary answers pass untouched, error or not.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /v1/trust HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []int{200, 200, 404} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("keep-alive answer: %v %v, want %d", err, resp, want)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// TestErrorCodesInOpenAPI: every code of the status table is in the
// document's list of error codes, and the list has no other.
func TestErrorCodesInOpenAPI(t *testing.T) {
	doc, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "enum: [invalid,")
	if !ok {
		t.Fatal("no code enum in openapi.yaml")
	}
	list, _, _ := strings.Cut("invalid,"+rest, "]")
	got := map[string]bool{}
	for _, c := range strings.Split(list, ",") {
		got[strings.TrimSpace(c)] = true
	}
	for code := range statusOf {
		if !got[string(code)] {
			t.Errorf("code %s is missing from openapi.yaml", code)
		}
		delete(got, string(code))
	}
	if len(got) > 0 {
		t.Errorf("openapi.yaml lists codes the server never answers: %v", got)
	}
}
