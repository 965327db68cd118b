package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
)

// Files of a ledger's data folder, besides the keys ledger.Init writes.
const (
	ledgerDBFile    = "ledger.db"
	adminTokenFile  = "admin.token"
	ledgerURLFile   = "ledger.url" // written by serve so administrator commands find it
	defaultListen   = "127.0.0.1:8420"
	passphraseEnv   = "OFFPAY_LEDGER_PASSPHRASE"
	webhookSecretEv = "OFFPAY_WEBHOOK_SECRET"
)

type ledgerStore interface {
	ledger.Store
	Close() error
}

// hostedLedger is a ledger service with its HTTP server, running.
type hostedLedger struct {
	svc    *ledger.Service
	store  ledgerStore
	srv    *http.Server
	url    string
	token  string
	cancel context.CancelFunc
	done   chan error
}

type hostOptions struct {
	dataDir    string
	dbURL      string // empty: SQLite in dataDir
	listen     string
	passphrase []byte
	webhook    string
	logger     *slog.Logger
	clock      func() time.Time
	policy     *ledger.Policy // nil: ledger.DefaultPolicy
	// deviceRate and clientRate are the server's per-device and per-address rate
	// limits (server.Options.RateLimit and ClientRateLimit); zero values take the
	// server's defaults, which suit production.
	deviceRate server.RateLimit
	clientRate server.RateLimit
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

func initLedgerData(dir, currency string, passphrase []byte) (string, error) {
	if _, err := ledger.Init(filepath.Join(dir, "keys"), currency, passphrase); err != nil {
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
	return token, nil
}

func readToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	if err != nil {
		return "", fmt.Errorf("no ledger in %s (run offpay ledger init --data %s): %w", dir, dir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func startLedger(ctx context.Context, o hostOptions) (*hostedLedger, error) {
	keys, err := ledger.LoadKeys(filepath.Join(o.dataDir, "keys"), o.passphrase)
	if err != nil {
		return nil, err
	}
	token, err := readToken(o.dataDir)
	if err != nil {
		return nil, err
	}
	var st ledgerStore
	if o.dbURL == "" {
		st, err = sqlite.Open(ctx, filepath.Join(o.dataDir, ledgerDBFile))
	} else {
		st, err = postgres.Open(ctx, o.dbURL, "offpay")
	}
	if err != nil {
		return nil, err
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	svc := ledger.New(st, keys, ledger.Options{Clock: o.clock})
	if err := applyPolicy(svc, o.policy); err != nil {
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		st.Close()
		return nil, err
	}
	h := &hostedLedger{svc: svc, store: st, token: token, url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	h.srv = server.HTTPServer(o.listen, server.New(svc, server.Options{AdminToken: token, Logger: logger,
		RateLimit: o.deviceRate, ClientRateLimit: o.clientRate}))
	wctx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	if o.webhook != "" {
		w, err := bank.NewWorker(svc, bank.Config{URL: o.webhook, Secret: []byte(os.Getenv(webhookSecretEv)), Logger: logger})
		if err != nil {
			ln.Close()
			st.Close()
			cancel()
			return nil, err
		}
		go w.Run(wctx)
	}
	go func() {
		err := h.srv.Serve(ln)
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
	if cerr := h.store.Close(); err == nil {
		err = cerr
	}
	return err
}
