package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite/replica"
)

func init() {
	register("ledger",
		command{"init", "create the ledger's keys, database folder and administrator token", ledgerInit},
		command{"serve", "run the ledger's HTTP API", ledgerServe},
		command{"account create", "create an account (administrator)", ledgerAccountCreate},
		command{"account show", "show an account and its statement (administrator)", ledgerAccountShow},
		command{"account list", "list every account: balance, held, devices (administrator)", ledgerAccountList},
		command{"device list", "list the devices, of every account or one: state, last sync, position (administrator)", ledgerDeviceList},
		command{"deposit", "credit an account from outside (administrator)", ledgerMove(true)},
		command{"withdraw", "debit an account to outside (administrator)", ledgerMove(false)},
		command{"report", "the reconciliation report (administrator)", ledgerReport},
		command{"revoke", "revoke a device (administrator)", ledgerRevoke},
		command{"outbox list", "list the bank notifications (administrator)", ledgerOutboxList},
		command{"outbox resend", "deliver bank notifications again: one by key, or a time range (administrator)", ledgerOutboxResend},
		command{"outbox export", "export the bank notifications of a time range as JSON lines or CSV (administrator)", ledgerOutboxExport},
		command{"issuer rotate", "certify a new issuer key with the offline root key (ledger stopped)", ledgerIssuerRotate},
		command{"device lost", "report a device lost or stolen: revoked now, its value back on the account after its deadline (administrator)", ledgerDeviceLost},
	)
}

// newFlags makes a flag set that reports errors as usage errors and prints
// its help on stdout.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: offpay %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	// A negative amount ("-5") is an argument, not a flag: hide it from the
	// flag package, so that it gets the amount's message.
	const hidden = "\x00"
	args = append([]string(nil), args...)
	for i, a := range args {
		if negativeNumber.MatchString(a) && (i == 0 || !takesValue(fs, args[i-1])) {
			args[i] = hidden + a
		}
	}
	pos, err := parseFlags(fs, args)
	for i := range pos {
		pos[i] = strings.TrimPrefix(pos[i], hidden)
	}
	return pos, err
}

