package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// Outbox is the administrator's view of the bank notifications;
// *ledger.Service has these methods. Options.Outbox serves
// GET /v1/admin/outbox and POST /v1/admin/outbox/resend (without it they
// answer not_found).
type Outbox interface {
	Outbox(ctx context.Context, q ledger.OutboxQuery) (*ledger.OutboxPage, error)
	Resend(ctx context.Context, q ledger.OutboxQuery) (int64, error)
}

var _ Outbox = (*ledger.Service)(nil)

// ResendRequest is the body of POST /v1/admin/outbox/resend: a key, or a
// time range (both ends, RFC 3339), optionally narrowed by state, account
// and kind.
type ResendRequest struct {
	Key     string `json:"key,omitempty"`
	State   string `json:"state,omitempty"`
	Account string `json:"account,omitempty"`
	Kind    string `json:"kind,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
}

// ResendResult is its answer.
type ResendResult struct {
	Resent int64 `json:"resent"`
}

func (s *Server) handleOutbox(o Outbox) {
	s.handle("GET /v1/admin/outbox", s.admin(func(w http.ResponseWriter, r *http.Request) {
		if o == nil {
			s.writeError(w, r, errorf(offpay.ENOTFOUND, "this ledger has no outbox"))
			return
		}
		q, err := outboxQuery(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		page, err := o.Outbox(r.Context(), q)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	}))
	s.handle("POST /v1/admin/outbox/resend", s.admin(func(w http.ResponseWriter, r *http.Request) {
		if o == nil {
			s.writeError(w, r, errorf(offpay.ENOTFOUND, "this ledger has no outbox"))
			return
		}
		var req ResendRequest
		if err := readJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		q := ledger.OutboxQuery{Key: req.Key, State: req.State, Account: req.Account, Kind: req.Kind}
		var err error
		for _, f := range []struct {
			name, val string
			to        *time.Time
		}{{"from", req.From, &q.From}, {"to", req.To, &q.To}} {
			if f.val == "" {
				continue
			}
			if *f.to, err = time.Parse(time.RFC3339Nano, f.val); err != nil {
				s.writeError(w, r, errorf(offpay.EINVALID, "%s: %q is not an RFC 3339 time", f.name, f.val))
				return
			}
		}
		n, err := o.Resend(r.Context(), q)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, ResendResult{Resent: n})
	}))
}

// outboxQuery reads the query parameters of GET /v1/admin/outbox; an
// unknown or repeated parameter is refused rather than ignored.
func outboxQuery(v url.Values) (ledger.OutboxQuery, error) {
	var q ledger.OutboxQuery
	for k, vals := range v {
		if len(vals) != 1 {
			return q, errorf(offpay.EINVALID, "parameter %q given %d times", k, len(vals))
		}
		val := vals[0]
		var err error
		switch k {
		case "state":
			q.State = val
		case "account":
			q.Account = val
		case "kind":
			q.Kind = val
		case "key":
			q.Key = val
		case "after":
			q.After = val
		case "from":
			q.From, err = time.Parse(time.RFC3339Nano, val)
		case "to":
			q.To, err = time.Parse(time.RFC3339Nano, val)
		case "limit":
			q.Limit, err = strconv.Atoi(val)
		default:
			return q, errorf(offpay.EINVALID, "unknown parameter %q", k)
		}
		if err != nil {
			return q, errorf(offpay.EINVALID, "parameter %q: %q is not valid", k, val)
		}
	}
	return q, nil
}
