package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

func (st *settlement) entry(ctx context.Context, dev protocol.KeyID, counter uint64) ([]byte, error) {
	for _, ue := range st.u.entries {
		if dev == st.u.id && ue.e.Counter == counter {
			return ue.data, nil
		}
	}
	rows, err := st.tx.Entries(ctx, dev, counter, counter)
	if err != nil || len(rows) == 0 {
		return nil, offpay.Errorf(offpay.EINTERNAL, "evidence entry %v/%d missing: %v", dev, counter, err)
	}
	return rows[0].Data, nil
}

// brokenSE reports that an entry of the uploader, carried by the upload
// whose signature verified, has an entry signature that does not verify:
// only a broken or malicious SE signs such an upload. Sync rolls the
// settlement back and revokes the uploader (see Sync).
type brokenSE struct {
	dev     protocol.KeyID
	counter uint64
}

func (b *brokenSE) Error() string {
	return fmt.Sprintf("device %v: entry %d's signature does not verify, in an upload its SE signed", b.dev, b.counter)
}

// brokenReason is the revocation reason of a device whose SE signed an
// upload carrying an entry whose own signature does not verify.
func brokenReason(counter uint64) string {
	return fmt.Sprintf("broken SE: entry %d's signature does not verify (in an upload it signed)", counter)
}

// fraud stores a proof and revokes the device and freezes its account.
// A second proof for the same (device, counter) is not stored again.
//
// Entries are authenticated at settlement by their upload's signature
// only (verify.go): before a proof is stored, the signature of each of
// its entries is verified here, so that a stored proof convinces a third
// party from its two entries alone. An entry whose signature fails was
// nonetheless carried by an upload its device's SE signed: that SE is
// broken. If it is the uploader's, fraud returns a *brokenSE and Sync
// revokes the uploader. If it is another device's (a stored entry), that
// device is revoked with brokenReason, no proof is stored, and p.Device
// is revoked all the same: the ledger verified p.Device's signatures on
// both conflicting statements when it accepted them (its entries by its
// signed uploads, its payment inside a payee's receive entry by the
// payment's own signature).
func (st *settlement) fraud(ctx context.Context, p *ProofRow) error {
	bad, err := st.badEvidence(ctx, p)
	if err != nil {
		return err
	}
	for _, b := range bad {
		if b.dev == st.u.id {
			return &b
		}
	}
	isNew := false
	if len(bad) == 0 {
		if isNew, err = st.tx.InsertProof(ctx, p); err != nil {
			return err
		}
	}
	for _, b := range bad {
		d, err := st.device(ctx, b.dev)
		if err != nil {
			return err
		}
		if err := st.s.revoke(ctx, st.tx, d, brokenReason(b.counter), true); err != nil {
			return err
		}
	}
	d, err := st.device(ctx, p.Device)
	if err != nil {
		return err
	}
	if isNew {
		if err := st.s.notify(ctx, st.tx, NoteDoubleSpend, fmt.Sprintf("%v:%d", p.Device, p.Counter), d.Account, st.s.doubleSpendPayload(p, d)); err != nil {
			return err
		}
	}
	if !d.Revoked || isNew {
		// revoke saves the device; keep our copy current for later writes.
		if err := st.s.revoke(ctx, st.tx, d, "double spend", true); err != nil {
			return err
		}
	}
	return nil
}

// device returns the settlement's copy of a device row, reading it into
// st.devs first if this upload did not touch it yet.
func (st *settlement) device(ctx context.Context, id protocol.KeyID) (*DeviceRow, error) {
	if d := st.devs[id]; d != nil {
		return d, nil
	}
	m, err := st.tx.Devices(ctx, []protocol.KeyID{id})
	if err != nil {
		return nil, err
	}
	d := m[id]
	if d == nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "evidence names unknown device %v", id)
	}
	st.devs[id] = d
	st.debt0[id] = debt(d)
	return d, nil
}

// badEvidence verifies the entry signature of both entries of p under
// their devices' keys and returns those that fail. (A payment inside a
// payee's receive entry was verified under its payer's key before it was
// recorded: the ledger records no payment whose signature fails.)
func (st *settlement) badEvidence(ctx context.Context, p *ProofRow) ([]brokenSE, error) {
	var bad []brokenSE
	for _, data := range [][]byte{p.EntryA, p.EntryB} {
		var e protocol.LogEntry
		if err := protocol.Unmarshal(data, &e); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "evidence entry does not decode: %v", err)
		}
		var cert *protocol.Certificate
		if e.Device == st.u.id {
			cert = st.u.dev.cert
		} else {
			d, err := st.device(ctx, e.Device)
			if err != nil {
				return nil, err
			}
			if cert, err = currentCert(d); err != nil {
				return nil, err
			}
		}
		if e.Verify(cert) != nil {
			bad = append(bad, brokenSE{e.Device, e.Counter})
		}
	}
	return bad, nil
}
