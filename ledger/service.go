package ledger

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Policy sets the offline limits the issuer writes into device
// certificates. Merchants (POS terminals) usually receive much more than
// they pay, so they get their own limits. The default merchant limits are
// receive-only (PerPayment 0: their SE refuses to pay or redeem), so the
// sweep of claimed payments into the merchant account never takes more
// than the SE received.
type Policy struct {
	Person   protocol.Limits
	Merchant protocol.Limits
	Validity time.Duration // device certificate lifetime
	// MaxIssued bounds the money issued (deposits less withdrawals, minor
	// units): a deposit that would take it higher is refused (ELIMIT).
	// 0 takes the default; at most MaxIssuedLimit.
	MaxIssued int64
	// Classes gives the limits of devices of an attested SE class (2, 3);
	// a class not listed gets Person and Merchant, the limits of class 1.
	Classes map[protocol.SEClass]ClassLimits `json:",omitempty"`
	// Manufacturers are the manufacturer keys whose attestations let a
	// device enrol with a class above 1 (ledger/attest.go).
	Manufacturers []Manufacturer `json:",omitempty"`
}

// DefaultMinPIN is the default Limits.MinPIN: a 6-digit PIN is 10^6
// guesses for whoever copies a wallet's folder (README, "Security model").
const DefaultMinPIN = 6

// MinPINFloor and MinPINCeiling bound the PIN minimum a policy may set.
// The ceiling keeps the field one byte long in every certificate (the QR
// budget, SPEC.md section 12).
const (
	MinPINFloor   = 4
	MinPINCeiling = 23
)

// DefaultPolicy is a conservative pilot policy (minor units).
var DefaultPolicy = Policy{
	Person: protocol.Limits{Holding: 50000, PerPayment: 10000, MaxOfflineCount: 50,
		MaxOfflineValue: 50000, MaxOfflineDays: 7, MaxRevListAge: 2 * 24 * 3600, MaxHops: 3, MinPIN: DefaultMinPIN},
	Merchant: protocol.Limits{Holding: 5000000, PerPayment: 0, MaxOfflineCount: 100000,
		MaxOfflineValue: 5000000, MaxOfflineDays: 14, MaxRevListAge: 2 * 24 * 3600, MinPIN: DefaultMinPIN},
	Validity: 2 * 365 * 24 * time.Hour,
	// 2^53-1: more than any pilot issues, and the largest amount a JSON
	// reader that holds numbers as doubles keeps exact (RFC 7493).
	MaxIssued: 1<<53 - 1,
}

// Options configure a Service. Zero values take defaults.
type Options struct {
	Currency string           // default: the keys' currency
	Clock    func() time.Time // default: time.Now
	Policy   Policy           // default: DefaultPolicy
	// RevocationEvery is how old the revocation list may get before the
	// ledger re-signs it (at the next sync or list request), so that payees
	// always hold a list younger than their MaxRevListAge. Default 1 h.
	RevocationEvery time.Duration
	// Lease is how long a claimed notification stays invisible to other
	// claimers unless its deliverer renews it (bank.Worker renews at half
	// of it while it sends). Default 1 min.
	Lease time.Duration
	// VerifyWorkers is how many goroutines verify signatures of one upload.
	// Default: GOMAXPROCS.
	VerifyWorkers int
	// RenewBefore is how long before its expiry a device certificate is
	// renewed at sync (at most half the policy's Validity). Default 30 days.
	RenewBefore time.Duration
	// MaxBatch is the most uploads group commit applies in one
	// transaction (batch.go). Default 128; 1 applies each upload in a
	// transaction of its own (offpay bench measures what batching gains).
	MaxBatch int
}

// Service is the ledger. It is safe for concurrent use; all state lives in
// the Store.
type Service struct {
	store Store
	keys  *Keys
	opts  Options
	trust *protocol.Trust

	policy atomic.Pointer[Policy] // for new and renewed certificates; SetPolicy
	fed    fedHolder              // the scheme's register (federation.go), if any

	mu    sync.RWMutex
	certs map[protocol.KeyID]*devInfo // enrolled devices: key, account, limits

	// Group commit (batch.go): uploads waiting to be applied, and whether
	// a caller is applying batches.
	bmu                      sync.Mutex
	queue                    []*job
	leading                  bool
	rmu                      sync.Mutex   // freshread.go
	reads                    []*freshRead // freshread.go
	reading                  bool         // freshread.go
	batches, batched, reruns atomic.Int64
	failing                  failingDevices // batch.go
	applyWall, applyCPU      atomic.Int64   // ns (BatchStats)
	// cpu holds a token per processor. A verification batch takes one
	// while it runs, and so does the one applying upload for its whole
	// transaction: while an apply waits on the database, verification
	// cannot take every processor, so the apply is never starved of one
	// when its answer comes back (on PostgreSQL that was 15% of the
	// throughput). With no apply running, verification uses them all.
	cpu chan struct{}
	// pool verifies small sets of signatures of concurrent uploads
	// together, holding a cpu token per batch (verify.go).
	pool *protocol.Pool

	uploadSigs sigMemo // upload signatures VerifyDeviceSignature verified (uploadsig.go)
}

type devInfo struct {
	cert     *protocol.Certificate // current (key and account never change)
	account  string
	merchant bool
	// the highest limits of any certificate the device has held: a
	// payment made under a limit since lowered still counts (renew.go)
	maxPerPayment, maxHolding, maxHops uint64
}

