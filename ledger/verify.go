package ledger

import (
	"bytes"
	"runtime"
	"sync"

	"github.com/offpay/offpay/protocol"
)

type sigCheck struct {
	alg           protocol.Alg
	key, msg, sig []byte
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
			checks = append(checks, sigCheck{c.KeyAlg, c.Key, ue.payIn, ue.pay.Sig})
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
			checks = append(checks, sigCheck{c.KeyAlg, c.Key, ue.recIn, ue.receipt.Sig})
			refs = append(refs, i)
		}
	}
	for j, err := range s.verifyAll(checks) {
		if err != nil {
			u.entries[refs[j]].rejected = true
		}
	}
	for i := range u.entries {
		if ue := &u.entries[i]; ue.e.Kind == protocol.EntryLoad {
			if err := ue.load.Verify(s.keys.Issuer); err != nil {
				return invalid("entry %d: load not signed by this ledger", ue.e.Counter)
			}
		}
	}
	return nil
}

// verifyAll verifies checks in batches of up to batchSize spread over the
// workers; batch verification is several times faster than one by one.
func (s *Service) verifyAll(checks []sigCheck) []error {
	const batchSize = 1024
	out := make([]error, len(checks))
	workers := s.opts.VerifyWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := min(batchSize, max(64, (len(checks)+workers-1)/workers))
	run := func(lo, hi int) {
		b := protocol.NewBatch(hi - lo)
		for _, c := range checks[lo:hi] {
			b.Add(c.alg, c.key, c.msg, c.sig)
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

// marshalEntry returns e's canonical encoding from its signing input
// (context, zero byte, encoding with an empty signature), saving a second
// encoding per entry: the signature is the entry's last array element, so
// the two encodings differ only in that final byte string.
func marshalEntry(input []byte, e *protocol.LogEntry) []byte {
	body := input[len(protocol.CtxLogEntry)+1:]
	if len(e.Sig) != protocol.SigSize || len(body) == 0 || body[len(body)-1] != 0x40 {
		return e.Marshal()
	}
	out := make([]byte, 0, len(body)+1+protocol.SigSize)
	out = append(out, body[:len(body)-1]...)
	out = append(out, 0x58, protocol.SigSize)
	return append(out, e.Sig...)
}

// sigInput returns the signing input of a message from its canonical
// encoding enc, whose last array element is its signature sig: the
// context, a zero byte, then enc with that element replaced by the empty
// byte string. It saves encoding the message again. It returns nil if enc
// does not end with sig as a 64-byte string (callers then encode).
func sigInput(ctx string, enc, sig []byte) []byte {
	n := len(enc) - 2 - protocol.SigSize
	if len(sig) != protocol.SigSize || n < 1 || enc[n] != 0x58 || enc[n+1] != protocol.SigSize || !bytes.Equal(enc[n+2:], sig) {
		return nil
	}
	out := make([]byte, 0, len(ctx)+1+n+1)
	out = append(out, ctx...)
	out = append(out, 0)
	out = append(out, enc[:n]...)
	return append(out, 0x40)
}

// verifyUploadSig checks the upload's signature by the device. With
// decoded set (every entry decoded into u), the signing input is
// uploadInput's.
func verifyUploadSig(up *protocol.SyncUpload, u *upload, decoded bool) error {
	cert := u.dev.cert
	if !decoded || up.SigAlg != cert.KeyAlg || up.Device != cert.ID() {
		return up.Verify(cert)
	}
	in := uploadInput(up, u)
	if in == nil {
		return up.Verify(cert)
	}
	return protocol.VerifySignature(cert.KeyAlg, cert.Key, in, up.Sig)
}

// uploadInput returns up's signing input assembled from its entries'
// encodings (ue.data) around the encoding of its other fields, instead of
// encoding every entry a second time; the bytes are the same, since an
// array's canonical encoding is its header then its elements' encodings
// in order. It returns nil if the shape is not the one expected.
func uploadInput(up *protocol.SyncUpload, u *upload) []byte {
	if up.SigAlg >= 24 || len(u.entries) != len(up.Entries) {
		return nil
	}
	shell := protocol.SyncUpload{Version: up.Version, Device: up.Device, Time: up.Time, Entries: []protocol.LogEntry{}, SigAlg: up.SigAlg}
	in := shell.SigningInput()
	// in ends with the empty entries array, the algorithm (< 24: one
	// byte) and the empty signature.
	k := len(in) - 3
	if k < 0 || in[k] != 0x80 || in[k+1] != byte(up.SigAlg) || in[k+2] != 0x40 {
		return nil
	}
	size := len(in) + 3
	for i := range u.entries {
		size += len(u.entries[i].data)
	}
	out := make([]byte, 0, size)
	out = append(out, in[:k]...)
	switch n := len(u.entries); {
	case n < 24:
		out = append(out, 0x80|byte(n))
	case n < 256:
		out = append(out, 0x98, byte(n))
	case n < 65536:
		out = append(out, 0x99, byte(n>>8), byte(n))
	default:
		return nil
	}
	for i := range u.entries {
		out = append(out, u.entries[i].data...)
	}
	return append(out, in[k+1:]...)
}
