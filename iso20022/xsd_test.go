package iso20022

import (
	"testing"

	"github.com/offpay/offpay/iso20022/isotest"
)

func validate(t testing.TB, doc []byte) error { t.Helper(); return isotest.Validate(t, doc) }

func mustValidate(t testing.TB, doc []byte) { t.Helper(); isotest.MustValidate(t, doc) }

// The schemas embedded in isotest are those of the namespaces written.
func TestSchemasCoverNamespaces(t *testing.T) {
	for _, ns := range []string{NamespacePacs009, NamespaceCamt053, NamespaceCamt054} {
		if _, ok := isotest.Schemas[ns]; !ok {
			t.Errorf("no schema for %s", ns)
		}
	}
}
