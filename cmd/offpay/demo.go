package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/wallet"
)

// demo is the whole story of offpay in one process: a ledger on SQLite
// behind its real HTTP API, five wallets with virtual SEs, payments by QR
// images and over the encrypted channel, a torn payment, a cloned wallet,
// syncs in a shuffled order, and the reconciliation.
type demo struct {
	e       *env
	dir     string
	qrDir   string
	ctx     context.Context
	host    *hostedLedger
	admin   *ledgerclient.Client
	wallets map[string]*wallet.Wallet
	failed  []string
	step    int
	offset  atomic.Int64 // the demo clock's lead over the real one (see now)
	// unclaimed is the payment Alice showed and Shop never scanned.
	unclaimed protocol.Hash
	fed       *demoFed // the scheme and its second provider (demofed.go)
}

func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo", "[--dir DIR] [--seed N]")
	dirFlag := fs.String("dir", "", "keep everything in this folder (default: a new temporary folder)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the shuffled sync order")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	dir := *dirFlag
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "offpay-demo-"); err != nil {
			return err
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := &demo{e: e, dir: dir, qrDir: filepath.Join(dir, "qr"), ctx: ctx, wallets: map[string]*wallet.Wallet{}}
	if err := d.run(*seed); err != nil {
		return fmt.Errorf("demo stopped: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nFinished in %.1f s. Everything is in %s (QR images in %s).\n", time.Since(start).Seconds(), dir, d.qrDir)
	consoleHint(e.stdout, dir)
	if len(d.failed) > 0 {
		return &demoFailed{d.failed}
	}
	fmt.Fprintln(e.stdout, "All checks passed.")
	return nil
}

type demoFailed struct{ checks []string }

func (f *demoFailed) Error() string {
	return fmt.Sprintf("%d demo check(s) failed: %v", len(f.checks), f.checks)
}

func (d *demo) say(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.e.stdout, "\n%2d. %s\n", d.step, fmt.Sprintf(format, args...))
}

func (d *demo) detail(format string, args ...any) {
	fmt.Fprintf(d.e.stdout, "    %s\n", fmt.Sprintf(format, args...))
}

func (d *demo) check(ok bool, what string) {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		d.failed = append(d.failed, what)
	}
	fmt.Fprintf(d.e.stdout, "    [%s] %s\n", mark, what)
}

