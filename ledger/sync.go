package ledger

import (
	"context"
	"crypto/sha256"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// upEntry is one uploaded entry with what the ledger derived from it
// before the transaction: hashes, the decoded body, signature verdicts.
type upEntry struct {
	e        *protocol.LogEntry
	hash     protocol.Hash
	input    []byte // the entry's signing input
	data     []byte
	payIn    []byte            // the payment's signing input (Pay, Receive)
	pay      *protocol.Payment // Pay or Receive
	pid      protocol.Hash
	bcert    *protocol.Certificate // Receive: the payer's certificate in the bundle
	rejected bool                  // a payment the ledger will not record: see decodeEntry and lookupPayers
	load     *protocol.Load
	reissued *LoadRow // the ledger's row under this load's number, when it holds another (recovery.go)
	redeem   *protocol.Redeem
	receipt  *protocol.Receipt     // Confirm; rejected if it does not verify under its payee's key
	recIn    []byte                // the receipt's signing input (Confirm)
	applied  *protocol.SyncApplied // Sync
}

// upload is a verified SyncUpload, ready to apply.
type upload struct {
	dev     *devInfo
	id      protocol.KeyID
	entries []upEntry
	payers  map[protocol.KeyID]*devInfo
}

// Sync settles a device's uploaded log. Everything that needs no database
// (structure, chain links, the upload's signature, the other parties'
// signatures its entries carry, in parallel batches) is checked before the
// one transaction that applies it; a malformed or badly signed upload
// changes nothing. The upload's signature authenticates its entries; their
// own signatures are verified only as evidence (verify.go, fraud.go). See
// settle.go for what applying means.
//
// Errors: EUNAUTHORIZED (device not enrolled, upload not signed by it),
// EINVALID (malformed, broken chain, a gap before the first entry, a Sync
// entry whose body is not this device's SyncApplied), ELIMIT (too many or
// oversize entries), EFORBIDDEN with the protocol's revoked class (device
// revoked; or this upload proved that it equivocated, in which case the
// proof is stored and the device revoked before the error returns; or an
// entry of this device that was to be evidence has a signature that does
// not verify, in which case the device is revoked as a broken SE and
// nothing else of the upload is recorded).
func (s *Service) Sync(ctx context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error) {
	u, err := s.prepare(ctx, up)
	if err != nil {
		return nil, err
	}
	// Uploads contend on the rows of popular payees (a merchant's device
	// and account): run concurrently, serializable transactions would
	// mostly abort and retry. One batch at a time per Service wastes no
	// work, while verification above stays parallel; across processes the
	// store's serializable retries still keep it correct. Uploads that
	// queue meanwhile share the next transaction (batch.go).
	j := &job{ctx: ctx, u: u}
	s.applyQueued(j)
	return s.answer(ctx, j)
}

// answer turns an applied job into the uploader's answer.
func (s *Service) answer(ctx context.Context, j *job) (*protocol.SyncResult, error) {
	if j.broken != nil {
		return nil, s.revokeBroken(ctx, j.broken)
	}
	if j.err != nil {
		return nil, j.err
	}
	if j.fraud != nil {
		return nil, j.fraud
	}
	res := j.res
	// Signed here, in the uploader's own goroutine, rather than inside
	// the batch: signing is a tenth of a small upload's serial work, and
	// applying is the part that runs one batch at a time. Should signing
	// fail, the upload stays recorded and its resend gets the result.
	if err := res.Sign(s.keys.IssuerKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing sync result: %w", err)
	}
	if res.Renewal() != nil {
		// Read the renewed row at next use.
		s.mu.Lock()
		delete(s.certs, j.u.id)
		s.mu.Unlock()
	}
	return res, nil
}

// revokeBroken revokes an uploader whose SE signed an upload carrying an
// entry whose own signature does not verify (found when the entry was to
// become evidence, fraud.go), and freezes its account. Nothing of the
// upload is recorded. The ledger's evidence is its own check of that
// upload's signature; the stored log has no proof a third party can check.
func (s *Service) revokeBroken(ctx context.Context, b *brokenSE) error {
	if err := s.update(ctx, func(tx Tx) error { return s.revokeBrokenTx(ctx, tx, b) }); err != nil {
		return err
	}
	return brokenErr(b)
}

// revokeBrokenTx is revokeBroken's change, in tx (a batch revokes a
// broken SE in the batch's transaction, batch.go).
func (s *Service) revokeBrokenTx(ctx context.Context, tx Tx, b *brokenSE) error {
	m, err := tx.Devices(ctx, []protocol.KeyID{b.dev})
	if err != nil {
		return err
	}
	d := m[b.dev]
	if d == nil {
		return offpay.Errorf(offpay.EINTERNAL, "device %v vanished", b.dev)
	}
	return s.revoke(ctx, tx, d, brokenReason(b.counter), true)
}

// brokenErr is the answer to an upload that proved its SE broken.
func brokenErr(b *brokenSE) error {
	return &offpay.Error{Code: offpay.EFORBIDDEN, Err: protocol.ErrRevoked, Message: b.Error() + ": revoked"}
}

func (s *Service) prepare(ctx context.Context, up *protocol.SyncUpload) (*upload, error) {
	if up.Version != protocol.Version {
		return nil, invalid("upload version %d", up.Version)
	}
	if len(up.Entries) > protocol.MaxSyncEntries {
		return nil, offpay.Errorf(offpay.ELIMIT, "%d entries, limit %d", len(up.Entries), protocol.MaxSyncEntries)
	}
	u := &upload{id: up.Device, entries: make([]upEntry, len(up.Entries)), payers: map[protocol.KeyID]*devInfo{}}
	// The uploader's row is read afresh, not from the cache: another
	// Service over the same store may have renewed its certificate.
	// Reads that arrive together are done together (freshread.go).
	var err error
	if u.dev, err = s.freshDevice(ctx, up.Device); err != nil {
		return nil, err
	}
	if u.dev == nil || isForeign(u.dev.account) {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "device %v is not enrolled", up.Device)
	}
	// Entries are decoded first so that the upload's signing input can be
	// assembled from their encodings (protocol.UploadSigningInput); a bad signature still
	// takes precedence over a malformed entry.
	var derr error
	for i := range up.Entries {
		u.entries[i].e = &up.Entries[i]
		if derr = s.decodeEntry(u, &u.entries[i], i, up); derr != nil {
			break
		}
	}
	if err := s.verifyUploadSig(up, u, derr == nil); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "upload is not signed by device %v", up.Device)
	}
	if derr != nil {
		return nil, derr
	}
	var unknown []protocol.KeyID
	for i := range up.Entries {
		ue := &u.entries[i]
		var other *protocol.KeyID // a device whose certificate this entry needs
		switch {
		case ue.e.Kind == protocol.EntryReceive && !ue.rejected:
			other = &ue.pay.Payer
		case ue.receipt != nil:
			other = &ue.receipt.Payee
		}
		if other != nil {
			if _, ok := u.payers[*other]; !ok {
				u.payers[*other] = nil
				unknown = append(unknown, *other)
			}
		}
	}
	if err := s.lookupPayers(ctx, u, unknown); err != nil {
		return nil, err
	}
	return u, s.verifyUpload(u)
}

