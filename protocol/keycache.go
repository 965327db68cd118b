package protocol

import (
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// maxCachedEdKeys bounds each of the two generations of edKeys.
const maxCachedEdKeys = 1 << 14

// edKeys holds Ed25519 public keys that passed CheckKey, decompressed
// for verification. A ledger sees the same keys again and again (a
// payer's in every payee's upload, a device's in each of its requests,
// the certificates it decodes), and checking and decompressing a key is
// a good part of what verifying a signature costs. CheckKey and
// decompression are functions of the key's 32 bytes alone, which are
// the cache's key, so a hit says exactly what a fresh check would. Two
// generations: when the current one is full it becomes the old one, and
// keys found in the old one move back to the current one.
var edKeys struct {
	mu       sync.RWMutex
	cur, old map[[32]byte]*voi.ExpandedPublicKey
}

// expandEd25519 checks an Ed25519 key (CheckKey) and returns it
// decompressed, from the cache if it passed before.
func expandEd25519(key []byte) (*voi.ExpandedPublicKey, error) {
	if len(key) != voi.PublicKeySize {
		return nil, errf(ClassBadKey, "ed25519 key is %d bytes", len(key))
	}
	k := [32]byte(key)
	edKeys.mu.RLock()
	epk, ok := edKeys.cur[k]
	if !ok {
		epk, ok = edKeys.old[k]
	}
	edKeys.mu.RUnlock()
	if !ok {
		if _, err := decodeEd25519Key(key); err != nil {
			return nil, err
		}
		var err error
		if epk, err = voi.NewExpandedPublicKey(voi.PublicKey(key)); err != nil { // not reached: decodeEd25519Key decoded the same point
			return nil, errf(ClassBadKey, "ed25519 key: %v", err)
		}
	}
	edKeys.mu.Lock()
	if _, in := edKeys.cur[k]; !in {
		if edKeys.cur == nil || len(edKeys.cur) >= maxCachedEdKeys {
			edKeys.old, edKeys.cur = edKeys.cur, make(map[[32]byte]*voi.ExpandedPublicKey)
		}
		edKeys.cur[k] = epk
	}
	edKeys.mu.Unlock()
	return epk, nil
}
