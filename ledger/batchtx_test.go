package ledger

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
)

// recordTx records the lines and notifications written to it.
type recordTx struct {
	Tx
	lines, notes, entries []string
	calls                 int
}

func (r *recordTx) Savepoint(context.Context, string) error  { return nil }
func (r *recordTx) RollbackTo(context.Context, string) error { return nil }
func (r *recordTx) Release(context.Context, string) error    { return nil }

func (r *recordTx) InsertEntries(_ context.Context, es []EntryRow) error {
	r.calls++
	for _, e := range es {
		r.entries = append(r.entries, string(e.Data))
	}
	return nil
}

func (r *recordTx) InsertLines(_ context.Context, ls []LineRow) error {
	r.calls++
	for _, l := range ls {
		r.lines = append(r.lines, l.Ref)
	}
	return nil
}

func (r *recordTx) InsertOutbox(_ context.Context, rs []OutboxRow) error {
	r.calls++
	for _, o := range rs {
		r.notes = append(r.notes, o.Key)
	}
	return nil
}

// TestBatchTxDropsRolledBackUploads: a batch's lines, notifications and
// log entries are written once, in upload order, at the end; those of an
// upload rolled back to its savepoint are not written at all.
func TestBatchTxDropsRolledBackUploads(t *testing.T) {
	ctx := context.Background()
	rec := &recordTx{}
	b := &batchTx{Tx: rec}
	write := func(name string) {
		b.InsertLines(ctx, []LineRow{{Ref: name}})
		b.InsertOutbox(ctx, []OutboxRow{{Key: name}})
		b.InsertEntries(ctx, []EntryRow{{Data: []byte(name)}})
	}
	for i, name := range []string{"first", "failed", "third"} {
		sp := fmt.Sprint("upload_", i)
		b.Savepoint(ctx, sp)
		write(name)
		if name == "failed" {
			b.RollbackTo(ctx, sp)
		}
		b.Release(ctx, sp)
	}
	if rec.calls != 0 {
		t.Fatalf("%d writes before the flush", rec.calls)
	}
	if err := b.flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"first", "third"}
	if rec.calls != 3 || !slices.Equal(rec.lines, want) || !slices.Equal(rec.notes, want) || !slices.Equal(rec.entries, want) {
		t.Fatalf("%d writes; lines %v, notes %v, entries %v", rec.calls, rec.lines, rec.notes, rec.entries)
	}
}

// TestFailingDevicesBounded: the devices remembered for failing uploads
// stay at most maxFailing, the newest kept and the oldest forgotten, and
// each is forgotten after failingFor.
func TestFailingDevicesBounded(t *testing.T) {
	var f failingDevices
	now := time.Unix(1_000_000, 0)
	id := func(i int) protocol.KeyID {
		var k protocol.KeyID
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		return k
	}
	in := func(i int, at time.Time) bool { return f.any([]*job{{u: &upload{id: id(i)}}}, at) }
	for i := range maxFailing + 10 {
		f.add(id(i), now.Add(time.Duration(i)*time.Millisecond))
	}
	last := now.Add(time.Duration(maxFailing+10) * time.Millisecond)
	if len(f.m) != maxFailing || in(0, last) || in(9, last) || !in(10, last) || !in(maxFailing+9, last) {
		t.Fatalf("%d remembered; first %v, tenth %v, eleventh %v, newest %v", len(f.m), in(0, last), in(9, last), in(10, last), in(maxFailing+9, last))
	}
	if in(maxFailing+9, last.Add(failingFor)) {
		t.Fatal("remembered beyond failingFor")
	}
	// Once expired, the whole lot goes at the next add beyond the bound.
	f.add(id(1<<20), last.Add(failingFor))
	if len(f.m) != 1 {
		t.Fatalf("%d remembered after all expired", len(f.m))
	}
}
