package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
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
	// LedgerCA is the PEM of the certificate (or CA) the ledger's HTTPS is
	// checked against besides the system's roots (wallet init --ledger-ca).
	LedgerCA string `json:"ledger_ca,omitempty"`
	// Card is the PC/SC reader whose card is this wallet's SE (wallet init
	// --card); empty: the virtual SE in the folder.
	Card string `json:"card,omitempty"`
	// Currency is the purse's, from its certificate: what wallet pay
	// picks a purse by (walletpurse.go). Older wallets learn it when next
	// opened.
	Currency string `json:"currency,omitempty"`
}

// clientLedger adapts the HTTP client to what the wallet needs.
type clientLedger struct {
	c    *ledgerclient.Client
	code string // a one-time enrolment code: Enrol uses it instead of the administrator's token
}

func (l clientLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	enrol := l.c.Enrol
	if l.code != "" {
		enrol = func(ctx context.Context, r *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
			return l.c.EnrolWithCode(ctx, r, l.code)
		}
	}
	e, err := enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

// Trust and RevocationList make clientLedger a wallet.TrustSource: a
// wallet learns a rotated issuer from them.
func (l clientLedger) Trust(ctx context.Context) (root, issuer *protocol.Certificate, err error) {
	return l.c.Trust(ctx)
}

func (l clientLedger) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	return l.c.RevocationList(ctx)
}

func (l clientLedger) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	return l.c.Reserve(ctx, r)
}

func (l clientLedger) Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	return l.c.Sync(ctx, u)
}

// PayOnline and OnlineReceipt make clientLedger a wallet.OnlineLedger.
func (l clientLedger) PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error) {
	return l.c.PayOnline(ctx, p)
}

func (l clientLedger) OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error) {
	return l.c.OnlineReceipt(ctx, payee, nonce)
}

// PresentOnlineReceipt implements wallet.ReceiptPresenter: a ledger that
// lost an online payment in a restore takes it back from the receipt.
func (l clientLedger) PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (bool, error) {
	return l.c.PresentOnlineReceipt(ctx, rc)
}

// Acknowledge implements wallet.Acknowledger.
func (l clientLedger) Acknowledge(ctx context.Context, res *protocol.SyncResult) (bool, error) {
	return l.c.Acknowledge(ctx, res)
}

func readPIN(e *env) (string, error) {
	if p := e.getenv(pinEnv); p != "" {
		return p, nil
	}
	line, err := readSecret(e, "PIN: ")
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
	return openWalletAt(e, dir, "")
}

// openWalletAt opens the wallet in dir with ledgerURL, if set, in place
// of the ledger its configuration names (checked against the same CA).
func openWalletAt(e *env, dir, ledgerURL string) (*openedWallet, error) {
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
	v, err := openSE(dir, cfg, pin)
	if err != nil {
		return nil, err
	}
	opts := &wallet.Options{}
	if ledgerURL != "" {
		cfg.Ledger = ledgerURL
	}
	if cfg.Ledger != "" {
		hc, err := httpClient([]byte(cfg.LedgerCA), 10*time.Second)
		if err != nil {
			return nil, err
		}
		c, err := ledgerclient.New(cfg.Ledger, ledgerclient.Options{HTTPClient: hc, Retries: 1})
		if err != nil {
			return nil, err
		}
		opts.Ledger = clientLedger{c: c}
	}
	w, err := wallet.Open(v, dir, opts)
	if err != nil {
		return nil, err
	}
	rememberCurrency(dir, &cfg, w.SE().Certificate())
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
	a, err := parseAmount("amount", s, st.Currency, "this purse")
	if err != nil {
		return 0, err
	}
	return uint64(a), nil
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
