package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/sqlite/replica"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Files of a ledger's data folder, besides the keys ledger.Init writes.
const (
	ledgerDBFile    = "ledger.db"
	adminTokenFile  = "admin.token"
	ledgerURLFile   = "ledger.url" // written by serve so administrator commands find it
	defaultListen   = "127.0.0.1:8420"
	passphraseEnv   = "OFFPAY_LEDGER_PASSPHRASE"
	rootKeyFile     = "root.key" // written by init beside keys/, for the operator to take offline
	rootPassEnv     = "OFFPAY_ROOT_PASSPHRASE"
	webhookSecretEv = "OFFPAY_WEBHOOK_SECRET"
)

type ledgerStore interface {
	ledger.Store
	Close() error
}

// hostedLedger is a ledger service with its HTTP server, running.
type hostedLedger struct {
	svc     *ledger.Service
	store   ledgerStore
	rep     *replica.Replicator // nil: not replicating
	srv     *http.Server
	url     string
	token   string
	cancel  context.CancelFunc
	done    chan error
	bg      sync.WaitGroup // the bank worker and the assessor
	release func()         // the data folder's serve lock
	// closeKeys closes the PKCS#11 token that holds the keys, if one does.
	closeKeys func() error
}

type hostOptions struct {
	dataDir    string
	dbURL      string // empty: SQLite in dataDir
	listen     string
	passphrase []byte
	pkcs11PIN  []byte // the token's PIN, if the keys are on one (keys/pkcs11.json)
	webhook    string
	hook       webhookOptions
	logger     *slog.Logger
	clock      func() time.Time
	policy     *ledger.Policy // nil: ledger.DefaultPolicy
	// deviceRate and clientRate are the server's per-device and per-address rate
	// limits (server.Options.RateLimit and ClientRateLimit); zero values take the
	// server's defaults, which suit production.
	deviceRate server.RateLimit
	clientRate server.RateLimit
	// trustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (server.Options.TrustedProxies).
	trustedProxies []netip.Prefix
	// assessEvery is how often the ledger's deadline work runs (0: assessEvery).
	assessEvery time.Duration
	// allowAsyncCommit accepts a PostgreSQL server whose commits are not
	// durable when they return (postgres.Options.AllowAsyncCommit).
	allowAsyncCommit bool
	// adopt binds an empty database to a data folder that has served
	// before (ledger serve --init; bind.go).
	adopt bool
	tls   tlsOptions // off: plain HTTP
	// replicate is a folder the SQLite database is replicated to while
	// the ledger serves ("": none); replicateEvery how often (0: the
	// default).
	replicate      string
	replicateEvery time.Duration
}

