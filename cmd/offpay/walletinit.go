package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

func walletInit(e *env, args []string) error {
	fs := newFlags(e, "wallet init", "--dir DIR --ledger URL --account NAME")
	dir := fs.String("dir", "", "the wallet's folder")
	url := fs.String("ledger", "", "the ledger's URL, e.g. http://127.0.0.1:8420")
	account := fs.String("account", "", "the ledger account this wallet draws on")
	tokenFile := fs.String("admin-token-file", "", "the operator's token file (enrolment is done by the operator); or set "+adminTokenEnv)
	kdfMem := fs.Uint("kdf-memory", 64, "Argon2id memory in MiB for the PIN (lower only on low-memory devices)")
	kdfTime := fs.Uint("kdf-time", 3, "Argon2id passes for the PIN")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" || *url == "" || *account == "" {
		return usageErrorf("wallet init needs --dir, --ledger and --account")
	}
	token := e.getenv(adminTokenEnv)
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		token = strings.TrimSpace(string(b))
	}
	if _, err := os.Stat(filepath.Join(*dir, walletConfigFile)); err == nil {
		return usageErrorf("a wallet already exists in %s", *dir)
	}
	pin, err := readPIN(e)
	if err != nil {
		return err
	}
	if len(pin) < 4 {
		return usageErrorf("the PIN must have at least 4 characters")
	}
	c, err := ledgerclient.New(*url, ledgerclient.Options{AdminToken: token, Timeout: 10 * time.Second, Retries: 1})
	if err != nil {
		return usageErrorf("--ledger: %v", err)
	}
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		return err
	}
	if *kdfMem < 1 || *kdfMem > 4096 || *kdfTime < 1 || *kdfTime > 100 {
		return usageErrorf("--kdf-memory must be 1..4096 MiB and --kdf-time 1..100")
	}
	v, err := initSE(filepath.Join(*dir, walletSEDir), pin, &vse.Options{KDF: vse.KDF{Time: uint32(*kdfTime), Memory: uint32(*kdfMem) * 1024, Threads: 2}})
	if err != nil {
		return err
	}
	w, err := wallet.Open(v, *dir, &wallet.Options{Ledger: clientLedger{c}})
	if err != nil {
		return err
	}
	if err := w.Enrol(ctx, *account); err != nil {
		os.RemoveAll(filepath.Join(*dir, walletSEDir))
		return err
	}
	cfg, _ := json.MarshalIndent(walletConfig{Ledger: *url, Account: *account}, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, walletConfigFile), cfg, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wallet created in %s for account %s, device %s\n", *dir, *account, v.ID())
	return nil
}

// initSE creates the wallet's secure element, or takes up the one an
// interrupted init left without a config.json. One with a certificate may
// hold value: it is never replaced.
func initSE(dir, pin string, opts *vse.Options) (*vse.VSE, error) {
	if _, err := os.Stat(filepath.Join(dir, vse.StateFile)); err != nil {
		return vse.Create(dir, pin, opts)
	}
	v, err := vse.Open(dir, pin, nil)
	if err != nil {
		return nil, err
	}
	if v.Certificate() != nil {
		return nil, usageErrorf("%s holds an enrolled secure element but %s is missing: restore that file (a new wallet here would hide this one's value)",
			dir, walletConfigFile)
	}
	return v, nil
}
