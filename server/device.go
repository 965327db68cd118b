package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/fxamacker/cbor/v2"
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"strings"
)

// Media types of the device endpoints.
const (
	// ContentType is one envelope: protocol.Seal's bytes.
	ContentType = "application/offpay+cbor"
	// ContentTypeSet is a CBOR array of byte strings, each an envelope, in
	// an order fixed per endpoint (see openapi.yaml).
	ContentTypeSet = "application/offpay-set+cbor"
)

// readBody reads the body of a device request of type typ: refused before
// reading if its media type is not ContentType or it is longer than the
// type's limit, read into one buffer of the declared length otherwise.
func readBody(w http.ResponseWriter, r *http.Request, typ protocol.Type) ([]byte, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != ContentType {
		return nil, errorf(CodeUnsupportedMedia, "the body must be %s", ContentType)
	}
	limit := int64(1 + protocol.MaxSize(typ))
	tooLarge := func() error {
		return errorf(CodeTooLarge, "body above %d bytes: %w", limit, &protocol.Error{Class: protocol.ClassOversize, Detail: "limit " + strconv.FormatInt(limit, 10)})
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	var b []byte
	if r.ContentLength >= 0 {
		b = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, b)
	} else {
		b, err = io.ReadAll(body)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, errorf(offpay.EINVALID, "reading the body failed")
	}
	return b, nil
}

func writeEnvelope(w http.ResponseWriter, m protocol.Message) {
	writeEnvelopeBytes(w, protocol.Seal(m))
}

func writeEnvelopeBytes(w http.ResponseWriter, b []byte) {
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

// take takes a token from key's bucket in l, or answers 429 with
// Retry-After and reports false.
func (s *Server) take(w http.ResponseWriter, r *http.Request, l *limiter, key, kind string) bool {
	ok, wait := l.allow(key)
	if ok {
		return true
	}
	s.metrics.limited.WithLabelValues(kind).Inc()
	s.refused.add(r.Context(), s.log, kind, key)
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	s.writeError(w, r, errorf(CodeRateLimited, "%s; retry later", map[string]string{
		limitAddress: "too many requests from this address",
		limitDevice:  "too many requests from this device",
		limitForgery: "too many requests from this address whose signature does not verify",
		limitToken:   "too many wrong administrator tokens from this address",
	}[kind]))
	return false
}

func deviceKey(id protocol.KeyID) string { return "dev:" + id.String() }

// deviceCall hands a decoded device request to the ledger.
type deviceCall func(r *http.Request, m protocol.Message) (protocol.Message, error)

// device serves a device-signed request (reserve, sync) of type typ. Each
// request is charged to exactly one identity:
//
//  1. Before a byte of the body is read, the client address pays a token
//     of its budget of unauthenticated requests (ClientRateLimit): a flood
//     of bodies that do not decode, of any size, is counted and refused
//     before it costs anything but the refusal.
//  2. The body is read (within the type's size limit) and its signature
//     is checked on the bytes, before decoding (PeekDeviceSignature,
//     with the key of the device the request names). A body without the
//     shape of a signed request is decoded only to say what is wrong with
//     it, and keeps the address's token.
//  3. The same bytes as a request already answered get the stored answer
//     (replay.go), and the address its token back: a replayed request
//     costs the device that signed it nothing.
//  4. A signature that does not verify (or names no enrolled device) is a
//     forgery: the address gets its token back and pays one of its bucket
//     of forgeries instead, which refuses only forgeries. So forgeries
//     from an address never block a request that authenticates from it.
//  5. A request whose signature verifies gives the address its token back
//     and pays one of its device's (RateLimit), then is decoded and served.
func (s *Server) device(w http.ResponseWriter, r *http.Request, typ protocol.Type, call deviceCall) {
	w.Header().Set("Cache-Control", "no-store")
	addr := s.clientKey(r)
	if !s.take(w, r, s.clients, addr, limitAddress) {
		return
	}
	paid := true
	refund := func() {
		if paid {
			s.clients.refund(addr)
			paid = false
		}
	}
	body, err := readBody(w, r, typ)
	if err != nil {
		s.metrics.unauthenticated.WithLabelValues("malformed").Inc()
		s.writeError(w, r, err)
		return
	}
	m, _ := protocol.New(typ)
	ds, ok := protocol.PeekDeviceSignature(body)
	if !ok || ds.Type != typ {
		// Not a signed request of this type: say what is wrong with it,
		// at the address's cost. One that decodes all the same (an old
		// version, say) is the ledger's to refuse, still at that cost.
		if err := protocol.OpenAs(body, m); err != nil {
			s.metrics.unauthenticated.WithLabelValues("malformed").Inc()
			s.writeError(w, r, err)
			return
		}
		s.answer(w, r, nil, call, m)
		return
	}
	f := s.replays.begin(r.Context(), newReplayKey(ds), body)
	defer f.end()
	if f.answer != nil {
		refund()
		s.metrics.replays.Inc()
		writeEnvelopeBytes(w, f.answer)
		return
	}
	if s.authenticate {
		if err := s.authenticateDevice(r, ds); err != nil {
			refund()
			if offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
				s.writeError(w, r, err)
				return
			}
			s.metrics.unauthenticated.WithLabelValues("forged").Inc()
			if s.take(w, r, s.forgeries, addr, limitForgery) {
				s.writeError(w, r, err)
			}
			return
		}
	}
	refund()
	if !s.take(w, r, s.devices, deviceKey(ds.Device), limitDevice) {
		return
	}
	if err := protocol.OpenAs(body, m); err != nil { // the device's own malformed message
		s.writeError(w, r, err)
		return
	}
	s.answer(w, r, f, call, m)
}

