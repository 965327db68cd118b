package ledger

import (
	"context"
	"testing"
)

// recordTx records the lines and notifications written to it.
type recordTx struct {
	Tx
	lines, notes []string
	calls        int
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

// TestBatchTxDropsRolledBackUploads: a batch's lines and notifications
// are written once, in upload order, at the end; those of an upload
// rolled back to its savepoint are not written at all.
func TestBatchTxDropsRolledBackUploads(t *testing.T) {
	ctx := context.Background()
	rec := &recordTx{}
	b := &batchTx{Tx: rec}
	write := func(name string) {
		b.InsertLines(ctx, []LineRow{{Ref: name}})
		b.InsertOutbox(ctx, []OutboxRow{{Key: name}})
	}
	write("first")
	m := b.mark()
	write("failed")
	b.undo(m)
	write("third")
	if rec.calls != 0 {
		t.Fatalf("%d writes before the flush", rec.calls)
	}
	if err := b.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.calls != 2 || len(rec.lines) != 2 || rec.lines[0] != "first" || rec.lines[1] != "third" ||
		len(rec.notes) != 2 || rec.notes[0] != "first" || rec.notes[1] != "third" {
		t.Fatalf("%d writes; lines %v, notes %v", rec.calls, rec.lines, rec.notes)
	}
}
