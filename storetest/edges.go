package storetest

import (
	"math"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// testIssuance: the policy bounds the money issued, so that no sum the
// report takes can leave int64. Two deposits of 2^62 into two accounts
// (or one of 2^63-1) used to be accepted, after which SUM(amount)
// overflowed and the report failed for good, even with every balance
// withdrawn back to zero.
func testIssuance(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	svc, ctx := e.Svc, e.Ctx
	e.Account("a", false, 0)
	e.Account("b", false, 0)
	if svc.Policy().MaxIssued != ledger.DefaultPolicy.MaxIssued || ledger.DefaultPolicy.MaxIssued != 1<<53-1 {
		t.Fatalf("default bound %d", svc.Policy().MaxIssued)
	}
	_, err := svc.Deposit(ctx, "a", math.MaxInt64, "max-1")
	Code(t, err, offpay.ELIMIT)
	// The highest bound a policy may set, and no higher.
	pol := svc.Policy()
	for _, bad := range []int64{-1, ledger.MaxIssuedLimit + 1, math.MaxInt64} {
		p := pol
		p.MaxIssued = bad
		Code(t, svc.SetPolicy(p), offpay.EINVALID)
	}
	pol.MaxIssued = ledger.MaxIssuedLimit
	if err := svc.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Deposit(ctx, "a", math.MaxInt64, "max-1")
	Code(t, err, offpay.ELIMIT)
	if _, err := svc.Deposit(ctx, "a", 1<<62, "big-a"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Deposit(ctx, "b", 1<<62, "big-b")
	Code(t, err, offpay.ELIMIT)
	_, err = svc.Deposit(ctx, "b", 1, "one-b")
	Code(t, err, offpay.ELIMIT)
	// The refused deposits changed nothing: no balance, no line, no ref.
	if b := e.Balance("b"); b != 0 {
		t.Fatalf("refused deposits left %d in b", b)
	}
	if lines, err := svc.Statement(ctx, "b"); err != nil || len(lines) != 0 {
		t.Fatalf("refused deposits left lines: %v %+v", err, lines)
	}
	if r := e.Conserved(); r.Issued != 1<<62 || r.Accounts != 1<<62 {
		t.Fatalf("report %+v", r)
	}
	// Withdrawn, the room comes back, as far as the deposits over the
	// ledger's life stay within 2^63-1 (the report sums them): large sums
	// going in and out cannot break the report either.
	if _, err := svc.Withdraw(ctx, "a", 1<<62, "out-a"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Deposit(ctx, "b", 1<<62, "big-b")
	Code(t, err, offpay.ELIMIT)
	if _, err := svc.Deposit(ctx, "b", 1<<62-1, "big-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Withdraw(ctx, "b", 1<<62-1, "out-b"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Deposit(ctx, "b", 1, "one-more")
	Code(t, err, offpay.ELIMIT)
	if r := e.Conserved(); r.Issued != 0 || r.Accounts != 0 {
		t.Fatalf("report after withdrawing everything: %+v", r)
	}
	// A lower bound applies at once; withdrawals are never refused by it.
	pol.MaxIssued = 1000
	if err := svc.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	e2 := NewEnv(t, open)
	e2.Account("a", false, 0)
	e2.Account("b", false, 0)
	if err := e2.Svc.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Svc.Deposit(ctx, "a", 1000, "k-1"); err != nil {
		t.Fatal(err)
	}
	_, err = e2.Svc.Deposit(ctx, "b", 1, "k-2")
	Code(t, err, offpay.ELIMIT)
	if _, err := e2.Svc.Withdraw(ctx, "a", 10, "k-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Svc.Deposit(ctx, "b", 10, "k-2"); err != nil {
		t.Fatal(err)
	}
	if r := e2.Conserved(); r.Issued != 1000 {
		t.Fatalf("issued %d, want 1000", r.Issued)
	}
}

// testLineSums: the store sums statement lines exactly, whatever the order
// of the rows (SQLite's SUM failed as soon as a running total left int64),
// and a total beyond int64 is a typed error, not a driver's.
func testLineSums(t *testing.T, open Opener) {
	st := open(t)
	ctx := t.Context()
	const max = math.MaxInt64
	err := st.Update(ctx, func(tx ledger.Tx) error {
		if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: "sums"}); err != nil {
			return err
		}
		var lines []ledger.LineRow
		for i, l := range []struct {
			kind   string
			amount int64
		}{{"up-down", max}, {"up-down", max}, {"up-down", -max}, {"up-down", -max}, {"up-down", 5},
			{"neg", math.MinInt64 + 1}, {"neg", -1}, {"small", 3}, {"small", -1}} {
			lines = append(lines, ledger.LineRow{Account: "sums", Seq: int64(i + 1), Kind: l.kind, Amount: l.amount})
		}
		return tx.InsertLines(ctx, lines)
	})
	if err != nil {
		t.Fatal(err)
	}
	var sums map[string]int64
	if err := st.View(ctx, func(tx ledger.Tx) (err error) { sums, err = tx.LineSums(ctx); return err }); err != nil {
		t.Fatalf("line sums: %v", err)
	}
	if sums["up-down"] != 5 || sums["neg"] != math.MinInt64 || sums["small"] != 2 || len(sums) != 3 {
		t.Fatalf("sums %v", sums)
	}
	// A total beyond int64, either way, in a store of its own.
	for _, lines := range [][]ledger.LineRow{
		{{Account: "sums", Seq: 1, Kind: "up", Amount: max}, {Account: "sums", Seq: 2, Kind: "up", Amount: 1}},
		{{Account: "sums", Seq: 1, Kind: "down", Amount: math.MinInt64}, {Account: "sums", Seq: 2, Kind: "down", Amount: -1}},
	} {
		st := open(t)
		err := st.Update(ctx, func(tx ledger.Tx) error {
			if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: "sums"}); err != nil {
				return err
			}
			return tx.InsertLines(ctx, lines)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = st.View(ctx, func(tx ledger.Tx) (err error) { _, err = tx.LineSums(ctx); return err })
		Code(t, err, offpay.ELIMIT)
	}
}

// testAdminInput: administrator text is refused when a terminal or a URL
// would not show it back as it was given: refs and reasons with control
// or bidi characters or invalid UTF-8, account names "." and "..". A
// refused request changes nothing.
func testAdminInput(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	svc, ctx := e.Svc, e.Ctx
	e.Account("alice", false, 100)
	for _, name := range []string{".", ".."} {
		_, err := svc.CreateAccount(ctx, name, false)
		Code(t, err, offpay.EINVALID)
	}
	for _, name := range []string{"...", ".a", "a.b"} {
		if _, err := svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
	}
	for _, ref := range []string{"wire\x1b[2J", "a\nb", "tab\there", "del\x7f", "c1\u0085", "bidi\u202ereversed", "iso\u2066x", "ls\u2028", "bad\xff", "\xc3"} {
		_, err := svc.Deposit(ctx, "alice", 5, ref)
		Code(t, err, offpay.EINVALID)
		_, err = svc.Withdraw(ctx, "alice", 5, ref)
		Code(t, err, offpay.EINVALID)
	}
	if _, err := svc.Deposit(ctx, "alice", 5, "virement n° 42 — café"); err != nil {
		t.Fatalf("printable UTF-8 ref refused: %v", err)
	}
	d := e.Device("admin-in", "alice")
	err := svc.Revoke(ctx, d.ID, "lost\x1b]0;owned\x07")
	Code(t, err, offpay.EINVALID)
	if r := e.Conserved(); r.Issued != 105 || len(r.RevokedDevices) != 0 {
		t.Fatalf("refused input changed the ledger: %+v", r)
	}
}

// testReceiveOnlyReserve: a merchant's receive-only device (certificate
// PerPayment 0) cannot reserve: its SE pays nothing, so a load would only
// strand money in its purse.
func testReceiveOnlyReserve(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("shop", true, 1000)
	m := e.Device("ro-m", "shop")
	if m.Cert.Limits.PerPayment != 0 {
		t.Fatalf("merchant certificate allows payments of %d", m.Cert.Limits.PerPayment)
	}
	_, err := e.Svc.Reserve(e.Ctx, m.Reserve(100, 1))
	Code(t, err, offpay.ELIMIT)
	if b := e.Balance("shop"); b != 1000 {
		t.Fatalf("balance %d after a refused reserve", b)
	}
}

// testEnrolmentTime: an enrolment request's time must be within
// ledger.EnrolmentWindow of the ledger's clock (1 and 2^62 were accepted).
func testEnrolmentTime(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 0)
	now := uint64(e.Now().Unix())
	w := uint64(ledger.EnrolmentWindow / time.Second)
	for _, at := range []uint64{0, 1, now - w - 1, now + w + 1, 1 << 62, math.MaxUint64} {
		_, err := e.Svc.Enrol(e.Ctx, e.newDev("time-bad").EnrolmentAt("alice", at))
		Code(t, err, offpay.EINVALID)
	}
	for _, at := range []uint64{now - w, now, now + w} {
		if _, err := e.Svc.Enrol(e.Ctx, e.newDev("time-ok").EnrolmentAt("alice", at)); err != nil {
			t.Fatalf("enrolment at now%+d s: %v", int64(at)-int64(now), err)
		}
	}
}
