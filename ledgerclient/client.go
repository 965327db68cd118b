// Package ledgerclient is the HTTP client of the ledger's API, used by wallets, terminals and the command line.
package ledgerclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Media types of the device endpoints (see server/openapi.yaml).
const (
	contentType    = "application/offpay+cbor"
	contentTypeSet = "application/offpay-set+cbor"
)

// maxJSON bounds a JSON answer (a report lists every device).
const maxJSON = 64 << 20

// Options configure a Client. Zero fields take the defaults.
type Options struct {
	// AdminToken is sent as a bearer token by enrolment and the
	// administrator calls.
	AdminToken string
	// HTTPClient sends the requests (default: a client with Timeout).
	HTTPClient *http.Client
	// Timeout bounds one attempt, answer included, when HTTPClient is not
	// given (default 30 s). A context deadline bounds the whole call.
	Timeout time.Duration
	// Retries is how many times an idempotent call (reads, Reserve, Sync)
	// is repeated after the ledger could not be reached or was overloaded
	// (default 3; negative: never).
	Retries int
	// Backoff is the first retry delay, doubled each time with jitter
	// (default 250 ms), unless the ledger says Retry-After.
	Backoff time.Duration
	// MaxBackoff caps a retry delay, Retry-After included (default 10 s).
	MaxBackoff time.Duration
	// AllowInsecure lets the administrator token and enrolments go over
	// plain HTTP to a host that is not a loopback address. Without it New
	// refuses an AdminToken for such a URL and Enrol refuses to send
	// (InsecureError): the token is the operator's, and the enrolment's
	// answer is the root a device pins for ever.
	AllowInsecure bool
}

// Client talks to one ledger. It is safe for concurrent use.
type Client struct {
	base *url.URL
	opts Options
	hc   *http.Client
}

