// Package prototest builds deterministic PKIs and messages for tests of
// the packages above protocol. It is test support, never used in production.
package prototest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"math/big"

	"github.com/offpay/offpay/protocol"
)

// Epoch is the default "now" of fixtures: 2026-01-01T00:00:00Z.
const Epoch uint64 = 1767225600

// Year is 365 days in seconds.
const Year uint64 = 365 * 24 * 3600

// DefaultLimits are generous limits for fixtures (minor units).
var DefaultLimits = protocol.Limits{
	Holding:         100000,
	PerPayment:      20000,
	MaxOfflineCount: 50,
	MaxOfflineValue: 100000,
	MaxOfflineDays:  7,
	MaxRevListAge:   7 * 24 * 3600,
	MaxHops:         3,
	MinPIN:          6,
}

// Ed25519Key derives an Ed25519 signer from a label (tests only).
func Ed25519Key(label string) protocol.Ed25519Signer {
	seed := sha256.Sum256([]byte("offpay-test-key/" + label))
	return protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed[:])}
}

// P256Key derives a P-256 signer from a label (tests only).
func P256Key(label string) protocol.P256Signer {
	seed := sha256.Sum256([]byte("offpay-test-p256/" + label))
	c := elliptic.P256()
	d := new(big.Int).SetBytes(seed[:])
	d.Mod(d, new(big.Int).Sub(c.Params().N, big.NewInt(1)))
	d.Add(d, big.NewInt(1))
	k, err := ecdsa.ParseRawPrivateKey(c, d.FillBytes(make([]byte, 32)))
	if err != nil {
		panic(err)
	}
	return protocol.P256Signer{Key: k}
}

// PKI is a root, one issuer and the trust store that pins them.
type PKI struct {
	RootKey    protocol.Signer
	Root       *protocol.Certificate
	IssuerKey  protocol.Signer
	Issuer     *protocol.Certificate
	Trust      *protocol.Trust
	RevList    *protocol.RevocationList
	serial     uint64
	Currency   string
	Limits     protocol.Limits
	NotBefore  uint64
	NotAfter   uint64
	revListNum uint64
}

// NewPKI builds a deterministic PKI named label, valid for ten years from
// Epoch-Year, with an empty revocation list issued at Epoch.
func NewPKI(label string) *PKI {
	p := &PKI{
		RootKey:   Ed25519Key(label + "/root"),
		IssuerKey: Ed25519Key(label + "/issuer"),
		Currency:  "EUR",
		Limits:    DefaultLimits,
		NotBefore: Epoch - Year,
		NotAfter:  Epoch + 10*Year,
	}
	rootID := protocol.ComputeKeyID(p.RootKey.Alg(), p.RootKey.PublicKey())
	p.Root = p.cert(protocol.RoleRoot, rootID, p.RootKey, p.RootKey, "", "", protocol.Limits{})
	p.Issuer = p.cert(protocol.RoleIssuer, rootID, p.IssuerKey, p.RootKey, "", "", protocol.Limits{})
	var err error
	if p.Trust, err = protocol.NewTrust(p.Root); err != nil {
		panic(err)
	}
	if err = p.Trust.AddIssuer(p.Issuer); err != nil {
		panic(err)
	}
	p.RevList = p.Revoke(Epoch)
	return p
}

func (p *PKI) cert(role protocol.Role, issuer protocol.KeyID, subject, signer protocol.Signer, account, currency string, lim protocol.Limits) *protocol.Certificate {
	p.serial++
	c := &protocol.Certificate{
		Version:   protocol.Version,
		Role:      role,
		Serial:    p.serial,
		Issuer:    issuer,
		KeyAlg:    subject.Alg(),
		Key:       subject.PublicKey(),
		NotBefore: p.NotBefore,
		NotAfter:  p.NotAfter,
		Account:   account,
		Currency:  currency,
		Limits:    lim,
	}
	if role == protocol.RoleDevice {
		c.Class = protocol.SEVirtual
	}
	if err := c.Sign(signer); err != nil {
		panic(err)
	}
	return c
}

// Device issues a device certificate for key with the PKI's limits.
func (p *PKI) Device(key protocol.Signer, account string) *protocol.Certificate {
	return p.cert(protocol.RoleDevice, p.Issuer.ID(), key, p.IssuerKey, account, p.Currency, p.Limits)
}

// Merchant issues a merchant's device certificate for key, certifying
// name, with the PKI's limits.
func (p *PKI) Merchant(key protocol.Signer, account, name string) *protocol.Certificate {
	p.serial++
	c := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleDevice, Serial: p.serial, Issuer: p.Issuer.ID(),
		KeyAlg: key.Alg(), Key: key.PublicKey(), NotBefore: p.NotBefore, NotAfter: p.NotAfter, Account: account,
		Class: protocol.SEVirtual, Currency: p.Currency, Limits: p.Limits, Name: name}
	if err := c.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return c
}

// Revoke issues the next revocation list naming ids, at time t, and makes
// it the PKI's current list.
func (p *PKI) Revoke(t uint64, ids ...protocol.KeyID) *protocol.RevocationList {
	p.revListNum++
	rl := &protocol.RevocationList{Version: protocol.Version, Number: p.revListNum, Issued: t, Signer: p.Issuer.ID(), Revoked: sortIDs(ids)}
	if err := rl.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	p.RevList = rl
	return rl
}

// Load signs a load of amount to device with sequence seq at time t.
func (p *PKI) Load(device protocol.KeyID, seq, amount, t uint64) *protocol.Load {
	l := &protocol.Load{Version: protocol.Version, Device: device, Seq: seq, Amount: amount, Currency: p.Currency, Time: t, Signer: p.Issuer.ID()}
	if err := l.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return l
}

func sortIDs(ids []protocol.KeyID) []protocol.KeyID {
	out := append([]protocol.KeyID{}, ids...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && string(out[j][:]) < string(out[j-1][:]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