func (d *demo) run(seed uint64) error {
	if err := os.MkdirAll(d.qrDir, 0o755); err != nil {
		return err
	}
	d.say("The ledger starts: provider bankA of a scheme whose root certified its issuer key; SQLite database and HTTP API in %s.", d.dir)
	if err := d.initSchemeLedger(); err != nil {
		return err
	}
	defer d.closeFed()
	h, err := startLedger(d.ctx, hostOptions{dataDir: filepath.Join(d.dir, "ledger"), listen: "127.0.0.1:0",
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: d.now, deviceRate: server.RateLimit{PerSecond: 1000, Burst: 1000}})
	if err != nil {
		return err
	}
	defer h.Close()
	d.host = h
	if d.admin, err = ledgerclient.New(h.url, ledgerclient.Options{AdminToken: h.token}); err != nil {
		return err
	}
	d.detail("listening on %s", h.url)

	d.say("Accounts are opened and funded: Alice 100, Bob 20, Carol 20, Mallory 100 and a merchant, Shop, whose devices the ledger certifies as %q.", demoShopName)
	for _, a := range []struct {
		name     string
		deposit  int64
		merchant bool
	}{{"alice", 10000, false}, {"bob", 2000, false}, {"carol", 2000, false}, {"mallory", 10000, false}, {"shop", 0, true}} {
		create := func() (*ledger.Account, error) { return d.admin.CreateAccount(d.ctx, a.name, false) }
		if a.merchant {
			create = func() (*ledger.Account, error) { return d.admin.CreateMerchant(d.ctx, a.name, demoShopName) }
		}
		if _, err := create(); err != nil {
			return err
		}
		if a.deposit > 0 {
			if _, err := d.admin.Deposit(d.ctx, a.name, a.deposit, "demo-opening-"+a.name); err != nil {
				return err
			}
		}
	}

	d.say("Each person's phone creates a virtual secure element (6-digit PIN; Argon2id at the SE's floor, %d passes over %d MiB, to keep the demo quick: wallet init uses %d passes over %d MiB) and is enrolled by the ledger.",
		vse.MinKDF.Time, vse.MinKDF.Memory/1024, vse.DefaultKDF.Time, vse.DefaultKDF.Memory/1024)
	for _, name := range []string{"alice", "bob", "carol", "mallory", "shop"} {
		if err := d.newWallet(name); err != nil {
			return err
		}
	}

	d.say("Online, Alice reserves 50.00 EUR and Mallory 50.00 EUR into their purses (their accounts are debited at once).")
	for _, name := range []string{"alice", "mallory"} {
		if err := d.wallets[name].Reserve(d.ctx, 5000); err != nil {
			return err
		}
	}
	d.balances("alice", "mallory")

	d.say("The network goes down. Everything from here to the sync happens offline.")
	if err := d.payByQR(); err != nil {
		return err
	}
	if err := d.payByCard(); err != nil {
		return err
	}
	if err := d.payByChannel("alice", "bob", 1500); err != nil {
		return err
	}
	d.say("Bob pays Carol 10.00 EUR out of what he just received (a consecutive offline payment).")
	if err := d.payDirect("bob", "carol", 1000, true); err != nil {
		return err
	}
	d.balances("bob", "carol")

	d.say("Carol pays Alice 5.00 EUR, but Carol's phone never gets the receipt back (a torn payment).")
	if err := d.payDirect("carol", "alice", 500, false); err != nil {
		return err
	}
	st, _ := d.wallets["carol"].Status()
	d.check(st.PendingCount == 1 && st.Pending == 500, "Carol's 5.00 EUR is kept as pending-receipt, not lost")

	if err := d.cloneAndDoubleSpend(); err != nil {
		return err
	}

	aliceAcct, err := d.admin.Account(d.ctx, "alice")
	if err != nil {
		return err
	}
	d.say("Four days pass (the claim window is %d days): the demo's clock jumps forward.", protocol.ClaimWindow/86400)
	d.skip(4 * 24 * time.Hour)

	order := []string{"alice", "bob", "carol", "mallory", "mallory-clone", "shop"}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	d.say("The network is back. Everyone syncs, in a shuffled order (seed %d): %v.", seed, order)
	d.syncAll(order)
	d.say("A second round of syncs brings every device the final status of its payments. Shop's log now shows it synced past the claim window without the lost payment code, so the ledger expires that payment.")
	d.syncAll(order)
	d.checkUnclaimed(aliceAcct.Balance)

	if err := d.reconcile(); err != nil {
		return err
	}
	return d.federation()
}

// The demo's wallets' PIN, and the name the ledger certifies Shop with.
const (
	demoPIN      = "246810"
	demoShopName = "Corner Shop"
)

// shows is a payer's confirmation: it prints whom the payer's phone shows
// it is paying, from the payee's certificate, before the SE signs, and
// checks it is who the demo meant.
func (d *demo) shows(who, want string) func(wallet.Payee) error {
	return func(p wallet.Payee) error {
		d.detail("%s's phone shows, before her SE signs: paying %s to %s", who, fmtMinor(int64(p.Amount), p.Currency), p)
		if p.Name != want {
			return fmt.Errorf("the payee is certified as %s, not %q", p, want)
		}
		return nil
	}
}

func (d *demo) newWallet(name string) error {
	dir := filepath.Join(d.dir, "wallets", name)
	v, err := vse.Create(filepath.Join(dir, walletSEDir), demoPIN, &vse.Options{KDF: vse.MinKDF})
	if err != nil {
		return err
	}
	w, err := wallet.Open(v, dir, &wallet.Options{Ledger: clientLedger{c: d.admin}, Clock: d.now})
	if err != nil {
		return err
	}
	if err := w.Enrol(d.ctx, name); err != nil {
		return err
	}
	d.wallets[name] = w
	d.detail("%-8s device %s", name, v.ID())
	return nil
}

func (d *demo) balances(names ...string) {
	for _, n := range names {
		st, err := d.wallets[n].Status()
		if err != nil {
			d.detail("%s: %v", n, err)
			continue
		}
		d.detail("%-8s purse %s, pending %s", n, fmtMinor(int64(st.Available), st.Currency), fmtMinor(int64(st.Pending), st.Currency))
	}
}

// viaQR writes msg as a QR image and reads it back from the image, as a
// camera would: the bytes that go on are the decoded ones.
func (d *demo) viaQR(name string, msg []byte) ([]byte, error) {
	text := qr.EncodeText(msg)
	img, err := qr.PNG(text, qr.M, 6)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(d.qrDir, name)
	if err := os.WriteFile(path, img, 0o644); err != nil {
		return nil, err
	}
	f, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	scanned, err := qr.DecodeImage(bytes.NewReader(f))
	if err != nil {
		return nil, err
	}
	out, err := qr.DecodeText(scanned)
	if err != nil {
		return nil, err
	}
	v, _ := qr.Version(text, qr.M)
	d.detail("%-12s %3d bytes, QR version %d-M, written and scanned back from %s", name, len(msg), v, path)
	return out, nil
}

func (d *demo) payByQR() error {
	d.say("Alice pays Shop 12.50 EUR by QR: Shop shows a request, Alice shows her payment, Shop shows its receipt.")
	shop, alice := d.wallets["shop"], d.wallets["alice"]
	req, err := shop.Request(1250, 5*time.Minute)
	if err != nil {
		return err
	}
	if req, err = d.viaQR("request.png", req); err != nil {
		return err
	}
	bundle, err := alice.PayTo(req, 0, d.shows("Alice", demoShopName))
	if err != nil {
		return err
	}
	if bundle, err = d.viaQR("payment.png", bundle); err != nil {
		return err
	}
	receipt, err := shop.Accept(bundle)
	if err != nil {
		return err
	}
	if receipt, err = d.viaQR("receipt.png", receipt); err != nil {
		return err
	}
	if err := alice.Confirm(receipt); err != nil {
		return err
	}
	_, err = shop.Accept(bundle)
	d.check(err != nil, "Shop refuses the same payment scanned a second time ("+errText(err)+")")
	d.balances("alice", "shop")
	return nil
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	msg, _ := classify(err)
	if len(msg) > 60 {
		msg = msg[:60] + "..."
	}
	return msg
}

func (d *demo) payByChannel(from, to string, amount uint64) error {
	d.say("Alice pays Bob 15.00 EUR over the encrypted channel (Noise NKpsk0, keyed by Bob's pairing QR), on TCP loopback.")
	payer, payeeW := d.wallets[from], d.wallets[to]
	static, err := channelKey(payeeW, filepath.Join(d.dir, "wallets", to))
	if err != nil {
		return err
	}
	p, err := newPayee(payeeW, static)
	if err != nil {
		return err
	}
	ln, err := link.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	if p.addr, _, err = advertised("", ln); err != nil { // in the pairing code: the payer needs nothing else
		return err
	}
	req, _, err := p.request(0, time.Minute)
	if err != nil {
		return err
	}
	if req, err = d.viaQR("pairing.png", req); err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() {
		served <- p.serveOne(d.ctx, ln)
	}()
	start := time.Now()
	if _, err := payOverChannel(d.ctx, payer, req, ln.Addr().String(), amount, d.shows("Alice", to)); err != nil {
		return err
	}
	if err := <-served; err != nil {
		return err
	}
	d.detail("handshake, payment and receipt took %.1f ms", float64(time.Since(start).Microseconds())/1000)
	d.balances(from, to)
	return nil
}

// payDirect hands the messages over in memory (the transport does not
// matter to the SEs). Without confirm, the receipt is lost on the way.
func (d *demo) payDirect(from, to string, amount uint64, confirm bool) error {
	req, err := d.wallets[to].Request(amount, 5*time.Minute)
	if err != nil {
		return err
	}
	bundle, err := d.wallets[from].Pay(req, 0)
	if err != nil {
		return err
	}
	receipt, err := d.wallets[to].Accept(bundle)
	if err != nil {
		return err
	}
	if confirm {
		return d.wallets[from].Confirm(receipt)
	}
	return nil
}

