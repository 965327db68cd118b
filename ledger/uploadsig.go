package ledger

import (
	"context"
	"crypto/sha256"
	"sync"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// verifyUploadSig checks the upload's signature by the device. With
// decoded set (every entry decoded into u), the signing input is
// protocol.UploadSigningInput's, and a signature VerifyDeviceSignature
// verified on that input under the device's key is not verified again.
func (s *Service) verifyUploadSig(up *protocol.SyncUpload, u *upload, decoded bool) error {
	cert := u.dev.cert
	if !decoded || up.SigAlg != cert.KeyAlg || up.Device != cert.ID() {
		return up.Verify(cert)
	}
	entries := make([][]byte, len(u.entries))
	for i := range u.entries {
		entries[i] = u.entries[i].data
	}
	in := protocol.UploadSigningInput(up, entries)
	if in == nil {
		return up.Verify(cert)
	}
	if s.uploadSigs.take(up.Device, in, up.Sig) {
		return nil
	}
	return protocol.VerifySignature(cert.KeyAlg, cert.Key, in, up.Sig)
}

// VerifyDeviceSignature checks a request's signature (read with
// protocol.PeekDeviceSignature) with the key of the enrolled device it
// names. Errors: EUNAUTHORIZED if no device has that key or the signature
// does not verify; the store's failures.
//
// A server that checks who sent a request before decoding it calls this
// instead of DeviceCertificate and protocol.VerifySignature: the
// signature of a sync upload verified here is then not verified a second
// time by the Sync that follows (the ledger remembers a bounded number of
// them, each until that Sync; one it forgot is simply verified again).
func (s *Service) VerifyDeviceSignature(ctx context.Context, ds protocol.DeviceSignature) error {
	cert, err := s.DeviceCertificate(ctx, ds.Device)
	if err != nil {
		return err
	}
	if err := s.pool.Verify([]protocol.Check{{Alg: cert.KeyAlg, Key: cert.Key, Msg: ds.Input, Sig: ds.Sig}})[0]; err != nil {
		return &offpay.Error{Code: offpay.EUNAUTHORIZED, Message: "the request is not signed by device " + ds.Device.String(), Err: err}
	}
	if ds.Type == protocol.TypeSyncUpload && cert.ID() == ds.Device {
		s.uploadSigs.put(ds.Device, ds.Input, ds.Sig)
	}
	return nil
}

// maxUploadSigs bounds the memo of verified upload signatures: past it,
// the memo is emptied (those uploads' signatures are verified again).
const maxUploadSigs = 8192

// sigMemo remembers signatures verified under a device's key: the device
// (its KeyID is the hash of its algorithm and key), a hash of the signing
// input and the signature. A hit means VerifySignature said yes to
// exactly that key, input and signature.
type sigMemo struct {
	mu sync.Mutex
	m  map[sigKey]struct{}
}

type sigKey struct {
	dev protocol.KeyID
	in  protocol.Hash
	sig [protocol.SigSize]byte
}

func newSigKey(dev protocol.KeyID, in, sig []byte) (k sigKey, ok bool) {
	if len(sig) != protocol.SigSize {
		return k, false
	}
	k.dev, k.in = dev, sha256.Sum256(in)
	copy(k.sig[:], sig)
	return k, true
}

func (m *sigMemo) put(dev protocol.KeyID, in, sig []byte) {
	k, ok := newSigKey(dev, in, sig)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= maxUploadSigs {
		m.m = map[sigKey]struct{}{}
	}
	m.m[k] = struct{}{}
}

// take reports whether the memo holds the signature, and forgets it.
func (m *sigMemo) take(dev protocol.KeyID, in, sig []byte) bool {
	k, ok := newSigKey(dev, in, sig)
	if !ok {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, hit := m.m[k]
	delete(m.m, k)
	return hit
}
