package scheme

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

const revFile = "revocations.json"

type revState struct {
	Number uint64 `json:"number"`
	Last   []byte `json:"last,omitempty"` // the last list signed
}

// RevocationList merges the providers' revocation lists (lists: provider
// name -> its ledger's current list) with the issuers of suspended
// providers into one list signed by the root, numbered after the last
// one. Every device verifies it through the root it pinned
// (protocol.Trust.VerifyRevocationList). A list not signed by an issuer
// of the provider it is given for is refused: one provider cannot revoke
// another's devices. Its number is above every list merged and every
// list it signed before: a device that holds its own provider's list
// takes it (protocol: the higher number wins), and the next list it
// takes is the scheme's next. Errors: ENOTFOUND, EUNAUTHORIZED.
func (n *Node) RevocationList(lists map[string]*protocol.RevocationList) (*protocol.RevocationList, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ids []protocol.KeyID
	var top uint64 // the highest number merged: a device keeps the list with the highest number
	for name, rl := range lists {
		m := n.reg.Member(name)
		if m == nil {
			return nil, offpay.Errorf(offpay.ENOTFOUND, "no provider %s", name)
		}
		cs, err := m.Certs()
		if err != nil {
			return nil, err
		}
		var signer *protocol.Certificate
		for _, c := range cs {
			if c.ID() == rl.Signer {
				signer = c
			}
		}
		if signer == nil {
			return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "the list given for %s is signed by %v, not one of its issuers", name, rl.Signer)
		}
		if err := rl.Verify(signer); err != nil {
			return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "the list of %s does not verify: %v", name, err)
		}
		ids = append(ids, rl.Revoked...)
		top = max(top, rl.Number)
	}
	for i := range n.reg.Members {
		if !n.reg.Members[i].Suspended {
			continue
		}
		cs, err := n.reg.Members[i].Certs()
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			ids = append(ids, c.ID())
		}
	}
	slices.SortFunc(ids, func(a, b protocol.KeyID) int { return bytes.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	st, err := n.readRev()
	if err != nil {
		return nil, err
	}
	rl := &protocol.RevocationList{Version: protocol.Version, Number: max(st.Number, top) + 1, Issued: uint64(n.now().Unix()), Signer: n.root.ID(), Revoked: ids}
	if err := rl.Sign(n.key); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing: %w", err)
	}
	if err := writeJSON(n.dir, revFile, revState{Number: rl.Number, Last: rl.Marshal()}); err != nil {
		return nil, err
	}
	return rl, nil
}

// LastRevocationList returns the last list RevocationList signed, or nil.
func (n *Node) LastRevocationList() (*protocol.RevocationList, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, err := n.readRev()
	if err != nil || st.Last == nil {
		return nil, err
	}
	rl := new(protocol.RevocationList)
	if err := protocol.Unmarshal(st.Last, rl); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "stored list: %v", err)
	}
	return rl, nil
}

func (n *Node) readRev() (revState, error) {
	var st revState
	b, err := os.ReadFile(filepath.Join(n.dir, revFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, offpay.Errorf(offpay.EINTERNAL, "reading %s: %w", revFile, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, offpay.Errorf(offpay.EINTERNAL, "%s: %v", revFile, err)
	}
	return st, nil
}
