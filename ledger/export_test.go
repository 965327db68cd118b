package ledger

import (
	"context"

	"github.com/offpay/offpay/protocol"
)

// SyncBatchForTest applies ups in one group commit, as uploads that queued
// up together are: a test of batching that does not depend on timing.
func (s *Service) SyncBatchForTest(ctx context.Context, ups []*protocol.SyncUpload) ([]*protocol.SyncResult, []error) {
	res, errs := make([]*protocol.SyncResult, len(ups)), make([]error, len(ups))
	var batch []*job
	var at []int
	for i, up := range ups {
		u, err := s.prepare(ctx, up)
		if err != nil {
			errs[i] = err
			continue
		}
		batch = append(batch, &job{ctx: ctx, u: u, done: make(chan struct{})})
		at = append(at, i)
	}
	s.applyBatch(batch)
	for k, j := range batch {
		res[at[k]], errs[at[k]] = s.answer(ctx, j)
	}
	return res, errs
}

// UploadSigsForTest is how many verified upload signatures the ledger
// remembers (VerifyDeviceSignature) and no Sync has used yet.
func (s *Service) UploadSigsForTest() int {
	s.uploadSigs.mu.Lock()
	defer s.uploadSigs.mu.Unlock()
	return len(s.uploadSigs.m)
}

// BatchTxForTest wraps tx as a group commit does (batch.go), with the
// batch's device rows (batchdevices.go).
func BatchTxForTest(tx Tx) Tx { return &batchTx{Tx: tx} }

// PrefetchForTest reads rows into a BatchTxForTest as a batch does
// before its first upload.
func PrefetchForTest(ctx context.Context, tx Tx, ids []protocol.KeyID, keys []PayKey, loads []LoadKey) error {
	return tx.(*batchTx).prefetch(ctx, ids, keys, loads)
}

// FlushBatchForTest writes what a BatchTxForTest holds, as the end of a
// batch does.
func FlushBatchForTest(ctx context.Context, tx Tx) error { return tx.(*batchTx).flush(ctx) }

// PrepareBatchForTest prepares ups as Sync does (verification, in
// parallel in a real crowd) and returns the part that runs one batch at a
// time, applying them in one group commit, and then what gives each
// upload its answer (in parallel in a real crowd).
func (s *Service) PrepareBatchForTest(ctx context.Context, ups []*protocol.SyncUpload) (apply func(), answer func() []error, err error) {
	var batch []*job
	for _, up := range ups {
		u, err := s.prepare(ctx, up)
		if err != nil {
			return nil, nil, err
		}
		batch = append(batch, &job{ctx: ctx, u: u, done: make(chan struct{})})
	}
	return func() { s.applyBatch(batch) }, func() []error {
		errs := make([]error, len(batch))
		for i, j := range batch {
			_, errs[i] = s.answer(ctx, j)
		}
		return errs
	}, nil
}
