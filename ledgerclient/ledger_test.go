package ledgerclient

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
)

// stores are the ledger stores the end-to-end tests run on. PostgreSQL
// needs OFFPAY_TEST_POSTGRES (CI sets it); without it those runs skip.
var stores = []string{"sqlite", "postgres"}

func openStore(t *testing.T, kind, dir string) ledger.Store {
	t.Helper()
	ctx := context.Background()
	if kind == "sqlite" {
		st, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	url := os.Getenv("OFFPAY_TEST_POSTGRES")
	if url == "" {
		t.Skip("OFFPAY_TEST_POSTGRES not set: skipping the PostgreSQL run")
	}
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	schema := "offpay_client_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("PostgreSQL at OFFPAY_TEST_POSTGRES unreachable: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
		admin.Close(ctx)
	})
	return st
}

// realLedger serves a ledger.Service on the given store and returns a
// client of it.
func realLedger(t *testing.T, kind string) (*ledger.Service, *Client) {
	t.Helper()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(openStore(t, kind, dir), keys, ledger.Options{})
	// Limits are generous here: tests send bursts no device would.
	ts := httptest.NewServer(server.New(svc, server.Options{AdminToken: token, Logger: quiet,
		RateLimit: server.RateLimit{PerSecond: 1000, Burst: 1000}}))
	t.Cleanup(ts.Close)
	return svc, newClient(t, ts.URL, Options{})
}

func device(label string) *ledgertest.Device {
	d := ledgertest.NewDevice(label, "EUR")
	d.Time = uint64(time.Now().Unix())
	return d
}

// TestAgainstRealLedger runs the main story over HTTP against the real
// service on SQLite: enrol, reserve (and retry), pay offline, settle from
// either side, refuse bad requests with typed errors, catch a clone, and
// reconcile.
func TestAgainstRealLedger(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) { testAgainstRealLedger(t, kind) })
	}
}

func testAgainstRealLedger(t *testing.T, kind string) {
	ctx := context.Background()
	_, c := realLedger(t, kind)
	root, issuer, err := c.Trust(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := protocol.NewTrust(root)
	if err == nil {
		err = trust.AddIssuer(issuer)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name     string
		merchant bool
	}{{"alice", false}, {"shop", true}} {
		if _, err := c.CreateAccount(ctx, a.name, a.merchant); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateAccount(ctx, "alice", false); offpay.ErrorCode(err) != offpay.ECONFLICT {
		t.Fatalf("duplicate account: %v", err)
	}
	if _, err := c.Deposit(ctx, "alice", 10000, "dep-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deposit(ctx, "nobody", 1, "dep-2"); offpay.ErrorCode(err) != offpay.ENOTFOUND {
		t.Fatalf("deposit to a missing account: %v", err)
	}

	alice, shop := device("alice"), device("shop")
	for _, d := range []struct {
		dev     *ledgertest.Device
		account string
	}{{alice, "alice"}, {shop, "shop"}} {
		e, err := c.Enrol(ctx, d.dev.Enrolment(d.account))
		if err != nil {
			t.Fatal(err)
		}
		if err := trust.VerifyDevice(e.Device, uint64(time.Now().Unix()), e.RevList); err != nil || e.Device.ID() != d.dev.ID {
			t.Fatalf("enrolled certificate: %v", err)
		}
		d.dev.Cert = e.Device
	}

	// Reserve, then retry the same request: same Load, one debit.
	req := alice.Reserve(5000, 1)
	load, err := c.Reserve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Reserve(ctx, req)
	if err != nil || !bytes.Equal(again.Marshal(), load.Marshal()) || load.Verify(issuer) != nil {
		t.Fatalf("retried reserve: %v", err)
	}
	if a, err := c.Account(ctx, "alice"); err != nil || a.Balance != 5000 {
		t.Fatalf("after a retried reserve of 5000 from 10000: %+v %v", a, err)
	}
	if _, err := c.Reserve(ctx, alice.Reserve(9000, 2)); offpay.ErrorCode(err) != offpay.ELIMIT {
		t.Fatalf("reserve beyond the balance: %v", err)
	}
	if _, err := c.Reserve(ctx, device("stranger").Reserve(1, 1)); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("reserve by an unenrolled device: %v", err)
	}

	// Pay offline, then the shop settles first.
	alice.ApplyLoad(load)
	shop.Receive(alice.Pay(shop.ID, 1200))
	res, err := c.Sync(ctx, shop.UploadAll())
	if err != nil || res.Verify(issuer) != nil || res.Acked != shop.Counter() {
		t.Fatalf("shop sync: %+v %v", res, err)
	}
	if _, err := c.Sync(ctx, shop.UploadAll()); err != nil {
		t.Fatalf("repeated sync: %v", err)
	}
	res, err = c.Sync(ctx, alice.UploadAll())
	if err != nil || res.Acked != alice.Counter() {
		t.Fatalf("alice sync: %v", err)
	}
	if a, err := c.Account(ctx, "shop"); err != nil || a.Balance != 1200 {
		t.Fatalf("merchant account after settlement: %+v %v", a, err)
	}

	// A tampered upload is refused and changes nothing.
	before, err := c.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := alice.UploadAll()
	bad.Time++
	if _, err := c.Sync(ctx, bad); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("tampered upload: %v", err)
	}
	if after, err := c.Report(ctx); err != nil || after.Settled != before.Settled || after.Accounts != before.Accounts {
		t.Fatalf("a refused upload changed the report: %+v -> %+v", before, after)
	}

	// A cloned SE signs a second payment with alice's next counter.
	clone := alice.Clone()
	shop.Receive(alice.Pay(shop.ID, 300))
	shop.Receive(clone.Pay(shop.ID, 400))
	if _, err := c.Sync(ctx, alice.UploadAll()); err != nil {
		t.Fatal(err)
	}
	_, err = c.Sync(ctx, clone.UploadAll())
	cloneErr := err
	if err == nil || offpay.ErrorCode(err) == offpay.EINTERNAL || errors.Is(err, ErrUnreachable) {
		t.Fatalf("the clone's upload: %v", err)
	}
	rep, err := c.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ConservationOK || len(rep.DoubleSpends) != 1 || len(rep.RevokedDevices) != 1 || rep.RevokedDevices[0] != alice.ID.String() {
		t.Fatalf("report after the clone: %+v", rep)
	}
	rl, err := c.RevocationList(ctx)
	if err != nil || !rl.IsRevoked(alice.ID) || trust.VerifyRevocationList(rl) != nil {
		t.Fatalf("revocation list after the clone: %v", err)
	}
	// Refusals of a revoked device carry the protocol's revoked class end
	// to end (ledger, HTTP problem body, client error).
	if protocol.ClassOf(cloneErr) != protocol.ClassRevoked {
		t.Fatalf("the clone's upload: %v has class %q", cloneErr, protocol.ClassOf(cloneErr))
	}
	if _, err := c.Reserve(ctx, alice.Reserve(1, 3)); offpay.ErrorCode(err) != offpay.EFORBIDDEN || !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("reserve by a revoked device: %v", err)
	}
	if _, err := c.Sync(ctx, alice.UploadAll()); offpay.ErrorCode(err) != offpay.EFORBIDDEN || protocol.ClassOf(err) != protocol.ClassRevoked {
		t.Fatalf("sync by a revoked device: %v", err)
	}
	if err := c.Revoke(ctx, protocol.KeyID{1}, "lost"); offpay.ErrorCode(err) != offpay.ENOTFOUND {
		t.Fatalf("revoking an unknown device: %v", err)
	}
}

