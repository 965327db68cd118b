package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/offpay/offpay/ledger"
)

// A ledger's data folder and its database belong together. `ledger init`
// names the ledger (ledgerIDFile, a random id); the first serve writes the
// id into the database (meta key metaLedgerID) and marks the folder as
// bound (boundFile). From then on a database that is empty, lost its
// tables' contents, or belongs to another ledger is refused: served, an
// empty database would answer every device as if it had never synced and
// report conservation on nothing (a copy of ledger.db taken without its
// WAL is one). `ledger serve --init` adopts an empty database on purpose,
// and `ledger restore` puts a backup in place.
const (
	ledgerIDFile = "ledger.id"
	boundFile    = "db.bound"
	metaLedgerID = "ledger_id"
)

// errNotBound is the refusal of a database that does not belong to the
// data folder.
var errNotBound = errors.New("the ledger's database does not match its data folder")

// ledgerID returns the data folder's ledger id, creating one for a folder
// made before ids existed.
func ledgerID(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ledgerIDFile))
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	s := hex.EncodeToString(id)
	return s, writeFileAtomic(filepath.Join(dir, ledgerIDFile), []byte(s+"\n"))
}

// bindStore checks that st is this data folder's database, binding an
// empty one on the folder's first serve (or when adopt is set).
func bindStore(ctx context.Context, st ledger.Store, dir string, adopt bool) error {
	id, err := ledgerID(dir)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(dir, boundFile))
	bound := statErr == nil
	err = st.Update(ctx, func(tx ledger.Tx) error {
		have, err := tx.Meta(ctx, metaLedgerID)
		if err != nil {
			return err
		}
		switch {
		case string(have) == id:
			return nil
		case have != nil && !adopt:
			return fmt.Errorf("%w: the database belongs to ledger %s, this data folder to %s", errNotBound, have, id)
		case have == nil && bound && !adopt:
			accts, err := tx.Accounts(ctx)
			if err != nil {
				return err
			}
			devs, err := tx.AllDevices(ctx)
			if err != nil {
				return err
			}
			if len(accts) == 0 && len(devs) == 0 {
				return fmt.Errorf("%w: the database is empty, but this ledger has served before: its data was lost "+
					"(a copy of ledger.db taken without its WAL is empty). Restore a backup (offpay ledger restore --data %s --from FILE), "+
					"or start afresh on purpose with offpay ledger serve --init", errNotBound, dir)
			}
		}
		return tx.PutMeta(ctx, metaLedgerID, []byte(id))
	})
	if err != nil {
		return err
	}
	if !bound {
		return writeFileAtomic(filepath.Join(dir, boundFile), []byte(id+"\n"))
	}
	return nil
}
