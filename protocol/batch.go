package protocol

import (
	"crypto/rand"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Batch verifies many signatures at once. Ed25519 signatures go through
// one batch equation under the same ZIP-215 rule as VerifySignature, so the
// result for each signature is exactly what VerifySignature would say;
// ECDSA signatures are checked one by one.
type Batch struct {
	bv    *voi.BatchVerifier
	items []batchItem
	nEd   int
}

type batchItem struct {
	alg           Alg
	key, msg, sig []byte
	pre           error // failed before verification (bad key, size)
	ed            int   // index among Ed25519 items, or -1
	epk           *voi.ExpandedPublicKey
}

// NewBatch returns a batch sized for n signatures.
func NewBatch(n int) *Batch {
	return &Batch{bv: voi.NewBatchVerifierWithCapacity(n), items: make([]batchItem, 0, n)}
}

// Add queues a signature and returns its index in Verify's result.
func (b *Batch) Add(alg Alg, key, msg, sig []byte) int {
	it := batchItem{alg: alg, key: key, msg: msg, sig: sig, ed: -1}
	var epk *voi.ExpandedPublicKey
	if alg == AlgEd25519 {
		// The key rules (CheckKey) are applied once per distinct key.
		epk, it.pre = b.expand(key)
	} else {
		it.pre = CheckKey(alg, key)
	}
	if it.pre == nil && len(sig) != SigSize {
		it.pre = errf(ClassBadSignature, "signature is %d bytes", len(sig))
	}
	if it.pre == nil && alg == AlgEd25519 {
		it.ed, it.epk = b.nEd, epk
		b.nEd++ // added to the batch equation by Verify, if not alone
	}
	b.items = append(b.items, it)
	return len(b.items) - 1
}

// expand checks an Ed25519 key (CheckKey) and returns it decompressed,
// from the cache if it was accepted before (keycache.go).
func (b *Batch) expand(key []byte) (*voi.ExpandedPublicKey, error) {
	return expandEd25519(key)
}

// Len is the number of queued signatures.
func (b *Batch) Len() int { return len(b.items) }

// Verify checks every queued signature and returns one error (nil: valid)
// per Add, in order. The batch is reset afterwards.
func (b *Batch) Verify() []error {
	out := make([]error, len(b.items))
	var edOK []bool
	switch {
	case b.nEd == 1:
		// A batch of one cost about 1.6 times one verification (its
		// random scalar, its multiscalar set-up): verified alone, under
		// the same rule. A Pool's lone caller (a request's signature on a
		// quiet ledger) takes this path.
		for _, it := range b.items {
			if it.ed >= 0 {
				edOK = []bool{VerifySignature(it.alg, it.key, it.msg, it.sig) == nil}
			}
		}
	case b.nEd > 1:
		for _, it := range b.items {
			if it.ed >= 0 {
				b.bv.AddExpandedWithOptions(it.epk, it.msg, it.sig, zip215)
			}
		}
		_, edOK = b.bv.Verify(rand.Reader)
	}
	for i, it := range b.items {
		switch {
		case it.pre != nil:
			out[i] = it.pre
		case it.ed >= 0:
			if !edOK[it.ed] {
				out[i] = errf(ClassBadSignature, "ed25519 signature does not verify")
			}
		default:
			out[i] = VerifySignature(it.alg, it.key, it.msg, it.sig)
		}
	}
	b.bv.Reset()
	b.items = b.items[:0]
	b.nEd = 0
	return out
}
