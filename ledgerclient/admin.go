package ledgerclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// The administrator calls need Options.AdminToken. Of those that change
// state, Deposit and Withdraw are retried (the ledger applies a ref once)
// and so is Revoke (revoking twice is a no-op); CreateAccount is not, as
// its repeat would answer "conflict".

type moveRequest struct {
	Amount int64  `json:"amount_minor"`
	Ref    string `json:"ref"`
}

func accountPath(name string) string { return "/v1/admin/accounts/" + url.PathEscape(name) }

// CreateAccount creates an account.
func (c *Client) CreateAccount(ctx context.Context, name string, merchant bool) (*ledger.Account, error) {
	var a ledger.Account
	in := struct {
		Name     string `json:"name"`
		Merchant bool   `json:"merchant"`
	}{name, merchant}
	if err := c.postJSON(ctx, "/v1/admin/accounts", in, &a, false); err != nil {
		return nil, err
	}
	return &a, nil
}

// Deposit credits amount minor units to the account. ref (1 to 128 bytes,
// required) is the operator's reference shown on the statement, and the
// idempotency key: the same ref with the same account and amount is
// applied once; reused for anything else it is a conflict.
func (c *Client) Deposit(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	var a ledger.Account
	if err := c.postJSON(ctx, accountPath(name)+"/deposit", moveRequest{amount, ref}, &a, true); err != nil {
		return nil, err
	}
	return &a, nil
}

// Withdraw debits amount minor units from the account; ref as for Deposit.
func (c *Client) Withdraw(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	var a ledger.Account
	if err := c.postJSON(ctx, accountPath(name)+"/withdraw", moveRequest{amount, ref}, &a, true); err != nil {
		return nil, err
	}
	return &a, nil
}

// Account returns an account and its balance.
func (c *Client) Account(ctx context.Context, name string) (*ledger.Account, error) {
	var a ledger.Account
	if err := c.getJSON(ctx, accountPath(name), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Statement returns the account's movements, oldest first.
func (c *Client) Statement(ctx context.Context, name string) ([]ledger.StatementLine, error) {
	var s struct {
		Lines []ledger.StatementLine `json:"lines"`
	}
	if err := c.getJSON(ctx, accountPath(name)+"/statement", &s); err != nil {
		return nil, err
	}
	return s.Lines, nil
}

// Revoke revokes a device; the next revocation list names it.
func (c *Client) Revoke(ctx context.Context, device protocol.KeyID, reason string) error {
	in := struct {
		Reason string `json:"reason"`
	}{reason}
	return c.postJSON(ctx, "/v1/admin/devices/"+device.String()+"/revoke", in, nil, true)
}

// Report returns the reconciliation report.
func (c *Client) Report(ctx context.Context) (*ledger.Report, error) {
	var r ledger.Report
	if err := c.getJSON(ctx, "/v1/admin/report", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Health reports whether the ledger answers /healthz.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/healthz", idempotent: true}, "application/json", 1024)
	return err
}
