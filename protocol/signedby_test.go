package protocol_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

func deviceSigned(t *testing.T) (msgs []protocol.Message, keys []protocol.Signer) {
	t.Helper()
	for _, k := range []protocol.Signer{prototest.Ed25519Key("peek"), prototest.P256Key("peek")} {
		id := protocol.ComputeKeyID(k.Alg(), k.PublicKey())
		rr := &protocol.ReserveRequest{Version: protocol.Version, Device: id, RequestID: protocol.Nonce{9}, Amount: 1 << 40, Currency: "EUR", Time: prototest.Epoch}
		if err := rr.Sign(k); err != nil {
			t.Fatal(err)
		}
		msgs, keys = append(msgs, rr), append(keys, k)
		for _, n := range []int{0, 1, 30} {
			var es []protocol.LogEntry
			var prev protocol.Hash
			for i := range n {
				e := protocol.LogEntry{Version: protocol.Version, Device: id, Counter: uint64(i + 1), Prev: prev,
					Kind: protocol.EntryRedeem, Time: prototest.Epoch, Body: bytes.Repeat([]byte{byte(i)}, 40)}
				if err := e.Sign(k); err != nil {
					t.Fatal(err)
				}
				prev = e.Hash()
				es = append(es, e)
			}
			up := &protocol.SyncUpload{Version: protocol.Version, Device: id, Time: prototest.Epoch + 5, Entries: es}
			if err := up.Sign(k); err != nil {
				t.Fatal(err)
			}
			msgs, keys = append(msgs, up), append(keys, k)
		}
	}
	return msgs, keys
}

// TestPeekDeviceSignatureMatchesDecoding: on every device-signed request
// the peek finds the device, signature and signing input that decoding
// gives.
func TestPeekDeviceSignatureMatchesDecoding(t *testing.T) {
	msgs, keys := deviceSigned(t)
	for i, m := range msgs {
		ds, ok := protocol.PeekDeviceSignature(protocol.Seal(m))
		if !ok {
			t.Fatalf("message %d (%T): no peek", i, m)
		}
		var dev protocol.KeyID
		var input, sig []byte
		switch m := m.(type) {
		case *protocol.ReserveRequest:
			dev, input, sig = m.Device, m.SigningInput(), m.Sig
		case *protocol.SyncUpload:
			dev, input, sig = m.Device, m.SigningInput(), m.Sig
		}
		if ds.Type != m.Type() || ds.Device != dev || !bytes.Equal(ds.Input, input) || !bytes.Equal(ds.Sig, sig) {
			t.Fatalf("message %d (%T): peek %+v differs from the decoded message", i, m, ds)
		}
		if err := protocol.VerifySignature(keys[i].Alg(), keys[i].PublicKey(), ds.Input, ds.Sig); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	for _, env := range [][]byte{nil, {}, {byte(protocol.TypeReserve)}, protocol.Seal(&protocol.Payment{Version: 1, Sig: make([]byte, 64)})} {
		if _, ok := protocol.PeekDeviceSignature(env); ok {
			t.Fatalf("peek accepted %x", env)
		}
	}
}

// TestPeekDeviceSignatureIsSound mutates valid envelopes (byte flips,
// cuts, insertions, other types): whenever the peek's signing input still
// verifies under the device's key, the envelope decodes to the very
// message the device signed. A server may therefore trust a request the
// peek authenticates before decoding it.
func TestPeekDeviceSignatureIsSound(t *testing.T) {
	msgs, keys := deviceSigned(t)
	r := rand.New(rand.NewPCG(3, 4))
	verified := 0
	for round := range 20000 {
		i := round % len(msgs)
		orig := protocol.Seal(msgs[i])
		env := append([]byte(nil), orig...)
		switch r.IntN(5) {
		case 0:
			env[r.IntN(len(env))] ^= byte(1 + r.IntN(255))
		case 1:
			env = env[:r.IntN(len(env))]
		case 2:
			p := r.IntN(len(env) + 1)
			env = append(env[:p:p], append([]byte{byte(r.IntN(256))}, orig[p:]...)...)
		case 3:
			env[0] = byte(protocol.TypeReserve) + byte(protocol.TypeSyncUpload) - env[0]
		case 4: // unchanged
		}
		ds, ok := protocol.PeekDeviceSignature(env)
		if !ok || protocol.VerifySignature(keys[i].Alg(), keys[i].PublicKey(), ds.Input, ds.Sig) != nil {
			continue
		}
		verified++
		m, err := protocol.Open(env)
		if err != nil {
			t.Fatalf("round %d: an envelope that authenticates does not decode: %v", round, err)
		}
		if !bytes.Equal(protocol.Seal(m), orig) {
			t.Fatalf("round %d: an envelope that authenticates decodes to another message", round)
		}
	}
	if verified < 20000/5/2 {
		t.Fatalf("only %d unchanged envelopes verified", verified)
	}
}
