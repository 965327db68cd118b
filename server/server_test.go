package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server/servertest"
)

const token = "admin-token-for-tests"

type harness struct {
	t    *testing.T
	l    Ledger
	srv  *Server
	logs *syncBuffer
	mu   sync.Mutex
	now  time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T, l Ledger, opts Options) *harness {
	h := &harness{t: t, l: l, logs: &syncBuffer{}, now: time.Unix(int64(prototest.Epoch), 0)}
	if opts.AdminToken == "" {
		opts.AdminToken = token
	}
	opts.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Now = h.clock
	h.srv = newServer(l, opts)
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// do sends a request through the whole handler. auth "" sends none.
func (h *harness) do(method, path, auth, contentType string, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	return w
}

func (h *harness) admin(method, path string, v any) *httptest.ResponseRecorder {
	h.t.Helper()
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			h.t.Fatal(err)
		}
	}
	return h.do(method, path, "Bearer "+token, "application/json", body)
}

func (h *harness) device(path string, m protocol.Message) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodPost, path, "", ContentType, protocol.Seal(m))
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) ErrorDetail {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answer has Content-Type %q: %s", ct, w.Body)
	}
	var b ErrorBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	return b.Error
}

func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code offpay.Code, class protocol.Class) ErrorDetail {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	d := errorOf(t, w)
	if d.Code != code || d.Class != class {
		t.Fatalf("error %+v, want code %q class %q", d, code, class)
	}
	return d
}

// openAPIRoutes reads "METHOD /path" pairs from the paths section of the
// document; it relies on the document's plain two-space indentation.
func openAPIRoutes(t *testing.T, doc []byte) []string {
	var routes []string
	var path string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			in = true
		case in && len(line) > 0 && line[0] != ' ':
			in = false
		case in && strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case in && path != "" && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			m := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch m {
			case "get", "post", "put", "delete", "patch":
				routes = append(routes, strings.ToUpper(m)+" "+path)
			}
		}
	}
	if len(routes) == 0 {
		t.Fatal("no routes found in openapi.yaml")
	}
	sort.Strings(routes)
	return routes
}

func TestEveryRouteIsInOpenAPI(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{})
	got := h.srv.Routes()
	sort.Strings(got)
	doc, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := openAPIRoutes(t, doc)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("registered routes and openapi.yaml differ:\nserver:\n  %s\nopenapi:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	w := h.do("GET", "/openapi.yaml", "", "", nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), doc) {
		t.Fatalf("/openapi.yaml does not serve the document in the repository (status %d)", w.Code)
	}
}

func TestAdminAuth(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{ClientRateLimit: RateLimit{Disabled: true}})
	admin := []struct{ method, path string }{
		{"POST", "/v1/enrol"},
		{"POST", "/v1/admin/accounts"},
		{"GET", "/v1/admin/accounts"},
		{"GET", "/v1/admin/accounts/alice"},
		{"GET", "/v1/admin/devices"},
		{"GET", "/v1/admin/devices?account=alice"},
		{"POST", "/v1/admin/accounts/alice/deposit"},
		{"POST", "/v1/admin/accounts/alice/withdraw"},
		{"POST", "/v1/admin/accounts/alice/reenter-withdrawal"},
		{"GET", "/v1/admin/accounts/alice/statement"},
		{"POST", "/v1/admin/devices/00112233445566778899aabbccddeeff/revoke"},
		{"GET", "/v1/admin/report"},
	}
	for _, r := range admin {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Basic " + token, token, "Bearer"} {
			w := h.do(r.method, r.path, auth, "application/json", []byte(`{}`))
			wantError(t, w, http.StatusUnauthorized, offpay.EUNAUTHORIZED, "")
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", r.method, r.path)
			}
		}
	}
	if w := h.admin("GET", "/v1/admin/report", nil); w.Code != http.StatusOK {
		t.Fatalf("right token refused: %d %s", w.Code, w.Body)
	}
	// A server without a token refuses every administrator request, even
	// one presenting an empty token.
	f := servertest.NewLedger()
	open := newServer(f, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, auth := range []string{"", "Bearer ", "Bearer"} {
		r := httptest.NewRequest("GET", "/v1/admin/report", nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		open.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("server without token answered %q with %d", auth, w.Code)
		}
	}
	if f.Calls != 0 {
		t.Fatalf("ledger called %d times by unauthorised requests", f.Calls)
	}
}

