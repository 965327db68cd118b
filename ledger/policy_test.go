package ledger_test

import (
	"context"
	"testing"

	"github.com/offpay/offpay/ledger"
)

// TestStoredPolicyWithoutPINMinimum: a policy published before
// certificates carried a PIN minimum is taken up with the default one,
// not refused (which would stop every ledger process from starting).
func TestStoredPolicyWithoutPINMinimum(t *testing.T) {
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	old := `{"Person":{"Holding":50000,"PerPayment":10000,"MaxOfflineCount":50,"MaxOfflineValue":50000,"MaxOfflineDays":7,"MaxRevListAge":172800,"MaxHops":3},` +
		`"Merchant":{"Holding":5000000,"PerPayment":0,"MaxOfflineCount":100000,"MaxOfflineValue":5000000,"MaxOfflineDays":14,"MaxRevListAge":172800,"MaxHops":0},"Validity":63072000000000000}`
	if err := st.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "policy", []byte(old)) }); err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{})
	if ok, err := svc.LoadPolicy(ctx); !ok || err != nil {
		t.Fatalf("loading the stored policy: %v %v", ok, err)
	}
	if p := svc.Policy(); p.Person.MinPIN != ledger.DefaultMinPIN || p.Merchant.MinPIN != ledger.DefaultMinPIN || p.Person.Holding != 50000 {
		t.Fatalf("policy %+v", p)
	}
}
