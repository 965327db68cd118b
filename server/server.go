package server

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/offpay/offpay"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Ledger is what the HTTP API needs of the ledger; *ledger.Service has
// these methods. Its errors are *offpay.Error (codes become statuses) or
// *protocol.Error (an invalid message).
type Ledger interface {
	Enrol(ctx context.Context, req *protocol.EnrolmentRequest) (*ledger.Enrolment, error)
	// DeviceCertificate returns the certificate of an enrolled device (an
	// EUNAUTHORIZED error if there is none): the server checks with its key
	// who sent a request before it decodes the request or charges the
	// device for it.
	DeviceCertificate(ctx context.Context, id protocol.KeyID) (*protocol.Certificate, error)
	Reserve(ctx context.Context, req *protocol.ReserveRequest) (*protocol.Load, error)
	// PayOnline pays a payee's request from the payer device's account
	// (ledger/online.go); OnlineReceipt looks the receipt of a request up.
	PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error)
	OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error)
	Sync(ctx context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error)
	RevocationList(ctx context.Context) (*protocol.RevocationList, error)
	Trust() (root, issuer *protocol.Certificate)
	CreateAccount(ctx context.Context, name string, merchant bool) (*ledger.Account, error)
	Deposit(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error)
	Withdraw(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error)
	// ReenterWithdrawal enters again a withdrawal the bank paid out that a
	// restore of the ledger took (ledger.Service.ReenterWithdrawal).
	ReenterWithdrawal(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error)
	Account(ctx context.Context, name string) (*ledger.Account, error)
	Statement(ctx context.Context, name string) ([]ledger.StatementLine, error)
	Revoke(ctx context.Context, device protocol.KeyID, reason string) error
	Report(ctx context.Context) (*ledger.Report, error)
	// Acknowledged takes a device's last sync result, signed by this
	// ledger, as evidence that the ledger lost part of its log (it
	// reports whether it is behind the device).
	Acknowledged(ctx context.Context, res *protocol.SyncResult) (bool, error)
	// Ready reports whether the ledger can take writes now.
	Ready(ctx context.Context) error
	// One-time enrolment codes (ledger/codes.go).
	EnrolWithCode(ctx context.Context, req *protocol.EnrolmentRequest, code string) (*ledger.Enrolment, error)
	IssueCode(ctx context.Context, account string, ttl time.Duration) (*ledger.EnrolCode, error)
	Codes(ctx context.Context) ([]ledger.EnrolCode, error)
	CancelCode(ctx context.Context, id string) error
	// The operator's lists (ledger/lists.go).
	AccountList(ctx context.Context) ([]ledger.AccountSummary, error)
	DeviceList(ctx context.Context, account string) ([]ledger.DeviceSummary, error)
	// Lost reports a device lost or stolen (ledger/lost.go).
	Lost(ctx context.Context, device protocol.KeyID) error
}

// The real service must keep satisfying the interface.
var _ Ledger = (*ledger.Service)(nil)

// HTTPServer returns an http.Server for h with timeouts that keep slow or
// idle clients from holding connections for ever (a sync upload of the
// maximum size still has a minute to arrive over a slow link). Serve it on
// Listener(ln), so that the requests Go refuses by itself are answered in
// the API's JSON too.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// Options configure the handler.
type Options struct {
	// AdminToken authorises the administrator endpoints and enrolment. If
	// empty, they refuse every request.
	AdminToken string
	// Logger receives access logs and internal errors (default slog.Default()).
	Logger *slog.Logger
	// Registry receives the metrics served at /metrics. If nil, the server
	// uses its own registry with the Go and process collectors.
	Registry *prometheus.Registry
	// RateLimit bounds the requests each device sends whose signature
	// verifies (defaults: 2 per second, bursts of 20).
	RateLimit RateLimit
	// ClientRateLimit bounds, per client address, three kinds of request in
	// three buckets of these sizes (defaults: 20 per second, bursts of
	// 100): unauthenticated requests (the GET endpoints that name no
	// device, and every device request's body, charged before it is read
	// and given back once its signature verifies); requests whose
	// signature does not verify; and wrong administrator tokens. None of
	// the three ever refuses a request that authenticates: a device signing
	// its request, or the operator's token.
	ClientRateLimit RateLimit
	// TrustedProxies are the addresses of reverse proxies (the TLS
	// terminator) whose X-Forwarded-For header names the client: a request
	// from one of them is charged to the right-most address in that header
	// that is not a trusted proxy. Requests from any other peer are charged
	// to the peer, whatever their headers say. Without it, every client
	// behind a proxy shares the proxy's address and its limits.
	TrustedProxies []netip.Prefix
	// Now is the clock of the rate limiter (default time.Now).
	Now func() time.Time
	// Outbox, if set, serves the bank outbox's administrator endpoints.
	Outbox Outbox
	// Pages are browser pages served under /{prefix}/ (GET only, each
	// prefix one path segment, such as "console" or "wallet"): static
	// files that call this API like any client. A page's handler gets the
	// request with the prefix stripped; /{prefix} redirects to /{prefix}/.
	Pages map[string]http.Handler
}

// Server is the HTTP API. Use New to get one as an http.Handler.
type Server struct {
	ledger    Ledger
	token     []byte
	log       *slog.Logger
	mux       *http.ServeMux
	metrics   *metrics
	devices   *limiter // verified requests, by device key
	clients   *limiter // unauthenticated requests, by client address
	forgeries *limiter // requests failing authentication, by client address
	guesses   *limiter // wrong administrator tokens, by client address
	// authenticate says whether device requests are authenticated before
	// they are decoded (it only matters to the limits, so not when they
	// are all off: the ledger authenticates every request anyway).
	authenticate bool
	proxies      []netip.Prefix
	replays      *replays
	refused      *refusals
	routes       []string
}

