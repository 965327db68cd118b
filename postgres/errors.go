package postgres

import (
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/offpay/offpay"
)

// ErrStorage is the message of the unavailable error storage failures
// become.
const ErrStorage = "storage unavailable (the database server is down, full or read-only); nothing was changed: retry later"

// unavailable turns a failure of the database server (unreachable, shut
// down, out of disk or resources, read-only) into an EUNAVAILABLE
// *offpay.Error (HTTP 503, wallets exit 3), keeping err for the log;
// other errors pass.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var oe *offpay.Error
	if errors.As(err, &oe) {
		return err
	}
	wrap := func() error { return &offpay.Error{Code: offpay.EUNAVAILABLE, Message: ErrStorage, Err: err} }
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "53"), // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "08"),  // connection exception
			strings.HasPrefix(pe.Code, "57P"), // operator intervention: shutdown, cannot connect now
			pe.Code == "25006":                // read-only transaction (a standby, or default_transaction_read_only)
			return wrap()
		}
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) || pgconn.SafeToRetry(err) {
		return wrap()
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return wrap()
	}
	return err
}
