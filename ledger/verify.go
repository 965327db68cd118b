package ledger

import (
	"runtime"
	"sync"

	"github.com/offpay/offpay/protocol"
)

type sigCheck = protocol.Check

func newCheck(alg protocol.Alg, key, msg, sig []byte) sigCheck {
	return protocol.Check{Alg: alg, Key: key, Msg: msg, Sig: sig}
}

// verifyUpload checks the signatures of other parties that the upload's
// entries carry: the payer signature of every received payment and the
// payee signature of every receipt in a confirm entry. One that fails
// only marks its entry rejected (the entry is still recorded).
//
// The device's own entries are not verified one by one: the upload's
// signature (checked in prepare) covers every entry byte for byte, own
// signatures included, so each entry is authenticated as issued by the
// device's SE. So are the Payment inside a pay entry and the Redeem inside
// a redeem entry. An entry's own signature matters only as evidence: it
// is verified when the entry becomes part of an equivocation proof, before
// the proof is stored (fraud.go). A payer's upload thus costs one
// signature per payment (the receipt) instead of three.
func (s *Service) verifyUpload(u *upload) error {
	checks := make([]sigCheck, 0, len(u.entries))
	refs := make([]int, 0, cap(checks))
	alg := u.dev.cert.KeyAlg
	for i := range u.entries {
		if ue := &u.entries[i]; (ue.pay != nil && ue.e.Kind == protocol.EntryPay && ue.pay.SigAlg != alg) ||
			(ue.redeem != nil && ue.redeem.SigAlg != alg) {
			return invalid("entry %d: body signed with another algorithm", ue.e.Counter)
		}
	}
	for i := range u.entries {
		ue := &u.entries[i]
		if ue.e.Kind == protocol.EntryReceive && !ue.rejected {
			c := u.payers[ue.pay.Payer].cert
			if ue.pay.SigAlg != c.KeyAlg {
				ue.rejected = true
				continue
			}
			checks = append(checks, newCheck(c.KeyAlg, c.Key, ue.payIn, ue.pay.Sig))
			refs = append(refs, i)
		}
		if ue.receipt != nil && !ue.rejected {
			// A receipt that fails to verify claims nothing; the entry
			// itself (issued by this device) is still recorded.
			c := u.payers[ue.receipt.Payee].cert
			if ue.receipt.SigAlg != c.KeyAlg {
				ue.rejected = true
				continue
			}
			checks = append(checks, newCheck(c.KeyAlg, c.Key, ue.recIn, ue.receipt.Sig))
			refs = append(refs, i)
		}
	}
	// Loads are verified in the same batch: one that fails refuses the
	// upload (a load only this ledger signs; no SE accepts a forged one).
	loads := len(checks)
	for i := range u.entries {
		if ue := &u.entries[i]; ue.e.Kind == protocol.EntryLoad {
			iss, ok := s.trust.Issuer(ue.load.Signer)
			if !ok || ue.load.SigAlg != iss.KeyAlg {
				return invalid("entry %d: load not signed by this ledger", ue.e.Counter)
			}
			checks = append(checks, newCheck(iss.KeyAlg, iss.Key, ue.load.SigningInput(), ue.load.Sig))
			refs = append(refs, i)
		}
	}
	for j, err := range s.verifyAll(checks) {
		switch {
		case err == nil:
		case j >= loads:
			return invalid("entry %d: load not signed by this ledger", u.entries[refs[j]].e.Counter)
		default:
			u.entries[refs[j]].rejected = true
		}
	}
	return nil
}

// verifyAll verifies checks in batches of up to batchSize spread over the
// workers; batch verification is several times faster than one by one.
// A few checks (a small upload's) join those of other uploads being
// verified at the same time in the Service's pool (protocol.Pool), since
// batches of a few signatures cost hardly less than one by one.
// poolChecks is the most checks verifyAll sends through the pool; more
// make batches worth spreading over the cores on their own.
const poolChecks = 64

func (s *Service) verifyAll(checks []sigCheck) []error {
	const batchSize = 1024
	if len(checks) <= poolChecks {
		return s.pool.Verify(checks)
	}
	out := make([]error, len(checks))
	workers := s.opts.VerifyWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := min(batchSize, max(64, (len(checks)+workers-1)/workers))
	run := func(lo, hi int) {
		s.cpu <- struct{}{}
		defer func() { <-s.cpu }()
		b := protocol.NewBatch(hi - lo)
		for _, c := range checks[lo:hi] {
			b.Add(c.Alg, c.Key, c.Msg, c.Sig)
		}
		copy(out[lo:hi], b.Verify())
	}
	if len(checks) <= size {
		if len(checks) > 0 {
			run(0, len(checks))
		}
		return out
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				run(lo, min(lo+size, len(checks)))
			}
		}()
	}
	for lo := 0; lo < len(checks); lo += size {
		next <- lo
	}
	close(next)
	wg.Wait()
	return out
}
