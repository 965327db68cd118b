package protocol

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestPoolAgreesWithSingle: callers verifying at once through a Pool get,
// for each of their signatures, what VerifySignature says of it (valid,
// changed message, another key, a malformed key or signature, ECDSA among
// Ed25519), whatever batch their checks shared with others'; callers with
// nothing to check get nothing.
func TestPoolAgreesWithSingle(t *testing.T) {
	ed, ed2, p256 := NewEd25519Signer(), NewEd25519Signer(), NewP256Signer()
	pool := &Pool{MaxBatch: 16, Workers: 2}
	const callers = 64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cs []Check
			for i := range c % 7 {
				s := Signer(ed)
				if (c+i)%5 == 4 {
					s = p256
				}
				msg := fmt.Appendf(nil, "caller %d check %d", c, i)
				sig, _ := s.Sign(msg)
				key := s.PublicKey()
				switch (c * i) % 6 {
				case 1:
					msg = append(msg, '!')
				case 2:
					if s.Alg() == AlgEd25519 {
						key = ed2.PublicKey()
					}
				case 3:
					key = key[:len(key)-1]
				case 4:
					sig = sig[:len(sig)-1]
				}
				cs = append(cs, Check{s.Alg(), key, msg, sig})
			}
			got := pool.Verify(cs)
			if len(got) != len(cs) {
				errs <- fmt.Errorf("caller %d: %d results for %d checks", c, len(got), len(cs))
				return
			}
			for i, k := range cs {
				if want := VerifySignature(k.Alg, k.Key, k.Msg, k.Sig); (want == nil) != (got[i] == nil) {
					errs <- fmt.Errorf("caller %d check %d: pool says %v, VerifySignature %v", c, i, got[i], want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if pool.most > 16 {
		t.Errorf("a batch of %d signatures, MaxBatch 16", pool.most)
	}
}

// TestPoolSharesBatches: callers arriving together share batches (the
// point of the pool), up to MaxBatch signatures each; one caller alone
// is verified at once in a batch of its own. The pool's one processor
// slot is held (as the ledger's apply holds one) until every caller has
// queued, so that the batches do not depend on the scheduler: with
// GOMAXPROCS=1 (or js/wasm) a caller is otherwise seldom interrupted
// while it verifies, and no other queues meanwhile.
func TestPoolSharesBatches(t *testing.T) {
	s := NewEd25519Signer()
	msg := []byte("herd")
	sig, _ := s.Sign(msg)
	cs := make([]Check, 5)
	for i := range cs {
		cs[i] = Check{AlgEd25519, s.PublicKey(), msg, sig}
	}
	slots := make(chan struct{}, 1)
	pool := &Pool{Workers: 1, Slots: slots}
	if err := pool.Verify(cs)[0]; err != nil || pool.batches != 1 {
		t.Fatalf("alone: %v, %d batches", err, pool.batches)
	}
	slots <- struct{}{} // held: the first batch waits for it
	const callers = 400
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, err := range pool.Verify(cs) {
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for queued := 0; queued < callers-1; {
		runtime.Gosched()
		pool.mu.Lock()
		queued = len(pool.queue)
		pool.mu.Unlock()
	}
	<-slots
	wg.Wait()
	// The first caller's batch, then the other 399 callers' 1,995
	// signatures in batches of whole callers up to 1,024 signatures.
	if n := pool.batches - 1; n != 3 || pool.most != 1020 {
		t.Fatalf("%d callers of 5 signatures in %d batches (the largest %d signatures): not shared", callers, n, pool.most)
	}
}

// BenchmarkPoolAlone is a lone caller's one signature through a Pool (a
// request's signature on a quiet ledger), beside BenchmarkVerifyEd25519.
func BenchmarkPoolAlone(b *testing.B) {
	s := NewEd25519Signer()
	msg := []byte("one request")
	sig, _ := s.Sign(msg)
	var p Pool
	for b.Loop() {
		if p.Verify([]Check{{AlgEd25519, s.PublicKey(), msg, sig}})[0] != nil {
			b.Fatal("bad")
		}
	}
}

// TestBatchOfOneEd25519: a batch holding one Ed25519 signature (verified
// alone, not by the batch equation), beside an ECDSA one or not, says
// what VerifySignature says of each, valid or not.
func TestBatchOfOneEd25519(t *testing.T) {
	ed, p := NewEd25519Signer(), NewP256Signer()
	msg := []byte("alone")
	edSig, _ := ed.Sign(msg)
	pSig, _ := p.Sign(msg)
	bad := append([]byte(nil), edSig...)
	bad[3] ^= 1
	for _, withP := range []bool{false, true} {
		for _, sig := range [][]byte{edSig, bad} {
			b := NewBatch(2)
			if withP {
				b.Add(p.Alg(), p.PublicKey(), msg, pSig)
			}
			b.Add(AlgEd25519, ed.PublicKey(), msg, sig)
			got := b.Verify()
			last := got[len(got)-1]
			if want := VerifySignature(AlgEd25519, ed.PublicKey(), msg, sig); (want == nil) != (last == nil) || (last != nil && ClassOf(last) != ClassBadSignature) {
				t.Fatalf("with ECDSA %v: batch says %v, VerifySignature %v", withP, last, want)
			}
			if withP && got[0] != nil {
				t.Fatalf("the ECDSA signature beside it: %v", got[0])
			}
		}
	}
}
