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

// HoldDevicesForTest makes a BatchTxForTest hold its device writes, as a
// group commit does (batch.go), if its store can; it reports whether.
func HoldDevicesForTest(tx Tx) bool {
	h, ok := tx.(*batchTx).Tx.(WriteHolder)
	if ok {
		h.HoldWrites()
	}
	return ok
}

// PrefetchRangesForTest reads receipts and status rows into a
// BatchTxForTest as a batch does before its first upload.
func PrefetchRangesForTest(ctx context.Context, tx Tx, rks []PayKey, own []protocol.KeyID) error {
	return tx.(*batchTx).prefetchRanges(ctx, rks, own)
}

// DeviceWritesForTest applies to d what UpdateDevice (renew false) or
// RenewDevice (renew true) of u writes.
func DeviceWritesForTest(d, u *DeviceRow, renew bool) {
	if renew {
		d.renewFrom(u)
	} else {
		d.updateFrom(u)
	}
}

// FreshDeviceForTest reads device id afresh as prepare does
// (freshread.go) and returns the highest per-payment limit its row
// gives.
func (s *Service) FreshDeviceForTest(ctx context.Context, id protocol.KeyID) (uint64, error) {
	d, err := s.freshDevice(ctx, id)
	if err != nil || d == nil {
		return 0, err
	}
	return d.maxPerPayment, nil
}

// FreshQueuedForTest is how many fresh reads wait for the next round.
func (s *Service) FreshQueuedForTest() int {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return len(s.reads)
}
