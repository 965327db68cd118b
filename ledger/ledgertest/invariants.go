package ledgertest

import (
	"context"
	"fmt"

	"github.com/offpay/offpay/ledger"
)

// LoadsWithinSeq checks a store invariant the ledger relies on: no device
// has a stored load numbered above its LoadSeq (the last load issued), so
// a device whose log applied load LoadSeq has no load still to deliver
// (sync results then skip the read, ledger/finish.go).
func LoadsWithinSeq(ctx context.Context, st ledger.Store) error {
	return st.View(ctx, func(tx ledger.Tx) error {
		ds, err := tx.AllDevices(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			ls, err := tx.LoadsAfter(ctx, d.ID, d.LoadSeq, 1)
			if err != nil {
				return err
			}
			if len(ls) > 0 {
				return fmt.Errorf("device %v: load %d stored above its last issued, %d", d.ID, ls[0].Seq, d.LoadSeq)
			}
		}
		return nil
	})
}
