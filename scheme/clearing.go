package scheme

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// Statement is what a provider's ledger reports for clearing: its
// obligations with every other provider (cumulative) and its own
// reconciliation.
type Statement struct {
	Provider string `json:"provider"`
	// At is when the ledger made it: the scheme takes a provider's
	// statements in this order only (a replayed older one is refused).
	At          time.Time           `json:"at"`
	Obligations []ledger.Obligation `json:"obligations"`
	Report      *ledger.Report      `json:"report"`
}

// Transfer is what one provider owes another for a cycle.
type Transfer struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount int64  `json:"amount_minor"`
}

// Position is a provider's net position for a cycle: what it receives
// (positive) or pays (negative).
type Position struct {
	Provider string `json:"provider"`
	Net      int64  `json:"net_minor"`
}

// Mismatch is an obligation the two providers see differently: the
// payer's provider owes Owe, the payee's provider counts Due (evidence in
// flight, or a fault).
type Mismatch struct {
	From string `json:"from"` // the payers' provider
	To   string `json:"to"`
	Owe  int64  `json:"owe_minor"` // as From reports it
	Due  int64  `json:"due_minor"` // as To reports it
}

// Cycle is one clearing cycle: the gross transfers since the last cycle
// (from the payers' providers' figures: they settled the payer side),
// each provider's net position (summing to zero), and the federation's
// reconciliation.
type Cycle struct {
	Number     uint64     `json:"number"`
	At         time.Time  `json:"at"`
	Currency   string     `json:"currency"`
	Transfers  []Transfer `json:"transfers"`
	Positions  []Position `json:"positions"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	Federation Totals     `json:"federation"`
}

// Totals sums the providers' reports. Holds only when every provider's
// conservation holds, every obligation matches on both sides and the
// clearing positions cancel out.
type Totals struct {
	Issued      int64           `json:"issued_minor"`
	Accounts    int64           `json:"accounts_minor"`
	Outstanding int64           `json:"outstanding_minor"`
	Unassessed  int64           `json:"unassessed_minor"`
	Losses      int64           `json:"losses_minor"`
	Clearing    int64           `json:"clearing_minor"` // 0 when every obligation matches
	Holds       bool            `json:"holds"`
	Providers   map[string]bool `json:"providers_conservation_ok"`
}

const clearingFile = "clearing.json"

type clearingState struct {
	Number uint64                      `json:"number"`
	Owed   map[string]map[string]int64 `json:"owed"` // cumulative From -> To at the last cycle
	Last   *Cycle                      `json:"last,omitempty"`
}

// Clear runs a clearing cycle over every member's statement (each must be
// given once): the obligations since the previous cycle, netted. The
// cycle is recorded, so the next one counts from it. Errors: EINVALID (a
// statement missing, duplicated or from no member; a cumulative figure
// below the last cycle's), ELIMIT (overflow).
func (n *Node) Clear(sts []Statement) (*Cycle, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	by := map[string]*Statement{}
	for i := range sts {
		s := &sts[i]
		if n.reg.Member(s.Provider) == nil {
			return nil, offpay.Errorf(offpay.EINVALID, "statement of %s, no member of the scheme", s.Provider)
		}
		if by[s.Provider] != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "two statements of %s", s.Provider)
		}
		if s.Report == nil {
			return nil, offpay.Errorf(offpay.EINVALID, "statement of %s has no report", s.Provider)
		}
		by[s.Provider] = s
	}
	for i := range n.reg.Members {
		if by[n.reg.Members[i].Name] == nil {
			return nil, offpay.Errorf(offpay.EINVALID, "no statement of %s", n.reg.Members[i].Name)
		}
	}
	st, err := n.readClearing()
	if err != nil {
		return nil, err
	}
	c, owed, err := clear(by, st.Owed)
	if err != nil {
		return nil, err
	}
	c.Number, c.At, c.Currency = st.Number+1, n.now().UTC(), n.reg.Currency
	if err := writeJSON(n.dir, clearingFile, clearingState{Number: c.Number, Owed: owed, Last: c}); err != nil {
		return nil, err
	}
	return c, nil
}

// LastCycle returns the last cycle Clear ran, or nil.
func (n *Node) LastCycle() (*Cycle, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, err := n.readClearing()
	return st.Last, err
}

// clear computes a cycle from the statements and the cumulative
// obligations of the previous cycle, and returns the new cumulative ones.
func clear(by map[string]*Statement, prev map[string]map[string]int64) (*Cycle, map[string]map[string]int64, error) {
	c := &Cycle{Transfers: []Transfer{}, Positions: []Position{}, Federation: Totals{Providers: map[string]bool{}}}
	owed := map[string]map[string]int64{}
	due := map[string]map[string]int64{} // To -> From, as To reports it
	names := make([]string, 0, len(by))
	for name := range by {
		names = append(names, name)
	}
	sort.Strings(names)
	net := map[string]int64{}
	var ck checked
	holds := true
	for _, name := range names {
		s := by[name]
		r := s.Report
		ck.add(&c.Federation.Issued, r.Issued)
		ck.add(&c.Federation.Accounts, r.Accounts)
		ck.add(&c.Federation.Outstanding, r.Outstanding)
		ck.add(&c.Federation.Unassessed, r.Unassessed)
		ck.add(&c.Federation.Losses, r.Losses)
		ck.add(&c.Federation.Clearing, r.Clearing)
		c.Federation.Providers[name] = r.ConservationOK
		holds = holds && r.ConservationOK
		for _, o := range s.Obligations {
			if by[o.Provider] == nil {
				return nil, nil, offpay.Errorf(offpay.EINVALID, "%s reports obligations with %s, no member", name, o.Provider)
			}
			if o.Owe < 0 || o.Due < 0 {
				return nil, nil, offpay.Errorf(offpay.EINVALID, "%s reports a negative obligation with %s", name, o.Provider)
			}
			if owed[name] == nil {
				owed[name] = map[string]int64{}
			}
			if due[name] == nil {
				due[name] = map[string]int64{}
			}
			owed[name][o.Provider] = o.Owe
			due[name][o.Provider] = o.Due
		}
	}
	for _, from := range names {
		for _, to := range names {
			if from == to {
				continue
			}
			o, d := owed[from][to], due[to][from]
			if o != d {
				c.Mismatches = append(c.Mismatches, Mismatch{From: from, To: to, Owe: o, Due: d})
				holds = false
			}
			amount := o - prev[from][to]
			if amount < 0 {
				return nil, nil, offpay.Errorf(offpay.EINVALID, "%s owes %s %d in total, less than at the last cycle (%d)", from, to, o, prev[from][to])
			}
			if amount == 0 {
				continue
			}
			c.Transfers = append(c.Transfers, Transfer{From: from, To: to, Amount: amount})
			var nf, nt int64
			ck.add(&nf, -amount)
			ck.add(&nt, amount)
			ck.add2(net, from, nf)
			ck.add2(net, to, nt)
		}
	}
	if ck.err != nil {
		return nil, nil, offpay.Errorf(offpay.ELIMIT, "clearing totals leave the int64 range: %v", ck.err)
	}
	var sum int64
	for _, name := range names {
		c.Positions = append(c.Positions, Position{Provider: name, Net: net[name]})
		sum += net[name]
	}
	if sum != 0 {
		return nil, nil, offpay.Errorf(offpay.EINTERNAL, "net positions sum to %d", sum) // cannot happen: each transfer adds and takes the same
	}
	f := &c.Federation
	left, e1 := offpay.AddMinor(f.Issued, f.Losses)
	left, e2 := offpay.AddMinor(left, f.Unassessed)
	right, e3 := offpay.AddMinor(f.Accounts, f.Outstanding)
	f.Holds = holds && f.Clearing == 0 && e1 == nil && e2 == nil && e3 == nil && left == right
	return c, owed, nil
}

type checked struct{ err error }

func (c *checked) add(x *int64, v int64) {
	if c.err != nil {
		return
	}
	var err error
	if *x, err = offpay.AddMinor(*x, v); err != nil {
		c.err = err
	}
}

func (c *checked) add2(m map[string]int64, k string, v int64) {
	x := m[k]
	c.add(&x, v)
	m[k] = x
}

func (n *Node) readClearing() (clearingState, error) {
	var st clearingState
	b, err := os.ReadFile(filepath.Join(n.dir, clearingFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, offpay.Errorf(offpay.EINTERNAL, "reading %s: %w", clearingFile, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, offpay.Errorf(offpay.EINTERNAL, "%s: %v", clearingFile, err)
	}
	return st, nil
}

// String is a one-line summary.
func (c *Cycle) String() string {
	return fmt.Sprintf("cycle %d: %d transfers, %d mismatches, holds %v", c.Number, len(c.Transfers), len(c.Mismatches), c.Federation.Holds)
}
