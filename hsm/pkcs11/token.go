//go:build cgo

package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/offpay/offpay/protocol"
)

// Mechanisms and types of PKCS#11 3.0 the binding does not name.
const (
	ckmECEdwardsKeyPairGen = 0x00001055
	ckmEdDSA               = 0x00001057
	ckkECEdwards           = 0x00000040
)

// The curves' CKA_EC_PARAMS: the DER of their object identifiers.
var (
	oidEd25519 = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}                               // 1.3.101.112
	oidP256    = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07} // 1.2.840.10045.3.1.7
)

// modules are the loaded modules, by path: C_Initialize and C_Finalize
// are per process, so tokens of one module share its context.
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

type module struct {
	ctx  *p11.Ctx
	refs int
	open map[uint]bool // slots with an open Token
}

func loadModule(path string) (*p11.Ctx, error) {
	modules.Lock()
	defer modules.Unlock()
	if m := modules.m[path]; m != nil {
		m.refs++
		return m.ctx, nil
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, fail("open", ErrModule, fmt.Errorf("dlopen %s failed", path))
	}
	if err := ctx.Initialize(); err != nil && !errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		ctx.Destroy()
		return nil, fail("open", ErrModule, fmt.Errorf("%s: C_Initialize: %w", path, err))
	}
	modules.m[path] = &module{ctx: ctx, refs: 1, open: map[uint]bool{}}
	return ctx, nil
}

// claimSlot marks slot of module open; false if a Token has it already.
// PKCS#11 logs a process in per token, not per session: a second Token
// of the same token would find it logged in whatever PIN it was given.
func claimSlot(path string, slot uint, claim bool) bool {
	modules.Lock()
	defer modules.Unlock()
	m := modules.m[path]
	if m == nil {
		return false
	}
	if !claim {
		delete(m.open, slot)
		return true
	}
	if m.open[slot] {
		return false
	}
	m.open[slot] = true
	return true
}

func releaseModule(path string) {
	modules.Lock()
	defer modules.Unlock()
	m := modules.m[path]
	if m == nil {
		return
	}
	if m.refs--; m.refs == 0 {
		m.ctx.Finalize()
		m.ctx.Destroy()
		delete(modules.m, path)
	}
}

// Token is a logged-in PKCS#11 token. Its methods are safe for concurrent
// use: each signature takes a session of its own from a pool.
type Token struct {
	ctx    *p11.Ctx
	module string
	label  string
	slot   uint
	idle   chan p11.SessionHandle
	mu     sync.Mutex
	open   int // sessions open, idle or in use
	max    int
	closed bool
	shut   atomic.Bool // closed, read without the lock on each signature
}

// Open loads module (the path of a PKCS#11 library), finds the token
// labelled label and logs in as its user with pin. A wrong PIN is
// ErrPINIncorrect, and nothing on the token changes.
func Open(module, label string, pin []byte) (*Token, error) {
	if len(pin) == 0 {
		return nil, fail("login", ErrNoPIN, nil)
	}
	ctx, err := loadModule(module)
	if err != nil {
		return nil, err
	}
	t := &Token{ctx: ctx, module: module, label: label, max: max(4, 2*runtime.GOMAXPROCS(0))}
	t.idle = make(chan p11.SessionHandle, t.max)
	if err := t.find(); err != nil {
		releaseModule(module)
		return nil, err
	}
	if !claimSlot(module, t.slot, true) {
		releaseModule(module)
		return nil, fail("open "+label, ErrInUse, nil)
	}
	release := func() {
		claimSlot(module, t.slot, false)
		releaseModule(module)
	}
	s, err := ctx.OpenSession(t.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		release()
		return nil, fail("open session", ErrModule, err)
	}
	if err := ctx.Login(s, p11.CKU_USER, string(pin)); err != nil {
		ctx.CloseSession(s)
		release()
		switch {
		case errors.Is(err, p11.Error(p11.CKR_PIN_INCORRECT)):
			return nil, fail("login to "+label, ErrPINIncorrect, err)
		case errors.Is(err, p11.Error(p11.CKR_PIN_LOCKED)):
			return nil, fail("login to "+label, ErrPINLocked, err)
		}
		return nil, fail("login to "+label, ErrModule, err)
	}
	t.open = 1
	t.idle <- s
	return t, nil
}

// find sets t.slot to the slot of the token labelled t.label.
func (t *Token) find() error {
	slots, err := t.ctx.GetSlotList(true)
	if err != nil {
		return fail("find token", ErrModule, err)
	}
	var seen []string
	for _, s := range slots {
		ti, err := t.ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if ti.Label == t.label {
			t.slot = s
			return nil
		}
		seen = append(seen, fmt.Sprintf("%q", ti.Label))
	}
	return fail("find token", ErrTokenNotFound, fmt.Errorf("%q not among the module's tokens [%s]", t.label, strings.Join(seen, " ")))
}

