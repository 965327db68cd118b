package main

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// The policy file's attested enrolment (README "Attested enrolment"):
// limits per attested SE class, over the class-1 limits, and the
// manufacturer keys trusted to attest a class.
//
//	"classes": {"2": {"person": {"holding_minor": 200000}, "merchant": {}}},
//	"manufacturers": [{"name": "Card Maker", "key_alg": "ed25519", "key_hex": "…",
//	                   "classes": [2], "revoked": false, "test": false}]
//
// "test": true is required for, and only for, the published TEST key of
// the emulated cards (`card emulate --new --test-attestation`): never in
// production.
type classLimitsJSON struct {
	Person   *limitsJSON `json:"person"`
	Merchant *limitsJSON `json:"merchant"`
}

type manufacturerJSON struct {
	Name    string  `json:"name"`
	KeyAlg  string  `json:"key_alg"`
	KeyHex  string  `json:"key_hex"`
	Classes []uint8 `json:"classes"`
	Revoked bool    `json:"revoked"`
	Test    bool    `json:"test"`
}

// attestedPolicy reads the classes and manufacturers of pj into p.
func attestedPolicy(p *ledger.Policy, classes map[string]classLimitsJSON, makers []manufacturerJSON) error {
	for k, c := range classes {
		n, err := strconv.ParseUint(k, 10, 8)
		if err != nil || (n != uint64(protocol.SESmartCard) && n != uint64(protocol.SETEE)) {
			return fmt.Errorf("classes: %q is not an attested SE class (2 card, 3 TEE)", k)
		}
		if p.Classes == nil {
			p.Classes = map[protocol.SEClass]ledger.ClassLimits{}
		}
		p.Classes[protocol.SEClass(n)] = ledger.ClassLimits{Person: c.Person.over(p.Person), Merchant: c.Merchant.over(p.Merchant)}
	}
	for _, m := range makers {
		var alg protocol.Alg
		switch m.KeyAlg {
		case "ed25519":
			alg = protocol.AlgEd25519
		case "p256":
			alg = protocol.AlgECDSAP256
		default:
			return fmt.Errorf("manufacturer %q: key_alg %q (ed25519 or p256)", m.Name, m.KeyAlg)
		}
		key, err := hex.DecodeString(m.KeyHex)
		if err != nil {
			return fmt.Errorf("manufacturer %q: key_hex: %v", m.Name, err)
		}
		mf := ledger.Manufacturer{Name: m.Name, KeyAlg: alg, Key: key, Revoked: m.Revoked, Test: m.Test}
		for _, c := range m.Classes {
			mf.Classes = append(mf.Classes, protocol.SEClass(c))
		}
		p.Manufacturers = append(p.Manufacturers, mf)
	}
	return nil
}
