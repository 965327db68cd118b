package ledgerclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// The administrator calls need Options.AdminToken. Of those that change
// state, Deposit and Withdraw are retried (the ledger applies a ref once)
// and so are Revoke (revoking twice is a no-op) and Resend; CreateAccount
// is not, as its repeat would answer "conflict".

type moveRequest struct {
	Amount int64  `json:"amount_minor"`
	Ref    string `json:"ref"`
}

func accountPath(name string) string { return "/v1/admin/accounts/" + url.PathEscape(name) }

// CreateAccount creates an account.
func (c *Client) CreateAccount(ctx context.Context, name string, merchant bool) (*ledger.Account, error) {
	if err := ledger.CheckAccountName(name); err != nil {
		return nil, err
	}
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

// CreateMerchant creates a merchant account whose devices are certified
// with display as the name payers are shown.
func (c *Client) CreateMerchant(ctx context.Context, name, display string) (*ledger.Account, error) {
	var a ledger.Account
	in := struct {
		Name        string `json:"name"`
		Merchant    bool   `json:"merchant"`
		DisplayName string `json:"display_name"`
	}{name, true, display}
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
	if err := ledger.CheckText("ref", ref); err != nil { // before json.Marshal turns invalid UTF-8 into U+FFFD
		return nil, err
	}
	var a ledger.Account
	if err := c.postJSON(ctx, accountPath(name)+"/deposit", moveRequest{amount, ref}, &a, true); err != nil {
		return nil, err
	}
	return &a, nil
}

// Withdraw debits amount minor units from the account; ref as for Deposit.
func (c *Client) Withdraw(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	if err := ledger.CheckText("ref", ref); err != nil {
		return nil, err
	}
	var a ledger.Account
	if err := c.postJSON(ctx, accountPath(name)+"/withdraw", moveRequest{amount, ref}, &a, true); err != nil {
		return nil, err
	}
	return &a, nil
}

// ReenterWithdrawal enters again a withdrawal the bank paid out, which a
// restore of the ledger took (ledger.Service.ReenterWithdrawal); ref as
// for Deposit, shared with Withdraw.
func (c *Client) ReenterWithdrawal(ctx context.Context, name string, amount int64, ref string) (*ledger.Account, error) {
	if err := ledger.CheckText("ref", ref); err != nil {
		return nil, err
	}
	var a ledger.Account
	if err := c.postJSON(ctx, accountPath(name)+"/reenter-withdrawal", moveRequest{amount, ref}, &a, true); err != nil {
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

// Accounts lists every account, by name.
func (c *Client) Accounts(ctx context.Context) ([]ledger.AccountSummary, error) {
	var out []ledger.AccountSummary
	if err := c.getJSON(ctx, "/v1/admin/accounts", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Devices lists the devices of account, or every device if it is empty.
func (c *Client) Devices(ctx context.Context, account string) ([]ledger.DeviceSummary, error) {
	path := "/v1/admin/devices"
	if account != "" {
		path += "?account=" + url.QueryEscape(account)
	}
	var out []ledger.DeviceSummary
	if err := c.getJSON(ctx, path, &out); err != nil {
		return nil, err
	}
	return out, nil
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
	if err := ledger.CheckText("reason", reason); err != nil {
		return err
	}
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

// Outbox returns a page of the bank notifications matching q (q.After
// from the previous page's Next).
func (c *Client) Outbox(ctx context.Context, q ledger.OutboxQuery) (*ledger.OutboxPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"state": q.State, "account": q.Account, "kind": q.Kind, "key": q.Key, "after": q.After} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var p ledger.OutboxPage
	if err := c.getJSON(ctx, "/v1/admin/outbox?"+v.Encode(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Resend makes the notifications matching q (a key, or a time range)
// pending again and returns how many. It is retried: resending twice
// sends them again, which a receiver deduplicating by key ignores.
func (c *Client) Resend(ctx context.Context, q ledger.OutboxQuery) (int64, error) {
	in := struct {
		Key     string `json:"key,omitempty"`
		State   string `json:"state,omitempty"`
		Account string `json:"account,omitempty"`
		Kind    string `json:"kind,omitempty"`
		From    string `json:"from,omitempty"`
		To      string `json:"to,omitempty"`
	}{q.Key, q.State, q.Account, q.Kind, "", ""}
	if !q.From.IsZero() {
		in.From = q.From.UTC().Format(time.RFC3339Nano)
	}
	if !q.To.IsZero() {
		in.To = q.To.UTC().Format(time.RFC3339Nano)
	}
	var out struct {
		Resent int64 `json:"resent"`
	}
	if err := c.postJSON(ctx, "/v1/admin/outbox/resend", in, &out, true); err != nil {
		return 0, err
	}
	return out.Resent, nil
}

// IssueCode issues a one-time enrolment code for account, valid for ttl
// (0: a day).
func (c *Client) IssueCode(ctx context.Context, account string, ttl time.Duration) (*ledger.EnrolCode, error) {
	var out ledger.EnrolCode
	in := struct {
		TTLSeconds int64 `json:"ttl_seconds"`
	}{int64(ttl / time.Second)}
	if err := c.postJSON(ctx, "/v1/admin/accounts/"+url.PathEscape(account)+"/codes", in, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}

// Codes lists the enrolment codes issued (never their secrets).
func (c *Client) Codes(ctx context.Context) ([]ledger.EnrolCode, error) {
	var out []ledger.EnrolCode
	if err := c.getJSON(ctx, "/v1/admin/codes", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CancelCode cancels an open enrolment code by its id.
func (c *Client) CancelCode(ctx context.Context, id string) error {
	return c.postJSON(ctx, "/v1/admin/codes/"+url.PathEscape(id)+"/cancel", struct{}{}, nil, true)
}

// Lost reports a device lost or stolen.
func (c *Client) Lost(ctx context.Context, device protocol.KeyID) error {
	return c.postJSON(ctx, "/v1/admin/devices/"+device.String()+"/lost", struct{}{}, nil, true)
}