// Label is the token's label.
func (t *Token) Label() string { return t.label }

// Module is the path of the token's module.
func (t *Token) Module() string { return t.module }

// session takes an idle session or opens one, up to t.max, then waits.
func (t *Token) session() (p11.SessionHandle, error) {
	if t.shut.Load() {
		return 0, fail("session", ErrClosed, nil)
	}
	select {
	case s := <-t.idle:
		return s, nil
	default:
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return 0, fail("session", ErrClosed, nil)
	}
	if t.open < t.max {
		t.open++
		t.mu.Unlock()
		s, err := t.ctx.OpenSession(t.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
		if err != nil {
			t.mu.Lock()
			t.open--
			t.mu.Unlock()
			return 0, fail("open session", ErrModule, err)
		}
		return s, nil
	}
	t.mu.Unlock()
	s, ok := <-t.idle
	if !ok {
		return 0, fail("session", ErrClosed, nil)
	}
	return s, nil
}

// put gives a session back to the pool, or closes it after a failure
// that may have left an operation active in it.
func (t *Token) put(s p11.SessionHandle, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if failed || t.closed {
		t.ctx.CloseSession(s)
		t.open--
		return
	}
	t.idle <- s
}

// Close logs out, closes the sessions and, with the last token of its
// module, unloads the module. Keys of t stop signing.
func (t *Token) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.shut.Store(true)
	t.mu.Unlock()
	// Logging out of one session logs the application out of the token.
	select {
	case s := <-t.idle:
		t.ctx.Logout(s)
		t.idle <- s
	default:
	}
	err := t.ctx.CloseAllSessions(t.slot)
	claimSlot(t.module, t.slot, false)
	releaseModule(t.module)
	if err != nil {
		return fail("close", ErrModule, err)
	}
	return nil
}

// Key is a private key on a token, with its public key.
type Key struct {
	t     *Token
	priv  p11.ObjectHandle
	alg   protocol.Alg
	pub   []byte // the protocol's encoding
	label string
	id    []byte
}

// Generate makes a key pair of alg on the token: the private key a token
// object, private, sensitive, never extractable, for signing only; the
// public key beside it, of the same label and a fresh random CKA_ID.
func (t *Token) Generate(alg protocol.Alg, label string) (*Key, error) {
	var mech uint
	var params []byte
	var keyType uint
	switch alg {
	case protocol.AlgEd25519:
		mech, params, keyType = ckmECEdwardsKeyPairGen, oidEd25519, ckkECEdwards
	case protocol.AlgECDSAP256:
		mech, params, keyType = p11.CKM_EC_KEY_PAIR_GEN, oidP256, p11.CKK_EC
	default:
		return nil, fail("generate", ErrUnsupported, fmt.Errorf("algorithm %v", alg))
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fail("generate", ErrModule, err)
	}
	pubT := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, false),
		p11.NewAttribute(p11.CKA_VERIFY, true),
		p11.NewAttribute(p11.CKA_EC_PARAMS, params),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}
	privT := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_DECRYPT, false),
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}
	s, err := t.session()
	if err != nil {
		return nil, err
	}
	pubH, privH, err := t.ctx.GenerateKeyPair(s, []*p11.Mechanism{p11.NewMechanism(mech, nil)}, pubT, privT)
	t.put(s, false)
	if err != nil {
		kind := ErrModule
		if errors.Is(err, p11.Error(p11.CKR_MECHANISM_INVALID)) || errors.Is(err, p11.Error(p11.CKR_CURVE_NOT_SUPPORTED)) {
			kind = ErrUnsupported
		}
		return nil, fail("generate "+alg.String(), kind, err)
	}
	k := &Key{t: t, priv: privH, alg: alg, label: label, id: id}
	if k.pub, err = t.publicKey(pubH, alg); err != nil {
		return nil, err
	}
	return k, nil
}

// Key finds the private key of ref on the token and its public key.
func (t *Token) Key(ref KeyRef) (*Key, error) {
	alg, err := ParseAlg(ref.Alg)
	if err != nil {
		return nil, err
	}
	id, err := hex.DecodeString(ref.ID)
	if err != nil || len(id) == 0 {
		return nil, fail("find key", ErrKeyNotFound, fmt.Errorf("bad key id %q", ref.ID))
	}
	what := fmt.Sprintf("label %q id %s", ref.Label, ref.ID)
	priv, err := t.findOne(p11.CKO_PRIVATE_KEY, ref.Label, id, what)
	if err != nil {
		return nil, err
	}
	pubH, err := t.findOne(p11.CKO_PUBLIC_KEY, ref.Label, id, what)
	if err != nil {
		return nil, err
	}
	k := &Key{t: t, priv: priv, alg: alg, label: ref.Label, id: id}
	if k.pub, err = t.publicKey(pubH, alg); err != nil {
		return nil, err
	}
	return k, nil
}

