package sim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/simse"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/sqlite"
)

// epoch is where the simulated clock starts: 2026-01-01T00:00:00Z.
const epoch int64 = 1767225600

const currency = "EUR"

// The virtual SEs use a cheap KDF: thousands of them are created and
// opened per run, and their PIN protects nothing here (six characters:
// the default policy's minimum).
const pin = "000000"

var seOptions = simse.Options(vse.Options{KDF: vse.KDF{Time: 1, Memory: 8, Threads: 1}})

type person struct {
	spec                  PersonSpec
	deposits, withdrawals int64
	loaded                int64 // reserved into its purses
	in, out               int64 // value its SEs accepted / payees' SEs accepted from its devices
	honestIn, honestOut   int64 // the same, counting honest counterparties only (for the loss bound)
	onlineIn, onlineOut   int64 // online payments the ledger moved into / out of its account (online.go)
}

type device struct {
	spec     DeviceSpec
	id       protocol.KeyID
	dir      string
	se       *vse.VSE
	f        *forger
	enrolled bool
	lost     bool
	reported bool // reported lost and revoked (drain)
	revoked  bool // an attacker's device reported lost and revoked while it keeps it (opRevoke)
	snap     string
	redeemed int64
	// last is the last sync result the device applied, signed by the
	// ledger: its evidence should the ledger go back in time (regress.go);
	// snapLast is last as of the snapshot.
	last, snapLast *protocol.SyncResult // value its SE redeemed (a lost device's last ones never reach the ledger)
}

// payment is one payment an SE signed, as the simulator saw it travel.
type payment struct {
	payer, payee int
	amount       int64
	bundle       *protocol.PaymentBundle
	accepted     bool // the payee's SE accepted it
	confirmed    bool // the payer's SE recorded the receipt
	refunded     bool // an honest merchant's SE refunded it (refund.go)
}

// world is one run: a fresh ledger, the devices, the simulated clock and
// what the invariants need to know.
type world struct {
	ctx    context.Context
	p      *Program
	dir    string
	now    int64
	store  ledger.Store
	drop   func() // removes the store's data (PostgreSQL schema)
	svc    *ledger.Service
	people []*person
	devs   []*device
	byKey  map[protocol.KeyID]int // the first device holding a key (clones share it)
	pays   []*payment
	payIdx map[protocol.Hash]int
	// uploads the ledger applied, for replays (the latest maxReplay)
	uploads  []*protocol.SyncUpload
	accepted []int         // payments a payee accepted, for replays
	onlines  []*onlinePaid // online payments the ledger made, for replays
	step     int           // the step running; -1 during the drain
	fail     *Violation    // the first violation
	viols    []Violation   // all of them (up to maxViolations)
	stats    stats
	lastRep  *ledger.Report
	in, out  int64 // all deposits, all withdrawals
	pol      ledger.Policy
	// The ledger's regressions (regress.go): the last checkpoint's file,
	// the deposits and withdrawals applied since it, and those a
	// regression took that the ledger has not taken again yet.
	ckpt         string
	ckptN        int
	regressed    int // regressions run
	admin        []adminOp
	pendingAdmin []adminOp
	// loads the ledger signed since the last checkpoint (device index per
	// load), and per device the value of those a regression took: what
	// the ledger restores from the device's log and debits again, as far
	// as the account's balance goes (lostLoads, drain's position check).
	loads     []lostLoad
	lostLoads map[int]int64
}

const maxReplay = 64

var (
	keysOnce sync.Once
	simKeys  *ledger.Keys
)

// keys are the ledger's root and issuer, derived from fixed labels and
// valid around the simulated epoch (ledger.Init would use the wall clock).
func keys() *ledger.Keys {
	keysOnce.Do(func() {
		signer := func(label string) protocol.Ed25519Signer {
			seed := sha256.Sum256([]byte("offpay-sim/" + label))
			return protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed[:])}
		}
		rk, ik := signer("root"), signer("issuer")
		rootID := protocol.ComputeKeyID(rk.Alg(), rk.PublicKey())
		year := uint64(365 * 86400)
		root := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleRoot, Serial: 1, Issuer: rootID,
			KeyAlg: rk.Alg(), Key: rk.PublicKey(), NotBefore: uint64(epoch) - year, NotAfter: uint64(epoch) + 30*year}
		issuer := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleIssuer, Serial: 2, Issuer: rootID,
			KeyAlg: ik.Alg(), Key: ik.PublicKey(), NotBefore: uint64(epoch) - year, NotAfter: uint64(epoch) + 20*year}
		for _, c := range []*protocol.Certificate{root, issuer} {
			if err := c.Sign(rk); err != nil {
				panic(err)
			}
		}
		simKeys = &ledger.Keys{Currency: currency, Root: root, Issuer: issuer, IssuerKey: ik}
	})
	return simKeys
}