// logf writes a line for the operator (stderr, or the test's logger).
func (o *hostOptions) logf(format string, args ...any) {
	if o.logger != nil {
		o.logger.Warn(fmt.Sprintf(format, args...))
		return
	}
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// Bursts of the rate limits set by ledger serve's flags, as multiples of the rate.
// With the default rates they give the server's default bursts (20 and 100).
const (
	deviceBurstSeconds = 10
	clientBurstSeconds = 5
	defaultDeviceRate  = 2
	defaultClientRate  = 20
)

// rateLimit is the limit of perSecond requests per second with bursts of burstSeconds
// seconds' worth; perSecond 0 turns the limit off.
func rateLimit(perSecond, burstSeconds float64) (server.RateLimit, error) {
	switch {
	case perSecond == 0:
		return server.RateLimit{Disabled: true}, nil
	case !(perSecond > 0) || perSecond > 1e6:
		return server.RateLimit{}, fmt.Errorf("rate %v: want 0 (no limit) or a rate up to 1000000 per second", perSecond)
	}
	return server.RateLimit{PerSecond: perSecond, Burst: max(1, int(math.Ceil(perSecond*burstSeconds)))}, nil
}

// initLedgerData creates a ledger's data folder: keys/ (certificates, the
// issuer key encrypted with passphrase if not empty, currency), the
// administrator token, and the root key in rootKey (encrypted with
// rootPass if not empty; "": not kept).
func initLedgerData(dir, currency string, passphrase []byte, rootKey string, rootPass []byte) (string, error) {
	return initLedgerDataWith(dir, func(keysDir string) error {
		_, err := ledger.InitWith(keysDir, currency, ledger.InitOptions{Passphrase: passphrase, RootKeyFile: rootKey, RootPassphrase: rootPass})
		return err
	})
}

// initLedgerDataWith creates a data folder whose keys makeKeys creates in
// its keys/ (initHSMKeys: on a PKCS#11 token).
func initLedgerDataWith(dir string, makeKeys func(keysDir string) error) (string, error) {
	if err := makeKeys(filepath.Join(dir, "keys")); err != nil {
		return "", err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return "", err
	}
	token := hex.EncodeToString(tok)
	if err := os.WriteFile(filepath.Join(dir, adminTokenFile), []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	if _, err := ledgerID(dir); err != nil {
		return "", err
	}
	return token, nil
}

func readToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	if err != nil {
		return "", fmt.Errorf("no ledger in %s (run offpay ledger init --data %s): %w", dir, dir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// webhookOptions tune the bank worker (bank.Config); zero values take
// its defaults.
type webhookOptions struct {
	secret      []byte
	timeout     time.Duration
	concurrency int
	maxBackoff  time.Duration
	deadAfter   time.Duration
	lease       time.Duration // ledger.Options.Lease
	format      string        // bank.Config.Format
}

// startLedger takes the data folder's serve lock, opens the store and
// serves; Close releases it all.
func startLedger(ctx context.Context, o hostOptions) (h *hostedLedger, err error) {
	release, err := lockData(o.dataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	keys, closeKeys, err := loadLedgerKeys(filepath.Join(o.dataDir, "keys"), o.passphrase, o.pkcs11PIN)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeKeys()
		}
	}()
	token, err := readToken(o.dataDir)
	if err != nil {
		return nil, err
	}
	if o.replicate != "" {
		if o.dbURL != "" {
			return nil, usageErrorf("--replicate is for the embedded SQLite database; PostgreSQL replicates with its own streaming replication and WAL archiving (README \"Operating the ledger\")")
		}
		// Before the database is touched: a wrong folder changes nothing.
		id, err := ledgerID(o.dataDir)
		if err != nil {
			return nil, err
		}
		if _, err := replica.CheckFolder(o.replicate, id); err != nil {
			return nil, fmt.Errorf("--replicate %s: %w", o.replicate, err)
		}
	}
	var st ledgerStore
	if o.dbURL == "" {
		st, err = sqlite.Open(ctx, filepath.Join(o.dataDir, ledgerDBFile))
	} else {
		var pg *postgres.Store
		pg, err = postgres.OpenWith(ctx, o.dbURL, "offpay", postgres.Options{AllowAsyncCommit: o.allowAsyncCommit})
		if err == nil && (pg.SyncCommit() == "off" || pg.SyncCommit() == "local") {
			o.logf("WARNING: PostgreSQL synchronous_commit is %q: a crash or failover can lose uploads the ledger acknowledged (README \"Operating the ledger\")", pg.SyncCommit())
		}
		st = pg
	}
	if err != nil {
		return nil, err
	}
	if err := bindStore(ctx, st, o.dataDir, o.adopt); err != nil {
		st.Close()
		return nil, err
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var rep *replica.Replicator
	if o.replicate != "" {
		if rep, err = startReplica(ctx, o, logger); err != nil {
			st.Close()
			return nil, err
		}
	}
	// closeAll undoes the start on a later failure.
	closeAll := func() {
		st.Close()
		if rep != nil {
			rep.Close(context.WithoutCancel(ctx))
		}
	}
	svc := ledger.New(st, keys, ledger.Options{Clock: o.clock, Lease: o.hook.lease})
	if err := applyPolicy(svc, o.policy); err != nil {
		closeAll()
		return nil, err
	}
	var tlsConf *tls.Config
	var servedPEM []byte
	if o.tls.on() {
		if tlsConf, servedPEM, err = serverTLS(o.dataDir, o.listen, o.tls); err != nil {
			closeAll()
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		closeAll()
		return nil, err
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConf)
		err = writeFileAtomic(filepath.Join(o.dataDir, servedCertFile), servedPEM)
	} else {
		err = os.Remove(filepath.Join(o.dataDir, servedCertFile))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		ln.Close()
		closeAll()
		return nil, err
	}
	h = &hostedLedger{svc: svc, store: st, token: token, url: dialURL(scheme, ln.Addr()), done: make(chan error, 1), release: release, rep: rep, closeKeys: closeKeys}
	// One registry for /metrics: the server's, the bank worker's and the
	// outbox's (read at each scrape, with or without a webhook).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		bank.OutboxCollector(svc.OutboxStats, o.clock))
	if rep != nil {
		registerReplicaMetrics(reg, rep)
	}
	h.srv = server.HTTPServer(o.listen, server.New(svc, server.Options{AdminToken: token, Logger: logger,
		RateLimit: o.deviceRate, ClientRateLimit: o.clientRate, TrustedProxies: o.trustedProxies, Registry: reg, Outbox: svc, Pages: webPages()}))
	wctx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	if o.webhook != "" {
		// The worker keeps the wall clock whatever the ledger's (a demo's
		// runs ahead): a receiver checks the signature's time against its own.
		cfg := bank.Config{URL: o.webhook, Secret: o.hook.secret, Logger: logger, Metrics: reg, Concurrency: o.hook.concurrency,
			MaxBackoff: o.hook.maxBackoff, DeadAfter: o.hook.deadAfter, Format: o.hook.format}
		if o.hook.timeout > 0 {
			cfg.Client = &http.Client{Timeout: o.hook.timeout}
		}
		w, err := bank.NewWorker(svc, cfg)
		if err != nil {
			ln.Close()
			closeAll()
			cancel()
			return nil, err
		}
		h.bg.Add(1)
		go func() { defer h.bg.Done(); w.Run(wctx) }()
	}
	every := o.assessEvery
	if every <= 0 {
		every = assessEvery
	}
	h.bg.Add(1)
	go func() { defer h.bg.Done(); runAssessor(wctx, svc, logger, every) }()
	go func() {
		err := h.srv.Serve(server.Listener(ln)) // Go's own error answers in the API's JSON
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		h.done <- err
	}()
	return h, nil
}

func (h *hostedLedger) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.cancel()
	err := h.srv.Shutdown(ctx)
	h.bg.Wait() // the worker gives back what it was sending before the store closes
	if cerr := h.store.Close(); err == nil {
		err = cerr
	}
	// After the store: the replica's last shipment follows the last write.
	if h.rep != nil {
		if rerr := h.rep.Close(context.Background()); err == nil {
			err = rerr
		}
	}
	if h.closeKeys != nil {
		if kerr := h.closeKeys(); err == nil {
			err = kerr
		}
	}
	h.release()
	return err
}

// assessEvery is how often a serving ledger runs its deadline work.
const assessEvery = time.Minute

// runAssessor runs the ledger's deadline work (ledger.Service.Assess:
// unexplained deficits that reached their deadline, payments whose payee
// can no longer claim them, lost devices' value) at start and then every
// period, until ctx ends; it also takes up the policy another process on
// the same database published.
func runAssessor(ctx context.Context, svc *ledger.Service, logger *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := svc.LoadPolicy(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("reloading the policy failed", slog.String("error", err.Error()))
		}
		a, err := svc.Assess(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("assessment failed", slog.String("error", err.Error()))
		case err == nil && (a.Revoked > 0 || a.Expired > 0):
			logger.Info("assessment", slog.Int("revoked_at_deadline", a.Revoked), slog.Int("expired_without_payee", a.Expired))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startReplica starts replicating the data folder's SQLite database to
// o.replicate, a folder that must hold this ledger's replica or nothing.
func startReplica(ctx context.Context, o hostOptions, logger *slog.Logger) (*replica.Replicator, error) {
	id, err := ledgerID(o.dataDir)
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(o.dataDir, ledgerDBFile)
	if sameDisk(dbPath, o.replicate) {
		o.logf("WARNING: the replica %s is on the same disk as the database %s: it does not survive that disk", o.replicate, dbPath)
	}
	rep, err := replica.Start(ctx, dbPath, o.replicate, id, replica.Options{Interval: o.replicateEvery, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("--replicate %s: %w", o.replicate, err)
	}
	return rep, nil
}

// registerReplicaMetrics adds to reg what an operator watches of the
// replication: when it last shipped, and how many transactions it has
// read from the WAL and not yet shipped.
func registerReplicaMetrics(reg *prometheus.Registry, rep *replica.Replicator) {
	status := func() replica.Status {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, _ := rep.Status(ctx)
		return s
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "offpay_replica_last_shipped_timestamp_seconds",
			Help: "When ledger serve --replicate last shipped to its replica (Unix time; 0: not yet)."},
			func() float64 {
				t := status().LastSync
				if t.IsZero() {
					return 0
				}
				return float64(t.UnixNano()) / 1e9
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "offpay_replica_pending_transactions",
			Help: "Transactions read from the WAL that the replica does not hold yet."},
			func() float64 {
				s := status()
				if s.Local < s.Replicated {
					return 0
				}
				return float64(s.Local - s.Replicated)
			}))
}

// sameDisk reports whether the files at a and b (or the nearest folders
// above them that exist) are on one file system.
func sameDisk(a, b string) bool {
	dev := func(p string) (uint64, bool) {
		for {
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err == nil {
				return uint64(st.Dev), true
			}
			up := filepath.Dir(p)
			if up == p {
				return 0, false
			}
			p = up
		}
	}
	da, ok1 := dev(a)
	db, ok2 := dev(b)
	return ok1 && ok2 && da == db
}
