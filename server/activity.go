package server

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// activityLedger is a Ledger that charts its payments over time
// (*ledger.Service does); without it GET /v1/admin/activity answers
// not_found.
type activityLedger interface {
	Activity(ctx context.Context, from, to time.Time, step time.Duration) (*ledger.Activity, error)
}

var _ activityLedger = (*ledger.Service)(nil)

// activity answers GET /v1/admin/activity?from=&to=&step=: the payments
// recorded per interval and their sync lag, for the console's charts.
// Defaults (ledger.Service.Activity): to is the end of the ledger's
// current interval, from a day earlier, step an hour.
func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	al, ok := s.ledger.(activityLedger)
	if !ok {
		s.writeError(w, r, errorf(offpay.ENOTFOUND, "this ledger does not chart its activity"))
		return
	}
	from, to, step, err := activityQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := al.Activity(r.Context(), from, to, step)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// activityQuery reads from and to (RFC 3339) and step (a Go duration such
// as 1h or 15m); an unknown or repeated parameter is refused.
func activityQuery(v url.Values) (from, to time.Time, step time.Duration, err error) {
	step = time.Hour
	for k, vals := range v {
		if len(vals) != 1 {
			return from, to, step, errorf(offpay.EINVALID, "parameter %q given %d times", k, len(vals))
		}
		val := vals[0]
		var perr error
		switch k {
		case "from":
			from, perr = time.Parse(time.RFC3339Nano, val)
		case "to":
			to, perr = time.Parse(time.RFC3339Nano, val)
		case "step":
			step, perr = time.ParseDuration(val)
		default:
			return from, to, step, errorf(offpay.EINVALID, "unknown parameter %q (from, to, step)", k)
		}
		if perr != nil {
			return from, to, step, errorf(offpay.EINVALID, "parameter %q: %q is not valid", k, val)
		}
	}
	return from, to, step, nil
}
