package scheme

import (
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Node is a scheme's folder opened with its root key: it changes the
// register and signs for the scheme. Safe for concurrent use.
type Node struct {
	dir  string
	key  protocol.Signer
	root *protocol.Certificate
	mu   sync.Mutex
	reg  *Register
	now  func() time.Time
}

// Init creates a scheme in dir: the root (ledger.InitRoot) and an empty
// register.
func Init(dir, currency string, passphrase []byte) (*Node, error) {
	root, err := ledger.InitRoot(dir, currency, passphrase)
	if err != nil {
		return nil, err
	}
	reg := &Register{Currency: currency, Root: root.Marshal(), Members: []Member{}}
	if err := writeJSON(dir, registerFile, reg); err != nil {
		return nil, err
	}
	return Open(dir, passphrase)
}

// Open opens the scheme in dir.
func Open(dir string, passphrase []byte) (*Node, error) {
	cur, root, key, err := ledger.LoadRoot(dir, passphrase)
	if err != nil {
		return nil, err
	}
	reg, err := ReadRegister(dir)
	if err != nil {
		return nil, err
	}
	if reg.Currency != cur || string(reg.Root) != string(root.Marshal()) {
		return nil, offpay.Errorf(offpay.EINVALID, "the register is not this root's")
	}
	return &Node{dir: dir, key: key, root: root, reg: reg, now: time.Now}, nil
}

// Register returns a copy of the register.
func (n *Node) Register() *Register {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := *n.reg
	r.Members = append([]Member(nil), n.reg.Members...)
	return &r
}

// Root is the scheme's root certificate.
func (n *Node) Root() *protocol.Certificate { return n.root }

// AddProvider admits a provider: it creates the provider ledger's keys in
// keysDir (a new issuer key certified by the root, encrypted with
// passphrase if not empty; ledger.InitProvider) and lists its issuer.
// Errors: EINVALID (name), ECONFLICT (name taken, keys exist).
func (n *Node) AddProvider(name, url, keysDir string, passphrase []byte) (*ledger.Keys, error) {
	if err := ledger.CheckAccountName(name); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reg.Member(name) != nil {
		return nil, offpay.Errorf(offpay.ECONFLICT, "provider %s is already in the register", name)
	}
	keys, err := ledger.InitProvider(keysDir, n.reg.Currency, n.root, n.key, passphrase)
	if err != nil {
		return nil, err
	}
	reg := *n.reg
	reg.Members = append(append([]Member(nil), n.reg.Members...), Member{Name: name, URL: url, Issuers: [][]byte{keys.Issuer.Marshal()}, Added: n.now().UTC()})
	sortMembers(reg.Members)
	if err := n.save(&reg); err != nil {
		return nil, err
	}
	return keys, nil
}

// RotateProvider gives provider name a new issuer key in keysDir (its
// ledger stopped; ledger.RotateIssuer with the root key) and lists the
// new certificate beside the old one, which still verifies what it
// certified.
func (n *Node) RotateProvider(name, keysDir string, passphrase []byte) (*protocol.Certificate, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.reg.Member(name)
	if m == nil {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no provider %s", name)
	}
	old, err := ledger.LoadKeys(keysDir, passphrase)
	if err != nil {
		return nil, err
	}
	found := false
	for _, b := range m.Issuers {
		found = found || string(b) == string(old.Issuer.Marshal())
	}
	if !found {
		return nil, offpay.Errorf(offpay.EINVALID, "the keys in %s are not %s's", keysDir, name)
	}
	c, err := ledger.RotateIssuer(keysDir, n.key, passphrase)
	if err != nil {
		return nil, err
	}
	reg := *n.reg
	reg.Members = append([]Member(nil), n.reg.Members...)
	mm := reg.Member(name)
	mm.Issuers = append(append([][]byte(nil), mm.Issuers...), c.Marshal())
	return c, n.save(&reg)
}

// SetSuspended suspends (or reinstates) provider name: the scheme's
// revocation list then lists its issuers, so payees refuse its devices,
// and the other ledgers mirror none of its devices anew.
func (n *Node) SetSuspended(name string, suspended bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reg.Member(name) == nil {
		return offpay.Errorf(offpay.ENOTFOUND, "no provider %s", name)
	}
	reg := *n.reg
	reg.Members = append([]Member(nil), n.reg.Members...)
	reg.Member(name).Suspended = suspended
	return n.save(&reg)
}

func (n *Node) save(reg *Register) error {
	if err := reg.Verify(); err != nil {
		return err
	}
	if err := writeJSON(n.dir, registerFile, reg); err != nil {
		return err
	}
	n.reg = reg
	return nil
}
