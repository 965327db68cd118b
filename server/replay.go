package server

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/offpay/offpay/protocol"
)

// Bounds of the replay cache: answers of this many devices, this many
// bytes in all, each at most this big (a SyncResult carrying a large
// revocation list still fits), kept this long.
const (
	replayDevices  = 10000
	replayBytes    = 64 << 20
	replayEntryMax = 4 << 20
	replayTTL      = time.Minute
)

// replayKey names a request: the device it names, the endpoint's message
// type and the signature it carries. Only the request with that signature
// whose body has the stored SHA-256 gets the stored answer; the body is
// hashed only when its key matches, so a forgery costs no hash here.
type replayKey struct {
	dev protocol.KeyID
	typ protocol.Type
	sig [protocol.SigSize]byte
}

func newReplayKey(ds protocol.DeviceSignature) replayKey {
	k := replayKey{dev: ds.Device, typ: ds.Type}
	copy(k.sig[:], ds.Sig)
	return k
}

// replays remembers, per device and endpoint, the last request answered
// and its answer, so that the same bytes sent again (a retry after a lost
// answer, or a captured request replayed) get the same answer without the
// ledger's work and without costing the device anything: a replayed
// request cannot drain the budget of the device that signed it. Like an
// idempotency key's stored response, the answer is the one given when
// the request was first answered: the ledger is idempotent for these
// requests, but a sync's statuses may have moved on since. So an answer
// is kept replayTTL at most, and forgotten as soon as the ledger refuses
// a request of the device or the device is revoked through this server;
// a device's next sync differs from its last anyway (its time, its
// entries). Identical requests that arrive while the first is being
// answered wait for its answer.
type replays struct {
	mu      sync.Mutex
	now     func() time.Time
	byKey   map[devType]*list.Element // of *stored
	lru     *list.List
	bytes   int
	flights map[replayKey]chan struct{}
}

type devType struct {
	dev protocol.KeyID
	typ protocol.Type
}

type stored struct {
	key    replayKey
	sum    [sha256.Size]byte // of the request's body
	answer []byte
	at     time.Time
}

func newReplays(now func() time.Time) *replays {
	return &replays{now: now, byKey: map[devType]*list.Element{}, lru: list.New(), flights: map[replayKey]chan struct{}{}}
}

// lookup returns the stored answer to the request body with key k, if
// fresh. The caller does not hold mu: the body is hashed outside it (a
// stored entry never changes).
func (c *replays) lookup(k replayKey, body []byte) []byte {
	c.mu.Lock()
	var st *stored
	if el := c.byKey[devType{k.dev, k.typ}]; el != nil {
		st = el.Value.(*stored)
	}
	c.mu.Unlock()
	if st == nil || st.key != k || c.now().Sub(st.at) >= replayTTL || sha256.Sum256(body) != st.sum {
		return nil
	}
	return st.answer
}

// flight is one request being answered, or already answered.
type flight struct {
	c      *replays
	key    replayKey
	body   []byte
	answer []byte        // set: the stored answer to send
	done   chan struct{} // set: this request leads; closed by end
}

// begin returns the stored answer to body (with key k), waiting for a
// request with the same key in progress if there is one (the same
// signature: the same request, or a forgery reusing its signature, which
// then goes its own way). Otherwise the
// caller answers the request itself, calls store with the answer if it
// succeeds, and end.
func (c *replays) begin(ctx context.Context, k replayKey, body []byte) *flight {
	if a := c.lookup(k, body); a != nil {
		return &flight{key: k, answer: a}
	}
	c.mu.Lock()
	wait, busy := c.flights[k]
	if !busy {
		f := &flight{c: c, key: k, body: body, done: make(chan struct{})}
		c.flights[k] = f.done
		c.mu.Unlock()
		return f
	}
	c.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return &flight{key: k}
	}
	return &flight{key: k, answer: c.lookup(k, body)} // nil: the first one failed, or was other bytes
}

// store keeps answer as the answer to the flight's request.
func (f *flight) store(answer []byte) {
	if f.c == nil || len(answer) > replayEntryMax {
		return
	}
	c := f.c
	sum := sha256.Sum256(f.body)
	c.mu.Lock()
	defer c.mu.Unlock()
	dt := devType{f.key.dev, f.key.typ}
	if el := c.byKey[dt]; el != nil {
		c.bytes -= len(el.Value.(*stored).answer)
		c.lru.Remove(el)
	}
	c.byKey[dt] = c.lru.PushFront(&stored{key: f.key, sum: sum, answer: answer, at: c.now()})
	c.bytes += len(answer)
	for c.lru.Len() > replayDevices || c.bytes > replayBytes {
		el := c.lru.Back()
		st := el.Value.(*stored)
		c.lru.Remove(el)
		delete(c.byKey, devType{st.key.dev, st.key.typ})
		c.bytes -= len(st.answer)
	}
}

// end lets identical requests waiting on this one go on.
func (f *flight) end() {
	if f.c == nil || f.done == nil {
		return
	}
	f.c.mu.Lock()
	delete(f.c.flights, f.key)
	f.c.mu.Unlock()
	close(f.done)
}

// forget drops the answers stored for dev.
func (c *replays) forget(dev protocol.KeyID) {
	c.forgetTypes(dev, protocol.TypeReserve, protocol.TypeSyncUpload)
}

// forgetTypes forgets dev's stored answers of the given endpoints.
func (c *replays) forgetTypes(dev protocol.KeyID, types ...protocol.Type) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, typ := range types {
		if el := c.byKey[devType{dev, typ}]; el != nil {
			c.bytes -= len(el.Value.(*stored).answer)
			c.lru.Remove(el)
			delete(c.byKey, devType{dev, typ})
		}
	}
}
