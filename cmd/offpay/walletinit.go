package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

func walletInit(e *env, args []string) error {
	fs := newFlags(e, "wallet init", "--dir DIR (--code-in CODE.png | --ledger URL --account NAME --code CODE)")
	dir := fs.String("dir", "", "the wallet's folder")
	url := fs.String("ledger", "", "the ledger's URL, e.g. http://127.0.0.1:8420 (in the code's QR image already)")
	account := fs.String("account", "", "the ledger account this wallet draws on (the code names it)")
	code := fs.String("code", "", "the one-time enrolment code the operator issued for the account (offpay ledger code issue)")
	codeIn := fs.String("code-in", "", "the enrolment code's QR image (PNG or JPEG) or text form: code and ledger URL")
	tokenFile := fs.String("admin-token-file", "", "instead of a code, the operator's token file (the operator enrolling a device at their own machine); or set "+adminTokenEnv)
	kdfMem := fs.Uint("kdf-memory", uint(vse.DefaultKDF.Memory/1024), fmt.Sprintf("Argon2id memory in MiB for the PIN (at least %d: the SE's floor)", vse.MinKDF.Memory/1024))
	kdfTime := fs.Uint("kdf-time", uint(vse.DefaultKDF.Time), fmt.Sprintf("Argon2id passes for the PIN (at least %d)", vse.MinKDF.Time))
	caFile := fs.String("ledger-ca", "", "a PEM certificate to check the ledger's HTTPS against besides the system's roots (a self-signed ledger's "+selfSignedCertFile+")")
	cardReader := fs.String("card", "", "the PC/SC reader whose smart card is this wallet's secure element (its PIN from "+pinEnv+" or asked); without it the SE is the virtual one in --dir")
	insecure := fs.Bool("insecure", false, "allow the enrolment (and the administrator token, if used) over plain HTTP to a host that is not loopback (anyone on the path can read the code or token and hand this wallet another root)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *codeIn != "" {
		a, c, u, err := readEnrolCode(e, *codeIn)
		if err != nil {
			return err
		}
		if *url == "" {
			*url = u
		}
		if *account == "" {
			*account = a
		}
		*code = c
	}
	if *dir == "" || *url == "" || *account == "" {
		return usageErrorf("wallet init needs --dir, --account, and --code-in or --ledger with --code (or the operator's token)")
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
	if *kdfMem < 1 || *kdfMem > 4096 || *kdfTime < 1 || *kdfTime > 64 {
		return usageErrorf("--kdf-memory must be 1..4096 MiB and --kdf-time 1..64")
	}
	opts := &vse.Options{KDF: vse.KDF{Time: uint32(*kdfTime), Memory: uint32(*kdfMem) * 1024, Threads: vse.DefaultKDF.Threads}}
	if testSEOptions != nil && e.getenv(testFastKDFEnv) != "" {
		opts = testSEOptions(opts)
	}
	if opts.BelowFloorForTests == nil && (opts.KDF.Time < vse.MinKDF.Time || opts.KDF.Memory < vse.MinKDF.Memory) {
		return usageErrorf("--kdf-memory %d --kdf-time %d is below the secure element's floor (%d MiB, %d passes): a stolen folder would fall to PIN guessing",
			*kdfMem, *kdfTime, vse.MinKDF.Memory/1024, vse.MinKDF.Time)
	}
	var caPEM []byte
	if *caFile != "" {
		var err error
		if caPEM, err = os.ReadFile(*caFile); err != nil {
			return usageErrorf("--ledger-ca: %v", err)
		}
	}
	hc, err := httpClient(caPEM, 10*time.Second)
	if err != nil {
		return err
	}
	c, err := ledgerclient.New(*url, ledgerclient.Options{AdminToken: token, HTTPClient: hc, Retries: 1, AllowInsecure: *insecure})
	if errors.Is(err, ledgerclient.ErrInsecure) {
		return fmt.Errorf("%w (--insecure allows it)", err)
	}
	if err != nil {
		return usageErrorf("--ledger: %v", err)
	}
	if *cardReader != "" {
		return walletInitCard(e, *dir, *cardReader, walletConfig{Ledger: *url, Account: *account, LedgerCA: string(caPEM), Card: *cardReader}, clientLedger{c: c, code: *code})
	}
	// Every flag checked: now the PIN.
	pin, err := readNewPIN(e, pinEnv) // asked twice, without echo on a terminal
	if err != nil {
		return err
	}
	if n := utf8.RuneCountInString(pin); n < ledger.DefaultMinPIN {
		return usageErrorf("the PIN must have at least %d characters (it has %d): whoever copies the wallet's folder can try every shorter one", ledger.DefaultMinPIN, n)
	}
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		return err
	}
	v, err := initSE(filepath.Join(*dir, walletSEDir), pin, opts)
	if err != nil {
		return err
	}
	w, err := wallet.Open(v, *dir, &wallet.Options{Ledger: clientLedger{c: c, code: *code}})
	if err != nil {
		return err
	}
	if err := w.Enrol(ctx, *account); err != nil {
		os.RemoveAll(filepath.Join(*dir, walletSEDir))
		return err
	}
	cfg, _ := json.MarshalIndent(walletConfig{Ledger: *url, Account: *account, LedgerCA: string(caPEM), Currency: w.SE().Certificate().Currency}, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, walletConfigFile), cfg, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wallet created in %s for account %s, device %s\n", *dir, *account, v.ID())
	unlock := v.UnlockCode()
	if unlock == "" {
		// An interrupted init made this SE; its code was never shown.
		if unlock, err = v.NewUnlockCode(); err != nil {
			return fmt.Errorf("the wallet is created, but no unlock code could be made (offpay wallet pin --new-code makes one): %w", err)
		}
	}
	showUnlockCode(e, *dir, unlock)
	return nil
}

// testSEOptions is set by this package's tests only (main_test.go), from
// se/setest: with testFastKDFEnv set it lets a test's wallets use a KDF
// below the SE's floor, to keep the tests fast. It is nil in the offpay
// binary, which cannot reach the escape.
var testSEOptions func(*vse.Options) *vse.Options

const testFastKDFEnv = "OFFPAY_TEST_FAST_KDF"

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