func (s *Service) decodeEntry(u *upload, ue *upEntry, i int, up *protocol.SyncUpload) error {
	e := ue.e
	switch {
	case e.Version != protocol.Version || e.Device != up.Device:
		return invalid("entry %d: wrong version or device", i)
	case e.Counter == 0 || e.Kind < protocol.EntryLoad || e.Kind > protocol.EntrySync:
		return invalid("entry %d: bad counter or kind", i)
	case i > 0 && e.Counter != up.Entries[i-1].Counter+1:
		return invalid("entry %d: counters not consecutive", i)
	case e.Counter == 1 && e.Prev != (protocol.Hash{}):
		return invalid("entry 1: previous hash must be zero")
	case i > 0 && e.Prev != u.entries[i-1].hash:
		return invalid("entry %d: previous hash does not match", e.Counter)
	case len(e.Sig) != protocol.SigSize || e.SigAlg != u.dev.cert.KeyAlg:
		return invalid("entry %d: malformed signature", e.Counter)
	case len(e.Body) > protocol.MaxLogEntrySize:
		return offpay.Errorf(offpay.ELIMIT, "entry %d: oversize", e.Counter)
	}
	ue.input = protocol.EntrySigningInput(e)
	ue.hash = sha256.Sum256(ue.input)
	ue.data = protocol.EntryEncoding(ue.input, e)
	if len(ue.data) > protocol.MaxLogEntrySize {
		return offpay.Errorf(offpay.ELIMIT, "entry %d: oversize", e.Counter)
	}
	switch e.Kind {
	case protocol.EntryLoad:
		ue.load = new(protocol.Load)
		if err := protocol.Unmarshal(e.Body, ue.load); err != nil || ue.load.Device != up.Device {
			return invalid("entry %d: not a load for this device", e.Counter)
		}
	case protocol.EntryPay:
		ue.pay = new(protocol.Payment)
		if err := protocol.Unmarshal(e.Body, ue.pay); err != nil {
			return invalid("entry %d: payment: %v", e.Counter, err)
		}
		if p := ue.pay; p.Payer != up.Device || p.Counter != e.Counter || p.Currency != s.opts.Currency {
			return invalid("entry %d: payment does not match its entry", e.Counter)
		}
		// Above the payer's per-payment or hop limit no payee accepts
		// it: a broken SE's statement, recorded from neither side.
		ue.rejected = !u.dev.allows(ue.pay)
		if ue.payIn = protocol.SigningInputFromEncoding(protocol.CtxPayment, e.Body, ue.pay.Sig); ue.payIn == nil {
			ue.payIn = ue.pay.SigningInput()
		}
		ue.pid = sha256.Sum256(ue.payIn)
	case protocol.EntryReceive:
		var b protocol.PaymentBundle
		if err := protocol.Unmarshal(e.Body, &b); err != nil {
			// The SE vouched for it, but it credits nothing: a payer key
			// refused since the SE accepted it, or a broken SE's bytes.
			// Refusing the upload would strand every later entry.
			ue.rejected = true
			return nil
		}
		ue.pay, ue.bcert = &b.Payment, &b.Cert
		ue.payIn = ue.pay.SigningInput()
		ue.pid = sha256.Sum256(ue.payIn)
		// The payee's SE vouched for this payment; if the ledger cannot
		// credit it, it says so in the status instead of refusing the log.
		ue.rejected = b.Payment.Payee != up.Device || b.Payment.Currency != s.opts.Currency || b.Payment.Payer == up.Device
	case protocol.EntryRedeem:
		ue.redeem = new(protocol.Redeem)
		if err := protocol.Unmarshal(e.Body, ue.redeem); err != nil {
			return invalid("entry %d: redeem: %v", e.Counter, err)
		}
		if r := ue.redeem; r.Device != up.Device || r.Counter != e.Counter || r.Currency != s.opts.Currency {
			return invalid("entry %d: redeem does not match its entry", e.Counter)
		}
		if ue.redeem.Amount > u.dev.maxHolding {
			return invalid("entry %d: redeem above the purse's holding limit", e.Counter)
		}
	case protocol.EntryConfirm:
		ue.receipt = new(protocol.Receipt)
		if err := protocol.Unmarshal(e.Body, ue.receipt); err != nil {
			return invalid("entry %d: receipt: %v", e.Counter, err)
		}
		ue.rejected = ue.receipt.Payee == up.Device
		if ue.recIn = protocol.SigningInputFromEncoding(protocol.CtxReceipt, e.Body, ue.receipt.Sig); ue.recIn == nil {
			ue.recIn = ue.receipt.SigningInput()
		}
	case protocol.EntrySync:
		ue.applied = new(protocol.SyncApplied)
		if err := protocol.Unmarshal(e.Body, ue.applied); err != nil || ue.applied.Device != up.Device {
			return invalid("entry %d: not a sync record of this device", e.Counter)
		}
	}
	return nil
}

