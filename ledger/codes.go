package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// One-time enrolment codes. The operator issues a code bound to one
// account; a device enrols itself with it (EnrolWithCode), so no device
// ever holds the administrator's token. A code is 100 random bits, shown
// as 20 characters; only its SHA-256 is stored. It expires, is used once
// (enrolling the same key with it again returns the same certificate),
// and can be listed and cancelled. Wrong codes are throttled per client
// address by the server, like wrong administrator tokens.

// DefaultCodeTTL and MaxCodeTTL bound how long a code is valid.
const (
	DefaultCodeTTL = 24 * time.Hour
	MaxCodeTTL     = 30 * 24 * time.Hour
)

// codeAlphabet is Crockford's base32: no I, L, O or U to misread.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// EnrolCode is a code as issued: Code is shown once and never stored.
type EnrolCode struct {
	Code      string     `json:"code,omitempty"`
	ID        string     `json:"id"` // the first 12 hex digits of its hash: names it in lists and cancellations
	Account   string     `json:"account"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	Status    string     `json:"status"` // open, used, expired, cancelled
	UsedBy    string     `json:"used_by,omitempty"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
}

// CodeRow is a code as stored.
type CodeRow struct {
	Hash      [32]byte
	Account   string
	CreatedAt int64
	ExpiresAt int64
	UsedAt    int64
	UsedBy    protocol.KeyID
	Cancelled bool
}

// normalCode puts a code as typed into its canonical form: upper case,
// without separators, O read as 0 and I or L as 1.
func normalCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func codeHash(code string) [32]byte {
	return sha256.Sum256([]byte("offpay enrolment code " + normalCode(code)))
}

func (c *CodeRow) info(now int64) EnrolCode {
	out := EnrolCode{ID: hex.EncodeToString(c.Hash[:6]), Account: c.Account, CreatedAt: time.Unix(0, c.CreatedAt).UTC(),
		ExpiresAt: time.Unix(0, c.ExpiresAt).UTC(), Status: "open"}
	switch {
	case c.UsedAt != 0:
		out.Status, out.UsedBy = "used", c.UsedBy.String()
		t := time.Unix(0, c.UsedAt).UTC()
		out.UsedAt = &t
	case c.Cancelled:
		out.Status = "cancelled"
	case c.ExpiresAt <= now:
		out.Status = "expired"
	}
	return out
}

// IssueCode issues a one-time enrolment code for account, valid for ttl
// (DefaultCodeTTL if 0, at most MaxCodeTTL). The code is in the answer
// only.
func (s *Service) IssueCode(ctx context.Context, account string, ttl time.Duration) (*EnrolCode, error) {
	if ttl == 0 {
		ttl = DefaultCodeTTL
	}
	if ttl < time.Minute || ttl > MaxCodeTTL {
		return nil, invalid("a code is valid for a minute to %v", MaxCodeTTL)
	}
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "random: %w", err)
	}
	var b strings.Builder
	for i, v := range raw {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[v%32]) // 256 % 32 == 0: uniform
	}
	code := b.String()
	now := s.now()
	row := &CodeRow{Hash: codeHash(code), Account: account, CreatedAt: now.UnixNano(), ExpiresAt: now.Add(ttl).UnixNano()}
	err := s.update(ctx, func(tx Tx) error {
		a, err := mustAccount(ctx, tx, account)
		if err != nil {
			return err
		}
		if a.Frozen {
			return offpay.Errorf(offpay.EFORBIDDEN, "account %q is frozen", a.Name)
		}
		return tx.InsertCode(ctx, row)
	})
	if err != nil {
		return nil, err
	}
	out := row.info(now.UnixNano())
	out.Code = code
	return &out, nil
}

// Codes lists the enrolment codes issued, newest first.
func (s *Service) Codes(ctx context.Context) ([]EnrolCode, error) {
	var rows []CodeRow
	if err := s.view(ctx, func(tx Tx) (err error) { rows, err = tx.Codes(ctx); return err }); err != nil {
		return nil, err
	}
	now := s.now().UnixNano()
	out := make([]EnrolCode, len(rows))
	for i := range rows {
		out[i] = rows[i].info(now)
	}
	return out, nil
}

// CancelCode cancels the open code whose id (EnrolCode.ID, or a longer
// prefix of its hash) is id.
func (s *Service) CancelCode(ctx context.Context, id string) error {
	id = strings.ToLower(id)
	if len(id) < 12 {
		return invalid("name a code by the 12 digits of its id")
	}
	return s.update(ctx, func(tx Tx) error {
		rows, err := tx.Codes(ctx)
		if err != nil {
			return err
		}
		var hit *CodeRow
		for i := range rows {
			if strings.HasPrefix(hex.EncodeToString(rows[i].Hash[:]), id) {
				if hit != nil {
					return invalid("id %s names more than one code", id)
				}
				hit = &rows[i]
			}
		}
		switch {
		case hit == nil:
			return offpay.Errorf(offpay.ENOTFOUND, "no code %s", id)
		case hit.UsedAt != 0:
			return offpay.Errorf(offpay.ECONFLICT, "code %s was used already", id)
		}
		hit.Cancelled = true
		return tx.UpdateCode(ctx, hit)
	})
}

// errBadCode is the one answer to a code that is unknown, expired, used
// by another device, cancelled, or for another account: a guesser learns
// nothing from it.
func errBadCode() error {
	return offpay.Errorf(offpay.EUNAUTHORIZED, "enrolment code unknown, expired, used or cancelled")
}

// EnrolWithCode is Enrol authorised by a one-time code of the request's
// account instead of the administrator's token; the code is used by this
// enrolment (in its transaction). The same key with the same code again
// gets the same certificate.
func (s *Service) EnrolWithCode(ctx context.Context, req *protocol.EnrolmentRequest, code string) (*Enrolment, error) {
	h := codeHash(code)
	return s.enrol(ctx, req, func(tx Tx, r *protocol.EnrolmentRequest) error {
		c, err := tx.Code(ctx, h)
		if err != nil {
			return err
		}
		now := s.now().UnixNano()
		switch {
		case c == nil, c.Cancelled, c.Account != r.Account:
			return errBadCode()
		case c.UsedAt != 0:
			if c.UsedBy != r.ID() {
				return errBadCode()
			}
			return nil // the same device again: idempotent
		case c.ExpiresAt <= now:
			return errBadCode()
		}
		c.UsedAt, c.UsedBy = now, r.ID()
		return tx.UpdateCode(ctx, c)
	})
}