// TestConcurrentUploadsOverHTTP has 50 goroutines upload the logs of ten
// payers and their merchant, overlapping and repeated, at the same time:
// every payment is settled exactly once, whoever uploads it first.
func TestConcurrentUploadsOverHTTP(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) { testConcurrentUploads(t, kind) })
	}
}

func testConcurrentUploads(t *testing.T, kind string) {
	ctx := context.Background()
	_, c := realLedger(t, kind)
	shop := device("shop")
	if _, err := c.CreateAccount(ctx, "shop", true); err != nil {
		t.Fatal(err)
	}
	e, err := c.Enrol(ctx, shop.Enrolment("shop"))
	if err != nil {
		t.Fatal(err)
	}
	shop.Cert = e.Device
	devs := []*ledgertest.Device{shop}
	const payers, each, amount = 10, 5, 100
	for i := range payers {
		name := fmt.Sprintf("payer%d", i)
		d := device(name)
		if _, err := c.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Deposit(ctx, name, 1000, "dep-"+name); err != nil {
			t.Fatal(err)
		}
		e, err := c.Enrol(ctx, d.Enrolment(name))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert = e.Device
		l, err := c.Reserve(ctx, d.Reserve(1000, 1))
		if err != nil {
			t.Fatal(err)
		}
		d.ApplyLoad(l)
		for range each {
			shop.Receive(d.Pay(shop.ID, amount))
		}
		devs = append(devs, d)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := devs[rand.IntN(len(devs))]
			if g%2 == 0 {
				d = shop // the merchant races every payer
			}
			if _, err := c.Sync(ctx, d.UploadAll()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent upload: %v", err)
	}
	rep, err := c.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ConservationOK || rep.Settled != payers*each {
		t.Fatalf("after concurrent uploads: %d settled (want %d), conservation %v", rep.Settled, payers*each, rep.ConservationOK)
	}
	if a, err := c.Account(ctx, "shop"); err != nil || a.Balance != payers*each*amount {
		t.Fatalf("merchant account: %+v %v", a, err)
	}
}
