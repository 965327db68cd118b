package iso20022

import (
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/offpay/offpay"
)

// MaxCycleID is the longest cycle ID: the messages' identifiers are Max35Text
// and a statement's is the cycle ID, "/S" and the provider's number.
const MaxCycleID = 24

// Agent is a financial institution: a provider, the scheme, the settlement
// agent. ID is a BIC (written as BICFI), an LEI (written as LEI) or any
// other identifier of 1 to 35 characters (written as Othr/Id).
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Position is a provider's net position in a cycle, in minor units:
// positive when the others owe it (it receives), negative when it owes.
type Position struct {
	Provider Agent `json:"provider"`
	Net      int64 `json:"net_minor"`
}

// Obligation is what one provider owes another from the cycle's
// cross-provider payments, before netting.
type Obligation struct {
	From   string `json:"from"` // the payer's provider (its Agent.ID)
	To     string `json:"to"`   // the payee's provider
	Amount int64  `json:"amount_minor"`
}

// Cycle is the result of one clearing cycle: the input of SettlementPacs009
// and StatementOfCycle.
type Cycle struct {
	ID       string    `json:"id"` // 1 to MaxCycleID characters
	Currency string    `json:"currency"`
	Time     time.Time `json:"time"` // when the cycle closed: the messages' creation time and settlement date
	// Scheme instructs the settlement; SettlementAgent holds every
	// provider's settlement account and settles the transfers.
	Scheme          Agent        `json:"scheme"`
	SettlementAgent Agent        `json:"settlement_agent"`
	Positions       []Position   `json:"positions"`
	Obligations     []Obligation `json:"obligations"`
}

var (
	bicPattern = regexp.MustCompile(`^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$`)
	leiPattern = regexp.MustCompile(`^[A-Z0-9]{18}[0-9]{2}$`)
)

// agent returns a's XML, checking its fields fit.
func agent(a Agent) (agentXML, error) {
	if err := text("agent id", a.ID, 35); err != nil {
		return agentXML{}, err
	}
	if a.Name != "" {
		if err := text("agent name", a.Name, 140); err != nil {
			return agentXML{}, err
		}
	}
	id := finInstnIdXML{Nm: a.Name}
	switch {
	case bicPattern.MatchString(a.ID):
		id.BICFI = a.ID
	case leiPattern.MatchString(a.ID):
		id.LEI = a.ID
	default:
		id.Othr = &genericID{Id: a.ID}
	}
	return agentXML{FinInstnId: id}, nil
}

// text checks that s fits a MaxNText element: 1 to max characters, valid
// UTF-8 and nothing XML 1.0 cannot carry.
func text(what, s string, max int) error {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > max || !utf8.ValidString(s) {
		return wrapf(ErrField, "%s %q: want 1 to %d characters", what, clip(s), max)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return wrapf(ErrField, "%s %q: a character XML cannot carry", what, clip(s))
		}
	}
	return nil
}

// check validates c: identifiers, currency, amounts, positions that sum
// to zero (*UnbalancedError) and obligations that net to the positions
// (ErrObligations). It returns the currency.
func (c *Cycle) check() (offpay.Currency, error) {
	cur, err := Currency(c.Currency)
	if err != nil {
		return cur, err
	}
	if err := text("cycle id", c.ID, MaxCycleID); err != nil {
		return cur, err
	}
	if c.Time.IsZero() {
		return cur, wrapf(ErrField, "cycle %q: no time", c.ID)
	}
	for _, a := range []Agent{c.Scheme, c.SettlementAgent} {
		if _, err := agent(a); err != nil {
			return cur, err
		}
	}
	netted := map[string]int64{}
	var sum int64
	for _, p := range c.Positions {
		if _, err := agent(p.Provider); err != nil {
			return cur, err
		}
		if _, dup := netted[p.Provider.ID]; dup || p.Provider.ID == c.SettlementAgent.ID {
			return cur, wrapf(ErrField, "provider %q listed twice or as the settlement agent", clip(p.Provider.ID))
		}
		if p.Net > MaxMinor || p.Net < -MaxMinor {
			return cur, wrapf(ErrAmountTooLarge, "provider %q: net %d", clip(p.Provider.ID), p.Net)
		}
		netted[p.Provider.ID] = 0
		if sum, err = offpay.AddMinor(sum, p.Net); err != nil {
			return cur, wrapf(ErrOverflow, "cycle %q: sum of the positions", c.ID)
		}
	}
	if sum != 0 {
		return cur, &UnbalancedError{Cycle: c.ID, Sum: sum}
	}
	for _, o := range c.Obligations {
		_, okF := netted[o.From]
		_, okT := netted[o.To]
		if !okF || !okT || o.From == o.To || o.Amount <= 0 || o.Amount > MaxMinor {
			return cur, wrapf(ErrObligations, "obligation %q to %q of %d: unknown provider, to itself or not positive", clip(o.From), clip(o.To), o.Amount)
		}
		if netted[o.From], err = offpay.SubMinor(netted[o.From], o.Amount); err != nil {
			return cur, wrapf(ErrOverflow, "obligations of %q", clip(o.From))
		}
		if netted[o.To], err = offpay.AddMinor(netted[o.To], o.Amount); err != nil {
			return cur, wrapf(ErrOverflow, "obligations of %q", clip(o.To))
		}
	}
	for _, p := range c.Positions {
		if netted[p.Provider.ID] != p.Net {
			return cur, wrapf(ErrObligations, "provider %q: position %d, obligations net to %d", clip(p.Provider.ID), p.Net, netted[p.Provider.ID])
		}
	}
	return cur, nil
}

// dateTime is an ISODateTime in UTC with its offset, to the millisecond
// (the form CBPR+ usage guidelines ask for).
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-07:00") }

// date is an ISODate: the UTC date of t.
func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }
