package fedtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/natsfwd/natstest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme/schemehttp"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
)

// httpLedger is a provider's ledger over its HTTP API, for a wallet.
type httpLedger struct{ c *ledgerclient.Client }

func (l httpLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	e, err := l.c.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

func (l httpLedger) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	return l.c.Reserve(ctx, r)
}

func (l httpLedger) Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	return l.c.Sync(ctx, u)
}

// procs runs the offpay binary's processes of one test.
type procs struct {
	t   *testing.T
	bin string
	dir string
}

func (p *procs) run(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("offpay %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start starts a long-running offpay command and waits for urlFile.
func (p *procs) start(urlFile string, args ...string) (*exec.Cmd, string) {
	p.t.Helper()
	os.Remove(filepath.Join(p.dir, urlFile))
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.dir
	log, err := os.Create(filepath.Join(p.dir, strings.ReplaceAll(urlFile, "/", "_")+".log"))
	if err != nil {
		p.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); log.Close() })
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(filepath.Join(p.dir, urlFile)); err == nil && strings.HasSuffix(string(b), "\n") {
			return cmd, strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(log.Name())
	p.t.Fatalf("offpay %s did not start:\n%s", strings.Join(args, " "), b)
	return nil, ""
}

// freshDatabase creates a database of its own on OFFPAY_TEST_POSTGRES's
// server and returns its URL ("" without a server); it is dropped at the
// end.
func freshDatabase(t *testing.T) string {
	url := os.Getenv("OFFPAY_TEST_POSTGRES")
	if url == "" {
		return ""
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("offpay_fed_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(ctx)
	})
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// TestProcesses: the scheme, three provider ledgers (bankC on its own
// PostgreSQL database when OFFPAY_TEST_POSTGRES is set, the others on
// SQLite) and NATS as separate processes on loopback; wallets over HTTP
// pay around the ring A -> B -> C -> A; bankA is killed before the
// evidence of its payer's payment is sent, and catches up from the
// stream when it is back; a
// clearing cycle then holds, its positions summing to zero.
func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the offpay binary")
	}
	srv := natstest.Start(t)
	p := &procs{t: t, dir: t.TempDir()}
	p.bin = filepath.Join(p.dir, "offpay")
	build := exec.Command("go", "build", "-o", p.bin, "github.com/offpay/offpay/cmd/offpay")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p.run("scheme", "init", "--data", "S")
	names := []string{"bankA", "bankB", "bankC"}
	for _, n := range names {
		p.run("scheme", "provider", "add", "--data", "S", "--name", n, "--ledger-data", n)
	}
	_, surl := p.start("S/scheme.url", "scheme", "serve", "--data", "S", "--listen", "127.0.0.1:0")
	pgURL := freshDatabase(t)
	serve := func(n string) (*exec.Cmd, string) {
		args := []string{"ledger", "serve", "--data", n, "--listen", "127.0.0.1:0", "--scheme", surl, "--provider", n, "--nats", srv.URL, "--statement-every", "300ms"}
		if n == pgProvider && pgURL != "" {
			args = append(args, "--db", pgURL)
		}
		return p.start(n+"/ledger.url", args...)
	}
	cmds, urls := map[string]*exec.Cmd{}, map[string]string{}
	for _, n := range names {
		cmds[n], urls[n] = serve(n)
	}
	sc := schemehttp.NewClient(surl)
	reg, err := sc.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issuers, err := reg.Issuers()
	if err != nil {
		t.Fatal(err)
	}
	type pw struct {
		w    *wallet.Wallet
		bank string
	}
	mk := func(bank, name string, load uint64) *pw {
		t.Helper()
		tok, err := os.ReadFile(filepath.Join(p.dir, bank, "admin.token"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := ledgerclient.New(urls[bank], ledgerclient.Options{AdminToken: strings.TrimSpace(string(tok))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Deposit(ctx, name, 100000, "open:"+name); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(p.dir, "w", name)
		v, err := vse.Create(dir, setest.PIN, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		w, err := wallet.Open(v, dir, &wallet.Options{Ledger: httpLedger{c}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Enrol(ctx, name); err != nil {
			t.Fatal(err)
		}
		rl, err := c.RevocationList(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.SE().Install(w.SE().Certificate(), se.Anchors{Issuers: issuers}, rl); err != nil {
			t.Fatal(err)
		}
		if load > 0 {
			if err := w.Reserve(ctx, load); err != nil {
				t.Fatal(err)
			}
		}
		return &pw{w, bank}
	}
	alice, bob, carol := mk("bankA", "alice", 20000), mk("bankB", "bob", 20000), mk("bankC", "carol", 20000)
	payOnce := func(from, to *pw, amount uint64) {
		t.Helper()
		req, err := to.w.Request(amount, time.Minute)
		if err == nil {
			var b []byte
			if b, err = from.w.Pay(req, 0); err == nil {
				var rc []byte
				if rc, err = to.w.Accept(b); err == nil {
					err = from.w.Confirm(rc)
				}
			}
		}
		if err != nil {
			t.Fatalf("%s pays %s: %v", from.bank, to.bank, err)
		}
	}
	payOnce(alice, bob, 1000)  // A -> B
	payOnce(bob, carol, 700)   // B -> C
	payOnce(carol, alice, 300) // C -> A
	for _, m := range []*pw{carol, alice} {
		if err := m.w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// bankA goes down; bob's upload at bankB queues the evidence of
	// alice's payment for it, which waits in the stream.
	cmds["bankA"].Process.Kill()
	cmds["bankA"].Wait()
	if err := bob.w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cmds["bankA"], urls["bankA"] = serve("bankA")
	tok, _ := os.ReadFile(filepath.Join(p.dir, "S", "scheme.token"))
	// Every cycle clears what was settled since the one before: summed,
	// they clear everything; the last must hold.
	got := map[string]int64{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := sc.Clear(ctx, strings.TrimSpace(string(tok)))
		if err == nil {
			var sum int64
			for _, pos := range c.Positions {
				got[pos.Provider] += pos.Net
				sum += pos.Net
			}
			if sum != 0 {
				t.Fatalf("cycle %d: positions sum to %d", c.Number, sum)
			}
			if c.Federation.Holds && got["bankA"] == -1000+300 && got["bankC"] == 700-300 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cycle held: %+v %v (cleared so far %v)", c, err, got)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if pgURL != "" { // bankC did settle on its PostgreSQL database
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM offpay.forwards").Scan(&n); err != nil || n != 1 {
			t.Fatalf("bankC's forwards on PostgreSQL: %d %v", n, err)
		}
	}
	want := map[string]int64{"bankA": -1000 + 300, "bankB": 1000 - 700, "bankC": 700 - 300}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("cleared %v in all, want %v", got, want)
		}
	}
}
