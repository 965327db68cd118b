package wallet_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/wallet"
)

// rotatingLedger is a wallet.Ledger and wallet.TrustSource over whichever
// ledger.Service is current: the operator restarts the ledger with new
// keys after a rotation.
type rotatingLedger struct {
	svc *atomic.Pointer[ledger.Service]
}

func (l rotatingLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	return realLedger{l.svc.Load()}.Enrol(ctx, r)
}
func (l rotatingLedger) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	return l.svc.Load().Reserve(ctx, r)
}
func (l rotatingLedger) Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	return l.svc.Load().Sync(ctx, u)
}
func (l rotatingLedger) Trust(context.Context) (root, issuer *protocol.Certificate, err error) {
	root, issuer = l.svc.Load().Trust()
	return root, issuer, nil
}
func (l rotatingLedger) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	return l.svc.Load().RevocationList(ctx)
}

// TestIssuerRotationEndToEnd: the operator rotates the issuer with the
// offline root key and restarts the ledger. Wallets enrolled before learn
// the new issuer at their next sync (or reserve), their certificates are
// renewed under it, payments and loads signed before the rotation still
// settle, and money is conserved. A payee that has not synced since
// refuses a payer renewed under the new issuer (untrusted_chain) until it
// syncs: the limitation README states.
func TestIssuerRotationEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Second).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	store, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keysDir, rootFile := filepath.Join(dir, "keys"), filepath.Join(dir, "root.key")
	keys, err := ledger.InitWith(keysDir, "EUR", ledger.InitOptions{RootKeyFile: rootFile})
	if err != nil {
		t.Fatal(err)
	}
	var cur atomic.Pointer[ledger.Service]
	cur.Store(ledger.New(store, keys, ledger.Options{Clock: now}))
	led := rotatingLedger{&cur}
	open := func(name string) *wallet.Wallet {
		svc := cur.Load()
		if _, err := svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Deposit(ctx, name, 100000, "init:"+name); err != nil {
			t.Fatal(err)
		}
		v, err := vse.Create(filepath.Join(dir, name), setest.PIN, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		w, err := wallet.Open(v, filepath.Join(dir, name), &wallet.Options{Ledger: led, Clock: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Enrol(ctx, name); err != nil {
			t.Fatal(err)
		}
		return w
	}
	alice, bob, carol := open("alice"), open("bob"), open("carol")
	if err := alice.Reserve(ctx, 40000); err != nil {
		t.Fatal(err)
	}
	pay := func(from, to *wallet.Wallet, amount uint64) error {
		req, err := to.Request(amount, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := from.Pay(req, 0)
		if err != nil {
			return err
		}
		rc, err := to.Accept(b)
		if err != nil {
			return err
		}
		return from.Confirm(rc)
	}
	if err := pay(alice, bob, 3000); err != nil {
		t.Fatal(err)
	}

	root, err := ledger.LoadRootKey(keysDir, rootFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	newIssuer, err := ledger.RotateIssuer(keysDir, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys2, err := ledger.LoadKeys(keysDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cur.Store(ledger.New(store, keys2, ledger.Options{Clock: now}))
	clock.Add(60)

	// bob syncs: he learns the new issuer and is renewed under it.
	if err := bob.Sync(ctx); err != nil {
		t.Fatalf("sync after the rotation: %v", err)
	}
	if c := bob.SE().Certificate(); c.Issuer != newIssuer.ID() {
		t.Fatalf("bob's certificate is still from %v", c.Issuer)
	}
	// alice reserves before syncing: the load is signed by the new issuer.
	if err := alice.Reserve(ctx, 1000); err != nil {
		t.Fatalf("reserve after the rotation: %v", err)
	}
	if err := alice.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := alice.SE().Certificate(); c.Issuer != newIssuer.ID() {
		t.Fatalf("alice's certificate is still from %v", c.Issuer)
	}
	if err := pay(alice, bob, 2000); err != nil {
		t.Fatal(err)
	}
	// carol has not synced since the rotation: she does not know the new
	// issuer yet, so she refuses alice's renewed certificate.
	if err := pay(alice, carol, 1000); !isClass(err, protocol.ClassUntrusted) {
		t.Fatalf("carol, not synced since the rotation, paid by a renewed payer: %v", err)
	}
	if err := carol.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pay(alice, carol, 1000); err != nil {
		t.Fatalf("after carol's sync: %v", err)
	}
	for _, w := range []*wallet.Wallet{alice, bob, carol} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := cur.Load().Report(ctx)
	if err != nil || !rep.ConservationOK || rep.Settled != 3 {
		t.Fatalf("report: %v %+v", err, rep)
	}
}

func isClass(err error, c protocol.Class) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Class == c
}
