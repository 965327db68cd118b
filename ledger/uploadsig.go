package ledger

import "github.com/offpay/offpay/protocol"

// verifyUploadSig checks the upload's signature by the device. With
// decoded set (every entry decoded into u), the signing input is
// protocol.UploadSigningInput's.
func verifyUploadSig(up *protocol.SyncUpload, u *upload, decoded bool) error {
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
	return protocol.VerifySignature(cert.KeyAlg, cert.Key, in, up.Sig)
}