func (s *Service) lookupPayers(ctx context.Context, u *upload, ids []protocol.KeyID) error {
	var miss []protocol.KeyID
	s.mu.RLock()
	for _, id := range ids {
		if d := s.certs[id]; d != nil {
			u.payers[id] = d
		} else {
			miss = append(miss, id)
		}
	}
	s.mu.RUnlock()
	if err := s.readPayers(ctx, u, miss); err != nil {
		return err
	}
	// Payers of other providers in the scheme are mirrored (federation.go).
	if err := s.mirrorPayers(ctx, u); err != nil {
		return err
	}
	// A payment above a cached payer's limits is read again: another
	// Service may have renewed that payer with higher limits. Rare (only
	// a broken SE pays above its limit), so it costs nothing normally.
	miss = miss[:0]
	for i := range u.entries {
		ue := &u.entries[i]
		if ue.e.Kind == protocol.EntryReceive && !ue.rejected {
			if p := u.payers[ue.pay.Payer]; p != nil && !p.allows(ue.pay) {
				miss = append(miss, p.cert.ID())
			}
		}
	}
	if err := s.readPayers(ctx, u, miss); err != nil {
		return err
	}
	for i := range u.entries {
		ue := &u.entries[i]
		if ue.e.Kind == protocol.EntryReceive && !ue.rejected {
			p := u.payers[ue.pay.Payer]
			// Unknown payer, or beyond its limits (see decodeEntry).
			ue.rejected = p == nil || !p.allows(ue.pay)
		}
		if ue.receipt != nil && !ue.rejected {
			ue.rejected = u.payers[ue.receipt.Payee] == nil // payee unknown: cannot verify
		}
	}
	return nil
}

// readPayers reads the rows of ids into u.payers and the cache.
func (s *Service) readPayers(ctx context.Context, u *upload, ids []protocol.KeyID) error {
	if len(ids) == 0 {
		return nil
	}
	return s.view(ctx, func(tx Tx) error {
		m, err := s.refresh(ctx, tx, ids)
		for id, d := range m {
			u.payers[id] = d
		}
		return err
	})
}

// allows says whether a payment is within the highest per-payment and hop
// limits the device has held: beyond them no payee's SE accepts it.
//
// A refund is bounded by its sale, not by the per-payment limit (0 for a
// receive-only device): it is allowed from a merchant's device only, with
// hops 1 (refunds.go).
func (d *devInfo) allows(p *protocol.Payment) bool {
	if p.IsRefund() {
		return d.merchant && p.Hops == 1
	}
	return p.Amount <= d.maxPerPayment && p.Hops >= 1 && p.Hops-1 <= d.maxHops
}
