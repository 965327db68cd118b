package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/offpay/offpay/iso20022"
	"github.com/offpay/offpay/scheme"
)

// isoCycle is a clearing cycle as the iso20022 package takes it: providers
// and the two agents named by their names in the register (ISO's Othr/Id,
// 1 to 35 characters), the cycle by its number.
func isoCycle(c *scheme.Cycle, schemeID, agentID string) *iso20022.Cycle {
	ic := &iso20022.Cycle{ID: "C" + strconv.FormatUint(c.Number, 10), Currency: c.Currency, Time: c.At,
		Scheme: iso20022.Agent{ID: schemeID}, SettlementAgent: iso20022.Agent{ID: agentID}}
	for _, p := range c.Positions {
		ic.Positions = append(ic.Positions, iso20022.Position{Provider: iso20022.Agent{ID: p.Provider}, Net: p.Net})
	}
	for _, t := range c.Transfers {
		ic.Obligations = append(ic.Obligations, iso20022.Obligation{From: t.From, To: t.To, Amount: t.Amount})
	}
	return ic
}

// errCycleDoesNotHold refuses settlement instructions for a cycle whose
// federation reconciliation does not hold: money would move on figures
// the providers do not agree on.
var errCycleDoesNotHold = errors.New("the cycle's federation reconciliation does not hold (see its mismatches): no settlement instructions written")

// writeCycleISO writes cycle c's pacs.009 (the settlement instructions)
// and each provider's camt.053 statement into dir, and returns the files.
func writeCycleISO(c *scheme.Cycle, dir, schemeID, agentID string) ([]string, error) {
	if !c.Federation.Holds {
		return nil, errCycleDoesNotHold
	}
	ic := isoCycle(c, schemeID, agentID)
	docs := map[string][]byte{}
	pacs, err := iso20022.SettlementPacs009(ic)
	if err != nil {
		return nil, err
	}
	docs[fmt.Sprintf("%s-pacs009.xml", ic.ID)] = pacs
	for _, p := range ic.Positions {
		st, err := iso20022.StatementOfCycle(ic, p.Provider.ID)
		if err != nil {
			return nil, err
		}
		doc, err := iso20022.Camt053(st)
		if err != nil {
			return nil, err
		}
		docs[fmt.Sprintf("%s-camt053-%s.xml", ic.ID, p.Provider.ID)] = doc
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var files []string
	for name, doc := range docs {
		path := filepath.Join(dir, name)
		if err := writeFileAtomic(path, doc); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}
