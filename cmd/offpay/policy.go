package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/offpay/offpay"
	"os"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// The file `ledger serve --policy FILE` reads: the offline limits written
// into device certificates, for people and for merchants. A field left out
// keeps its default (ledger.DefaultPolicy). Devices whose certificates
// carry other limits get renewed certificates at their next sync.
//
//	{"person":   {"holding_minor": 50000, "per_payment_minor": 10000, "max_offline_count": 50,
//	              "max_offline_value_minor": 50000, "max_offline_days": 7,
//	              "max_revocation_list_age_seconds": 172800, "max_hops": 3, "min_pin_length": 6},
//	 "merchant": {"holding_minor": 5000000},
//	 "validity_days": 730,
//	 "max_issued_minor": 9007199254740991}
//
// max_issued_minor bounds the money issued (deposits less withdrawals): a
// deposit that would take it higher is refused.
type policyJSON struct {
	Person       *limitsJSON `json:"person"`
	Merchant     *limitsJSON `json:"merchant"`
	ValidityDays *uint64     `json:"validity_days"`
	MaxIssued    *int64      `json:"max_issued_minor"`
	// attested enrolment (policyattest.go)
	Classes       map[string]classLimitsJSON `json:"classes"`
	Manufacturers []manufacturerJSON         `json:"manufacturers"`
}

type limitsJSON struct {
	Holding         *uint64 `json:"holding_minor"`
	PerPayment      *uint64 `json:"per_payment_minor"`
	MaxOfflineCount *uint64 `json:"max_offline_count"`
	MaxOfflineValue *uint64 `json:"max_offline_value_minor"`
	MaxOfflineDays  *uint64 `json:"max_offline_days"`
	MaxRevListAge   *uint64 `json:"max_revocation_list_age_seconds"`
	MaxHops         *uint64 `json:"max_hops"`
	MinPIN          *uint64 `json:"min_pin_length"`
}

func (l *limitsJSON) over(d protocol.Limits) protocol.Limits {
	if l == nil {
		return d
	}
	for _, f := range []struct {
		v   *uint64
		dst *uint64
	}{{l.Holding, &d.Holding}, {l.PerPayment, &d.PerPayment}, {l.MaxOfflineCount, &d.MaxOfflineCount},
		{l.MaxOfflineValue, &d.MaxOfflineValue}, {l.MaxOfflineDays, &d.MaxOfflineDays}, {l.MaxRevListAge, &d.MaxRevListAge}, {l.MaxHops, &d.MaxHops}, {l.MinPIN, &d.MinPIN}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return d
}

// readPolicy reads a policy file; unknown fields are an error, so that a
// misspelt limit is not silently left at its default. The ledger checks
// the values when it takes the policy (ledger.Service.SetPolicy).
func readPolicy(path string) (*ledger.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--policy: %v", err)
	}
	var pj policyJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pj); err != nil {
		return nil, usageErrorf("--policy %s: %v", path, err)
	}
	p := ledger.DefaultPolicy
	p.Person = pj.Person.over(p.Person)
	p.Merchant = pj.Merchant.over(p.Merchant)
	if err := attestedPolicy(&p, pj.Classes, pj.Manufacturers); err != nil {
		return nil, usageErrorf("--policy %s: %v", path, err)
	}
	if pj.ValidityDays != nil {
		if *pj.ValidityDays == 0 || *pj.ValidityDays > 100*365 {
			return nil, usageErrorf("--policy %s: validity_days %d out of range 1..36500", path, *pj.ValidityDays)
		}
		p.Validity = time.Duration(*pj.ValidityDays) * 24 * time.Hour
	}
	if pj.MaxIssued != nil {
		if *pj.MaxIssued <= 0 || *pj.MaxIssued > ledger.MaxIssuedLimit {
			return nil, usageErrorf("--policy %s: max_issued_minor %d out of range 1..%d", path, *pj.MaxIssued, int64(ledger.MaxIssuedLimit))
		}
		p.MaxIssued = *pj.MaxIssued
	}
	return &p, nil
}

// applyPolicy gives svc the policy, if one was read.
// applyPolicy publishes the --policy file's policy to every process on the
// store, or, without one, takes up the policy already published there.
func applyPolicy(svc *ledger.Service, p *ledger.Policy) error {
	ctx := context.Background()
	if p == nil {
		_, err := svc.LoadPolicy(ctx)
		return err
	}
	if err := svc.PublishPolicy(ctx, *p); err != nil {
		if offpay.ErrorCode(err) == offpay.EINVALID {
			return usageErrorf("--policy: %v", err)
		}
		return err
	}
	return nil
}
