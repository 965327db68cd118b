package vse

import (
	"bytes"
	"crypto/rand"
	"fmt"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

const day = 24 * 3600

// Enrol implements se.SE. The key exists from Create; enrolment only
// proves possession of it for an account.
func (v *VSE) Enrol(account string, now uint64) (*protocol.EnrolmentRequest, error) {
	if err := v.begin(false); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if v.cert != nil {
		return nil, se.Errorf(se.CodeEnrolled, "a certificate is already installed")
	}
	r := &protocol.EnrolmentRequest{
		Version: protocol.Version, KeyAlg: v.signer.Alg(), Key: v.signer.PublicKey(),
		Account: account, Class: v.o.Class, Time: v.clock(now),
	}
	if err := r.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := protocol.Unmarshal(r.Marshal(), new(protocol.EnrolmentRequest)); err != nil {
		return nil, se.FromProtocol(err)
	}
	return r, nil
}

// Install implements se.SE. The first call pins the roots (trust on
// first use, at enrolment). Later calls renew the certificate or add
// issuers, but only under the pinned roots: an app that could swap the
// roots could sign itself loads.
func (v *VSE) Install(dev *protocol.Certificate, a se.Anchors, rl *protocol.RevocationList) error {
	if err := v.begin(false); err != nil {
		return err
	}
	defer v.mu.Unlock()
	var roots, issuers [][]byte
	for _, c := range a.Roots {
		roots = append(roots, c.Marshal())
	}
	if v.cert != nil {
		roots = v.s.Roots
		issuers = append(issuers, v.s.Issuers...)
	}
	for _, c := range a.Issuers {
		if !containsBytes(issuers, c.Marshal()) {
			issuers = append(issuers, c.Marshal())
		}
	}
	t, err := buildTrust(roots, issuers)
	if err != nil {
		return se.FromProtocol(err)
	}
	var d protocol.Certificate
	if err := protocol.Unmarshal(dev.Marshal(), &d); err != nil {
		return se.FromProtocol(err)
	}
	if d.ID() != v.id || d.Role != protocol.RoleDevice {
		return se.Errorf(se.CodeBadRequest, "certificate is not for this SE's key")
	}
	if d.Limits.MinPIN > uint64(v.pinLen) {
		return se.Errorf(se.CodeWeakPIN, "the PIN has %d characters; the issuer's policy asks at least %d", v.pinLen, d.Limits.MinPIN)
	}
	if err := t.VerifyRevocationList(rl); err != nil {
		return se.FromProtocol(err)
	}
	if err := t.VerifyDevice(&d, max(d.NotBefore, rl.Issued), nil); err != nil {
		return se.FromProtocol(err)
	}
	if v.cert != nil && d.Currency != v.cert.Currency {
		return se.Errorf(se.CodeCurrency, "renewal changes the purse currency")
	}
	if v.cert != nil && d.NotBefore < v.cert.NotBefore {
		return se.Errorf(se.CodeBadRequest, "renewal older than the installed certificate")
	}
	s := v.s
	s.Cert, s.Roots, s.Issuers = d.Marshal(), roots, issuers
	if v.rl == nil || rl.Number > v.rl.Number {
		s.RevList = rl.Marshal()
	}
	s.Account = d.Account
	s.Floor = max(s.Floor, rl.Issued)
	s.LedgerFloor = max(s.LedgerFloor, rl.Issued)
	if s.LastSync == 0 {
		// Enrolment is the first contact with the ledger: offline life
		// counts from the revocation list it handed over.
		s.LastSync = rl.Issued
	}
	if err := v.commit(); err != nil {
		return err
	}
	return v.load()
}

// ApplyLoad implements se.SE.
func (v *VSE) ApplyLoad(l *protocol.Load) error {
	if err := v.begin(true); err != nil {
		return err
	}
	defer v.mu.Unlock()
	if l.Seq <= v.s.LoadSeq && l.Device == v.id {
		// Applied before (a retry after a crash) if it is the same load;
		// the ledger reissued the number if it is not.
		if err := protocol.Unmarshal(l.Marshal(), new(protocol.Load)); err != nil {
			return se.FromProtocol(err)
		}
		return v.s.knownLoad(l)
	}
	if err := v.checkLoad(l, v.s.LoadSeq+1, v.s.Balance, v.cert.Limits.Holding); err != nil {
		return err
	}
	if err := v.applyLoad(l); err != nil {
		return err
	}
	return v.commit()
}

func (v *VSE) checkLoad(l *protocol.Load, seq, balance, holding uint64) error {
	if err := protocol.Unmarshal(l.Marshal(), new(protocol.Load)); err != nil {
		return se.FromProtocol(err)
	}
	iss, ok := v.trust.Issuer(l.Signer)
	if !ok {
		return se.Errorf(se.CodeBadLoad, "load signer %v is not a trusted issuer", l.Signer)
	}
	if err := l.Verify(iss); err != nil {
		return se.FromProtocol(err)
	}
	if l.Device != v.id {
		return se.Errorf(se.CodeBadLoad, "load is for device %v", l.Device)
	}
	if l.Seq != seq {
		return se.Errorf(se.CodeBadLoad, "load sequence %d, expected %d", l.Seq, seq)
	}
	if l.Currency != v.cert.Currency {
		return se.Errorf(se.CodeCurrency, "load in %s, purse in %s", l.Currency, v.cert.Currency)
	}
	if balance+l.Amount > holding || balance+l.Amount < balance {
		return se.Limitf(se.LimitHolding, "%s in the purse and a load of %s is above its holding limit of %s", v.money(balance), v.money(l.Amount), v.money(holding))
	}
	return nil
}

// applyLoad changes memory only; the caller commits.
func (v *VSE) applyLoad(l *protocol.Load) error {
	if err := v.appendEntry(protocol.EntryLoad, v.clock(l.Time), l.Marshal()); err != nil {
		return err
	}
	v.s.Balance += l.Amount
	v.s.LoadSeq = l.Seq
	if v.s.Loads == nil {
		v.s.Loads = map[uint64]loadRec{}
	}
	v.s.Loads[l.Seq] = loadRec{Hash: loadHash(l), Counter: v.s.Counter}
	v.s.Floor = max(v.s.Floor, l.Time)
	v.s.LedgerFloor = max(v.s.LedgerFloor, l.Time)
	return nil
}

// Reserve implements se.SE. It changes no state: the ledger answers with a
// Load, and a repeated id gets the same one.
func (v *VSE) Reserve(amount uint64, id protocol.Nonce, now uint64) (*protocol.ReserveRequest, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	// Value loaded into a receive-only purse could neither be paid nor
	// redeemed.
	if err := v.payer(); err != nil {
		return nil, err
	}
	if amount == 0 || amount > protocol.MaxAmount {
		return nil, se.Errorf(se.CodeBadRequest, "amount %s", v.money(amount))
	}
	if v.s.Balance+amount > v.cert.Limits.Holding {
		return nil, se.Limitf(se.LimitHolding, "%s in the purse and %s more is above its holding limit of %s", v.money(v.s.Balance), v.money(amount), v.money(v.cert.Limits.Holding))
	}
	r := &protocol.ReserveRequest{
		Version: protocol.Version, Device: v.id, RequestID: id, Amount: amount,
		Currency: v.cert.Currency, Time: v.clock(now),
	}
	if err := r.Sign(v.signer); err != nil {
		return nil, err
	}
	return r, nil
}

// NewRequest implements se.SE.
func (v *VSE) NewRequest(p se.RequestParams, now uint64) (*protocol.PaymentRequest, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	t := v.clock(now)
	if p.Expiry <= t {
		return nil, se.Errorf(se.CodeExpired, "the request would expire at %s (now %s)", when(p.Expiry), when(t))
	}
	r := &protocol.PaymentRequest{
		Version: protocol.Version, Payee: *v.cert, Amount: p.Amount, Currency: v.cert.Currency,
		Expiry: p.Expiry, Name: p.Name, ChannelKey: p.ChannelKey, Pairing: p.Pairing, Address: p.Address,
	}
	if _, err := rand.Read(r.Nonce[:]); err != nil {
		return nil, err
	}
	if err := r.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := protocol.Unmarshal(r.Marshal(), new(protocol.PaymentRequest)); err != nil {
		return nil, se.FromProtocol(err)
	}
	v.pruneNonces(t)
	v.s.Issued[string(r.Nonce[:])] = nonceRec{Amount: p.Amount, Expiry: p.Expiry}
	if err := v.commit(); err != nil {
		return nil, err
	}
	return r, nil
}

// nonceGrace keeps expired nonces an hour so that a late payment gets
// "expired" rather than "unknown nonce".
const nonceGrace = 3600

func (v *VSE) pruneNonces(t uint64) {
	for n, r := range v.s.Issued {
		if r.Expiry+nonceGrace < t {
			delete(v.s.Issued, n)
		}
	}
	for n, exp := range v.s.Used {
		if exp+nonceGrace < t {
			delete(v.s.Used, n)
		}
	}
	for k, exp := range v.s.Accepted {
		if exp+nonceGrace < t {
			delete(v.s.Accepted, k)
		}
	}
	for k, p := range v.s.Paid {
		if p.Expiry <= t {
			delete(v.s.Paid, k)
		}
	}
}

// Log implements se.SE.
func (v *VSE) Log(since uint64) ([]protocol.LogEntry, error) {
	if err := v.begin(false); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	return v.entries(since, 0)
}

func (v *VSE) entries(since uint64, limit int) ([]protocol.LogEntry, error) {
	s := v.s
	since = max(since, s.FirstLog)
	logStart := s.Counter - uint64(len(s.Log)) + 1
	spillStart := s.Spilled - uint64(len(v.spill)) + 1
	var out []protocol.LogEntry
	for c := since; c <= s.Counter; c++ {
		if limit > 0 && len(out) == limit {
			break
		}
		var raw []byte
		switch {
		case c >= logStart:
			raw = s.Log[c-logStart]
		case c >= spillStart && c <= s.Spilled:
			raw = v.spill[c-spillStart]
		default:
			return nil, fmt.Errorf("vse: log entry %d is not held", c)
		}
		var e protocol.LogEntry
		if err := protocol.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Pending implements se.SE.
func (v *VSE) Pending() ([]se.Pending, error) {
	if err := v.begin(false); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	out := make([]se.Pending, 0, len(v.s.Pending))
	for id, p := range v.s.Pending {
		out = append(out, se.Pending{ID: protocol.Hash([]byte(id)), Payee: p.Payee, Amount: p.Amount, Counter: p.Counter})
	}
	return out, nil
}

// Status implements se.SE.
func (v *VSE) Status(now uint64) (se.Status, error) {
	if err := v.begin(false); err != nil {
		return se.Status{}, err
	}
	defer v.mu.Unlock()
	s := v.s
	st := se.Status{
		Device: v.id, Enrolled: v.cert != nil, Balance: s.Balance, Counter: s.Counter, Head: s.Head,
		Acked: s.Acked, LoadSeq: s.LoadSeq, LastSync: s.LastSync, Clock: v.clock(now), ClockFloor: s.Floor,
		LedgerFloor: s.LedgerFloor, Swept: s.Swept,
		ToUpload: s.Counter - s.Acked,
	}
	if s.SyncAt == s.Counter && s.Counter > s.Acked {
		st.ToUpload-- // a lone sync entry can wait for the next sync
	}
	for _, p := range s.Pending {
		if !p.Refund { // a refund took nothing from the purse
			st.PendingCount++
			st.PendingValue += p.Amount
		}
	}
	st.OfflineCount, st.OfflineValue = v.offline()
	if v.cert == nil {
		return st, nil
	}
	l := v.cert.Limits
	st.Currency, st.Limits, st.CertNotAfter = v.cert.Currency, l, v.cert.NotAfter
	st.Standing = s.Standing > st.Clock
	st.ReceiveOnly = l.PerPayment == 0
	st.CountLeft = sat(l.MaxOfflineCount, st.OfflineCount)
	st.ValueLeft = sat(l.MaxOfflineValue, st.OfflineValue)
	st.HoldingLeft = sat(l.Holding, s.Balance)
	st.AfterSync = s.Balance - s.spendable(l.MaxHops)
	st.Deadline = s.LastSync + l.MaxOfflineDays*day
	st.RevListNum, st.RevListTime = v.rl.Number, v.rl.Issued
	return st, nil
}

func (v *VSE) offline() (n, val uint64) {
	for _, p := range v.s.Unacked {
		n++
		val += p.Amount
	}
	return n, val
}

// sat is a - b, or 0 when b > a.
func sat(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// PublicKey is the SE's device key: what a manufacturer attests when it
// makes the SE (se/card/attest).
func (v *VSE) PublicKey() (protocol.Alg, []byte) {
	return v.signer.Alg(), v.signer.PublicKey()
}
