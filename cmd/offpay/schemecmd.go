package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/scheme"
	"github.com/offpay/offpay/scheme/schemehttp"
	"github.com/offpay/offpay/se"
)

// The scheme node (README "Federation"): its root, the register of
// providers, the scheme-wide revocation list and clearing.

const (
	schemeTokenFile = "scheme.token"
	schemeURLFile   = "scheme.url"
)

func init() {
	register("scheme",
		command{"init", "create a scheme: its root key, its empty register and its administrator token", schemeInit},
		command{"provider add", "admit a provider: create its ledger's data folder with an issuer key the root certifies", schemeProviderAdd},
		command{"provider rotate", "give a provider a new issuer key the root certifies (its ledger stopped); the old issuer stays listed and trusted", schemeProviderRotate},
		command{"provider suspend", "suspend a provider (or --reinstate it): its issuers join the scheme's revocation list", schemeProviderSuspend},
		command{"register", "print the register (JSON)", schemeRegister},
		command{"serve", "serve the register, the scheme's revocation list, the providers' statements and clearing over HTTP", schemeServe},
		command{"clear", "run a clearing cycle on the serving scheme and print it (JSON)", schemeClear},
	)
	register("wallet",
		command{"scheme", "install every provider's issuer from a scheme's register (and its revocation list) in the wallet's SE", walletScheme},
	)
}

func schemeInit(e *env, args []string) error {
	fs := newFlags(e, "scheme init", "--data DIR [--currency EUR]")
	data := fs.String("data", "", "the scheme's folder (its root key: keep it offline but for admissions)")
	cur := fs.String("currency", "EUR", "the scheme's currency")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	if _, err := scheme.Init(*data, *cur, []byte(e.getenv(rootPassEnv))); err != nil {
		return err
	}
	tok := make([]byte, 24)
	rand.Read(tok)
	if err := os.WriteFile(filepath.Join(*data, schemeTokenFile), []byte(hex.EncodeToString(tok)+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "scheme initialised in %s (currency %s)\nnext: offpay scheme provider add --data %s --name NAME --ledger-data DIR\n", *data, *cur, *data)
	return nil
}

func openScheme(e *env, dir string) (*scheme.Node, error) {
	if err := needData(dir); err != nil {
		return nil, err
	}
	return scheme.Open(dir, []byte(e.getenv(rootPassEnv)))
}

func schemeProviderAdd(e *env, args []string) error {
	fs := newFlags(e, "scheme provider add", "--data DIR --name NAME --ledger-data DIR [--url URL]")
	data := fs.String("data", "", "the scheme's folder")
	name := fs.String("name", "", "the provider's name in the register")
	ldata := fs.String("ledger-data", "", "the provider ledger's data folder to create (then: offpay ledger serve --data DIR --scheme URL --provider NAME --nats URL)")
	url := fs.String("url", "", "where the provider's ledger serves (informative)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *ldata == "" {
		return usageErrorf("--name and --ledger-data are required")
	}
	n, err := openScheme(e, *data)
	if err != nil {
		return err
	}
	if _, err := initLedgerDataWith(*ldata, func(keysDir string) error {
		_, err := n.AddProvider(*name, *url, keysDir, []byte(e.getenv(passphraseEnv)))
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "provider %s admitted: its ledger's data folder is %s (administrator token %s)\n", *name, *ldata, filepath.Join(*ldata, adminTokenFile))
	return nil
}

func schemeProviderRotate(e *env, args []string) error {
	fs := newFlags(e, "scheme provider rotate", "--data DIR --name NAME --ledger-data DIR")
	data := fs.String("data", "", "the scheme's folder")
	name := fs.String("name", "", "the provider")
	ldata := fs.String("ledger-data", "", "the provider ledger's data folder (the ledger must not be serving)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *ldata == "" {
		return usageErrorf("--name and --ledger-data are required")
	}
	n, err := openScheme(e, *data)
	if err != nil {
		return err
	}
	c, err := n.RotateProvider(*name, filepath.Join(*ldata, "keys"), []byte(e.getenv(passphraseEnv)))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "provider %s has a new issuer %v; the old one stays in the register\n", *name, c.ID())
	return nil
}

func schemeProviderSuspend(e *env, args []string) error {
	fs := newFlags(e, "scheme provider suspend", "--data DIR --name NAME [--reinstate]")
	data := fs.String("data", "", "the scheme's folder")
	name := fs.String("name", "", "the provider")
	back := fs.Bool("reinstate", false, "lift the suspension")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := openScheme(e, *data)
	if err != nil {
		return err
	}
	if err := n.SetSuspended(*name, !*back); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "provider %s suspended: %v (a serving scheme reads the register at its next start)\n", *name, !*back)
	return nil
}