// baseDir is where runs keep their files: tmpfs when there is one, since
// every SE write is an fsync.
func baseDir(cfg Config) string {
	if cfg.Dir != "" {
		return cfg.Dir
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

func newWorld(ctx context.Context, p *Program) (*world, error) {
	dir, err := os.MkdirTemp(baseDir(p.Config), "offpay-sim-")
	if err != nil {
		return nil, err
	}
	w := &world{ctx: ctx, p: p, dir: dir, now: epoch, byKey: map[protocol.KeyID]int{}, payIdx: map[protocol.Hash]int{}, stats: stats{}}
	if err := w.openStore(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if w.pol, err = withHops(p.Config.Policy, p.Config.MaxHops); err != nil {
		w.close()
		return nil, err
	}
	w.svc = w.newService()
	for _, ps := range p.People {
		w.people = append(w.people, &person{spec: ps})
		if _, err := w.svc.CreateAccount(ctx, ps.Name, ps.Merchant); err != nil {
			w.close()
			return nil, err
		}
	}
	for i, ds := range p.Devices {
		w.devs = append(w.devs, &device{spec: ds, dir: filepath.Join(dir, fmt.Sprintf("d%d", i))})
	}
	return w, nil
}

// newService is the ledger over the world's store, on the world's clock.
func (w *world) newService() *ledger.Service {
	return ledger.New(w.store, keys(), ledger.Options{Clock: func() time.Time { return time.Unix(w.now, 0) }, Policy: w.pol, VerifyWorkers: 1})
}

func (w *world) openStore() error {
	cfg := w.p.Config
	if cfg.Postgres == "" {
		path := filepath.Join(w.dir, "ledger.db")
		if err := copyTemplate(w.ctx, baseDir(cfg), path); err != nil {
			return err
		}
		s, err := sqlite.Open(w.ctx, path)
		w.store = s
		return err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := fmt.Sprintf("offpay_sim_%d_%s", w.p.Seed, hex.EncodeToString(b))
	s, err := postgres.Open(w.ctx, cfg.Postgres, schema)
	if err != nil {
		return err
	}
	w.store = s
	w.drop = func() {
		if c, err := pgx.Connect(context.Background(), cfg.Postgres); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			c.Close(context.Background())
		}
	}
	return nil
}

var (
	templateMu   sync.Mutex
	templateData = map[string][]byte{}
)

// copyTemplate writes a migrated, empty SQLite database to path: migrating
// once per process instead of once per run saves a tenth of a short run.
func copyTemplate(ctx context.Context, base, path string) error {
	templateMu.Lock()
	defer templateMu.Unlock()
	b, ok := templateData[base]
	if !ok {
		dir, err := os.MkdirTemp(base, "offpay-sim-template-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		s, err := sqlite.Open(ctx, filepath.Join(dir, "t.db"))
		if err != nil {
			return err
		}
		if err := s.Close(); err != nil {
			return err
		}
		if b, err = os.ReadFile(filepath.Join(dir, "t.db")); err != nil {
			return err
		}
		templateData[base] = b
	}
	return os.WriteFile(path, b, 0o600)
}

func (w *world) close() {
	if w.store != nil {
		w.store.Close()
	}
	if w.drop != nil {
		w.drop()
	}
	os.RemoveAll(w.dir)
}

func (w *world) ownerOf(d int) *person { return w.people[w.devs[d].spec.Owner] }

func (w *world) honest(d int) bool { return !w.ownerOf(d).spec.Attacker }

func (w *world) name(d int) string { return fmt.Sprintf("d%d", d) }

// usable says whether device d can act: enrolled and not lost.
func (w *world) usable(d int) bool {
	return d >= 0 && d < len(w.devs) && w.devs[d].enrolled && !w.devs[d].lost
}

// copyDir copies the SE files of src into a new folder dst.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		out, err := os.OpenFile(filepath.Join(dst, e.Name()), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err == nil {
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
