// Package schemehttp is the scheme node's HTTP API (offpay scheme serve)
// and its client: the register, the scheme-wide revocation list, the
// providers' statements (each signed by the provider's issuer key) and
// clearing cycles (SPEC.md "Federation").
package schemehttp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
)

// StatementContext prefixes the bytes a provider signs when it sends
// its statement.
const StatementContext = "offpay/1/scheme-statement\x00"

// SignatureHeader carries the statement's signature (base64).
const SignatureHeader = "Offpay-Signature"

const maxBody = 1 << 20

// Push is what a provider sends: its clearing statement and its current
// revocation list (canonical encoding).
type Push struct {
	Statement      scheme.Statement `json:"statement"`
	RevocationList []byte           `json:"revocation_list"`
}

// Server serves a scheme node.
type Server struct {
	node  *scheme.Node
	token string
	mu    sync.Mutex
	sts   map[string]scheme.Statement
	rls   map[string]*protocol.RevocationList
}

// New returns the API of node; token guards clearing.
func New(node *scheme.Node, token string) *Server {
	return &Server{node: node, token: token, sts: map[string]scheme.Statement{}, rls: map[string]*protocol.RevocationList{}}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/register", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.node.Register()) })
	m.HandleFunc("GET /v1/revocation-list", s.revList)
	m.HandleFunc("POST /v1/statements/{provider}", s.statement)
	m.HandleFunc("POST /v1/clearing", s.clear)
	m.HandleFunc("GET /v1/clearing/last", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.node.LastCycle()
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, c)
	})
	return m
}

func (s *Server) revList(w http.ResponseWriter, r *http.Request) {
	rl, err := s.node.LastRevocationList()
	if err == nil && rl == nil {
		s.mu.Lock()
		rl, err = s.node.RevocationList(s.rls)
		s.mu.Unlock()
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Write(rl.Marshal())
}

// statement takes a provider's push, signed by one of its issuers.
func (s *Server) statement(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, offpay.Errorf(offpay.ELIMIT, "statement over %d bytes", maxBody))
		return
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(SignatureHeader))
	if err != nil {
		writeError(w, offpay.Errorf(offpay.EUNAUTHORIZED, "no signature"))
		return
	}
	m := s.node.Register().Member(name)
	if m == nil {
		writeError(w, offpay.Errorf(offpay.ENOTFOUND, "no provider %s", name))
		return
	}
	cs, err := m.Certs()
	if err != nil {
		writeError(w, err)
		return
	}
	msg := append([]byte(StatementContext), body...)
	ok := false
	for _, c := range cs {
		ok = ok || protocol.VerifySignature(c.KeyAlg, c.Key, msg, sig) == nil
	}
	if !ok {
		writeError(w, offpay.Errorf(offpay.EUNAUTHORIZED, "statement not signed by an issuer of %s", name))
		return
	}
	var p Push
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Statement.Provider != name || p.Statement.Report == nil {
		writeError(w, offpay.Errorf(offpay.EINVALID, "malformed statement"))
		return
	}
	rl := new(protocol.RevocationList)
	if err := protocol.Unmarshal(p.RevocationList, rl); err != nil {
		writeError(w, offpay.Errorf(offpay.EINVALID, "revocation list: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.sts[name]; ok && !p.Statement.At.After(old.At) {
		writeError(w, offpay.Errorf(offpay.ECONFLICT, "statement of %s made at %s, not after the one held (%s)", name,
			p.Statement.At.Format(time.RFC3339Nano), old.At.Format(time.RFC3339Nano)))
		return
	}
	rls := map[string]*protocol.RevocationList{}
	for k, v := range s.rls {
		rls[k] = v
	}
	rls[name] = rl
	if _, err := s.node.RevocationList(rls); err != nil { // checks the list is the provider's
		writeError(w, err)
		return
	}
	s.rls, s.sts[name] = rls, p.Statement
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) clear(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		writeError(w, offpay.Errorf(offpay.EUNAUTHORIZED, "administrator token required"))
		return
	}
	s.mu.Lock()
	sts := make([]scheme.Statement, 0, len(s.sts))
	for _, st := range s.sts {
		sts = append(sts, st)
	}
	s.mu.Unlock()
	sort.Slice(sts, func(i, j int) bool { return sts[i].Provider < sts[j].Provider })
	c, err := s.node.Clear(sts)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, c)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

var status = map[offpay.Code]int{offpay.EINVALID: 400, offpay.EUNAUTHORIZED: 401, offpay.EFORBIDDEN: 403, offpay.ENOTFOUND: 404,
	offpay.ECONFLICT: 409, offpay.ELIMIT: 413, offpay.EUNAVAILABLE: 503}

type errBody struct {
	Code    offpay.Code `json:"code"`
	Message string      `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	code := offpay.ErrorCode(err)
	st, ok := status[code]
	msg := offpay.ErrorMessage(err)
	if !ok {
		st, code, msg = 500, offpay.EINTERNAL, "internal error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st)
	json.NewEncoder(w).Encode(errBody{Code: code, Message: msg})
}
