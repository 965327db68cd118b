// Package storetest is the one contract suite every ledger.Store adapter
// passes: it drives a real ledger.Service over the store through every
// scenario, and each scenario ends by checking conservation of money.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// Opener returns a fresh, empty store for one test; it registers its own
// cleanup with t.
type Opener func(t *testing.T) ledger.Store

// Run runs every scenario against stores from open.
func Run(t *testing.T, open Opener) {
	for _, sc := range []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Accounts", testAccounts},
		{"Enrol", testEnrol},
		{"EnrolmentCodes", testEnrolmentCodes},
		{"Reserve", testReserve},
		{"SettleByPayer", func(t *testing.T, o Opener) { testSettle(t, o, "payer") }},
		{"SettleByPayee", func(t *testing.T, o Opener) { testSettle(t, o, "payee") }},
		{"SettleByBoth", func(t *testing.T, o Opener) { testSettle(t, o, "both") }},
		{"Resend", testResend},
		{"Malformed", testMalformed},
		{"DoubleSpend", testDoubleSpend},
		{"SamePayeeTwice", testSamePayeeTwice},
		{"Overspend", testOverspend},
		{"OrderArtefact", testOrderArtefact},
		{"ReceiveChecks", testReceiveChecks},
		{"HopLimit", testHopLimit},
		{"P256", testP256},
		{"Tamper", testTamper},
		{"EntrySigByUpload", testEntrySigByUpload},
		{"BrokenEvidence", testBrokenEvidence},
		{"Redeem", testRedeem},
		{"PendingPayee", testPendingPayee},
		{"ClaimByPayee", testClaimByPayee},
		{"ClaimByReceipt", testClaimByReceipt},
		{"Expiry", testExpiry},
		{"MerchantSweep", testMerchantSweep},
		{"Revocation", testRevocation},
		{"LostDevice", testLostDevice},
		{"Renewal", testRenewal},
		{"RenewalLowered", testRenewalLowered},
		{"SharedPolicy", testSharedPolicy},
		{"Outbox", testOutbox},
		{"BankEvents", testBankEvents},
		{"CrashAtEachWrite", testCrash},
		{"Concurrent", testConcurrent},
		{"GroupCommit", testGroupCommit},
		{"GroupCommitAcrossServices", testGroupCommitAcrossServices},
		{"Savepoints", testSavepoints},
		{"ConcurrentReserve", testConcurrentReserve},
		{"OrderIndependence", testOrderIndependence},
		{"HugeCounter", testHugeCounter},
		{"ImplausibleCounter", testImplausibleCounter},
		{"DistinctCounterClone", testDistinctCounterClone},
		{"RolledBackPayee", testRolledBackPayee},
		{"TwoReceiptsOneCounter", testTwoReceiptsOneCounter},
		{"ExpiryWithoutPayee", testExpiryWithoutPayee},
		{"LateDeficit", testLateDeficit},
		{"OwnLogOverspend", testOwnLogOverspend},
		{"Forfeit", testForfeit},
		{"ExplainedAfterDeadline", testExplainedAfterDeadline},
		{"BeyondOfflineLimits", testBeyondOfflineLimits},
		{"LedgerBehind", testLedgerBehind},
		{"BehindRevoked", testBehindRevoked},
		{"RestoredDeadline", testRestoredDeadline},
		{"Issuance", testIssuance},
		{"LineSums", testLineSums},
		{"AdminInput", testAdminInput},
		{"ReceiveOnlyReserve", testReceiveOnlyReserve},
		{"EnrolmentTime", testEnrolmentTime},
		{"Refund", testRefund},
		{"RefundClaimsSale", testRefundClaimsSale},
		{"RefundHold", testRefundHold},
		{"RefundAttacks", testRefundAttacks},
		{"RefundSurfacesLate", testRefundSurfacesLate},
		{"RefundByPerson", testRefundByPerson},
		{"RefundBankEvents", testRefundBankEvents},
		{"RefundShortfall", testRefundShortfall},
		{"RefundAfterStale", testRefundAfterStale},
		{"AttackReleasedRefundProofs", testAttackReleasedRefundProofs},
		{"AttackForfeitMask", testAttackForfeitMask},
		{"AttackRestoredOldDeadline", testAttackRestoredOldDeadline},
		{"AttackRestoredOldDeadlineSettle", testAttackRestoredOldDeadlineSettle},
		{"AttackRestoreForger", testAttackRestoreForger},
		{"AttackFutureSale", testAttackFutureSale},
		{"Archive", testArchive},
		{"ArchiveCrash", testArchiveCrash},
		{"Activity", testActivity},
		{"Federation", testFederation},
		{"Forwards", testForwards},
		{"FederationRefunds", testFederationRefunds},
		{"Online", testOnline},
		{"OnlineRefusals", testOnlineRefusals},
		{"OnlineAttacks", testOnlineAttacks},
		{"OnlineAcross", testOnlineAcross},
		{"OnlineReceiptBack", testOnlineReceiptBack},
		{"ReenterWithdrawalFrozen", testReenterWithdrawalFrozen},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.fn(t, open) })
	}
}

// testKeys is the ledger's key set for the whole run: the deterministic
// PKI the scenario files name (ScenarioPKI), so that Loads are the same
// bytes in every run. ledger.Init is exercised by the ledger package's
// own tests.
func testKeys(t *testing.T) *ledger.Keys {
	t.Helper()
	p := scenarioPKI()
	return &ledger.Keys{Currency: "EUR", Root: p.Root, Issuer: p.Issuer, IssuerKey: p.IssuerKey}
}

