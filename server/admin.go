package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// maxAdminBody bounds the JSON body of an administrator request.
const maxAdminBody = 64 << 10

// CreateAccountRequest is the body of POST /v1/admin/accounts.
type CreateAccountRequest struct {
	Name     string `json:"name"`
	Merchant bool   `json:"merchant"`
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
// either; an empty configured token refuses everything. A wrong token
// costs the client address a token of its bucket of refused requests, so
// guessing is throttled like forging device signatures.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256(s.token)
	return func(w http.ResponseWriter, r *http.Request) {
		if blocked, wait := s.clients.blocked(forgerKey(r)); blocked {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
			s.writeError(w, r, errorf(CodeRateLimited, "too many refused requests from this address; retry later"))
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		g := sha256.Sum256([]byte(got))
		if !ok || len(s.token) == 0 || subtle.ConstantTimeCompare(g[:], want[:]) != 1 {
			s.clients.allow(forgerKey(r))
			w.Header().Set("WWW-Authenticate", `Bearer realm="offpay-ledger"`)
			s.writeError(w, r, errorf(offpay.EUNAUTHORIZED, "administrator token missing or wrong"))
			return
		}
		h(w, r)
	}
}

// readJSON decodes a bounded JSON body into v, refusing unknown fields so
// that a misspelt field is an error rather than a silent zero.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(CodeTooLarge, "body above %d bytes", maxAdminBody)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errorf(offpay.EINVALID, "field %q must be a %s", te.Field, te.Type)
		}
		return errorf(offpay.EINVALID, "body is not the expected JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(offpay.EINVALID, "body has data after the JSON object")
	}
	return nil
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var req CreateAccountRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.ledger.CreateAccount(r.Context(), req.Name, req.Merchant)
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

func (s *Server) move(w http.ResponseWriter, r *http.Request, f func(*http.Request, string, int64, string) (*ledger.Account, error)) {
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
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deposit(w http.ResponseWriter, r *http.Request) {
	s.move(w, r, func(r *http.Request, name string, amount int64, ref string) (*ledger.Account, error) {
		return s.ledger.Deposit(r.Context(), name, amount, ref)
	})
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	s.move(w, r, func(r *http.Request, name string, amount int64, ref string) (*ledger.Account, error) {
		return s.ledger.Withdraw(r.Context(), name, amount, ref)
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