//go:embed openapi.yaml
var openAPI []byte

// New returns the HTTP API over l.
func New(l Ledger, opts Options) http.Handler { return newServer(l, opts) }

func newServer(l Ledger, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{
		ledger:       l,
		token:        []byte(opts.AdminToken),
		log:          opts.Logger,
		mux:          http.NewServeMux(),
		metrics:      newMetrics(reg),
		devices:      newLimiter(opts.RateLimit, opts.Now, 2, 20),
		clients:      newLimiter(opts.ClientRateLimit, opts.Now, 20, 100),
		forgeries:    newLimiter(opts.ClientRateLimit, opts.Now, 20, 100),
		guesses:      newLimiter(opts.ClientRateLimit, opts.Now, 20, 100),
		authenticate: !opts.RateLimit.Disabled || !opts.ClientRateLimit.Disabled,
		proxies:      opts.TrustedProxies,
		replays:      newReplays(opts.Now),
		refused:      newRefusals(opts.Now),
	}
	// What the operator watches, from the reconciliation; a second server
	// on one registry (tests) keeps the first one's.
	_ = reg.Register(newLedgerCollector(l, opts.Logger, opts.Now))
	// Device endpoints: canonical protocol messages in and out,
	// authenticated by the SE signature inside (the ledger verifies it).
	s.handle("POST /v1/enrol", s.enrolAuth)
	s.handle("POST /v1/reserve", s.reserve)
	s.handle("POST /v1/online-payments", s.payOnline)
	s.handle("GET /v1/online-payments/{payee}/{nonce}", s.onlineReceipt)
	s.handle("POST /v1/online-receipts", s.presentReceipt)
	s.handle("POST /v1/sync", s.sync)
	s.handle("POST /v1/acknowledgement", s.acknowledgement)
	s.handle("GET /v1/revocation-list", s.revocationList)
	s.handle("GET /v1/trust", s.trust)
	// Administrator endpoints: JSON, bearer token.
	s.handle("POST /v1/admin/accounts", s.admin(s.createAccount))
	s.handle("GET /v1/admin/accounts", s.admin(s.accountList))
	s.handle("GET /v1/admin/accounts/{name}", s.admin(s.account))
	s.handle("GET /v1/admin/devices", s.admin(s.deviceList))
	s.handle("POST /v1/admin/accounts/{name}/deposit", s.admin(s.deposit))
	s.handle("POST /v1/admin/accounts/{name}/withdraw", s.admin(s.withdraw))
	s.handle("POST /v1/admin/accounts/{name}/reenter-withdrawal", s.admin(s.reenterWithdrawal))
	s.handle("GET /v1/admin/accounts/{name}/statement", s.admin(s.statement))
	s.handle("POST /v1/admin/devices/{id}/revoke", s.admin(s.revoke))
	s.handle("POST /v1/admin/devices/{id}/lost", s.admin(s.lost))
	s.handle("POST /v1/admin/accounts/{name}/codes", s.admin(s.issueCode))
	s.handle("GET /v1/admin/codes", s.admin(s.codes))
	s.handle("POST /v1/admin/codes/{id}/cancel", s.admin(s.cancelCode))
	s.handle("GET /v1/admin/report", s.admin(s.report))
	s.handle("GET /v1/admin/activity", s.admin(s.activity))
	s.handleOutbox(opts.Outbox)
	s.handlePages(opts.Pages)
	// Operations.
	s.handle("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	// /readyz: the process is up (healthz) and its store takes a write
	// now; 503 "unavailable" while the disk is full, read-only or failing
	// (a load balancer sends devices elsewhere; they retry anyway).
	s.handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ledger.Ready(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP)
	s.handle("GET /openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	})
	s.mux.HandleFunc("/", s.noRoute)
	return s
}

// noRoute answers requests no route matched, in JSON like every error:
// 405 with Allow when the path exists for other methods, else 404. (The
// catch-all pattern keeps ServeMux from answering in plain text.)
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, errorf(CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	s.writeError(w, r, errorf(offpay.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

// Routes returns the registered route patterns ("METHOD /path").
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// ServeHTTP serves r with access logging, metrics and panic recovery.
// A path that is not in canonical form is refused in JSON, where ServeMux
// would redirect to the cleaned path with an HTML page. Answers refused
// by a rate limit are logged at DEBUG (with a summary at WARN once a
// minute at most, refusals.go), every other answer at INFO.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.ErrorContext(r.Context(), "panic in handler", "path", r.URL.Path, "panic", p)
			if !rec.wrote {
				s.writeError(rec, r, errorf("internal", "panic: %v", p))
			}
		}
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(route, rec.status, d)
		level := slog.LevelInfo
		if rec.status == http.StatusTooManyRequests {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "http",
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes), slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr), slog.String("client", s.clientLabel(r)))
	}()
	if p := r.URL.Path; r.Method != http.MethodConnect && (p == "" || p[0] != '/' || cleanPath(p) != p) {
		s.writeError(rec, r, errorf(offpay.EINVALID, "the path %q is not in canonical form (no empty, . or .. segments): use %q", p, cleanPath(p)))
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// cleanPath is the path ServeMux would redirect p to (path.Clean, keeping
// a trailing slash).
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// recorder remembers the status and size of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
