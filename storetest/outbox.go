package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// testOutbox: notifications are written with the change, in the stream of
// the account they are about with consecutive sequence numbers; a claim
// returns only the head of each stream, under a lease whose token alone
// renews or releases it; failed ones wait their next attempt, holding
// their stream back, unless given up (dead letter); RetryNow ends every
// backoff; nothing is lost.
func testOutbox(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("ob-a", "alice"), e.Device("ob-m", "shop")
	e.Load(a, 100)
	p := a.Pay(m.ID, 40)
	e.SyncAll(a)
	m.Receive(p)
	e.SyncAll(m) // no second notification for the same payment

	// alice: deposit, reserve; shop: settle_in, payment_settled. One claim
	// gives each stream's head only; the rest waits behind the leases.
	first := e.claim(100)
	if len(first) != 2 {
		t.Fatalf("first claim %+v, want the heads of alice and shop", brief(first))
	}
	for _, n := range first {
		if n.Seq != 1 || n.Attempts != 1 || n.Lease == 0 || !json.Valid(n.Payload) {
			t.Fatalf("head %+v", n)
		}
	}
	if again := e.claim(100); len(again) != 0 {
		t.Fatalf("claimed %+v behind leased heads", brief(again))
	}
	got := map[string][]int64{}
	kinds := map[string]int{}
	for ns := first; len(ns) > 0; ns = e.claim(100) {
		for _, n := range ns {
			got[n.Stream] = append(got[n.Stream], n.Seq)
			kinds[n.Kind]++
			if err := e.Svc.MarkDelivered(e.Ctx, n.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(got["alice"]) != "[1 2]" || fmt.Sprint(got["shop"]) != "[1 2]" || len(got) != 2 {
		t.Fatalf("streams delivered as %v", got)
	}
	if kinds[ledger.NoteAccountChanged] != 3 || kinds[ledger.NotePaymentSettled] != 1 {
		t.Fatalf("kinds %v", kinds)
	}

	// bob: two lines. The first fails: it and everything behind it wait.
	e.Advance(time.Second)
	e.Account("bob", false, 10)
	if _, err := e.Svc.Deposit(e.Ctx, "bob", 5, "bob-2"); err != nil {
		t.Fatal(err)
	}
	b1 := e.claimOne("bob", 1)
	e.fail(b1, time.Minute, false)
	if ns := e.claim(100); len(ns) != 0 {
		t.Fatalf("claimed %+v while bob's head waits for its retry", brief(ns))
	}
	e.Advance(2 * time.Minute)
	b1 = e.claimOne("bob", 1)
	if b1.Attempts != 2 || b1.Streak != 2 || b1.LastError != "503" {
		t.Fatalf("retry %+v", b1)
	}
	// A deliverer that stops renewing loses its lease; its late failure
	// report and renewal change nothing.
	e.Advance(2 * time.Minute)
	stale := b1
	b1 = e.claimOne("bob", 1)
	if b1.Lease == stale.Lease || b1.Attempts != 3 {
		t.Fatalf("claim after an expired lease: %+v", b1)
	}
	e.fail(stale, time.Hour, true)
	if ids, _, err := e.Svc.RenewLeases(e.Ctx, map[int64]int64{stale.ID: stale.Lease}); err != nil || len(ids) != 0 {
		t.Fatalf("stale lease renewed: %v %v", ids, err)
	}
	e.Advance(40 * time.Second)
	if ids, until, err := e.Svc.RenewLeases(e.Ctx, map[int64]int64{b1.ID: b1.Lease}); err != nil || len(ids) != 1 || !until.After(e.Now()) {
		t.Fatalf("renewal by the holder: %v %v %v", ids, until, err)
	}
	e.Advance(40 * time.Second) // past the first lease's end, not the renewed one
	if ns := e.claim(100); len(ns) != 0 {
		t.Fatalf("a renewed lease was taken: %+v", brief(ns))
	}
	// Given up: the head no longer holds bob's stream back.
	e.fail(b1, time.Hour, true)
	st := e.outboxStats()
	if st.Dead != 1 || st.Pending != 1 {
		t.Fatalf("stats after a dead letter %+v", st)
	}
	b2 := e.claimOne("bob", 2)
	e.fail(b2, time.Hour, false)
	if ns := e.claim(100); len(ns) != 0 {
		t.Fatalf("claimed %+v in backoff", brief(ns))
	}
	// The receiver answers again: every backoff ends, streaks reset.
	if n, err := e.Svc.RetryNow(e.Ctx); err != nil || n != 1 {
		t.Fatalf("RetryNow = %d, %v", n, err)
	}
	if b2 = e.claimOne("bob", 2); b2.Streak != 1 || b2.Attempts != 2 {
		t.Fatalf("after RetryNow %+v", b2)
	}
	if err := e.Svc.MarkDelivered(e.Ctx, b2.ID); err != nil {
		t.Fatal(err)
	}
	e.Advance(time.Hour)
	if rest := e.claim(100); len(rest) != 0 {
		t.Fatalf("delivered or dead notifications came back: %+v", brief(rest))
	}
	Code(t, e.Svc.MarkDelivered(e.Ctx, 12345), offpay.ENOTFOUND)
	Code(t, e.Svc.MarkFailed(e.Ctx, ledger.Failure{ID: 12345, Next: e.Now(), Err: "x"}), offpay.ENOTFOUND)
	_, err := e.Svc.ClaimNotifications(e.Ctx, 0)
	Code(t, err, offpay.EINVALID)
	testOutboxAdmin(t, e, b1)
}

// testOutboxAdmin: listing (filters, pages), resending (by key, by time
// range) and refusals that change nothing.
func testOutboxAdmin(t *testing.T, e *Env, dead ledger.Notification) {
	all := e.list(ledger.OutboxQuery{})
	if len(all) != 6 {
		t.Fatalf("listed %d notifications, want 6: %+v", len(all), brief(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.Before(all[i-1].CreatedAt) {
			t.Fatalf("not in the order written: %+v", brief(all))
		}
	}
	for q, want := range map[ledger.OutboxQuery]int{
		{Account: "bob"}:                           2,
		{State: ledger.OutboxDead}:                 1,
		{State: ledger.OutboxDelivered}:            5,
		{State: ledger.OutboxPending}:              0,
		{Kind: ledger.NotePaymentSettled}:          1,
		{Key: dead.IdempotencyKey}:                 1,
		{From: dead.CreatedAt}:                     2,
		{To: dead.CreatedAt.Add(-time.Nanosecond)}: 4,
	} {
		if got := e.list(q); len(got) != want {
			t.Errorf("%+v listed %d, want %d", q, len(got), want)
		}
	}
	d := e.list(ledger.OutboxQuery{State: ledger.OutboxDead})[0]
	if d.DeadAt == nil || d.LastError == "" || d.Stream != "bob" || d.Seq != 1 {
		t.Fatalf("dead letter as listed: %+v", d)
	}
	// Refusals change nothing.
	before := e.outboxStats()
	for _, q := range []ledger.OutboxQuery{
		{},                        // nothing named
		{From: e.Now()},           // half a range
		{State: "lost", Key: "x"}, // no such state
		{Kind: "nope", Key: "x"},  // no such kind
		{Account: "no/such", Key: "x"},
		{From: e.Now(), To: e.Now().Add(-time.Second)},
		{Key: "x", Limit: 5},
	} {
		_, err := e.Svc.Resend(e.Ctx, q)
		Code(t, err, offpay.EINVALID)
	}
	for _, q := range []ledger.OutboxQuery{{After: "garbage"}, {Limit: 1001}, {State: "x"}} {
		_, err := e.Svc.Outbox(e.Ctx, q)
		Code(t, err, offpay.EINVALID)
	}
	if after := e.outboxStats(); *after != *before {
		t.Fatalf("refused requests changed the outbox: %+v then %+v", before, after)
	}
	// Resend the dead letter: it is bob's head again, with its old key
	// and sequence number, and a fresh dead-letter age.
	e.Advance(time.Minute)
	if n, err := e.Svc.Resend(e.Ctx, ledger.OutboxQuery{Key: dead.IdempotencyKey}); err != nil || n != 1 {
		t.Fatalf("resend by key = %d, %v", n, err)
	}
	r := e.claimOne("bob", 1)
	if r.IdempotencyKey != dead.IdempotencyKey || !r.Since.Equal(e.Now()) || r.Streak != 1 {
		t.Fatalf("resent %+v", r)
	}
	if err := e.Svc.MarkDelivered(e.Ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	// Resend a time range: everything written in it goes again, in order.
	from, to := all[0].CreatedAt, all[len(all)-1].CreatedAt.Add(time.Nanosecond)
	if n, err := e.Svc.Resend(e.Ctx, ledger.OutboxQuery{From: from, To: to, Account: "alice"}); err != nil || n != 2 {
		t.Fatalf("resend of a range = %d, %v", n, err)
	}
	if h := e.claim(100); len(h) != 1 || h[0].Stream != "alice" || h[0].Seq != 1 {
		t.Fatalf("after resending alice's range: %+v", brief(h))
	}
}

func (e *Env) claim(limit int) []ledger.Notification {
	e.T.Helper()
	ns, err := e.Svc.ClaimNotifications(e.Ctx, limit)
	if err != nil {
		e.T.Fatal(err)
	}
	return ns
}

// claimOne claims and expects exactly stream's notification seq.
func (e *Env) claimOne(stream string, seq int64) ledger.Notification {
	e.T.Helper()
	ns := e.claim(100)
	if len(ns) != 1 || ns[0].Stream != stream || ns[0].Seq != seq {
		e.T.Fatalf("claimed %+v, want %s #%d alone", brief(ns), stream, seq)
	}
	return ns[0]
}

func (e *Env) fail(n ledger.Notification, after time.Duration, dead bool) {
	e.T.Helper()
	if err := e.Svc.MarkFailed(e.Ctx, ledger.Failure{ID: n.ID, Lease: n.Lease, Next: e.Now().Add(after), Dead: dead, Err: "503"}); err != nil {
		e.T.Fatal(err)
	}
}

func (e *Env) list(q ledger.OutboxQuery) []ledger.Notification {
	e.T.Helper()
	var out []ledger.Notification
	q.Limit = 2 // pages of two: the cursor is exercised
	for {
		p, err := e.Svc.Outbox(e.Ctx, q)
		if err != nil {
			e.T.Fatal(err)
		}
		out = append(out, p.Notifications...)
		if p.Next == "" {
			return out
		}
		q.After = p.Next
	}
}

func (e *Env) outboxStats() *ledger.OutboxStats {
	e.T.Helper()
	st, err := e.Svc.OutboxStats(e.Ctx)
	if err != nil {
		e.T.Fatal(err)
	}
	return st
}

// checkStreams fails unless every stream's notifications are numbered 1,
// 2, ... without gap or repeat, and listed in that order (run after every
// scenario).
func (e *Env) checkStreams() {
	e.T.Helper()
	var q ledger.OutboxQuery
	q.Limit = 1000
	seqs := map[string]map[int64]bool{}
	last := map[string]int64{}
	for {
		p, err := e.Svc.Outbox(e.Ctx, q)
		if err != nil {
			e.T.Fatalf("outbox: %v", err)
		}
		for _, n := range p.Notifications {
			if seqs[n.Stream] == nil {
				seqs[n.Stream] = map[int64]bool{}
			}
			if n.Stream == "" || seqs[n.Stream][n.Seq] {
				e.T.Fatalf("notification %s: stream %q seq %d (repeated or without a stream)", n.IdempotencyKey, n.Stream, n.Seq)
			}
			seqs[n.Stream][n.Seq] = true
			if n.Seq <= last[n.Stream] {
				e.T.Fatalf("stream %s: seq %d listed after seq %d (the order written must be each stream's order)", n.Stream, n.Seq, last[n.Stream])
			}
			last[n.Stream] = n.Seq
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	for s, m := range seqs {
		for i := int64(1); i <= int64(len(m)); i++ {
			if !m[i] {
				e.T.Fatalf("stream %s: %d notifications but no seq %d", s, len(m), i)
			}
		}
	}
}

func brief(ns []ledger.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("%s#%d %s", n.Stream, n.Seq, n.Kind)
	}
	return out
}
