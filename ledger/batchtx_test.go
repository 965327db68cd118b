package ledger

import (
	"context"
	"fmt"
	"slices"
	"testing"
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
