package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

const (
	walletConfigFile = "config.json"
	walletSEDir      = "se"
	pinEnv           = "OFFPAY_PIN"
	adminTokenEnv    = "OFFPAY_ADMIN_TOKEN"
)

type walletConfig struct {
	Ledger  string `json:"ledger"`
	Account string `json:"account"`
}

// clientLedger adapts the HTTP client to what the wallet needs.
type clientLedger struct{ c *ledgerclient.Client }

func (l clientLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	e, err := l.c.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

func (l clientLedger) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	return l.c.Reserve(ctx, r)
}

func (l clientLedger) Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	return l.c.Sync(ctx, u)
}

func readPIN(e *env) (string, error) {
	if p := e.getenv(pinEnv); p != "" {
		return p, nil
	}
	fmt.Fprint(e.stderr, "PIN: ")
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		if err != nil {
			return "", usageErrorf("no PIN: set %s or type it", pinEnv)
		}
		return "", usageErrorf("empty PIN")
	}
	return line, nil
}

func loadConfig(dir string) (walletConfig, error) {
	var c walletConfig
	b, err := os.ReadFile(filepath.Join(dir, walletConfigFile))
	if err != nil {
		return c, usageErrorf("no wallet in %s (run offpay wallet init --dir %s ...)", dir, dir)
	}
	return c, json.Unmarshal(b, &c)
}

// openedWallet is a wallet with its SE, ready for one command.
type openedWallet struct {
	*wallet.Wallet
	cfg walletConfig
}

func openWallet(e *env, dir string) (*openedWallet, error) {
	if dir == "" {
		return nil, usageErrorf("--dir DIR is required")
	}
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, err
	}
	pin, err := readPIN(e)
	if err != nil {
		return nil, err
	}
	v, err := vse.Open(filepath.Join(dir, walletSEDir), pin, nil)
	if err != nil {
		return nil, err
	}
	opts := &wallet.Options{}
	if cfg.Ledger != "" {
		c, err := ledgerclient.New(cfg.Ledger, ledgerclient.Options{Timeout: 10 * time.Second, Retries: 1})
		if err != nil {
			return nil, err
		}
		opts.Ledger = clientLedger{c}
	}
	w, err := wallet.Open(v, dir, opts)
	if err != nil {
		return nil, err
	}
	return &openedWallet{Wallet: w, cfg: cfg}, nil
}

// amountArg parses an amount in the purse's currency ("12.50" or "12.50 EUR").
func (w *openedWallet) amountArg(s string) (uint64, error) {
	st, err := w.Status()
	if err != nil {
		return 0, err
	}
	if err := enrolled(st); err != nil {
		return 0, err
	}
	a, err := offpay.ParseAmountIn(s, st.Currency)
	if err != nil {
		return 0, usageErrorf("amount %q: %v", s, err)
	}
	if a.Currency != st.Currency {
		return 0, usageErrorf("amount in %s, but this purse holds %s", a.Currency, st.Currency)
	}
	if a.Minor <= 0 {
		return 0, usageErrorf("amount must be positive")
	}
	return uint64(a.Minor), nil
}

// enrolled refuses a wallet without a device certificate, which has no
// currency and no limits yet.
func enrolled(st wallet.Status) error {
	if !st.SE.Enrolled {
		return se.Errorf(se.CodeNotEnrolled, "no device certificate installed")
	}
	return nil
}

func (w *openedWallet) fmt(minor uint64) string {
	st, err := w.Status()
	if err != nil {
		return fmt.Sprint(minor)
	}
	return fmtMinor(int64(minor), st.Currency)
}
