package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

// TestKeyCache: an Ed25519 key checked once is kept decompressed, and
// found again without a new check (the cost it saves); a key refused is
// refused again, every time; a signature under a cached key verifies, a
// wrong one does not; the cache stays bounded, and a key in its old
// generation moves back to the current one when used.
func TestKeyCache(t *testing.T) {
	edKeys.mu.Lock()
	edKeys.cur, edKeys.old = nil, nil
	edKeys.mu.Unlock()
	seed := func(i int) ed25519.PrivateKey {
		var s [32]byte
		binary.BigEndian.PutUint64(s[:], uint64(i)+1)
		return ed25519.NewKeyFromSeed(s[:])
	}
	cached := func(pub []byte) bool {
		edKeys.mu.RLock()
		defer edKeys.mu.RUnlock()
		_, ok := edKeys.cur[[32]byte(pub)]
		return ok
	}
	k := seed(0)
	pub := k.Public().(ed25519.PublicKey)
	msg := []byte("herd")
	sig := ed25519.Sign(k, msg)
	for range 2 {
		if err := VerifySignature(AlgEd25519, pub, msg, sig); err != nil {
			t.Fatal(err)
		}
		if !cached(pub) {
			t.Fatal("a verified key is not kept")
		}
		if err := VerifySignature(AlgEd25519, pub, []byte("hers"), sig); err == nil {
			t.Fatal("a wrong message verifies under a cached key")
		}
	}
	// y = p + 1: non-canonical encoding of the identity; never kept.
	bad, _ := hex.DecodeString("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	for range 2 {
		if err := CheckKey(AlgEd25519, bad); !errors.Is(err, ErrKeyNonCanonical) {
			t.Fatalf("non-canonical key: %v", err)
		}
		if cached(bad) {
			t.Fatal("a refused key is kept")
		}
	}
	for i := 1; i <= maxCachedEdKeys; i++ {
		if err := CheckKey(AlgEd25519, seed(i).Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
	}
	edKeys.mu.RLock()
	n, old := len(edKeys.cur), len(edKeys.old)
	edKeys.mu.RUnlock()
	if n > maxCachedEdKeys || old > maxCachedEdKeys || cached(pub) {
		t.Fatalf("current %d, old %d, first key current %v: not bounded", n, old, cached(pub))
	}
	if err := VerifySignature(AlgEd25519, pub, msg, sig); err != nil || !cached(pub) {
		t.Fatalf("old generation's key: %v, moved back %v", err, cached(pub))
	}
}