// TestTokenGuessingIsThrottled: wrong tokens from an address are refused
// once its bucket of wrong tokens is empty, and the right token from the
// same address is still served (it used to get 429 with them).
func TestTokenGuessingIsThrottled(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{ClientRateLimit: RateLimit{PerSecond: 1, Burst: 3}})
	codes := ""
	for range 5 {
		codes += fmt.Sprint(h.do("GET", "/v1/admin/report", "Bearer guess", "", nil).Code, " ")
	}
	if codes != "401 401 401 429 429 " {
		t.Fatalf("wrong tokens answered %s", codes)
	}
	if w := h.admin("GET", "/v1/admin/report", nil); w.Code != 200 {
		t.Fatalf("right token from an address sending wrong ones: %d %s", w.Code, w.Body)
	}
	if w := h.do("GET", "/v1/admin/report", "Bearer guess", "", nil); w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a wrong token after the right one: %d", w.Code)
	}
	h.advance(2 * time.Second)
	if w := h.do("GET", "/v1/admin/report", "Bearer guess", "", nil); w.Code != 401 {
		t.Fatalf("a wrong token after the refill: %d", w.Code)
	}
}

func TestErrorCodeTable(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   offpay.Code
		msg    string
	}{
		{offpay.Errorf(offpay.EINVALID, "amount must be positive"), 400, offpay.EINVALID, "amount must be positive"},
		{offpay.Errorf(offpay.EUNAUTHORIZED, "unknown device"), 401, offpay.EUNAUTHORIZED, "unknown device"},
		{offpay.Errorf(offpay.EFORBIDDEN, "account frozen"), 403, offpay.EFORBIDDEN, "account frozen"},
		{offpay.Errorf(offpay.ENOTFOUND, "no account"), 404, offpay.ENOTFOUND, "no account"},
		{offpay.Errorf(offpay.ECONFLICT, "account exists"), 409, offpay.ECONFLICT, "account exists"},
		{offpay.Errorf(offpay.ELIMIT, "insufficient balance"), 422, offpay.ELIMIT, "insufficient balance"},
		{offpay.Errorf(offpay.EUNAVAILABLE, "database busy, retry"), 503, offpay.EUNAVAILABLE, "database busy, retry"},
		{fmt.Errorf("wrapped: %w", offpay.Errorf(offpay.ECONFLICT, "already spent")), 409, offpay.ECONFLICT, "already spent"},
		{offpay.Errorf("weird_code", "secret detail"), 500, offpay.EINTERNAL, "internal error"},
	}
	for _, c := range cases {
		f := servertest.NewLedger()
		f.Fail = c.err
		h := newHarness(t, f, Options{})
		d := wantError(t, h.admin("GET", "/v1/admin/report", nil), c.status, c.code, "")
		if d.Message != c.msg {
			t.Errorf("%v: message %q, want %q", c.err, d.Message, c.msg)
		}
	}
}

// TestNoDatabaseTextReachesClients forces internal errors carrying the
// kind of text a database driver produces, on every endpoint, and checks
// that the client sees only "internal error" while the log keeps the detail.
func TestNoDatabaseTextReachesClients(t *testing.T) {
	secretText := "sqlite: UNIQUE constraint failed: payments.payer_counter (/var/lib/offpay/ledger.db)"
	for _, err := range []error{
		fmt.Errorf("insert payment: %s", secretText),
		offpay.Errorf(offpay.EINTERNAL, "settle: %s", secretText),
		&offpay.Error{Code: offpay.EINTERNAL, Err: fmt.Errorf("%s", secretText)},
	} {
		f := servertest.NewLedger()
		h := newHarness(t, f, Options{})
		if w := h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"}); w.Code != 201 {
			t.Fatal(w.Body)
		}
		alice := prototest.Ed25519Key("alice")
		enrolAlice(t, h, alice)
		f.Fail = err
		for _, w := range []*httptest.ResponseRecorder{
			h.admin("GET", "/v1/admin/report", nil),
			h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "bob"}),
			h.admin("POST", "/v1/admin/accounts/alice/deposit", MoveRequest{Amount: 5, Ref: "r-5"}),
			h.admin("GET", "/v1/admin/accounts/alice/statement", nil),
			h.device("/v1/reserve", reserveRequest(t, alice, 1, 100)),
			h.device("/v1/sync", syncUpload(t, alice)),
			h.do("GET", "/v1/revocation-list", "", "", nil),
		} {
			d := wantError(t, w, 500, offpay.EINTERNAL, "")
			if d.Message != "internal error" || strings.Contains(w.Body.String(), "sqlite") || strings.Contains(w.Body.String(), "/var/lib") {
				t.Fatalf("internal detail reached the client: %s", w.Body)
			}
		}
		if !strings.Contains(h.logs.String(), "UNIQUE constraint failed") {
			t.Fatal("internal error detail was not logged")
		}
	}
}

func TestPanicAnswersInternalError(t *testing.T) {
	f := servertest.NewLedger()
	f.PanicMsg = "nil map in settle: secret state"
	h := newHarness(t, f, Options{})
	w := h.admin("GET", "/v1/admin/report", nil)
	wantError(t, w, 500, offpay.EINTERNAL, "")
	if strings.Contains(w.Body.String(), "secret") || !strings.Contains(h.logs.String(), "secret state") {
		t.Fatalf("panic: body %s", w.Body)
	}
}

