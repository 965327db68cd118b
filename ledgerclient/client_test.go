package ledgerclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/server/servertest"
)

const token = "client-test-token"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newClient(t *testing.T, url string, opts Options) *Client {
	t.Helper()
	if opts.AdminToken == "" {
		opts.AdminToken = token
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 20 * time.Millisecond
	}
	c, err := New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture is a real server over the fake ledger.
func fixture(t *testing.T, wrap func(http.Handler) http.Handler) (*servertest.Ledger, *Client) {
	t.Helper()
	f := servertest.NewLedger()
	var h http.Handler = server.New(f, server.Options{AdminToken: token, Logger: quiet, RateLimit: server.RateLimit{Disabled: true}})
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return f, newClient(t, ts.URL, Options{})
}

func signer(label string) (protocol.Signer, protocol.KeyID) {
	k := prototest.Ed25519Key(label)
	return k, protocol.ComputeKeyID(k.Alg(), k.PublicKey())
}

func enrolment(t *testing.T, k protocol.Signer, account string) *protocol.EnrolmentRequest {
	r := &protocol.EnrolmentRequest{Version: 1, KeyAlg: k.Alg(), Key: k.PublicKey(), Account: account, Class: protocol.SEVirtual, Time: prototest.Epoch}
	if err := r.Sign(k); err != nil {
		t.Fatal(err)
	}
	return r
}

func reserve(t *testing.T, k protocol.Signer, id byte, amount uint64) *protocol.ReserveRequest {
	r := &protocol.ReserveRequest{Version: 1, Device: protocol.ComputeKeyID(k.Alg(), k.PublicKey()), RequestID: protocol.Nonce{id}, Amount: amount, Currency: "EUR", Time: prototest.Epoch}
	if err := r.Sign(k); err != nil {
		t.Fatal(err)
	}
	return r
}

func upload(t *testing.T, k protocol.Signer) *protocol.SyncUpload {
	u := &protocol.SyncUpload{Version: 1, Device: protocol.ComputeKeyID(k.Alg(), k.PublicKey()), Time: prototest.Epoch}
	if err := u.Sign(k); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDeviceAndAdminCalls(t *testing.T) {
	ctx := context.Background()
	f, c := fixture(t, nil)
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := c.CreateAccount(ctx, "alice", false); err != nil || a.Name != "alice" {
		t.Fatalf("create: %+v %v", a, err)
	}
	if a, err := c.Deposit(ctx, "alice", 5000, "wire-1"); err != nil || a.Balance != 5000 {
		t.Fatalf("deposit: %+v %v", a, err)
	}
	if a, err := c.Withdraw(ctx, "alice", 1000, "out-1"); err != nil || a.Balance != 4000 {
		t.Fatalf("withdraw: %+v %v", a, err)
	}
	if a, err := c.Account(ctx, "alice"); err != nil || a.Balance != 4000 {
		t.Fatalf("account: %+v %v", a, err)
	}
	if _, err := c.Statement(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	k, id := signer("alice")
	e, err := c.Enrol(ctx, enrolment(t, k, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Device.ID() != id || e.Root.ID() != f.PKI.Root.ID() || e.Issuer.ID() != f.PKI.Issuer.ID() || e.RevList.Number != f.PKI.RevList.Number {
		t.Fatal("enrolment answer is not [device, issuer, root, revocation list]")
	}
	l, err := c.Reserve(ctx, reserve(t, k, 1, 700))
	if err != nil || l.Amount != 700 || l.Verify(f.PKI.Issuer) != nil {
		t.Fatalf("reserve: %+v %v", l, err)
	}
	res, err := c.Sync(ctx, upload(t, k))
	if err != nil || res.Device != id || res.Verify(f.PKI.Issuer) != nil {
		t.Fatalf("sync: %+v %v", res, err)
	}
	root, issuer, err := c.Trust(ctx)
	if err != nil || root.ID() != f.PKI.Root.ID() || issuer.ID() != f.PKI.Issuer.ID() {
		t.Fatalf("trust: %v", err)
	}
	if err := c.Revoke(ctx, id, "lost"); err != nil {
		t.Fatal(err)
	}
	rl, err := c.RevocationList(ctx)
	if err != nil || !rl.IsRevoked(id) || rl.Verify(issuer) != nil {
		t.Fatalf("revocation list after revoke: %v", err)
	}
	rep, err := c.Report(ctx)
	if err != nil || !rep.ConservationOK {
		t.Fatalf("report: %+v %v", rep, err)
	}
}

func TestTypedErrors(t *testing.T) {
	ctx := context.Background()
	f, c := fixture(t, nil)
	if _, err := c.CreateAccount(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateAccount(ctx, "bob", false)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 409 || offpay.ErrorCode(err) != offpay.ECONFLICT {
		t.Fatalf("duplicate account: %v", err)
	}
	if _, err := c.Withdraw(ctx, "bob", 1, "w-1"); offpay.ErrorCode(err) != offpay.ELIMIT {
		t.Fatalf("overdraft: %v", err)
	}
	// A name with a slash stays one path segment.
	if _, err := c.Account(ctx, "a/b"); offpay.ErrorCode(err) != offpay.ENOTFOUND || offpay.ErrorMessage(err) != `no account "a/b"` {
		t.Fatalf("escaped name: %v", err)
	}
	k, _ := signer("stranger")
	if _, err := c.Reserve(ctx, reserve(t, k, 1, 1)); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED || errors.Is(err, ErrUnreachable) {
		t.Fatalf("unknown device: %v", err)
	}
	bad := newClient(t, c.URL(), Options{AdminToken: "wrong"})
	if _, err := bad.Report(ctx); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("wrong token: %v", err)
	}
	f.Lock()
	f.Fail = offpay.Errorf(offpay.EFORBIDDEN, "device revoked: %w", protocol.ErrRevoked)
	f.Unlock()
	_, err = c.Sync(ctx, upload(t, k))
	if offpay.ErrorCode(err) != offpay.EFORBIDDEN || protocol.ClassOf(err) != protocol.ClassRevoked || !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("revoked: code %q class %q: %v", offpay.ErrorCode(err), protocol.ClassOf(err), err)
	}
}

// gate counts requests and fails the next fails of them.
type gate struct {
	seen, fails atomic.Int32
}

// flaky answers with status (and the ledger's JSON unless raw) while the
// gate has failures left, then passes requests on.
func flaky(g *gate, status int, raw bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.seen.Add(1)
			if g.fails.Add(-1) < 0 {
				next.ServeHTTP(w, r)
				return
			}
			if raw {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, "<html>bad gateway</html>")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":{"code":"unavailable","message":"busy"}}`)
		})
	}
}

func TestIdempotentCallsAreRetried(t *testing.T) {
	ctx := context.Background()
	g := &gate{}
	_, c := fixture(t, flaky(g, 503, false))
	g.fails.Store(2)
	if _, err := c.RevocationList(ctx); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if g.seen.Load() != 3 {
		t.Fatalf("%d attempts, want 3", g.seen.Load())
	}
	if _, err := c.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	// Creating an account is not idempotent: one attempt, and the 503
	// says "try later".
	g.seen.Store(0)
	g.fails.Store(1)
	_, err := c.CreateAccount(ctx, "carol", false)
	if !errors.Is(err, ErrUnreachable) || g.seen.Load() != 1 {
		t.Fatalf("create account: %d attempts, %v", g.seen.Load(), err)
	}
	// A deposit is, by its ref.
	g.seen.Store(0)
	g.fails.Store(1)
	if _, err := c.Deposit(ctx, "alice", 100, "dep-1"); err != nil || g.seen.Load() != 2 {
		t.Fatalf("deposit: %d attempts, %v", g.seen.Load(), err)
	}
	k, _ := signer("alice")
	if _, err := c.Enrol(ctx, enrolment(t, k, "alice")); err != nil {
		t.Fatal(err)
	}
	// Retries stop after Options.Retries (3): four attempts in all.
	g.seen.Store(0)
	g.fails.Store(100)
	_, err = c.Sync(ctx, upload(t, k))
	if !errors.Is(err, ErrUnreachable) || offpay.ErrorCode(err) != offpay.EUNAVAILABLE || g.seen.Load() != 4 {
		t.Fatalf("sync against a ledger that stays busy: %d attempts, %v", g.seen.Load(), err)
	}
	g.fails.Store(0)
	if _, err := c.Sync(ctx, upload(t, k)); err != nil {
		t.Fatal(err)
	}
}

func TestProxyErrorsAreUnreachable(t *testing.T) {
	g := &gate{}
	g.fails.Store(100)
	_, c := fixture(t, flaky(g, 502, true))
	_, _, err := c.Trust(context.Background())
	var ue *UnreachableError
	if !errors.Is(err, ErrUnreachable) || !errors.As(err, &ue) || g.seen.Load() != 4 {
		t.Fatalf("502 page: %d attempts, %v", g.seen.Load(), err)
	}
}

func TestUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	c := newClient(t, url, Options{})
	start := time.Now()
	_, err := c.RevocationList(context.Background())
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("closed port: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("retries took too long")
	}

	// A ledger that does not answer in time.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	c = newClient(t, slow.URL, Options{Timeout: 50 * time.Millisecond, Retries: -1})
	if _, err := c.Report(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c = newClient(t, slow.URL, Options{})
	if _, err := c.Report(ctx); !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("context deadline: %v", err)
	}
	// The caller giving up is not the ledger being unreachable.
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	if _, err := c.Report(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestBadAnswersAreRefused(t *testing.T) {
	answer := func(ct string, body []byte) *Client {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write(body)
		}))
		t.Cleanup(ts.Close)
		return newClient(t, ts.URL, Options{})
	}
	ctx := context.Background()
	k, _ := signer("alice")
	rl := protocol.Seal(prototest.NewPKI("x").RevList)
	cases := map[string]func() error{
		"garbage envelope": func() error {
			_, err := answer(contentType, []byte{3, 1, 2}).Reserve(ctx, reserve(t, k, 1, 1))
			return err
		},
		"wrong type": func() error { _, err := answer(contentType, rl).Reserve(ctx, reserve(t, k, 1, 1)); return err },
		"too long": func() error {
			_, err := answer(contentType, make([]byte, 4096)).Reserve(ctx, reserve(t, k, 1, 1))
			return err
		},
		"wrong media": func() error { _, err := answer("text/html", rl).RevocationList(ctx); return err },
		"set of one":  func() error { _, _, err := answer(contentTypeSet, []byte{0x81, 0x40}).Trust(ctx); return err },
		"not a set":   func() error { _, _, err := answer(contentTypeSet, []byte{0x01}).Trust(ctx); return err },
		"bad JSON":    func() error { _, err := answer("application/json", []byte("{")).Report(ctx); return err },
	}
	for name, f := range cases {
		if err := f(); err == nil || offpay.ErrorCode(err) != offpay.EINTERNAL && !errors.Is(err, ErrUnreachable) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New("ftp://ledger", Options{}); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Errorf("bad URL: %v", err)
	}
}

