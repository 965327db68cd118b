package schemehttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
)

// Client talks to a scheme node.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the scheme at base (http://host:port).
func NewClient(base string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 10 * time.Second}}
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, hdr map[string]string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return offpay.Errorf(offpay.EINVALID, "%v", err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return offpay.Errorf(offpay.EUNAVAILABLE, "scheme %s: %v", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return offpay.Errorf(offpay.EUNAVAILABLE, "scheme %s: %v", c.base, err)
	}
	if resp.StatusCode >= 300 {
		var e errBody
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			e = errBody{Code: offpay.EINTERNAL, Message: fmt.Sprintf("status %d", resp.StatusCode)}
		}
		return offpay.Errorf(e.Code, "scheme: %s", e.Message)
	}
	switch v := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*v = b
		return nil
	default:
		if err := json.Unmarshal(b, out); err != nil {
			return offpay.Errorf(offpay.EINVALID, "scheme answer: %v", err)
		}
		return nil
	}
}

// Register fetches the register and checks that it chains to its root.
// A device or ledger compares that root with the one it pinned.
func (c *Client) Register(ctx context.Context) (*scheme.Register, error) {
	r := new(scheme.Register)
	if err := c.do(ctx, http.MethodGet, "/v1/register", nil, nil, r); err != nil {
		return nil, err
	}
	return r, r.Verify()
}

// RevocationList fetches the scheme-wide list (the caller verifies it
// with its trust: the root signed it).
func (c *Client) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	var b []byte
	if err := c.do(ctx, http.MethodGet, "/v1/revocation-list", nil, nil, &b); err != nil {
		return nil, err
	}
	rl := new(protocol.RevocationList)
	if err := protocol.Unmarshal(b, rl); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "revocation list: %v", err)
	}
	return rl, nil
}

// Push sends a provider's statement and revocation list signed by key,
// its issuer key.
func (c *Client) Push(ctx context.Context, key protocol.Signer, st scheme.Statement, rl *protocol.RevocationList) error {
	body, err := json.Marshal(Push{Statement: st, RevocationList: rl.Marshal()})
	if err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "encoding statement: %v", err)
	}
	sig, err := key.Sign(append([]byte(StatementContext), body...))
	if err != nil {
		return offpay.Errorf(offpay.EUNAVAILABLE, "signing statement: %v", err)
	}
	return c.do(ctx, http.MethodPost, "/v1/statements/"+st.Provider, body, map[string]string{SignatureHeader: base64.StdEncoding.EncodeToString(sig),
		"Content-Type": "application/json"}, nil)
}

// Clear runs a clearing cycle (the scheme's administrator token).
func (c *Client) Clear(ctx context.Context, token string) (*scheme.Cycle, error) {
	cy := new(scheme.Cycle)
	return cy, c.do(ctx, http.MethodPost, "/v1/clearing", nil, map[string]string{"Authorization": "Bearer " + token}, cy)
}
