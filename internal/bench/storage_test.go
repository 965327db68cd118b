package bench

import (
	"context"
	"os"
	"testing"
)

// TestStorageRows: offpay bench --storage at a tiny size gives its rows
// (bytes per payment, the tables taking them, the probe's cost) and,
// archiving, hot tables smaller after than before with the report still
// counting every payment settled (Storage fails otherwise); on PostgreSQL
// too when OFFPAY_TEST_POSTGRES is set.
func TestStorageRows(t *testing.T) {
	cfg := StorageConfig{Dir: t.TempDir(), Postgres: os.Getenv("OFFPAY_TEST_POSTGRES"), Sizes: []int{1000}, Probe: 1000, Archive: true}
	rows, _, err := Storage(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]float64{}
	for _, r := range rows {
		if got[r.Store] == nil {
			got[r.Store] = map[string]float64{}
		}
		got[r.Store][r.Metric] = r.Value
	}
	stores := []string{"sqlite"}
	if cfg.Postgres != "" {
		stores = append(stores, "postgres")
	}
	for _, s := range stores {
		m := got[s]
		if m["storage_bytes_per_payment"] <= 0 || m["storage_table_entries"] <= 0 || m["storage_settle_cpu_per_payment"] <= 0 {
			t.Fatalf("%s: rows %v", s, m)
		}
		if m["storage_archive_payments_moved"] <= 0 || m["storage_hot_bytes_per_payment_after_archive"] >= m["storage_hot_bytes_per_payment_before_archive"] {
			if s == "sqlite" || m["storage_hot_bytes_per_payment_after_archive_vacuum_full"] >= m["storage_hot_bytes_per_payment_before_archive"] {
				t.Fatalf("%s: archiving left the hot tables as big: %v", s, m)
			}
		}
		if got[s+"-archived"]["storage_table_entries_archive"] <= 0 {
			t.Fatalf("%s: no archived entries: %v", s, got[s+"-archived"])
		}
	}
}