// New returns a Service over store signing with keys.
func New(store Store, keys *Keys, opts Options) *Service {
	if opts.Currency == "" {
		opts.Currency = keys.Currency
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if reflect.DeepEqual(opts.Policy, Policy{}) {
		opts.Policy = DefaultPolicy
	}
	if opts.Policy.MaxIssued == 0 {
		opts.Policy.MaxIssued = DefaultPolicy.MaxIssued
	}
	if opts.RevocationEvery <= 0 {
		opts.RevocationEvery = time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.RenewBefore <= 0 {
		opts.RenewBefore = 30 * 24 * time.Hour
	}
	trust, err := protocol.NewTrust(keys.Root)
	if err == nil {
		err = trust.AddIssuer(keys.Issuer)
	}
	for _, c := range keys.Retired {
		if err == nil {
			err = trust.AddIssuer(c)
		}
	}
	if err != nil {
		panic("ledger: keys do not chain: " + err.Error())
	}
	s := &Service{store: store, keys: keys, opts: opts, trust: trust, certs: map[protocol.KeyID]*devInfo{},
		cpu: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
	s.pool = &protocol.Pool{Workers: cap(s.cpu), Slots: s.cpu}
	pol := opts.Policy
	s.policy.Store(&pol)
	return s
}

// Trust returns the root and issuer certificates devices pin.
func (s *Service) Trust() (root, issuer *protocol.Certificate) { return s.keys.Root, s.keys.Issuer }

// Currency is the ledger's currency.
func (s *Service) Currency() string { return s.opts.Currency }

func (s *Service) now() time.Time { return s.opts.Clock() }

// device returns the immutable facts of an enrolled device, from the
// cache or from tx.
func (s *Service) device(ctx context.Context, tx Tx, id protocol.KeyID) (*devInfo, error) {
	s.mu.RLock()
	d := s.certs[id]
	s.mu.RUnlock()
	if d != nil {
		return d, nil
	}
	m, err := tx.Devices(ctx, []protocol.KeyID{id})
	if err != nil {
		return nil, err
	}
	row := m[id]
	if row == nil {
		return nil, nil
	}
	return s.cache(row)
}

func (s *Service) cache(row *DeviceRow) (*devInfo, error) {
	cert := new(protocol.Certificate)
	if err := protocol.Unmarshal(row.Cert, cert); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "stored certificate of %v: %w", row.ID, err)
	}
	// A mirror (federation.go) is a merchant's device if its certificate
	// names one: its refunds are allowed as its own provider allows them.
	merchant := row.Merchant || isForeign(row.Account) && cert.Kind() == protocol.KindMerchant
	d := &devInfo{cert: cert, account: row.Account, merchant: merchant,
		maxPerPayment: max(cert.Limits.PerPayment, uint64(max(row.MaxPerPayment, 0))),
		maxHolding:    max(cert.Limits.Holding, uint64(max(row.MaxHolding, 0))),
		maxHops:       max(cert.Limits.MaxHops, row.MaxHops)}
	s.mu.Lock()
	s.certs[row.ID] = d
	s.mu.Unlock()
	return d, nil
}

// view and update run fn in a transaction and keep store errors that are
// not *offpay.Error away from clients.
func (s *Service) view(ctx context.Context, fn func(Tx) error) error {
	return internal(s.store.View(ctx, fn))
}

func (s *Service) update(ctx context.Context, fn func(Tx) error) error {
	return internal(s.store.Update(ctx, fn))
}

// Ready reports whether the ledger can take writes now: nil, or an
// EUNAVAILABLE error. It writes a small probe row, so a full, read-only or
// failing store is found even before a request fails on it.
func (s *Service) Ready(ctx context.Context) error {
	return s.update(ctx, func(tx Tx) error {
		return tx.PutMeta(ctx, "ready_probe", []byte(s.now().UTC().Format(time.RFC3339Nano)))
	})
}

func internal(err error) error {
	if err == nil || offpay.ErrorCode(err) != offpay.EINTERNAL {
		return err
	}
	if e, ok := err.(*offpay.Error); ok && e.Code == offpay.EINTERNAL {
		return err
	}
	return &offpay.Error{Code: offpay.EINTERNAL, Message: "internal error", Err: err}
}

func invalid(format string, args ...any) error {
	return offpay.Errorf(offpay.EINVALID, format, args...)
}

// randomID returns a positive random int64: identifiers made this way need
// no hot sequence (CockroachDB-friendly).
func randomID() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1
}

// notify queues a notification about account (its stream) in tx.
// Payloads are JSON objects.
func (s *Service) notify(ctx context.Context, tx Tx, kind, key, account string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "encoding notification: %w", err)
	}
	now := s.now().UnixNano()
	return tx.InsertOutbox(ctx, []OutboxRow{{ID: randomID(), Kind: kind, Key: kind + ":" + key, Stream: account, Payload: b,
		NextAt: now, Since: now, CreatedAt: now}})
}

// Notification kinds.
const (
	NotePaymentSettled = "payment_settled"
	NoteAccountChanged = "account_changed"
	NoteDeviceRevoked  = "device_revoked"
	NoteDoubleSpend    = "double_spend"
	NotePaymentExpired = "payment_expired"
	NoteAccountFrozen  = "account_frozen"
)

// revoked is the error for a request by a revoked device: EFORBIDDEN
// carrying the protocol's revoked class, so that clients can tell it.
func revoked(id protocol.KeyID) error {
	return &offpay.Error{Code: offpay.EFORBIDDEN, Message: fmt.Sprintf("device %v is revoked", id), Err: protocol.ErrRevoked}
}