func schemeRegister(e *env, args []string) error {
	fs := newFlags(e, "scheme register", "--data DIR")
	data := fs.String("data", "", "the scheme's folder")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	r, err := scheme.ReadRegister(*data)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func schemeServe(e *env, args []string) error {
	fs := newFlags(e, "scheme serve", "--data DIR [--listen 127.0.0.1:8430]")
	data := fs.String("data", "", "the scheme's folder")
	listen := fs.String("listen", "127.0.0.1:8430", "address to listen on (plain HTTP: put a TLS proxy in front off loopback)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	n, err := openScheme(e, *data)
	if err != nil {
		return err
	}
	tok, err := os.ReadFile(filepath.Join(*data, schemeTokenFile))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return offpay.Errorf(offpay.EUNAVAILABLE, "listen %s: %v", *listen, err)
	}
	srv := &http.Server{Handler: schemehttp.New(n, strings.TrimSpace(string(tok))).Handler(), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + l.Addr().String()
	if err := writeFileAtomic(filepath.Join(*data, schemeURLFile), []byte(url+"\n")); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "scheme serving on %s\n", url)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func schemeClear(e *env, args []string) error {
	fs := newFlags(e, "scheme clear", "--data DIR [--iso-out DIR [--scheme-id ID] [--settlement-agent ID]]")
	data := fs.String("data", "", "the scheme's folder (of a serving scheme)")
	isoOut := fs.String("iso-out", "", "also write the cycle's ISO 20022 settlement instructions (pacs.009) and each provider's statement (camt.053) into this folder; refused when the cycle does not hold")
	schemeID := fs.String("scheme-id", "offpay-scheme", "with --iso-out: the scheme's identifier in the messages (a BIC, an LEI or another id of 1-35 characters)")
	agentID := fs.String("settlement-agent", "settlement-agent", "with --iso-out: the settlement agent's identifier (a BIC, an LEI or another id of 1-35 characters)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	tok, err := os.ReadFile(filepath.Join(*data, schemeTokenFile))
	if errors.Is(err, os.ErrNotExist) {
		return offpay.Errorf(offpay.ENOTFOUND, "%s is not a scheme's folder (offpay scheme init makes one)", *data)
	}
	if err != nil {
		return err
	}
	u, err := os.ReadFile(filepath.Join(*data, schemeURLFile))
	if err != nil {
		return offpay.Errorf(offpay.EUNAVAILABLE, "the scheme of %s is not serving", *data)
	}
	c, err := schemehttp.NewClient(strings.TrimSpace(string(u))).Clear(context.Background(), strings.TrimSpace(string(tok)))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return err
	}
	if *isoOut == "" {
		return nil
	}
	files, err := writeCycleISO(c, *isoOut, *schemeID, *agentID)
	for _, f := range files {
		fmt.Fprintf(e.stderr, "wrote %s\n", f)
	}
	return err
}

// walletScheme installs the register's issuers in the wallet's SE, which
// takes only those that chain to the root it pinned at enrolment.
func walletScheme(e *env, args []string) error {
	fs := newFlags(e, "wallet scheme", "--dir DIR --scheme URL")
	dir := fs.String("dir", "", "the wallet's folder")
	url := fs.String("scheme", "", "the scheme's URL")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return usageErrorf("--scheme URL is required")
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	c := schemehttp.NewClient(*url)
	reg, err := c.Register(ctx)
	if err != nil {
		return err
	}
	iss, err := reg.Issuers()
	if err != nil {
		return err
	}
	rl, err := c.RevocationList(ctx)
	if err != nil {
		return err
	}
	if err := w.SE().Install(w.SE().Certificate(), se.Anchors{Issuers: iss}, rl); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d providers' issuers installed; revocation list %d of the scheme\n", len(reg.Members), rl.Number)
	return nil
}