func TestAdminJSON(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{})
	w := h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "shop", Merchant: true})
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"merchant":true`) {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "shop"}), 409, offpay.ECONFLICT, "")
	w = h.admin("POST", "/v1/admin/accounts/shop/deposit", MoveRequest{Amount: 1250, Ref: "wire-1"})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"balance_minor":1250`) {
		t.Fatalf("deposit: %d %s", w.Code, w.Body)
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts/shop/withdraw", MoveRequest{Amount: 5000, Ref: "r-5000"}), 422, offpay.ELIMIT, "")
	wantError(t, h.admin("GET", "/v1/admin/accounts/nobody", nil), 404, offpay.ENOTFOUND, "")
	w = h.admin("GET", "/v1/admin/accounts/shop/statement", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"lines":[]`) {
		t.Fatalf("statement: %d %s", w.Code, w.Body)
	}
	before := f.Calls
	for _, body := range []string{
		`{"amount_minor":-5}`, `{"amount_minor":0}`, `{"amount_minor":"12.50"}`, `{"amount_minor":1.5}`,
		`{"amount_minor":99999999999999999999}`, `{"amount":5}`, `{"amount_minor":5} {}`, `not json`, ``,
	} {
		w := h.do("POST", "/v1/admin/accounts/shop/deposit", "Bearer "+token, "application/json", []byte(body))
		wantError(t, w, 400, offpay.EINVALID, "")
	}
	wantError(t, h.do("POST", "/v1/admin/accounts/shop/deposit", "Bearer "+token, "application/json",
		[]byte(`{"ref":"`+strings.Repeat("x", maxAdminBody)+`"}`)), 413, CodeTooLarge, "")
	wantError(t, h.admin("POST", "/v1/admin/devices/xyz/revoke", RevokeRequest{}), 400, offpay.EINVALID, protocol.ClassBadField)
	if f.Calls != before {
		t.Fatalf("invalid requests reached the ledger %d times", f.Calls-before)
	}
	wantError(t, h.admin("POST", "/v1/admin/devices/00112233445566778899aabbccddeeff/revoke", RevokeRequest{Reason: "lost"}), 404, offpay.ENOTFOUND, "")
	wantError(t, h.do("GET", "/v1/nothing", "", "", nil), 404, offpay.ENOTFOUND, "")
	w = h.do("GET", "/v1/sync", "", "", nil)
	wantError(t, w, 405, CodeMethodNotAllowed, "")
	if w.Header().Get("Allow") != "POST" {
		t.Fatalf("405 with Allow %q", w.Header().Get("Allow"))
	}
	w = h.do("DELETE", "/v1/admin/accounts/shop", "Bearer "+token, "", nil)
	wantError(t, w, 405, CodeMethodNotAllowed, "")
	if w.Header().Get("Allow") != "GET" {
		t.Fatalf("405 with Allow %q", w.Header().Get("Allow"))
	}
}

func TestHealthAndMetrics(t *testing.T) {
	h := newHarness(t, servertest.NewLedger(), Options{})
	if w := h.do("GET", "/healthz", "", "", nil); w.Code != 200 {
		t.Fatalf("healthz %d", w.Code)
	}
	h.admin("GET", "/v1/admin/report", nil)
	h.admin("GET", "/v1/admin/report", nil)
	h.do("GET", "/v1/admin/report", "", "", nil)
	h.do("GET", "/no/such/path/"+strings.Repeat("x", 10), "", "", nil)
	w := h.do("GET", "/metrics", "", "", nil)
	body := w.Body.String()
	for _, want := range []string{
		`offpay_http_requests_total{route="GET /v1/admin/report",status="200"} 2`,
		`offpay_http_requests_total{route="GET /v1/admin/report",status="401"} 1`,
		`offpay_http_requests_total{route="GET /healthz",status="200"} 1`,
		`offpay_http_requests_total{route="unmatched",status="404"} 1`,
		`offpay_http_request_duration_seconds_count{route="GET /v1/admin/report"} 3`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(h.logs.String(), `"route":"GET /v1/admin/report","path":"/v1/admin/report","status":401`) {
		t.Errorf("no structured access log line for the refused request:\n%s", h.logs)
	}
}

func TestAbandonedRequestIsNotAnError(t *testing.T) {
	f := servertest.NewLedger()
	h := newHarness(t, f, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fail = fmt.Errorf("query: %w", context.Canceled)
	r := httptest.NewRequest("GET", "/v1/admin/report", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+token)
	h.srv.ServeHTTP(httptest.NewRecorder(), r)
	if logs := h.logs.String(); strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "abandoned") {
		t.Fatalf("a request the client abandoned was logged as an error:\n%s", logs)
	}
}