func (t *Token) findOne(class uint, label string, id []byte, what string) (p11.ObjectHandle, error) {
	s, err := t.session()
	if err != nil {
		return 0, err
	}
	defer t.put(s, false)
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, class),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}
	if err := t.ctx.FindObjectsInit(s, tmpl); err != nil {
		return 0, fail("find key", ErrModule, err)
	}
	hs, _, err := t.ctx.FindObjects(s, 2)
	t.ctx.FindObjectsFinal(s)
	if err != nil {
		return 0, fail("find key", ErrModule, err)
	}
	kind := "private"
	if class == p11.CKO_PUBLIC_KEY {
		kind = "public"
	}
	switch len(hs) {
	case 0:
		return 0, fail("find key", ErrKeyNotFound, fmt.Errorf("no %s key of %s on token %q", kind, what, t.label))
	case 1:
		return hs[0], nil
	}
	return 0, fail("find key", ErrKeyNotFound, fmt.Errorf("more than one %s key of %s on token %q", kind, what, t.label))
}

// publicKey reads a public key object's curve and point, in the
// protocol's encoding.
func (t *Token) publicKey(h p11.ObjectHandle, alg protocol.Alg) ([]byte, error) {
	s, err := t.session()
	if err != nil {
		return nil, err
	}
	attrs, err := t.ctx.GetAttributeValue(s, h, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_EC_PARAMS, nil),
		p11.NewAttribute(p11.CKA_EC_POINT, nil),
	})
	t.put(s, false)
	if err != nil {
		return nil, fail("read public key", ErrModule, err)
	}
	params, point := attrs[0].Value, attrs[1].Value
	switch alg {
	case protocol.AlgEd25519:
		if string(params) != string(oidEd25519) && string(params) != "\x13\x0cedwards25519" {
			return nil, fail("read public key", ErrKeyNotFound, fmt.Errorf("the key is not on Ed25519"))
		}
		// A DER OCTET STRING of the 32 bytes, as PKCS#11 3.0 says; some
		// modules give the bytes bare.
		if len(point) == 34 && point[0] == 0x04 && point[1] == 32 {
			point = point[2:]
		}
		if len(point) != ed25519.PublicKeySize {
			return nil, fail("read public key", ErrModule, fmt.Errorf("ed25519 point of %d bytes", len(point)))
		}
		return point, nil
	case protocol.AlgECDSAP256:
		if string(params) != string(oidP256) {
			return nil, fail("read public key", ErrKeyNotFound, fmt.Errorf("the key is not on P-256"))
		}
		if len(point) == 67 && point[0] == 0x04 && point[1] == 65 {
			point = point[2:]
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return nil, fail("read public key", ErrModule, fmt.Errorf("p-256 point: %v", err))
		}
		b, _ := pub.Bytes()
		out := make([]byte, 33)
		out[0] = 0x02 | b[64]&1
		copy(out[1:], b[1:33])
		return out, nil
	}
	return nil, fail("read public key", ErrUnsupported, fmt.Errorf("algorithm %v", alg))
}

var (
	p256Order     = elliptic.P256().Params().N
	p256HalfOrder = new(big.Int).Rsh(p256Order, 1)
)

// Sign implements protocol.Signer: Ed25519 over msg itself (CKM_EDDSA),
// P-256 over SHA-256(msg) (CKM_ECDSA), r||s with low s.
func (k *Key) Sign(msg []byte) ([]byte, error) {
	switch k.alg {
	case protocol.AlgEd25519:
		sig, err := k.sign(ckmEdDSA, msg)
		if err != nil {
			return nil, err
		}
		if len(sig) != protocol.SigSize {
			return nil, fail("sign", ErrModule, fmt.Errorf("ed25519 signature of %d bytes", len(sig)))
		}
		return sig, nil
	case protocol.AlgECDSAP256:
		d := sha256.Sum256(msg)
		sig, err := k.sign(p11.CKM_ECDSA, d[:])
		if err != nil {
			return nil, err
		}
		if len(sig) != protocol.SigSize {
			return nil, fail("sign", ErrModule, fmt.Errorf("ecdsa signature of %d bytes", len(sig)))
		}
		s := new(big.Int).SetBytes(sig[32:])
		if s.Cmp(p256HalfOrder) > 0 {
			s.Sub(p256Order, s).FillBytes(sig[32:])
		}
		return sig, nil
	}
	return nil, fail("sign", ErrUnsupported, fmt.Errorf("algorithm %v", k.alg))
}