// takesValue reports whether arg is a flag of fs that takes the next
// argument as its value.
func takesValue(fs *flag.FlagSet, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if name == arg || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp { // the flag package has printed fs.Usage
				return nil, errHelp
			}
			return nil, usageErrorf("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp ends a command that printed its help.
var errHelp = &helpShown{}

type helpShown struct{}

func (*helpShown) Error() string { return "" }

func needData(dir string) error {
	if dir == "" {
		return usageErrorf("--data DIR is required")
	}
	return nil
}

func ledgerInit(e *env, args []string) error {
	fs := newFlags(e, "ledger init", "--data DIR [--currency EUR] [--root-key FILE | --pkcs11 MODULE --token LABEL [--key-alg ed25519|ecdsa-p256] [--pkcs11-pin-file FILE]]")
	data := fs.String("data", "", "the ledger's data folder")
	cur := fs.String("currency", "EUR", "the ledger's currency (ISO 4217 or a registered code)")
	rootKey := fs.String("root-key", "", "where to write the root's private key (default DIR/"+rootKeyFile+"); move it offline: serving never reads it, ledger issuer rotate needs it; "+rootPassEnv+" encrypts it")
	module := fs.String("pkcs11", "", "a PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so): the root and issuer keys are made and kept on its token --token, and every signature is made there; the PIN from "+pkcs11PIN+" or --pkcs11-pin-file")
	token := fs.String("token", "", "the label of the PKCS#11 token (with --pkcs11)")
	keyAlg := fs.String("key-alg", "ed25519", "with --pkcs11: the keys' algorithm, ed25519 (CKM_EDDSA) or ecdsa-p256 (CKM_ECDSA)")
	pinFile := fs.String("pkcs11-pin-file", "", "a file whose first line is the token's PIN (instead of "+pkcs11PIN+")")
	rootToken := fs.String("root-token", "", "with --pkcs11: keep the root key on this other token of the module, which ledger serve never opens (take it offline); its PIN from "+pkcs11RootPIN+" or --pkcs11-root-pin-file (default: the --token PIN)")
	rootPinFile := fs.String("pkcs11-root-pin-file", "", "a file whose first line is the --root-token PIN")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	if _, err := offpay.LookupCurrency(*cur); err != nil {
		return usageErrorf("unknown currency %q", *cur)
	}
	if *module != "" || *token != "" || *rootToken != "" {
		return ledgerInitHSM(e, *data, *cur, hsmInit{module: *module, token: *token, rootToken: *rootToken, alg: *keyAlg}, *pinFile, *rootPinFile, *rootKey)
	}
	if *rootKey == "" {
		*rootKey = filepath.Join(*data, rootKeyFile)
	}
	rootPass := []byte(e.getenv(rootPassEnv))
	if _, err := initLedgerData(*data, *cur, []byte(e.getenv(passphraseEnv)), *rootKey, rootPass); err != nil {
		return err
	}
	enc := "encrypted with " + rootPassEnv
	if len(rootPass) == 0 {
		enc = "NOT encrypted: set " + rootPassEnv + " to encrypt it"
	}
	fmt.Fprintf(e.stdout, "ledger initialised in %s (currency %s)\nadministrator token: %s\n"+
		"root key: %s (%s)\n  move it offline now: the ledger never needs it to serve; offpay ledger issuer rotate does\n"+
		"next: offpay ledger serve --data %s\n",
		*data, *cur, filepath.Join(*data, adminTokenFile), *rootKey, enc, *data)
	return nil
}

// ledgerInitHSM is ledger init with the keys on PKCS#11 tokens.
func ledgerInitHSM(e *env, data, cur string, o hsmInit, pinFile, rootPinFile, rootKey string) error {
	switch {
	case o.module == "" || o.token == "":
		return usageErrorf("--pkcs11 MODULE and --token LABEL go together (and --root-token with them)")
	case rootKey != "":
		return usageErrorf("--root-key and --pkcs11 exclude each other: with --pkcs11 the root key is made and kept on a token (--root-token)")
	}
	var err error
	if o.pin, err = hsmPIN(e, pinFile); err != nil {
		return err
	}
	o.rootPIN = o.pin
	if rootPinFile != "" {
		if o.rootPIN, err = pinFromFile("--pkcs11-root-pin-file", rootPinFile); err != nil {
			return err
		}
	} else if p := e.getenv(pkcs11RootPIN); p != "" {
		o.rootPIN = []byte(p)
	}
	if _, err := initLedgerDataWith(data, func(keysDir string) error {
		return initHSMKeys(keysDir, cur, o)
	}); err != nil {
		return err
	}
	c, _, err := readHSMConfig(filepath.Join(data, "keys"))
	if err != nil {
		return err
	}
	where := fmt.Sprintf("root and issuer keys (%s) on PKCS#11 token %q: %q, %q", c.Issuer.Alg, c.Token, c.Root.Label, c.Issuer.Label)
	if c.RootToken != "" {
		where = fmt.Sprintf("root key (%s) %q on PKCS#11 token %q: take that token offline, ledger serve never opens it\n"+
			"issuer key %q on PKCS#11 token %q", c.Root.Alg, c.Root.Label, c.RootToken, c.Issuer.Label, c.Token)
	}
	fmt.Fprintf(e.stdout, "ledger initialised in %s (currency %s)\nadministrator token: %s\n"+
		"%s; not extractable, no key file written\n"+
		"next: %s=... offpay ledger serve --data %s\n",
		data, cur, filepath.Join(data, adminTokenFile), where, pkcs11PIN, data)
	return nil
}

func ledgerIssuerRotate(e *env, args []string) error {
	fs := newFlags(e, "ledger issuer rotate", "--data DIR --root-key FILE")
	data := fs.String("data", "", "the ledger's data folder (the ledger must not be serving)")
	rootKey := fs.String("root-key", "", "the root key file ledger init wrote ("+rootPassEnv+" if it is encrypted)")
	pinFile := fs.String("pkcs11-pin-file", "", "keys on PKCS#11 tokens (ledger init --pkcs11): a file whose first line is the issuer token's PIN (instead of "+pkcs11PIN+")")
	rootPinFile := fs.String("pkcs11-root-pin-file", "", "keys on PKCS#11 tokens: a file whose first line is the root token's PIN (instead of "+pkcs11RootPIN+"; default the issuer token's)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	if c, ok, err := readHSMConfig(filepath.Join(*data, "keys")); err != nil {
		return err
	} else if ok {
		if *rootKey != "" {
			return usageErrorf("the ledger's keys are on PKCS#11 tokens: the root key is on token %q, not in a file (no --root-key)", c.rootTokenLabel())
		}
		return rotateHSM(e, filepath.Join(*data, "keys"), c, *pinFile, *rootPinFile)
	}
	if *rootKey == "" {
		return usageErrorf("ledger issuer rotate needs --root-key FILE: the root key ledger init wrote")
	}
	keys := filepath.Join(*data, "keys")
	root, err := ledger.LoadRootKey(keys, *rootKey, []byte(e.getenv(rootPassEnv)))
	if err != nil {
		return err
	}
	old, err := ledger.LoadKeys(keys, []byte(e.getenv(passphraseEnv)))
	if err != nil {
		return err
	}
	c, err := ledger.RotateIssuer(keys, root, []byte(e.getenv(passphraseEnv)))
	if err != nil {
		return err
	}
	printRotated(e, old.Issuer.ID(), c)
	return nil
}

func printRotated(e *env, old protocol.KeyID, c *protocol.Certificate) {
	fmt.Fprintf(e.stdout, "issuer %s replaced by %s (valid until %s); the old certificate is kept in keys/retired, its key deleted\n"+
		"restart the ledger: devices learn the new issuer at their next sync and are renewed under it\n",
		old, c.ID(), time.Unix(int64(c.NotAfter), 0).UTC().Format(time.RFC3339))
}

func ledgerServe(e *env, args []string) error {
	fs := newFlags(e, "ledger serve", "--data DIR [--db postgres://...] [--listen 127.0.0.1:8420] [--webhook URL] [--replicate DIR] [--device-rate 2] [--client-rate 20] [--trusted-proxy CIDR]...")
	data := fs.String("data", "", "the ledger's data folder")
	db := fs.String("db", "", "a PostgreSQL URL; default: SQLite in the data folder")
	listen := fs.String("listen", defaultListen, "address to listen on")
	webhook := fs.String("webhook", "", "bank webhook URL for the notifications (secret from "+webhookSecretEv+", at least 16 bytes)")
	hookTimeout := fs.Duration("webhook-timeout", 10*time.Second, "how long one delivery attempt may take")
	hookConc := fs.Int("webhook-concurrency", 16, "deliveries in flight at once, each for a different account (one at a time while the receiver fails)")
	hookBackoff := fs.Duration("webhook-max-backoff", time.Minute, "the longest wait between attempts at one notification")
	hookDead := fs.Duration("webhook-dead-after", 72*time.Hour, "give a notification up (dead letter: report, metrics, ledger outbox resend) when it still fails this long after it was written or resent")
	hookFormat := fs.String("webhook-format", bank.FormatJSON, "the body of the notifications: "+bank.FormatJSON+", or "+bank.FormatCamt054+" (ISO 20022 XML for statement lines and settled and expired payments, JSON for the rest)")
	hookLease := fs.Duration("webhook-lease", time.Minute, "how long a notification being sent is reserved to this process (renewed while it sends; after a crash, its account's notifications wait this long); more than --webhook-timeout")
	adopt := fs.Bool("init", false, "start afresh on an empty database although this data folder has served before (without it such a database is refused: restore a backup instead)")
	allowAsync := fs.Bool("allow-async-commit", false, "serve on a PostgreSQL server whose synchronous_commit is off or local (commits the ledger acknowledged can then be lost in a crash or failover); refused without it")
	replicate := fs.String("replicate", "", "a folder on another disk to replicate the SQLite database to continuously (Litestream's WAL shipping); restore from it with offpay ledger restore --from-replica")
	replicateEvery := fs.Duration("replicate-interval", replica.DefaultInterval, "how often --replicate ships the latest commits (the most a dead disk loses is about twice this)")
	policyFile := fs.String("policy", "", "JSON file of the offline limits for new and renewed device certificates (person, merchant, validity_days); devices get renewed certificates at their next sync")
	devRate := fs.Float64("device-rate", defaultDeviceRate, fmt.Sprintf(
		"requests per second each device may send to the device endpoints (bursts of %d seconds' worth); 0: no limit", deviceBurstSeconds))
	clientRate := fs.Float64("client-rate", defaultClientRate, fmt.Sprintf(
		"per client address, in three budgets of this size: unauthenticated requests (GET reads, device bodies until their signature verifies), refused signatures, wrong admin tokens (bursts of %d seconds' worth); 0: no limit", clientBurstSeconds))
	var proxies prefixList
	fs.Var(&proxies, "trusted-proxy", "address or CIDR of a reverse proxy (the TLS terminator) whose X-Forwarded-For names the client; repeat for several; without it, clients behind a proxy share its address and its limits")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM, chain included)")
	tlsKey := fs.String("tls-key", "", "the private key of --tls-cert (PEM)")
	selfSigned := fs.Bool("tls-self-signed", false, "serve HTTPS with a self-signed development certificate kept in the data folder ("+selfSignedCertFile+"; give it to wallet init --ledger-ca)")
	insecure := fs.Bool("insecure", false, "allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy only)")
	pinFile := fs.String("pkcs11-pin-file", "", "if the keys are on a PKCS#11 token (ledger init --pkcs11): a file whose first line is its PIN (instead of "+pkcs11PIN+")")
	var fed fedOptions // README "Federation"
	fs.StringVar(&fed.scheme, "scheme", "", "serve as a provider of the scheme at this URL (offpay scheme serve): with --provider and --nats")
	fs.StringVar(&fed.provider, "provider", "", "this ledger's name in the scheme's register")
	fs.StringVar(&fed.nats, "nats", "", "the NATS JetStream server (nats://host:4222) evidence is forwarded through between providers")
	fs.DurationVar(&fed.every, "statement-every", 10*time.Second, "how often the ledger sends the scheme its signed statement and reads the register again")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	tlsOpt := tlsOptions{certFile: *tlsCert, keyFile: *tlsKey, selfSigned: *selfSigned}
	switch {
	case *selfSigned && *tlsCert != "":
		return usageErrorf("--tls-self-signed and --tls-cert exclude each other")
	case *tlsKey != "" && *tlsCert == "":
		return usageErrorf("--tls-key needs --tls-cert")
	case !tlsOpt.on() && !*insecure && plainRemoteListen(*listen):
		return noTLSError(*listen)
	}
	var policy *ledger.Policy
	if *policyFile != "" {
		var err error
		if policy, err = readPolicy(*policyFile); err != nil {
			return err
		}
		if policy.TrustsTestManufacturer() {
			fmt.Fprintln(e.stderr, "WARNING: the policy trusts the TEST manufacturer key, whose private half is public: anyone can attest a card. Never in production.")
		}
	}
	if *hookFormat != bank.FormatJSON && *hookFormat != bank.FormatCamt054 {
		return usageErrorf("--webhook-format %q: want %s or %s", *hookFormat, bank.FormatJSON, bank.FormatCamt054)
	}
	if *hookTimeout <= 0 || *hookConc <= 0 || *hookConc > 1024 || *hookBackoff < time.Second || *hookDead < time.Minute || *hookLease <= *hookTimeout {
		return usageErrorf("webhook: timeout must be positive, concurrency 1 to 1024, max backoff at least 1s, dead-after at least 1m, the lease longer than the timeout")
	}
	devLimit, err := rateLimit(*devRate, deviceBurstSeconds)
	if err != nil {
		return usageErrorf("--device-rate: %v", err)
	}
	clientLimit, err := rateLimit(*clientRate, clientBurstSeconds)
	if err != nil {
		return usageErrorf("--client-rate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(*data, rootKeyFile)); err == nil {
		fmt.Fprintf(e.stderr, "warning: %s holds the root key on this online host; move it offline (serving never needs it)\n",
			filepath.Join(*data, rootKeyFile))
	}
	var pin []byte
	if _, ok, _ := readHSMConfig(filepath.Join(*data, "keys")); ok {
		if pin, err = hsmPIN(e, *pinFile); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := startLedger(ctx, hostOptions{dataDir: *data, dbURL: *db, listen: *listen,
		passphrase: []byte(e.getenv(passphraseEnv)), pkcs11PIN: pin, webhook: *webhook, deviceRate: devLimit, clientRate: clientLimit, trustedProxies: proxies, policy: policy,
		hook: webhookOptions{secret: []byte(e.getenv(webhookSecretEv)), timeout: *hookTimeout, concurrency: *hookConc,
			maxBackoff: *hookBackoff, deadAfter: *hookDead, lease: *hookLease, format: *hookFormat},
		allowAsyncCommit: *allowAsync, adopt: *adopt, tls: tlsOpt, replicate: *replicate, replicateEvery: *replicateEvery})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(*data, ledgerURLFile), []byte(h.url+"\n")); err != nil { // a reader never sees half a URL
		// Devices do not need the file (administrator commands do): on a
		// full or read-only disk the ledger serves all the same.
		fmt.Fprintf(e.stderr, "warning: cannot write %s (%v): administrator commands will not find this ledger; it serves devices all the same\n",
			filepath.Join(*data, ledgerURLFile), err)
	}
	stopFed := func() {}
	if fed.on() {
		stopFed, err = startFederation(ctx, h.svc, fed, func(f string, a ...any) { fmt.Fprintf(e.stderr, f+"\n", a...) })
		if err != nil {
			h.Close()
			return err
		}
		fmt.Fprintf(e.stdout, "provider %s of the scheme at %s, evidence over %s\n", fed.provider, fed.scheme, fed.nats)
	}
	fmt.Fprintf(e.stdout, "ledger serving on %s (currency %s)\n", h.url, h.svc.Currency())
	printPages(e.stdout, h.url)
	if *replicate != "" {
		fmt.Fprintf(e.stdout, "replicating the database to %s every %s\n", *replicate, *replicateEvery)
	}
	select {
	case <-ctx.Done():
	case err := <-h.done:
		if err != nil {
			stopFed()
			return err
		}
	}
	stopFed() // before the store closes
	return h.Close()
}

// adminClient finds the running ledger of a data folder.
func adminClient(dir string) (*ledgerclient.Client, error) {
	if err := needData(dir); err != nil {
		return nil, err
	}
	token, err := readToken(dir)
	if err != nil {
		return nil, err
	}
	u, err := os.ReadFile(filepath.Join(dir, ledgerURLFile))
	if err != nil {
		return nil, fmt.Errorf("%w: the ledger of %s is not serving (run offpay ledger serve --data %s)", ledgerclient.ErrUnreachable, dir, dir)
	}
	hc, err := httpClient(servedCert(dir), 10*time.Second)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(string(u))
	// The ledger of DIR serves on this host: a plain-HTTP address of one of
	// its own interfaces (ledger serve --insecure) never leaves it.
	return ledgerclient.New(base, ledgerclient.Options{AdminToken: token, HTTPClient: hc, Retries: 1, AllowInsecure: ownAddress(base)})
}

func ledgerCurrency(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "keys", "currency"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func ledgerAccountCreate(e *env, args []string) error {
	fs := newFlags(e, "ledger account create", "--data DIR NAME [--deposit AMOUNT] [--merchant [--name DISPLAY]]")
	data := fs.String("data", "", "the ledger's data folder")
	deposit := fs.String("deposit", "", "an opening deposit, e.g. 100.00 or 100.00 EUR")
	merchant := fs.Bool("merchant", false, "a merchant account (its receipts sweep into the account at settlement)")
	display := fs.String("name", "", fmt.Sprintf("a merchant's display name, 1 to %d bytes: its devices are certified with it and payers are shown it before they pay (default: NAME)", protocol.MaxCertNameLen))
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger account create needs one NAME")
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var amount offpay.Amount
	if *deposit != "" {
		if amount.Minor, err = parseAmount("--deposit", *deposit, ledgerCurrency(*data), "this ledger"); err != nil {
			return err
		}
	}
	var acct *ledger.Account
	switch {
	case *display != "" && !*merchant:
		return usageErrorf("--name is for merchants (--merchant): a person's devices are shown by the account name")
	case *display != "":
		if err := protocol.CheckCertName(*display); err != nil {
			return usageErrorf("--name: %v", err)
		}
		acct, err = c.CreateMerchant(ctx, pos[0], *display)
	default:
		acct, err = c.CreateAccount(ctx, pos[0], *merchant)
	}
	if err != nil {
		return err
	}
	if amount.Minor > 0 {
		if acct, err = c.Deposit(ctx, pos[0], amount.Minor, "opening-"+pos[0]); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(e.stdout, acct)
	}
	fmt.Fprintf(e.stdout, "account %s created, balance %s\n", acct.Name, fmtMinor(acct.Balance, acct.Currency))
	if acct.Merchant {
		fmt.Fprintf(e.stdout, "its devices are certified as merchant %q: payers are shown that name\n", acct.DisplayName)
	}
	return nil
}

func ledgerAccountShow(e *env, args []string) error {
	fs := newFlags(e, "ledger account show", "--data DIR NAME [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger account show needs one NAME")
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	acct, err := c.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	lines, err := c.Statement(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, map[string]any{"account": acct, "statement": lines})
	}
	fmt.Fprintf(e.stdout, "%s: balance %s%s\n", acct.Name, fmtMinor(acct.Balance, acct.Currency), map[bool]string{true: " (frozen)"}[acct.Frozen])
	if acct.Held > 0 {
		fmt.Fprintf(e.stdout, "  held: %s until its devices' payments are explained (their next sync) or assessed\n", fmtMinor(acct.Held, acct.Currency))
	}
	for _, l := range lines {
		fmt.Fprintf(e.stdout, "  %4d %-10s %12s  %12s  %s\n", l.Seq, l.Kind, fmtMinor(l.Amount, acct.Currency), fmtMinor(l.Balance, acct.Currency), l.Ref)
	}
	return nil
}

func ledgerAccountList(e *env, args []string) error {
	fs := newFlags(e, "ledger account list", "--data DIR [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("ledger account list", pos); err != nil {
		return err
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	as, err := c.Accounts(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		if as == nil {
			as = []ledger.AccountSummary{}
		}
		return printJSON(e.stdout, as)
	}
	fmt.Fprintf(e.stdout, "%-16s %-9s %16s %16s %7s  %s\n", "ACCOUNT", "KIND", "BALANCE", "HELD", "DEVICES", "")
	for _, a := range as {
		kind, note := "person", ""
		if a.Merchant {
			kind = "merchant"
		}
		if a.Frozen {
			note = "frozen"
		}
		fmt.Fprintf(e.stdout, "%-16s %-9s %16s %16s %7d  %s\n", a.Name, kind, fmtMinor(a.Balance, a.Currency), fmtMinor(a.Held, a.Currency), a.Devices, note)
	}
	return nil
}

func ledgerDeviceList(e *env, args []string) error {
	fs := newFlags(e, "ledger device list", "--data DIR [--account NAME] [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	account := fs.String("account", "", "only this account's devices")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("ledger device list", pos); err != nil {
		return err
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	ds, err := c.Devices(context.Background(), *account)
	if err != nil {
		return err
	}
	if *asJSON {
		if ds == nil {
			ds = []ledger.DeviceSummary{}
		}
		return printJSON(e.stdout, ds)
	}
	cur := ledgerCurrency(*data)
	fmt.Fprintf(e.stdout, "%-16s %-32s %-8s %-20s %16s  %s\n", "ACCOUNT", "DEVICE", "STATUS", "LAST SEEN", "POSITION", "CERTIFICATE EXPIRES")
	for _, d := range ds {
		seen := "never"
		if d.LastSeen != nil {
			seen = d.LastSeen.Format(time.RFC3339)
		}
		fmt.Fprintf(e.stdout, "%-16s %-32s %-8s %-20s %16s  %s\n", d.Account, d.Device, d.Status, seen, fmtMinor(d.Position, cur), d.CertificateExpires.Format(time.RFC3339))
		if d.Status == "revoked" && d.Reason != "" {
			fmt.Fprintf(e.stdout, "  revoked: %s\n", d.Reason)
		}
	}
	return nil
}

func ledgerMove(deposit bool) func(e *env, args []string) error {
	name := map[bool]string{true: "deposit", false: "withdraw"}[deposit]
	return func(e *env, args []string) error {
		usage := "--data DIR NAME AMOUNT [--ref REF]"
		if !deposit {
			usage = "--data DIR NAME AMOUNT [--ref REF] [--reenter]"
		}
		fs := newFlags(e, "ledger "+name, usage)
		data := fs.String("data", "", "the ledger's data folder")
		ref := fs.String("ref", "", "an idempotency reference (default: a fresh one)")
		var reenter *bool
		if !deposit {
			reenter = fs.Bool("reenter", false, "enter again a withdrawal the bank paid out, which a restore of the ledger took (--ref: the bank's ref); a freeze or a hold does not refuse it")
		}
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return usageErrorf("ledger %s needs NAME and AMOUNT", name)
		}
		if reenter != nil && *reenter && *ref == "" {
			return usageErrorf("ledger withdraw --reenter needs --ref, the withdrawal's ref in the bank's records (a fresh one would withdraw it twice)")
		}
		minor, err := parseAmount("amount", pos[1], ledgerCurrency(*data), "this ledger")
		if err != nil {
			return err
		}
		amount := offpay.Amount{Minor: minor}
		c, err := adminClient(*data)
		if err != nil {
			return err
		}
		if *ref == "" {
			*ref = fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
		}
		f := c.Withdraw
		switch {
		case deposit:
			f = c.Deposit
		case *reenter:
			f = c.ReenterWithdrawal
		}
		acct, err := f(context.Background(), pos[0], amount.Minor, *ref)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: balance %s\n", acct.Name, fmtMinor(acct.Balance, acct.Currency))
		return nil
	}
}

func ledgerReport(e *env, args []string) error {
	fs := newFlags(e, "ledger report", "--data DIR [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	r, err := c.Report(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, r)
	}
	printReport(e.stdout, r)
	return nil
}

func ledgerRevoke(e *env, args []string) error {
	fs := newFlags(e, "ledger revoke", "--data DIR DEVICE [--reason TEXT]")
	data := fs.String("data", "", "the ledger's data folder")
	reason := fs.String("reason", "revoked by the operator", "why (kept in the ledger)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger revoke needs one DEVICE (hex id, as the wallet's balance shows it)")
	}
	id, err := protocol.ParseKeyID(pos[0])
	if err != nil {
		return usageErrorf("DEVICE: %v", err)
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	if err := c.Revoke(context.Background(), id, *reason); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "device %s revoked; payees learn it at their next sync\n", id)
	return nil
}

func ledgerDeviceLost(e *env, args []string) error {
	fs := newFlags(e, "ledger device lost", "--data DIR DEVICE")
	data := fs.String("data", "", "the ledger's data folder")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger device lost needs one DEVICE (hex id, as the report shows it)")
	}
	id, err := protocol.ParseKeyID(pos[0])
	if err != nil {
		return usageErrorf("DEVICE: %v", err)
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	if err := c.Lost(context.Background(), id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "device %s revoked as lost; the value it still holds returns to its account once it can no longer be spent (its offline deadline plus the 3-day claim window); a replacement enrols with a new code\n", id)
	return nil
}

func fmtMinor(minor int64, currency string) string {
	c, err := offpay.LookupCurrency(currency)
	if err != nil {
		return fmt.Sprintf("%d %s", minor, currency)
	}
	return offpay.FormatMinor(minor, c.Exponent) + " " + currency
}

func printReport(w io.Writer, r *ledger.Report) {
	account := map[string]string{}
	for _, d := range r.Devices {
		account[d.Device] = d.Account
	}
	// named is a device as a person reads it: its account beside the start
	// of its id.
	named := func(dev string) string {
		short := dev[:min(12, len(dev))]
		if a := account[dev]; a != "" {
			return fmt.Sprintf("%s (%s)", short, a)
		}
		return short
	}
	fmt.Fprintf(w, "Reconciliation (%s)\n", r.Currency)
	fmt.Fprintf(w, "  issued (deposits - withdrawals)  %14s\n", fmtMinor(r.Issued, r.Currency))
	fmt.Fprintf(w, "  account balances                 %14s\n", fmtMinor(r.Accounts, r.Currency))
	fmt.Fprintf(w, "  outstanding purse value          %14s\n", fmtMinor(r.Outstanding, r.Currency))
	fmt.Fprintf(w, "  losses                           %14s\n", fmtMinor(r.Losses, r.Currency))
	fmt.Fprintf(w, "  recovered from owners            %14s\n", fmtMinor(r.Recovered, r.Currency))
	fmt.Fprintf(w, "  unassessed exposure              %14s  (held on accounts: %s)\n", fmtMinor(r.Unassessed, r.Currency), fmtMinor(r.Held, r.Currency))
	if r.Released > 0 {
		fmt.Fprintf(w, "  released sales (late refunds)    %14s  (not held; a silent till's late refund draws on its shop)\n", fmtMinor(r.Released, r.Currency))
	}
	if r.Clearing != 0 { // a provider of a scheme (README "Federation")
		fmt.Fprintf(w, "  clearing with other providers    %14s  (what it owes them, less what they owe it)\n", fmtMinor(r.Clearing, r.Currency))
	}
	fmt.Fprintf(w, "  settled payments                 %14d\n", r.Settled)
	fmt.Fprintf(w, "  online payments                  %14d  (%s moved account to account)\n", r.OnlinePayments, fmtMinor(r.Online, r.Currency))
	if r.RestoredAt != nil {
		fmt.Fprintf(w, "  last restore recorded            %s  (assessment deadlines count from no earlier)\n", r.RestoredAt.Format(time.RFC3339))
	}
	ok := "HOLDS"
	switch {
	case len(r.Behind) > 0:
		ok = fmt.Sprintf("NOT KNOWN: the ledger lost data %d device(s) still hold (they give it back at their next sync)", len(r.Behind))
	case !r.ConservationOK:
		ok = "BROKEN"
	}
	clearing := ""
	if r.Clearing != 0 {
		clearing = " + clearing"
	}
	fmt.Fprintf(w, "  conservation: issued + losses + unassessed = balances + outstanding%s: %s\n", clearing, ok)
	if o := r.Outbox; o != nil {
		fmt.Fprintf(w, "  bank notifications: %d pending, %d dead", o.Pending, o.Dead)
		if o.OldestPending != nil {
			fmt.Fprintf(w, " (oldest pending since %s, %d attempts", o.OldestPending.Format(time.RFC3339), o.OldestAttempts)
			if o.LastError != "" {
				fmt.Fprintf(w, ", last error: %s", o.LastError)
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
		if o.Dead > 0 {
			fmt.Fprintln(w, "         given up (dead letters): offpay ledger outbox list --state dead; resend with offpay ledger outbox resend")
		}
	}
	for _, d := range r.Devices {
		fmt.Fprintf(w, "  device %s  %-10s loaded %s sent %s received %s redeemed %s position %s  %s\n", d.Device[:12], d.Account,
			fmtMinor(d.Loaded, r.Currency), fmtMinor(d.Sent, r.Currency), fmtMinor(d.Received, r.Currency),
			fmtMinor(d.Redeemed, r.Currency), fmtMinor(d.Position, r.Currency), d.Status)
		if d.Unassessed > 0 && d.AssessBy != nil {
			fmt.Fprintf(w, "         unexplained deficit %s, final at %s unless its payments are explained\n",
				fmtMinor(d.Unassessed, r.Currency), d.AssessBy.Format(time.RFC3339))
		}
		if d.Reason != "" && d.Status == "revoked" {
			fmt.Fprintf(w, "         revoked: %s\n", d.Reason)
		}
	}
	for _, b := range r.Behind {
		fmt.Fprintf(w, "  ledger behind device %s: it acknowledged its log up to counter %d (result of %s) and holds it up to %d\n",
			named(b.Device), b.Acked, b.ResultTime.Format(time.RFC3339), b.Held)
	}
	for _, ds := range r.DoubleSpends {
		fmt.Fprintf(w, "  double spend: device %s counter %d, proof (%s) of %d+%d signed bytes\n", named(ds.Device), ds.Counter, ds.Kind, len(ds.EntryA), len(ds.EntryB))
	}
	if len(r.RevokedDevices) > 0 {
		ns := make([]string, len(r.RevokedDevices))
		for i, d := range r.RevokedDevices {
			ns[i] = named(d)
		}
		fmt.Fprintf(w, "  revoked devices: %s\n", strings.Join(ns, ", "))
	}
}

// prefixList is the value of a repeatable flag of addresses or CIDR
// prefixes ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32"), each occurrence
// possibly a comma-separated list.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	var ss []string
	for _, x := range *p {
		ss = append(ss, x.String())
	}
	return strings.Join(ss, ",")
}

func (p *prefixList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if pr, err := netip.ParsePrefix(f); err == nil {
			*p = append(*p, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is not an address or a CIDR prefix", f)
		}
		a = a.Unmap()
		*p = append(*p, netip.PrefixFrom(a, a.BitLen()))
	}
	return nil
}
