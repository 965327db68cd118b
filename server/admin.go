package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"time"
)

// maxAdminBody bounds the JSON body of an administrator request.
const maxAdminBody = 64 << 10

// CreateAccountRequest is the body of POST /v1/admin/accounts.
type CreateAccountRequest struct {
	Name     string `json:"name"`
	Merchant bool   `json:"merchant"`
	// DisplayName, for a merchant, is the name its devices are certified
	// with and payers are shown (default: Name).
	DisplayName string `json:"display_name,omitempty"`
}

// merchantCreator is a Ledger that certifies merchants under a display
// name of their own (ledger.Service does).
type merchantCreator interface {
	CreateMerchant(ctx context.Context, name, display string) (*ledger.Account, error)
}

// MoveRequest is the body of a deposit or a withdrawal. Ref is the
// operator's reference (a bank transfer id, say) shown on the statement;
// the ledger applies one ref once, which makes the call safe to repeat.
type MoveRequest struct {
	Amount int64  `json:"amount_minor"`
	Ref    string `json:"ref"`
}

// RevokeRequest is the body of POST /v1/admin/devices/{id}/revoke.
type RevokeRequest struct {
	Reason string `json:"reason"`
}

// Statement is the answer of GET /v1/admin/accounts/{name}/statement.
type Statement struct {
	Account string                 `json:"account"`
	Lines   []ledger.StatementLine `json:"lines"`
}

// admin wraps h with the bearer token check. Both sides are hashed before
// the constant-time comparison so that the token's length does not leak
// either; an empty configured token refuses everything. A correct token
// is always served: wrong tokens are counted per client address in a
// bucket of their own, which only ever refuses wrong tokens (the token is
// 192 random bits, so the bucket bounds the work and the log a guesser
// causes, not the odds of a guess). Administrator answers carry balances
// and personal data: none may be cached.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256(s.token)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		g := sha256.Sum256([]byte(got))
		if !ok || len(s.token) == 0 || subtle.ConstantTimeCompare(g[:], want[:]) != 1 {
			if !s.take(w, r, s.guesses, s.clientKey(r), limitToken) {
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="offpay-ledger"`)
			s.writeError(w, r, errorf(offpay.EUNAUTHORIZED, "administrator token missing or wrong"))
			return
		}
		h(w, r)
	}
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var req CreateAccountRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var a *ledger.Account
	var err error
	mc, named := s.ledger.(merchantCreator)
	switch {
	case req.DisplayName != "" && (!req.Merchant || !named):
		err = offpay.Errorf(offpay.EINVALID, "display_name is for merchant accounts")
	case req.DisplayName != "":
		a, err = mc.CreateMerchant(r.Context(), req.Name, req.DisplayName)
	default:
		a, err = s.ledger.CreateAccount(r.Context(), req.Name, req.Merchant)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	a, err := s.ledger.Account(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) move(w http.ResponseWriter, r *http.Request, kind string, f func(*http.Request, string, int64, string) (*ledger.Account, error)) {
	var req MoveRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Amount <= 0 {
		s.writeError(w, r, errorf(offpay.EINVALID, "amount_minor must be positive"))
		return
	}
	a, err := f(r, r.PathValue("name"), req.Amount, req.Ref)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The operator's actions are on record with what they moved (a ref
	// applied before is logged again: the ledger did nothing the second
	// time, and the balance shows it).
	s.log.InfoContext(r.Context(), kind, "account", a.Name, "amount_minor", req.Amount, "ref", req.Ref, "balance_minor", a.Balance)
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deposit(w http.ResponseWriter, r *http.Request) {
	s.move(w, r, "deposit", func(r *http.Request, name string, amount int64, ref string) (*ledger.Account, error) {
		return s.ledger.Deposit(r.Context(), name, amount, ref)
	})
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	s.move(w, r, "withdrawal", func(r *http.Request, name string, amount int64, ref string) (*ledger.Account, error) {
		return s.ledger.Withdraw(r.Context(), name, amount, ref)
	})
}

// reenterWithdrawal enters again, from the bank's records, a withdrawal
// the bank paid out and a restore of the ledger took: a freeze or a hold
// does not refuse it (ledger.Service.ReenterWithdrawal).
func (s *Server) reenterWithdrawal(w http.ResponseWriter, r *http.Request) {
	s.move(w, r, "withdrawal re-entered", func(r *http.Request, name string, amount int64, ref string) (*ledger.Account, error) {
		return s.ledger.ReenterWithdrawal(r.Context(), name, amount, ref)
	})
}

func (s *Server) statement(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	lines, err := s.ledger.Statement(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if lines == nil {
		lines = []ledger.StatementLine{}
	}
	writeJSON(w, http.StatusOK, Statement{Account: name, Lines: lines})
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	id, err := protocol.ParseKeyID(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, errorf(offpay.EINVALID, "device id: %w", err))
		return
	}
	var req RevokeRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.ledger.Revoke(r.Context(), id, req.Reason); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.replays.forget(id)
	s.log.InfoContext(r.Context(), "device revoked", "device", id.String(), "reason", req.Reason)
	w.WriteHeader(http.StatusNoContent)
}

// lost reports a device lost or stolen: revoked now, its value back on its
// account after its deadline.
func (s *Server) lost(w http.ResponseWriter, r *http.Request) {
	id, err := protocol.ParseKeyID(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, errorf(offpay.EINVALID, "device id: %w", err))
		return
	}
	if err := s.ledger.Lost(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.replays.forget(id)
	s.log.InfoContext(r.Context(), "device reported lost", "device", id.String())
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	rep, err := s.ledger.Report(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// IssueCodeRequest is the body of POST /v1/admin/accounts/{name}/codes.
type IssueCodeRequest struct {
	TTLSeconds int64 `json:"ttl_seconds"` // 0: a day
}

func (s *Server) issueCode(w http.ResponseWriter, r *http.Request) {
	var req IssueCodeRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.TTLSeconds < 0 || req.TTLSeconds > int64(ledger.MaxCodeTTL/time.Second) {
		s.writeError(w, r, errorf(offpay.EINVALID, "ttl_seconds must be 0 (a day) to %d", int64(ledger.MaxCodeTTL/time.Second)))
		return
	}
	c, err := s.ledger.IssueCode(r.Context(), r.PathValue("name"), time.Duration(req.TTLSeconds)*time.Second)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "enrolment code issued", "account", c.Account, "id", c.ID, "expires", c.ExpiresAt)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) codes(w http.ResponseWriter, r *http.Request) {
	cs, err := s.ledger.Codes(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

func (s *Server) cancelCode(w http.ResponseWriter, r *http.Request) {
	if err := s.ledger.CancelCode(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "enrolment code cancelled", "id", r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) accountList(w http.ResponseWriter, r *http.Request) {
	as, err := s.ledger.AccountList(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if as == nil {
		as = []ledger.AccountSummary{}
	}
	writeJSON(w, http.StatusOK, as)
}

// deviceList answers GET /v1/admin/devices, of one account with
// ?account=NAME.
func (s *Server) deviceList(w http.ResponseWriter, r *http.Request) {
	ds, err := s.ledger.DeviceList(r.Context(), r.URL.Query().Get("account"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ds == nil {
		ds = []ledger.DeviceSummary{}
	}
	writeJSON(w, http.StatusOK, ds)
}