func (d *demo) cloneAndDoubleSpend() error {
	d.say("Mallory copies her phone's secure-element files, pays Shop 40.00 EUR, then restores the copy on a second phone and pays Carol 40.00 EUR with the same money.")
	src := filepath.Join(d.dir, "wallets", "mallory")
	dst := filepath.Join(d.dir, "wallets", "mallory-clone")
	if err := copyDir(src, dst); err != nil {
		return err
	}
	v, err := vse.Open(filepath.Join(dst, walletSEDir), demoPIN, nil)
	if err != nil {
		return err
	}
	clone, err := wallet.Open(v, dst, &wallet.Options{Ledger: clientLedger{c: d.admin}, Clock: d.now})
	if err != nil {
		return err
	}
	d.wallets["mallory-clone"] = clone
	if err := d.payDirect("mallory", "shop", 4000, true); err != nil {
		return err
	}
	if err := d.payDirect("mallory-clone", "carol", 4000, true); err != nil {
		return err
	}
	d.detail("both payees accepted offline: software cannot stop a restored copy; the signed log will expose it")
	return nil
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		t := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(t, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(t, b, info.Mode())
	})
}

func (d *demo) syncAll(order []string) {
	for _, n := range order {
		err := d.wallets[n].Sync(d.ctx)
		if err != nil {
			d.detail("%-13s sync refused: %s", n, errText(err))
			continue
		}
		st, _ := d.wallets[n].Status()
		d.detail("%-13s synced: purse %s, %d payment(s) awaiting settlement", n, fmtMinor(int64(st.Available), st.Currency), st.PendingCount)
	}
}

func (d *demo) reconcile() error {
	d.say("The ledger's reconciliation report.")
	rep, err := d.admin.Report(d.ctx)
	if err != nil {
		return err
	}
	printReport(d.e.stdout, rep)
	mallory := d.wallets["mallory"].SE().Certificate().ID().String()
	d.check(rep.ConservationOK, "conservation: issued money + losses (unrecovered overspend) + unassessed exposure = account balances + outstanding purse value")
	d.check(rep.Settled == 7, fmt.Sprintf("every claimed payment settled exactly once (7 claimed, %d settled; the unclaimed one expired)", rep.Settled))
	if st, err := d.wallets["shop"].Status(); err == nil {
		shop, err := d.admin.Account(d.ctx, "shop")
		d.check(err == nil && st.Available == 0 && shop.Balance == 1250+400+4000,
			fmt.Sprintf("Shop's takings are in its merchant account (%s); its receive-only purse was swept to %s", fmtMinor(shop.Balance, rep.Currency), fmtMinor(int64(st.Available), rep.Currency)))
	}
	caught := false
	for _, ds := range rep.DoubleSpends {
		caught = caught || ds.Device == mallory
	}
	d.check(caught, "Mallory's double spend is caught, with two signed log entries as proof")
	revoked := false
	for _, r := range rep.RevokedDevices {
		revoked = revoked || r == mallory
	}
	d.check(revoked, "Mallory's device is revoked")
	limits := d.wallets["mallory"].SE().Certificate().Limits
	d.check(rep.Losses <= 2*int64(limits.MaxOfflineValue), fmt.Sprintf("losses (%s) within the two copies' offline limits", fmtMinor(rep.Losses, rep.Currency)))
	torn := false
	for _, r := range d.wallets["carol"].History() {
		if r.Kind == wallet.KindPay && r.Amount == 500 {
			torn = r.State == wallet.Settled
		}
	}
	d.check(torn, "Carol's torn payment is settled after sync (Alice's upload carried it)")
	acct, err := d.admin.Account(d.ctx, "mallory")
	if err == nil {
		d.check(acct.Frozen, fmt.Sprintf("Mallory's account is frozen (balance %s after recovering the overspend)", fmtMinor(acct.Balance, acct.Currency)))
	}
	return nil
}
