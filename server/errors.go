package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Codes the HTTP layer adds to offpay's own: failures that happen before a
// request reaches the ledger. Like offpay's codes they are part of the API.
const (
	CodeTooLarge         offpay.Code = "too_large"
	CodeUnsupportedMedia offpay.Code = "unsupported_media_type"
	CodeRateLimited      offpay.Code = "rate_limited"
	CodeMethodNotAllowed offpay.Code = "method_not_allowed"
	// Go's HTTP server answers these itself, before any handler, for
	// requests it cannot parse; Listener rewrites its answers into the
	// API's JSON with these codes (400s get "invalid").
	CodeHeaderTooLarge offpay.Code = "header_too_large"
	CodeNotImplemented offpay.Code = "not_implemented"
	CodeHTTPVersion    offpay.Code = "http_version_not_supported"
)

// statusOf is the one table from error code to HTTP status. A code missing
// here is answered as 500.
var statusOf = map[offpay.Code]int{
	offpay.EINVALID:      http.StatusBadRequest,
	offpay.EUNAUTHORIZED: http.StatusUnauthorized,
	offpay.EFORBIDDEN:    http.StatusForbidden,
	offpay.ENOTFOUND:     http.StatusNotFound,
	offpay.ECONFLICT:     http.StatusConflict,
	offpay.ELIMIT:        http.StatusUnprocessableEntity,
	offpay.EUNAVAILABLE:  http.StatusServiceUnavailable,
	offpay.EBEHIND:       http.StatusConflict,
	offpay.EINTERNAL:     http.StatusInternalServerError,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia: http.StatusUnsupportedMediaType,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeHeaderTooLarge:   http.StatusRequestHeaderFieldsTooLarge,
	CodeNotImplemented:   http.StatusNotImplemented,
	CodeHTTPVersion:      http.StatusHTTPVersionNotSupported,
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a stable code, a message safe to show a person, and for
// protocol failures the protocol's error class (SPEC.md), such as
// "bad_signature" or "revoked".
type ErrorDetail struct {
	Code    offpay.Code    `json:"code"`
	Message string         `json:"message"`
	Class   protocol.Class `json:"class,omitempty"`
	// Acked, with code "behind": the last counter of the device's log the
	// ledger holds; the device uploads again from the next one.
	Acked *uint64 `json:"acked,omitempty"`
}

// describe turns err into what a client may see. Only *offpay.Error
// messages of non-internal codes and protocol errors (whose text our own
// decoder wrote) pass; everything else becomes "internal error".
func describe(err error) ErrorDetail {
	var oe *offpay.Error
	if errors.As(err, &oe) {
		code := offpay.ErrorCode(err)
		if _, ok := statusOf[code]; !ok {
			code = offpay.EINTERNAL
		}
		d := ErrorDetail{Code: code, Message: offpay.ErrorMessage(err)}
		if code != offpay.EINTERNAL {
			d.Class = protocol.ClassOf(err)
		} else {
			d.Message = "internal error"
		}
		var be *ledger.BehindError
		if code == offpay.EBEHIND && errors.As(err, &be) {
			acked := be.Acked
			d.Acked = &acked
		}
		return d
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return ErrorDetail{Code: offpay.EINVALID, Message: pe.Error(), Class: pe.Class}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrorDetail{Code: offpay.EUNAVAILABLE, Message: "the ledger did not answer in time"}
	}
	return ErrorDetail{Code: offpay.EINTERNAL, Message: "internal error"}
}

// writeError answers err as JSON. Internal errors are logged with their
// full text, which never reaches the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	d := describe(err)
	status := statusOf[d.Code]
	switch {
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		// The client went away and the ledger gave up with it: nothing is
		// wrong with the ledger, and nobody reads this answer.
		s.log.InfoContext(r.Context(), "request abandoned by the client", "path", r.URL.Path, "err", chain(err))
	case d.Code == offpay.EINTERNAL:
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", chain(err))
	default:
		s.log.DebugContext(r.Context(), "request refused", "path", r.URL.Path, "code", d.Code, "err", err)
	}
	writeJSON(w, status, ErrorBody{Error: d})
}

// chain spells out every layer of err for the log: the ledger hides store
// errors behind an "internal error" message whose cause is only in Err.
func chain(err error) string {
	text := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		if t := e.Error(); !strings.Contains(text, t) {
			if text != "" {
				text += ": "
			}
			text += t
		}
	}
	return text
}

func errorf(code offpay.Code, format string, args ...any) error {
	return offpay.Errorf(code, format, args...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded here; this cannot happen short of
		// a programming error, and the client must still get JSON.
		slog.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
