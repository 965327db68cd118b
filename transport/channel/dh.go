package channel

import (
	"crypto/ecdh"
	"io"

	"github.com/flynn/noise"
)

// dh25519 is noise's X25519 on crypto/ecdh. It keeps the *ecdh.PrivateKey of the keys it
// knows (the static key and the ephemeral it generated), because building one from bytes
// recomputes the public key: a full scalar multiplication per DH. One per handshake.
type dh25519 struct {
	keys map[[32]byte]*ecdh.PrivateKey
}

var _ noise.DHFunc = (*dh25519)(nil)

func newDH(static *ecdh.PrivateKey) *dh25519 {
	d := &dh25519{keys: make(map[[32]byte]*ecdh.PrivateKey, 2)}
	if static != nil {
		d.keys[[32]byte(static.Bytes())] = static
	}
	return d
}

func (d *dh25519) GenerateKeypair(r io.Reader) (noise.DHKey, error) {
	k, err := ecdh.X25519().GenerateKey(r)
	if err != nil {
		return noise.DHKey{}, err
	}
	d.keys[[32]byte(k.Bytes())] = k
	return noise.DHKey{Private: k.Bytes(), Public: k.PublicKey().Bytes()}, nil
}

func (d *dh25519) DH(priv, pub []byte) ([]byte, error) {
	if len(priv) != 32 {
		return nil, errBadKey
	}
	k, ok := d.keys[[32]byte(priv)]
	if !ok {
		var err error
		if k, err = ecdh.X25519().NewPrivateKey(priv); err != nil {
			return nil, err
		}
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	// ECDH refuses low-order public keys (an all-zero shared secret).
	return k.ECDH(p)
}

func (d *dh25519) DHLen() int     { return 32 }
func (d *dh25519) DHName() string { return "25519" }

func (d *dh25519) suite() noise.CipherSuite {
	return noise.NewCipherSuite(d, noise.CipherChaChaPoly, noise.HashSHA256)
}