func (k *Key) sign(mech uint, data []byte) ([]byte, error) {
	s, err := k.t.session()
	if err != nil {
		return nil, err
	}
	if err := k.t.ctx.SignInit(s, []*p11.Mechanism{p11.NewMechanism(mech, nil)}, k.priv); err != nil {
		k.t.put(s, true)
		kind := ErrModule
		if errors.Is(err, p11.Error(p11.CKR_MECHANISM_INVALID)) {
			kind = ErrUnsupported
		}
		return nil, fail("sign", kind, err)
	}
	sig, err := k.t.ctx.Sign(s, data)
	k.t.put(s, err != nil)
	if err != nil {
		return nil, fail("sign", ErrModule, err)
	}
	return sig, nil
}

// Protection reads the private key's protection attributes.
func (k *Key) Protection() (Protection, error) {
	s, err := k.t.session()
	if err != nil {
		return Protection{}, err
	}
	defer k.t.put(s, false)
	types := []uint{p11.CKA_TOKEN, p11.CKA_PRIVATE, p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE, p11.CKA_ALWAYS_SENSITIVE, p11.CKA_NEVER_EXTRACTABLE}
	tmpl := make([]*p11.Attribute, len(types))
	for i, ty := range types {
		tmpl[i] = p11.NewAttribute(ty, nil)
	}
	attrs, err := k.t.ctx.GetAttributeValue(s, k.priv, tmpl)
	if err != nil {
		return Protection{}, fail("read attributes", ErrModule, err)
	}
	v := func(i int) bool { return len(attrs[i].Value) == 1 && attrs[i].Value[0] != 0 }
	return Protection{Token: v(0), Private: v(1), Sensitive: v(2), Extractable: v(3), AlwaysSensitive: v(4), NeverExtractable: v(5)}, nil
}

// ReadValue asks the token for the private key's value (CKA_VALUE): what
// an attacker with the PIN would try. A sensitive key refuses it
// (CKR_ATTRIBUTE_SENSITIVE); tests assert that it does.
func (k *Key) ReadValue() ([]byte, error) {
	s, err := k.t.session()
	if err != nil {
		return nil, err
	}
	defer k.t.put(s, false)
	attrs, err := k.t.ctx.GetAttributeValue(s, k.priv, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
	if err != nil {
		return nil, err
	}
	return attrs[0].Value, nil
}

// Destroy deletes the key pair from the token.
func (k *Key) Destroy() error {
	s, err := k.t.session()
	if err != nil {
		return err
	}
	defer k.t.put(s, false)
	pubH, err := k.t.findOne(p11.CKO_PUBLIC_KEY, k.label, k.id, "")
	if err == nil {
		k.t.ctx.DestroyObject(s, pubH)
	}
	if err := k.t.ctx.DestroyObject(s, k.priv); err != nil {
		return fail("destroy key", ErrModule, err)
	}
	return nil
}

// CryptoSigner is k as a crypto.Signer, for code outside offpay's
// protocol: Ed25519 signs the message (opts.HashFunc() == 0), P-256 a
// SHA-256 digest, in ASN.1 DER.
func (k *Key) CryptoSigner() crypto.Signer { return cryptoSigner{k} }

type cryptoSigner struct{ k *Key }

func (c cryptoSigner) Public() crypto.PublicKey {
	if c.k.alg == protocol.AlgEd25519 {
		return ed25519.PublicKey(c.k.PublicKey())
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), c.k.pub)
	u := make([]byte, 65)
	u[0] = 4
	x.FillBytes(u[1:33])
	y.FillBytes(u[33:])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), u)
	if err != nil {
		return nil
	}
	return pub
}

func (c cryptoSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch c.k.alg {
	case protocol.AlgEd25519:
		if opts.HashFunc() != 0 {
			return nil, fail("sign", ErrUnsupported, fmt.Errorf("ed25519ph"))
		}
		return c.k.sign(ckmEdDSA, digest)
	case protocol.AlgECDSAP256:
		if opts.HashFunc() != crypto.SHA256 || len(digest) != sha256.Size {
			return nil, fail("sign", ErrUnsupported, fmt.Errorf("p-256 signs SHA-256 digests"))
		}
		sig, err := c.k.sign(p11.CKM_ECDSA, digest)
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	}
	return nil, fail("sign", ErrUnsupported, fmt.Errorf("algorithm %v", c.k.alg))
}

// Available reports whether this build can load PKCS#11 modules.
const Available = true
