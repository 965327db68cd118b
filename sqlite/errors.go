package sqlite

import (
	"errors"
	"syscall"

	"github.com/offpay/offpay"
	msqlite "modernc.org/sqlite"
)

// Primary SQLite result codes that mean the storage cannot take a write
// now (full, read-only, failing, locked too long) rather than that the
// request is wrong: the operation changed nothing and may be retried.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteNoMem    = 7
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)

// ErrStorage is the message of the unavailable error storage failures
// become.
const ErrStorage = "storage unavailable (full, read-only or failing disk); nothing was changed: retry later"

// unavailable turns a storage failure into an EUNAVAILABLE *offpay.Error
// (HTTP 503, wallets exit 3), keeping err for the log; other errors pass.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var oe *offpay.Error
	if errors.As(err, &oe) {
		return err
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return &offpay.Error{Code: offpay.EUNAVAILABLE, Message: ErrStorage, Err: err}
		}
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO) {
		return &offpay.Error{Code: offpay.EUNAVAILABLE, Message: ErrStorage, Err: err}
	}
	return err
}
