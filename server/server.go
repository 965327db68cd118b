package server

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
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
	Reserve(ctx context.Context, req *protocol.ReserveRequest) (*protocol.Load, error)
	Sync(ctx context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error)
	RevocationList(ctx context.Context) (*protocol.RevocationList, error)
	Trust() (root, issuer *protocol.Certificate)
	CreateAccount(ctx context.Context, name string, merchant bool) (*ledger.Account, error)
	Deposit(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error)
	Withdraw(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error)
	Account(ctx context.Context, name string) (*ledger.Account, error)
	Statement(ctx context.Context, name string) ([]ledger.StatementLine, error)
	Revoke(ctx context.Context, device protocol.KeyID, reason string) error
	Report(ctx context.Context) (*ledger.Report, error)
}

// The real service must keep satisfying the interface.
var _ Ledger = (*ledger.Service)(nil)

// HTTPServer returns an http.Server for h with timeouts that keep slow or
// idle clients from holding connections for ever (a sync upload of the
// maximum size still has a minute to arrive over a slow link).
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
	// RateLimit bounds requests per device key on the device endpoints
	// (defaults: 2 per second, bursts of 20).
	RateLimit RateLimit
	// ClientRateLimit bounds, per client address, the GET endpoints that
	// name no device and the requests whose signature the ledger refused
	// (defaults: 20 per second, bursts of 100).
	ClientRateLimit RateLimit
	// Now is the clock of the rate limiter (default time.Now).
	Now func() time.Time
}

// Server is the HTTP API. Use New to get one as an http.Handler.
type Server struct {
	ledger  Ledger
	token   []byte
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	devices *limiter // by device key
	clients *limiter // by client address
	routes  []string
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
		ledger:  l,
		token:   []byte(opts.AdminToken),
		log:     opts.Logger,
		mux:     http.NewServeMux(),
		metrics: newMetrics(reg),
		devices: newLimiter(opts.RateLimit, opts.Now, 2, 20),
		clients: newLimiter(opts.ClientRateLimit, opts.Now, 20, 100),
	}
	// Device endpoints: canonical protocol messages in and out,
	// authenticated by the SE signature inside (the ledger verifies it).
	s.handle("POST /v1/enrol", s.admin(s.enrol))
	s.handle("POST /v1/reserve", s.reserve)
	s.handle("POST /v1/sync", s.sync)
	s.handle("GET /v1/revocation-list", s.revocationList)
	s.handle("GET /v1/trust", s.trust)
	// Administrator endpoints: JSON, bearer token.
	s.handle("POST /v1/admin/accounts", s.admin(s.createAccount))
	s.handle("GET /v1/admin/accounts/{name}", s.admin(s.account))
	s.handle("POST /v1/admin/accounts/{name}/deposit", s.admin(s.deposit))
	s.handle("POST /v1/admin/accounts/{name}/withdraw", s.admin(s.withdraw))
	s.handle("GET /v1/admin/accounts/{name}/statement", s.admin(s.statement))
	s.handle("POST /v1/admin/devices/{id}/revoke", s.admin(s.revoke))
	s.handle("GET /v1/admin/report", s.admin(s.report))
	// Operations.
	s.handle("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
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
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes), slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr))
	}()
	s.mux.ServeHTTP(rec, r)
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