// Env is a Service over a fresh store with a controllable clock.
type Env struct {
	T     *testing.T
	Ctx   context.Context
	Svc   *Service // the ledger, recording scenario steps when asked (scenario.go)
	Store ledger.Store
	clock atomic.Int64
	reqs  atomic.Uint64
}

// NewEnv opens a store and a Service, and registers the final conservation
// check with t.Cleanup.
func NewEnv(t *testing.T, open Opener) *Env {
	e := &Env{T: t, Ctx: context.Background(), Store: open(t)}
	e.clock.Store(time.Now().Truncate(time.Second).UnixNano())
	e.Svc = &Service{Service: ledger.New(e.Store, testKeys(t), ledger.Options{Clock: e.Now})}
	e.startRecording()
	t.Cleanup(func() {
		if !t.Failed() {
			e.Conserved()
			e.checkStreams()
		}
	})
	return e
}

// Now is the Env's clock.
func (e *Env) Now() time.Time { return time.Unix(0, e.clock.Load()).UTC() }

// Advance moves the clock.
func (e *Env) Advance(d time.Duration) { e.clock.Add(int64(d)) }

// Conserved fails the test unless the report balances.
func (e *Env) Conserved() *ledger.Report {
	e.T.Helper()
	r, err := e.Svc.Report(e.Ctx)
	if err != nil {
		e.T.Fatalf("report: %v", err)
	}
	if !r.ConservationOK {
		e.T.Fatalf("conservation broken: issued %d + losses %d + unassessed %d != accounts %d + outstanding %d (recovered %d)",
			r.Issued, r.Losses, r.Unassessed, r.Accounts, r.Outstanding, r.Recovered)
	}
	if err := ledgertest.LoadsWithinSeq(e.Ctx, e.Store); err != nil {
		e.T.Fatal(err)
	}
	return r
}

// Account creates an account holding deposit.
func (e *Env) Account(name string, merchant bool, deposit int64) {
	e.T.Helper()
	if _, err := e.Svc.CreateAccount(e.Ctx, name, merchant); err != nil {
		e.T.Fatalf("create %s: %v", name, err)
	}
	if deposit > 0 {
		if _, err := e.Svc.Deposit(e.Ctx, name, deposit, "init:"+name); err != nil {
			e.T.Fatalf("deposit %s: %v", name, err)
		}
	}
}

// Device enrols a simulated SE for account.
func (e *Env) Device(label, account string) *ledgertest.Device {
	e.T.Helper()
	d := ledgertest.NewDevice(label, "EUR")
	en, err := e.Svc.Enrol(e.Ctx, e.enrolment(d, account))
	if err != nil {
		e.T.Fatalf("enrol %s: %v", label, err)
	}
	d.Cert = en.Device
	return d
}

// Load reserves amount for d and applies the Load to its log.
func (e *Env) Load(d *ledgertest.Device, amount uint64) *protocol.Load {
	e.T.Helper()
	l, err := e.Svc.Reserve(e.Ctx, d.Reserve(amount, e.reqs.Add(1)))
	if err != nil {
		e.T.Fatalf("reserve: %v", err)
	}
	d.ApplyLoad(l)
	return l
}

// Sync uploads d's log from..to and fails the test on error.
func (e *Env) Sync(d *ledgertest.Device, from, to uint64) *protocol.SyncResult {
	e.T.Helper()
	r, err := e.Svc.Sync(e.Ctx, d.Upload(from, to))
	if err != nil {
		var oe *offpay.Error
		if errors.As(err, &oe) && oe.Err != nil {
			err = fmt.Errorf("%w (%v)", err, oe.Err) // tests may see the hidden cause
		}
		e.T.Fatalf("sync %v %d..%d: %v", d.ID, from, to, err)
	}
	_, iss := e.Svc.Trust()
	if err := r.Verify(iss); err != nil {
		e.T.Fatalf("sync result signature: %v", err)
	}
	return r
}

// SyncAll uploads d's whole log.
func (e *Env) SyncAll(d *ledgertest.Device) *protocol.SyncResult {
	e.T.Helper()
	return e.Sync(d, 1, d.Counter())
}

// Balance returns an account's balance.
func (e *Env) Balance(name string) int64 {
	e.T.Helper()
	a, err := e.Svc.Account(e.Ctx, name)
	if err != nil {
		e.T.Fatalf("account %s: %v", name, err)
	}
	return a.Balance
}

// Dev returns d's line of the report.
func (e *Env) Dev(d *ledgertest.Device) ledger.DeviceReport {
	e.T.Helper()
	r := e.Conserved()
	for _, x := range r.Devices {
		if x.Device == d.ID.String() {
			return x
		}
	}
	e.T.Fatalf("device %v not in report", d.ID)
	return ledger.DeviceReport{}
}

// Code fails unless err carries code.
func Code(t *testing.T, err error, code offpay.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var oe *offpay.Error
	if !errors.As(err, &oe) || oe.Code != code {
		t.Fatalf("got %v (code %s), want %s", err, offpay.ErrorCode(err), code)
	}
}

// enrolment is d's enrolment request for account at the Env's time.
func (e *Env) enrolment(d *ledgertest.Device, account string) *protocol.EnrolmentRequest {
	return d.EnrolmentAt(account, uint64(e.Now().Unix()))
}

// newDev returns a simulated SE that is not enrolled.
func (e *Env) newDev(label string) *ledgertest.Device { return ledgertest.NewDevice(label, "EUR") }
