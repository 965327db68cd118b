package storetest

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// Stateful conformance vectors (spec/scenarios, SPEC.md section 17): a
// scenario is a history of calls on a ledger (accounts, deposits,
// enrolments, reservations, uploads, revocations, deadline runs), each
// with the ledger's clock and what the ledger answered, and the
// reconciliation after it. Another implementation replays the requests
// in order and must answer the same. The files are recorded from the
// contract suite (Service wraps the ledger while a test runs) and
// replayed by RunScenarios.

// ScenarioPKI names the deterministic PKI of the suite's ledger keys
// (prototest.NewPKI): scenario files carry its seeds so that another
// implementation signs byte-identical Loads.
const ScenarioPKI = "storetest"

// Scenario is one file of spec/scenarios.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Currency    string `json:"currency"`
	RootSeed    string `json:"root_seed_hex"`
	IssuerSeed  string `json:"issuer_seed_hex"`
	Root        string `json:"root_cert_hex"`
	Issuer      string `json:"issuer_cert_hex"`
	Steps       []Step `json:"steps"`
}

// Step is one call and what it must answer.
type Step struct {
	At       int64  `json:"at_unix_ns"` // the ledger's clock during the call
	Op       string `json:"op"`         // create_account, deposit, withdraw, enrol, reserve, sync, revoke, assess
	Account  string `json:"account,omitempty"`
	Merchant bool   `json:"merchant,omitempty"`
	Amount   int64  `json:"amount_minor,omitempty"`
	Ref      string `json:"ref,omitempty"`
	Device   string `json:"device,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Request  string `json:"request_hex,omitempty"` // an envelope (SPEC.md section 3)
	Expect   Expect `json:"expect"`
}

// Expect is what a step must answer, and the state after it.
type Expect struct {
	Error    string          `json:"error,omitempty"` // an error code (errors.go), "" for success
	Load     string          `json:"load_hex,omitempty"`
	Acked    uint64          `json:"acked,omitempty"`
	Statuses []ExpectStatus  `json:"statuses,omitempty"`
	Missing  []uint64        `json:"missing,omitempty"`
	Swept    uint64          `json:"swept_minor,omitempty"`
	Revoked  int             `json:"revoked,omitempty"`  // assess
	Expired  int             `json:"expired,omitempty"`  // assess
	Restored int             `json:"restored,omitempty"` // assess
	Report   ExpectReport    `json:"report"`
	Accounts []ExpectAccount `json:"accounts"`
}

// ExpectStatus is a payment's status in a SyncResult.
type ExpectStatus struct {
	Payment string `json:"payment"`
	Status  uint8  `json:"status"`
}

// ExpectReport is the reconciliation after a step.
type ExpectReport struct {
	ConservationOK bool          `json:"conservation_ok"`
	Issued         int64         `json:"issued_minor"`
	Accounts       int64         `json:"accounts_minor"`
	Outstanding    int64         `json:"outstanding_minor"`
	Unassessed     int64         `json:"unassessed_minor"`
	Held           int64         `json:"held_minor"`
	Losses         int64         `json:"losses_minor"`
	Recovered      int64         `json:"recovered_minor"`
	Settled        int64         `json:"settled_payments"`
	Revoked        []string      `json:"revoked_devices"`
	Proofs         []ExpectProof `json:"double_spends"`
}

// ExpectProof names a stored proof.
type ExpectProof struct {
	Kind    string `json:"kind"`
	Device  string `json:"device"`
	Counter uint64 `json:"counter"`
}

// ExpectAccount is an account after a step.
type ExpectAccount struct {
	Name    string `json:"name"`
	Balance int64  `json:"balance_minor"`
	Held    int64  `json:"held_minor"`
	Frozen  bool   `json:"frozen"`
}

var (
	pkiOnce sync.Once
	pki     *prototest.PKI
)

func scenarioPKI() *prototest.PKI {
	pkiOnce.Do(func() { pki = prototest.NewPKI(ScenarioPKI) })
	return pki
}

// Service is the ledger as the suite's tests call it: calls that change
// state are recorded as scenario steps while a recording is on.
type Service struct {
	*ledger.Service
	rec *recording
}

type recording struct {
	mu       sync.Mutex
	clock    func() time.Time
	steps    []Step
	accounts []string
}

func (s *Service) record(st Step, err error, fill func(*Expect)) {
	r := s.rec
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st.At = r.clock().UnixNano()
	if err != nil {
		st.Expect.Error = string(offpay.ErrorCode(err))
	} else if fill != nil {
		fill(&st.Expect)
	}
	if st.Op == "create_account" && err == nil {
		r.accounts = append(r.accounts, st.Account)
	}
	st.Expect.Report, st.Expect.Accounts = snapshot(context.Background(), s.Service, r.accounts)
	r.steps = append(r.steps, st)
}

// snapshot is the report and the accounts' balances after a step.
func snapshot(ctx context.Context, svc *ledger.Service, accounts []string) (ExpectReport, []ExpectAccount) {
	var out ExpectReport
	r, err := svc.Report(ctx)
	if err != nil {
		return out, nil
	}
	out = ExpectReport{ConservationOK: r.ConservationOK, Issued: r.Issued, Accounts: r.Accounts, Outstanding: r.Outstanding,
		Unassessed: r.Unassessed, Held: r.Held, Losses: r.Losses, Recovered: r.Recovered, Settled: r.Settled,
		Revoked: slices.Sorted(slices.Values(r.RevokedDevices)), Proofs: []ExpectProof{}}
	for _, p := range r.DoubleSpends {
		out.Proofs = append(out.Proofs, ExpectProof{Kind: p.Kind, Device: p.Device, Counter: p.Counter})
	}
	slices.SortFunc(out.Proofs, func(a, b ExpectProof) int {
		if c := strings.Compare(a.Device, b.Device); c != 0 {
			return c
		}
		return cmp.Compare(a.Counter, b.Counter)
	})
	accts := []ExpectAccount{}
	for _, name := range accounts {
		a, err := svc.Account(ctx, name)
		if err == nil {
			accts = append(accts, ExpectAccount{Name: a.Name, Balance: a.Balance, Held: a.Held, Frozen: a.Frozen})
		}
	}
	return out, accts
}

func seal(m protocol.Message) string { return hex.EncodeToString(protocol.Seal(m)) }

// CreateAccount records create_account.
func (s *Service) CreateAccount(ctx context.Context, name string, merchant bool) (*ledger.Account, error) {
	a, err := s.Service.CreateAccount(ctx, name, merchant)
	s.record(Step{Op: "create_account", Account: name, Merchant: merchant}, err, nil)
	return a, err
}

// Deposit records deposit.
func (s *Service) Deposit(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	a, err := s.Service.Deposit(ctx, name, amount, ref)
	s.record(Step{Op: "deposit", Account: name, Amount: amount, Ref: ref}, err, nil)
	return a, err
}

// Withdraw records withdraw.
func (s *Service) Withdraw(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	a, err := s.Service.Withdraw(ctx, name, amount, ref)
	s.record(Step{Op: "withdraw", Account: name, Amount: amount, Ref: ref}, err, nil)
	return a, err
}

// Enrol records enrol.
func (s *Service) Enrol(ctx context.Context, req *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
	en, err := s.Service.Enrol(ctx, req)
	s.record(Step{Op: "enrol", Request: seal(req)}, err, nil)
	return en, err
}

// Reserve records reserve and the Load it must return byte for byte.
func (s *Service) Reserve(ctx context.Context, req *protocol.ReserveRequest) (*protocol.Load, error) {
	l, err := s.Service.Reserve(ctx, req)
	s.record(Step{Op: "reserve", Request: seal(req)}, err, func(x *Expect) { x.Load = seal(l) })
	return l, err
}

// Sync records sync and the result's acknowledgement, statuses, gaps and sweep.
func (s *Service) Sync(ctx context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error) {
	res, err := s.Service.Sync(ctx, up)
	s.record(Step{Op: "sync", Request: seal(up)}, err, func(x *Expect) {
		x.Acked, x.Missing, x.Swept = res.Acked, res.Missing, res.Swept
		for _, st := range res.Statuses {
			x.Statuses = append(x.Statuses, ExpectStatus{Payment: st.Payment.String(), Status: st.Status})
		}
		slices.SortFunc(x.Statuses, func(a, b ExpectStatus) int { return strings.Compare(a.Payment, b.Payment) })
	})
	return res, err
}

// Revoke records revoke.
func (s *Service) Revoke(ctx context.Context, device protocol.KeyID, reason string) error {
	err := s.Service.Revoke(ctx, device, reason)
	s.record(Step{Op: "revoke", Device: device.String(), Reason: reason}, err, nil)
	return err
}

// Lost records lost.
func (s *Service) Lost(ctx context.Context, device protocol.KeyID) error {
	err := s.Service.Lost(ctx, device)
	s.record(Step{Op: "lost", Device: device.String()}, err, nil)
	return err
}

// Assess records assess.
func (s *Service) Assess(ctx context.Context) (*ledger.Assessment, error) {
	a, err := s.Service.Assess(ctx)
	s.record(Step{Op: "assess"}, err, func(x *Expect) { x.Revoked, x.Expired, x.Restored = a.Revoked, a.Expired, a.Restored })
	return a, err
}

// scenarioEnv is the environment variable that makes the suite write the
// scenarios it records (ScenarioNames) into the folder it names.
const scenarioEnv = "OFFPAY_WRITE_SCENARIOS"

// ScenarioNames are the contract-suite tests exported as scenarios, with
// what each shows.
var ScenarioNames = map[string]string{
	"SettleByBoth":                                  "a payer and a payee both upload; each payment settles once",
	"ClaimByReceipt":                                "receipts in the payer's confirm entries claim payments; forged or misdirected ones claim nothing",
	"Expiry":                                        "a payment nobody claims returns to its payer's account after the claim window",
	"MerchantSweep":                                 "a merchant's claimed payments sweep into its account",
	"DoubleSpend/a,a2,b,c":                          "a cloned SE pays two payees with one counter: proof, revocation, freeze, both payees honoured",
	"DoubleSpend/b,c,a,a2":                          "the same, payees first",
	"Overspend":                                     "a broken SE pays beyond its purse: revoked, recovered, then a loss paid down by a deposit",
	"OrderArtefact":                                 "a payee syncs before its payer: the deficit is unassessed, then explained",
	"HugeCounter/payee-first":                       "finding 1: a counter of 2^62 revokes the payer and moves no high-water mark",
	"HugeCounter/redeems-first":                     "finding 1, redeems first: the own log proves the overspend",
	"ImplausibleCounter":                            "the plausibility bound, just inside and just past",
	"DistinctCounterClone":                          "finding 2: distinct-counter clone, payer never syncs: held, then assessed at its deadline",
	"RolledBackPayee/rollback-first":                "finding 3: a receipt against a rolled-back payee's entry is a proof; the payment is claimed, not refunded",
	"RolledBackPayee/payer-first":                   "finding 3, payer first",
	"TwoReceiptsOneCounter":                         "two receipts of one payee for one counter",
	"ExpiryWithoutPayee/revoked":                    "finding 4: a payment to a revoked payee returns to its payer after the claim window",
	"ExpiryWithoutPayee/certificate-expired":        "finding 4: the same for a payee whose certificate expired",
	"LateDeficit":                                   "a deficit that appears after its deadline is assessed at once; the deadline counts from the last sync",
	"OwnLogOverspend":                               "a redeem beyond the purse in the device's own log",
	"Forfeit":                                       "a payment returned to its payer is forfeit to a payee that received it late",
	"ExplainedAfterDeadline":                        "a revoked device's late upload explains its deficit and the recovery is refunded",
	"BeyondOfflineLimits":                           "a key out of its SE pays past its offline value: revoked as soon as its payees' uploads show it",
	"HopLimit":                                      "payments beyond the payer's hop limit are recorded from neither side",
	"SamePayeeTwice":                                "two copies of a cloned payer pay one payee with one counter: the payee's log is settled, the payer caught",
	"LostDevice":                                    "a device reported lost: revoked, not frozen; its value returns after its deadline; a late payment is charged",
	"Refund/merchant-first":                         "a till refunds part of a sale offline: the merchant account pays the refund once; the sale is held until then",
	"Refund/payer-first":                            "the same, the payer's upload first",
	"RefundClaimsSale":                              "a refund uploaded by the payer claims the sale it names (the till never synced it), then the merchant account pays it",
	"RefundHold":                                    "a sale is held for its refund until the till's log shows the refund window passed, or a silent till has stopped paying",
	"RefundAttacks/above-the-sale/payer-first":      "a till's key refunds more than the sale: proof of kind refund, revoked, recovered from the shop, the rest a loss",
	"RefundAttacks/second-refund/merchant-first":    "a till's key refunds one sale twice: proof, the second refund recovered",
	"RefundAttacks/to-another-payer/merchant-first": "a till's key refunds a sale to someone who did not pay it: proof",
	"RefundAttacks/not-its-sale/payer-first":        "a till's key refunds another shop's sale: proof",
	"RefundAttacks/sale-between-others/payer-first": "a till's key refunds a sale between two other devices: judged as a refund of no sale (no proof), revoked by the exposure rules",
	"RefundAttacks/unknown-sale/merchant-first":     "a till's key refunds a sale that does not exist, beyond the shop's balance: its own log proves the overspend; a loss",
	"RefundSurfacesLate":                            "a refund of an unknown sale only the payer uploads: unassessed exposure, held, assessed at the till's deadline",
}

// startRecording turns recording on for tests whose name (under the
// suite) is in ScenarioNames, when scenarioEnv is set.
func (e *Env) startRecording() {
	dir := os.Getenv(scenarioEnv)
	name := scenarioName(e.T.Name())
	desc, ok := ScenarioNames[name]
	if dir == "" || !ok {
		return
	}
	e.Svc.rec = &recording{clock: e.Now}
	e.T.Cleanup(func() {
		if e.T.Failed() {
			return
		}
		p := scenarioPKI()
		sc := Scenario{Name: name, Description: desc, Currency: "EUR",
			RootSeed:   hex.EncodeToString(seedOf(p.RootKey)),
			IssuerSeed: hex.EncodeToString(seedOf(p.IssuerKey)),
			Root:       hex.EncodeToString(p.Root.Marshal()), Issuer: hex.EncodeToString(p.Issuer.Marshal()),
			Steps: e.Svc.rec.steps}
		b, err := json.MarshalIndent(sc, "", " ")
		if err == nil {
			file := strings.ToLower(strings.NewReplacer("/", "-", ",", "").Replace(name)) + ".json"
			err = os.WriteFile(filepath.Join(dir, file), append(b, '\n'), 0o644)
		}
		if err != nil {
			e.T.Errorf("writing scenario: %v", err)
		}
	})
}

// scenarioName strips the store's test name and the suite's from a test name.
func scenarioName(full string) string {
	_, rest, ok := strings.Cut(full, "/")
	if !ok {
		return full
	}
	return rest
}

func seedOf(s protocol.Signer) []byte {
	if k, ok := s.(protocol.Ed25519Signer); ok {
		return k.Key.Seed()
	}
	return nil
}