// TestAdminTextCheckedBeforeSending: json.Marshal would turn invalid UTF-8
// into U+FFFD, so that two different references reach the ledger as one;
// the client refuses such text, and control characters, before sending.
func TestAdminTextCheckedBeforeSending(t *testing.T) {
	ctx := context.Background()
	f, c := fixture(t, nil)
	if _, err := c.CreateAccount(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	f.Lock()
	before := f.Calls
	f.Unlock()
	for _, ref := range []string{"wire-\xff", "wire-\xfe", "esc\x1b[2J"} {
		if _, err := c.Deposit(ctx, "bob", 5, ref); offpay.ErrorCode(err) != offpay.EINVALID {
			t.Fatalf("deposit ref %q: %v", ref, err)
		}
		if _, err := c.Withdraw(ctx, "bob", 5, ref); offpay.ErrorCode(err) != offpay.EINVALID {
			t.Fatalf("withdraw ref %q: %v", ref, err)
		}
	}
	if err := c.Revoke(ctx, protocol.KeyID{1}, "lost\xff"); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("revoke reason: %v", err)
	}
	if _, err := c.CreateAccount(ctx, "..", false); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("account ..: %v", err)
	}
	f.Lock()
	defer f.Unlock()
	if f.Calls != before {
		t.Fatalf("%d refused calls reached the ledger", f.Calls-before)
	}
}

// TestRateLimitedIsUnreachable: a 429 answer, the ledger's (JSON
// "rate_limited") or a proxy's (no JSON), means "try again later", like a
// 503: it matches ErrUnreachable, says it was rate limited and carries the
// Retry-After the caller should honour.
func TestRateLimitedIsUnreachable(t *testing.T) {
	if CodeRateLimited != server.CodeRateLimited {
		t.Fatalf("CodeRateLimited %q, the server's %q", CodeRateLimited, server.CodeRateLimited)
	}
	for _, raw := range []bool{false, true} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "2")
			if raw {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, "<html>slow down</html>")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"rate_limited","message":"too many requests; retry later"}}`)
		}))
		c := newClient(t, ts.URL, Options{Retries: -1})
		_, err := c.CreateAccount(context.Background(), "alice", false)
		ts.Close()
		var ae *APIError
		if !errors.Is(err, ErrUnreachable) || !errors.As(err, &ae) || !ae.RateLimited() || ae.RetryAfter != 2*time.Second {
			t.Fatalf("raw %v: %#v", raw, err)
		}
	}
}