// deviceSignatureVerifier is a Ledger that checks a request's signature
// with the key of the device it names, with authenticateDevice's errors.
type deviceSignatureVerifier interface {
	VerifyDeviceSignature(ctx context.Context, ds protocol.DeviceSignature) error
}

// authenticateDevice checks the request's signature on its bytes with the
// key of the device it names. Its errors are EUNAUTHORIZED (no such
// device, a signature that does not verify) or the ledger's failures.
//
// A Ledger that verifies such signatures itself (ledger.Service) does it:
// it then does not verify a sync upload's signature a second time.
func (s *Server) authenticateDevice(r *http.Request, ds protocol.DeviceSignature) error {
	if v, ok := s.ledger.(deviceSignatureVerifier); ok {
		return v.VerifyDeviceSignature(r.Context(), ds)
	}
	cert, err := s.ledger.DeviceCertificate(r.Context(), ds.Device)
	if err != nil {
		return err
	}
	if cert == nil {
		return errorf(offpay.EINTERNAL, "ledger returned no certificate for %v", ds.Device)
	}
	if err := protocol.VerifySignature(cert.KeyAlg, cert.Key, ds.Input, ds.Sig); err != nil {
		return &offpay.Error{Code: offpay.EUNAUTHORIZED, Message: fmt.Sprintf("the request is not signed by device %v", ds.Device), Err: err}
	}
	return nil
}

// answer hands m to the ledger and writes its answer, which f (if any)
// keeps for replays.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, f *flight, call deviceCall, m protocol.Message) {
	res, err := call(r, m)
	if err != nil {
		if f != nil { // the device's state has moved on: no stale answers
			s.replays.forget(f.key.dev)
		}
		s.writeError(w, r, err)
		return
	}
	env := protocol.Seal(res)
	if f != nil {
		if sr, ok := res.(*protocol.SyncResult); ok && len(sr.Loads) > 0 {
			// A sync that hands loads over may have moved the device's
			// load numbers (a ledger that lost data renumbers a load it
			// reissued): a stored reserve answer may be stale.
			s.replays.forgetTypes(f.key.dev, protocol.TypeReserve)
		}
		f.store(env)
	}
	writeEnvelopeBytes(w, env)
}

