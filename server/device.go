package server

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Media types of the device endpoints.
const (
	// ContentType is one envelope: protocol.Seal's bytes.
	ContentType = "application/offpay+cbor"
	// ContentTypeSet is a CBOR array of byte strings, each an envelope, in
	// an order fixed per endpoint (see openapi.yaml).
	ContentTypeSet = "application/offpay-set+cbor"
)

// readMessage reads an envelope of m's type from the body. The body is
// refused before parsing if it is longer than the type's limit.
func readMessage(w http.ResponseWriter, r *http.Request, m protocol.Message) error {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != ContentType {
		return errorf(CodeUnsupportedMedia, "the body must be %s", ContentType)
	}
	limit := int64(1 + protocol.MaxSize(m.Type()))
	if r.ContentLength > limit {
		return errorf(CodeTooLarge, "body of %d bytes: %w", r.ContentLength, &protocol.Error{Class: protocol.ClassOversize, Detail: "limit " + strconv.FormatInt(limit, 10)})
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(CodeTooLarge, "body too large: %w", &protocol.Error{Class: protocol.ClassOversize, Detail: "limit " + strconv.FormatInt(limit, 10)})
		}
		return errorf(offpay.EINVALID, "reading the body failed")
	}
	return protocol.OpenAs(body, m)
}

func writeEnvelope(w http.ResponseWriter, m protocol.Message) {
	b := protocol.Seal(m)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func writeSet(w http.ResponseWriter, ms ...protocol.Message) error {
	set := make([][]byte, len(ms))
	for i, m := range ms {
		set[i] = protocol.Seal(m)
	}
	b, err := cbor.Marshal(set)
	if err != nil {
		return errorf(offpay.EINTERNAL, "encode set: %w", err)
	}
	w.Header().Set("Content-Type", ContentTypeSet)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

// limit applies the rate limit to key, answering 429 with Retry-After when
// the bucket is empty. Requests from a client address that recently sent
// forged signatures are refused too (see settle). It reports whether the
// request may go on.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, key string) bool {
	var blocked bool
	var wait time.Duration
	if strings.HasPrefix(key, "ip:") {
		ok, d := s.clients.allow(key)
		blocked, wait = !ok, d
	} else {
		blocked, wait = s.clients.blocked(forgerKey(r))
		if !blocked {
			ok, d := s.devices.allow(key)
			blocked, wait = !ok, d
		}
	}
	if !blocked {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	s.writeError(w, r, errorf(CodeRateLimited, "too many requests; retry later"))
	return false
}

// settle handles a request whose signature the ledger refused. The device
// key in such a message is only a claim, so its token goes back (a forger
// must not drain a real device's bucket) and the sender's address pays
// instead: once its bucket of forgeries is empty, limit refuses it.
func (s *Server) settle(r *http.Request, key string, err error) {
	if err == nil {
		return
	}
	if offpay.ErrorCode(err) == offpay.EUNAUTHORIZED || protocol.ClassOf(err) == protocol.ClassBadSignature {
		s.devices.refund(key)
		s.clients.allow(forgerKey(r))
	}
}

func deviceKey(id protocol.KeyID) string { return "dev:" + id.String() }

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientKey is the rate limit key of requests that name no device.
func clientKey(r *http.Request) string { return "ip:" + remoteHost(r) }

// forgerKey counts the refused signatures sent from one address.
func forgerKey(r *http.Request) string { return "bad:" + remoteHost(r) }

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	var req protocol.EnrolmentRequest
	if err := readMessage(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	key := deviceKey(req.ID())
	if !s.limit(w, r, key) {
		return
	}
	e, err := s.ledger.Enrol(r.Context(), &req)
	s.settle(r, key, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if e == nil || e.Device == nil || e.Issuer == nil || e.Root == nil || e.RevList == nil {
		s.writeError(w, r, errorf(offpay.EINTERNAL, "ledger returned an incomplete enrolment"))
		return
	}
	if err := writeSet(w, e.Device, e.Issuer, e.Root, e.RevList); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) reserve(w http.ResponseWriter, r *http.Request) {
	var req protocol.ReserveRequest
	if err := readMessage(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	key := deviceKey(req.Device)
	if !s.limit(w, r, key) {
		return
	}
	l, err := s.ledger.Reserve(r.Context(), &req)
	s.settle(r, key, err)
	if err == nil && l == nil {
		err = errorf(offpay.EINTERNAL, "ledger returned no load")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeEnvelope(w, l)
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	var up protocol.SyncUpload
	if err := readMessage(w, r, &up); err != nil {
		s.writeError(w, r, err)
		return
	}
	key := deviceKey(up.Device)
	if !s.limit(w, r, key) {
		return
	}
	res, err := s.ledger.Sync(r.Context(), &up)
	s.settle(r, key, err)
	if err == nil && res == nil {
		err = errorf(offpay.EINTERNAL, "ledger returned no sync result")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.syncEntries.Add(float64(len(up.Entries)))
	writeEnvelope(w, res)
}

func (s *Server) revocationList(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, clientKey(r)) {
		return
	}
	rl, err := s.ledger.RevocationList(r.Context())
	if err == nil && rl == nil {
		err = errorf(offpay.EINTERNAL, "ledger returned no revocation list")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeEnvelope(w, rl)
}

func (s *Server) trust(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, r, clientKey(r)) {
		return
	}
	root, issuer := s.ledger.Trust()
	if root == nil || issuer == nil {
		s.writeError(w, r, errorf(offpay.EINTERNAL, "ledger has no trust anchors"))
		return
	}
	if err := writeSet(w, root, issuer); err != nil {
		s.writeError(w, r, err)
	}
}
