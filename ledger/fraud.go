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

// fraud stores a proof and revokes the device and freezes its account.
// A second proof for the same (device, counter) is not stored again.
func (st *settlement) fraud(ctx context.Context, p *ProofRow) error {
	isNew, err := st.tx.InsertProof(ctx, p)
	if err != nil {
		return err
	}
	d := st.devs[p.Device]
	if d == nil {
		m, err := st.tx.Devices(ctx, []protocol.KeyID{p.Device})
		if err != nil {
			return err
		}
		d = m[p.Device]
		st.devs[p.Device] = d
		st.debt0[p.Device] = debt(d)
	}
	if isNew {
		if err := st.s.notify(ctx, st.tx, NoteDoubleSpend, fmt.Sprintf("%v:%d", p.Device, p.Counter), map[string]any{
			"device": p.Device.String(), "account": d.Account, "counter": p.Counter}); err != nil {
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
