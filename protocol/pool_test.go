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
// is verified at once in a batch of its own.
func TestPoolSharesBatches(t *testing.T) {
	s := NewEd25519Signer()
	msg := []byte("herd")
	sig, _ := s.Sign(msg)
	cs := make([]Check, 5)
	for i := range cs {
		cs[i] = Check{AlgEd25519, s.PublicKey(), msg, sig}
	}
	pool := &Pool{Workers: 1}
	if err := pool.Verify(cs)[0]; err != nil || pool.batches != 1 {
		t.Fatalf("alone: %v, %d batches", err, pool.batches)
	}
	const callers = 400
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			ready.Done()
			<-start
			for _, err := range pool.Verify(cs) {
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	if runtime.GOOS == "js" {
		// One thread, no preemption: a caller verifying is never
		// interrupted, so no other caller queues meanwhile (the browser
		// wallet, which verifies alone). Every result was checked above.
		return
	}
	if n := pool.batches - 1; n > callers/4 || pool.most > 1024 || pool.most < 10 {
		t.Fatalf("%d callers of 5 signatures in %d batches (the largest %d signatures): not shared", callers, n, pool.most)
	}
	t.Logf("%d callers in %d batches, the largest %d signatures", callers, pool.batches-1, pool.most)
}