// New returns a client of the ledger at baseURL (such as
// "http://127.0.0.1:8420").
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, offpay.Errorf(offpay.EINVALID, "ledger URL %q is not an http(s) URL", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: opts.Timeout}
	}
	c := &Client{base: u, opts: opts, hc: hc}
	if opts.AdminToken != "" {
		if err := c.secure(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// PlainRemote reports whether u is plain HTTP to a host that is not a
// loopback address ("localhost", 127.0.0.0/8, ::1): a network anyone on
// the path can read and answer.
func PlainRemote(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return false
	}
	ip := net.ParseIP(h)
	return ip == nil || !ip.IsLoopback()
}

// secure refuses plain HTTP to a remote host unless AllowInsecure.
func (c *Client) secure() error {
	if PlainRemote(c.base) && !c.opts.AllowInsecure {
		return &InsecureError{URL: c.base.String()}
	}
	return nil
}

// URL returns the ledger's base URL.
func (c *Client) URL() string { return c.base.String() }

// call is one API call: what to send and how to treat it.
type call struct {
	method, path string
	body         []byte
	contentType  string
	admin        bool
	idempotent   bool
	auth         string // an Authorization header other than the admin token
}

// do performs the call, repeating an idempotent one after retryable
// failures, and returns the answer's body with a 2xx status.
func (c *Client) do(ctx context.Context, cl call, accept string, limit int64) ([]byte, error) {
	if cl.admin || cl.auth != "" || cl.path == "/v1/enrol" {
		if err := c.secure(); err != nil {
			return nil, err
		}
	}
	retries := 0
	if cl.idempotent && c.opts.Retries > 0 {
		retries = c.opts.Retries
	}
	for attempt := 0; ; attempt++ {
		body, wait, err := c.once(ctx, cl, accept, limit)
		if err == nil || attempt >= retries || !retryable(err) || ctx.Err() != nil {
			return body, err
		}
		d := c.opts.MaxBackoff
		if attempt < 20 {
			d = min(d, c.opts.Backoff<<attempt)
		}
		d = d/2 + rand.N(d/2+1) // equal jitter: retries from many devices spread out
		d = min(max(d, wait), c.opts.MaxBackoff)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// once performs one attempt. wait is the ledger's Retry-After, if any.
func (c *Client) once(ctx context.Context, cl call, accept string, limit int64) ([]byte, time.Duration, error) {
	u := c.base.String() + cl.path
	var rd io.Reader
	if cl.body != nil {
		rd = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, rd)
	if err != nil {
		return nil, 0, offpay.Errorf(offpay.EINVALID, "request: %w", err)
	}
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	if accept != "" && accept != "application/json" {
		req.Header.Set("Accept", accept+", application/json")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", "offpay-ledgerclient")
	if cl.admin {
		req.Header.Set("Authorization", "Bearer "+c.opts.AdminToken)
	}
	if cl.auth != "" {
		req.Header.Set("Authorization", cl.auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return nil, 0, ctx.Err() // the caller gave up; the ledger may be fine
		}
		return nil, 0, &UnreachableError{URL: c.base.String(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		b, err := readLimited(resp.Body, limit)
		if err != nil {
			return nil, 0, &UnreachableError{URL: c.base.String(), Err: fmt.Errorf("reading the answer: %w", err)}
		}
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); accept != "" && ct != accept && resp.StatusCode != http.StatusNoContent {
			return nil, 0, offpay.Errorf(offpay.EINTERNAL, "ledger answered %s, want %s", ct, accept)
		}
		return b, 0, nil
	}
	wait := time.Duration(0)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	err = c.apiError(resp)
	if ae, ok := err.(*APIError); ok {
		ae.RetryAfter = wait
	}
	return nil, wait, err
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("answer above %d bytes", limit)
	}
	return b, nil
}

// apiError decodes an error answer. An answer that is not the ledger's
// JSON (a proxy's page) is reported by status alone.
func (c *Client) apiError(resp *http.Response) error {
	b, _ := readLimited(resp.Body, 64<<10)
	var eb struct {
		Error struct {
			Code    offpay.Code    `json:"code"`
			Message string         `json:"message"`
			Class   protocol.Class `json:"class"`
			Acked   *uint64        `json:"acked"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, Class: eb.Error.Class, Acked: eb.Error.Acked}
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return &UnreachableError{URL: c.base.String(), Err: fmt.Errorf("%s from an intermediary", resp.Status)}
	}
	return &APIError{Status: resp.StatusCode, Code: codeOfStatus(resp.StatusCode), Message: resp.Status}
}

func codeOfStatus(s int) offpay.Code {
	switch s {
	case 400:
		return offpay.EINVALID
	case 401:
		return offpay.EUNAUTHORIZED
	case 403:
		return offpay.EFORBIDDEN
	case 404:
		return offpay.ENOTFOUND
	case 409:
		return offpay.ECONFLICT
	case 422:
		return offpay.ELIMIT
	case 429:
		return CodeRateLimited
	}
	return offpay.EINTERNAL
}

// getJSON and postJSON are the administrator calls.
func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	b, err := c.do(ctx, call{method: http.MethodGet, path: path, admin: true, idempotent: true}, "application/json", maxJSON)
	if err != nil {
		return err
	}
	return decodeJSON(b, out)
}

func (c *Client) postJSON(ctx context.Context, path string, in, out any, idempotent bool) error {
	body, err := json.Marshal(in)
	if err != nil {
		return offpay.Errorf(offpay.EINVALID, "encode request: %w", err)
	}
	accept := "application/json"
	if out == nil {
		accept = ""
	}
	b, err := c.do(ctx, call{method: http.MethodPost, path: path, body: body, contentType: "application/json", admin: true, idempotent: idempotent}, accept, maxJSON)
	if err != nil || out == nil {
		return err
	}
	return decodeJSON(b, out)
}

func decodeJSON(b []byte, out any) error {
	if err := json.Unmarshal(b, out); err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "ledger answer is not the expected JSON: %w", err)
	}
	return nil
}