// enrolAuth serves POST /v1/enrol: with the administrator's token
// (Authorization: Bearer), or with a one-time enrolment code of the
// request's account (Authorization: Code CODE), so that a device enrols
// itself without ever holding the token. Wrong codes are counted per
// client address in the bucket of wrong tokens.
func (s *Server) enrolAuth(w http.ResponseWriter, r *http.Request) {
	code, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Code ")
	if !ok {
		s.admin(s.enrol)(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !s.take(w, r, s.clients, s.clientKey(r), limitAddress) {
		return
	}
	s.enrolWith(w, r, func(req *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
		e, err := s.ledger.EnrolWithCode(r.Context(), req, code)
		if offpay.ErrorCode(err) == offpay.EUNAUTHORIZED {
			if !s.take(w, r, s.guesses, s.clientKey(r), limitToken) {
				return nil, errAnswered
			}
		}
		return e, err
	})
}

// errAnswered says the refusal was written already.
var errAnswered = errors.New("answered")

// enrol serves POST /v1/enrol with the administrator's token (admin
// checked it before the body is read).
func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	s.enrolWith(w, r, func(req *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
		return s.ledger.Enrol(r.Context(), req)
	})
}

func (s *Server) enrolWith(w http.ResponseWriter, r *http.Request, enrol func(*protocol.EnrolmentRequest) (*ledger.Enrolment, error)) {
	// A bare request (type 12) or one with its attestation (type 16).
	body, err := readBody(w, r, protocol.TypeAttestedEnrolment)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The bound of what was sent: a bare request is refused above its own
	// limit as the other device messages are (too large, before parsing).
	if len(body) > 0 && protocol.Type(body[0]) == protocol.TypeEnrolment && len(body) > 1+protocol.MaxEnrolmentSize {
		limit := 1 + protocol.MaxEnrolmentSize
		s.writeError(w, r, errorf(CodeTooLarge, "body above %d bytes: %w", limit, &protocol.Error{Class: protocol.ClassOversize, Detail: "limit " + strconv.Itoa(limit)}))
		return
	}
	req, err := protocol.OpenEnrolment(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := enrol(req)
	if err == errAnswered {
		return
	}
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
	s.device(w, r, protocol.TypeReserve, func(r *http.Request, m protocol.Message) (protocol.Message, error) {
		l, err := s.ledger.Reserve(r.Context(), m.(*protocol.ReserveRequest))
		if err == nil && l == nil {
			err = errorf(offpay.EINTERNAL, "ledger returned no load")
		}
		return l, err
	})
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	s.device(w, r, protocol.TypeSyncUpload, func(r *http.Request, m protocol.Message) (protocol.Message, error) {
		up := m.(*protocol.SyncUpload)
		res, err := s.ledger.Sync(r.Context(), up)
		if err == nil && res == nil {
			err = errorf(offpay.EINTERNAL, "ledger returned no sync result")
		}
		if err == nil {
			s.metrics.syncEntries.Add(float64(len(up.Entries)))
		}
		return res, err
	})
}

// AckAnswer is the answer to POST /v1/acknowledgement.
type AckAnswer struct {
	// LedgerBehind: the result acknowledges more of the device's log than
	// the ledger holds; it lost data, and the device uploads it again.
	LedgerBehind bool `json:"ledger_behind"`
}

// acknowledgement takes a device's last sync result (signed by this
// ledger, so anyone may present it; it proves what the ledger once held)
// as evidence that the ledger lost part of the device's log.
func (s *Server) acknowledgement(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.take(w, r, s.clients, s.clientKey(r), limitAddress) {
		return
	}
	var res protocol.SyncResult
	if !s.readEvidence(w, r, &res) {
		return
	}
	behind, err := s.ledger.Acknowledged(r.Context(), &res)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AckAnswer{LedgerBehind: behind})
}

func (s *Server) revocationList(w http.ResponseWriter, r *http.Request) {
	if !s.take(w, r, s.clients, s.clientKey(r), limitAddress) {
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
	if !s.take(w, r, s.clients, s.clientKey(r), limitAddress) {
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

// payOnline serves POST /v1/online-payments: an OnlinePayment signed by
// the payer's SE, authenticated on its bytes as reserve and sync are.
func (s *Server) payOnline(w http.ResponseWriter, r *http.Request) {
	s.device(w, r, protocol.TypeOnlinePayment, func(r *http.Request, m protocol.Message) (protocol.Message, error) {
		rc, err := s.ledger.PayOnline(r.Context(), m.(*protocol.OnlinePayment))
		if err == nil && rc == nil {
			err = errorf(offpay.EINTERNAL, "ledger returned no online receipt")
		}
		return rc, err
	})
}

// ReceiptTaker is the optional part of a Ledger that re-enters an online
// payment it lost from the receipt it signed (ledger/onlinerestore.go).
type ReceiptTaker interface {
	PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (restored bool, err error)
}

// ReceiptAnswer is the JSON answer of POST /v1/online-receipts.
type ReceiptAnswer struct {
	Restored bool `json:"restored"`
}

// readEvidence reads into m the body of a call that shows the ledger a
// message it signed itself; on an error it answers and reports false.
func (s *Server) readEvidence(w http.ResponseWriter, r *http.Request, m protocol.Message) bool {
	body, err := readBody(w, r, m.Type())
	if err == nil {
		err = protocol.OpenAs(body, m)
	}
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// presentReceipt serves POST /v1/online-receipts: an OnlineReceipt this
// ledger signed, presented by a wallet that holds it, so that a payment
// the ledger lost in a restore is entered again (once). The receipt's
// signature is the authority; the client address pays for the call.
func (s *Server) presentReceipt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.take(w, r, s.clients, s.clientKey(r), limitAddress) {
		return
	}
	rt, ok := s.ledger.(ReceiptTaker)
	if !ok {
		s.writeError(w, r, errorf(offpay.ENOTFOUND, "this ledger does not take receipts back"))
		return
	}
	var rc protocol.OnlineReceipt
	if !s.readEvidence(w, r, &rc) {
		return
	}
	restored, err := rt.PresentOnlineReceipt(r.Context(), &rc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if restored {
		s.log.Warn("online payment re-entered from its receipt after the ledger lost it", "payment", rc.Payment.String(), "amount_minor", rc.Amount)
	}
	writeJSON(w, http.StatusOK, ReceiptAnswer{Restored: restored})
}

// onlineReceipt serves GET /v1/online-payments/{payee}/{nonce}: the
// receipt of the payee's request, if a payer paid it online. The nonce,
// known to the payee and whom it showed the request, is the right to
// ask; guesses are charged to the client address.
func (s *Server) onlineReceipt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.take(w, r, s.clients, s.clientKey(r), limitAddress) {
		return
	}
	payee, err := protocol.ParseKeyID(r.PathValue("payee"))
	if err != nil {
		s.writeError(w, r, errorf(offpay.EINVALID, "payee: %v", err))
		return
	}
	var nonce protocol.Nonce
	b, err := hex.DecodeString(r.PathValue("nonce"))
	if err != nil || len(b) != len(nonce) {
		s.writeError(w, r, errorf(offpay.EINVALID, "nonce: %d hex digits expected", 2*len(nonce)))
		return
	}
	copy(nonce[:], b)
	rc, err := s.ledger.OnlineReceipt(r.Context(), payee, nonce)
	if err == nil && rc == nil {
		err = errorf(offpay.EINTERNAL, "ledger returned no online receipt")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeEnvelope(w, rc)
}
