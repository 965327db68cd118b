package faulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestKillDuringSyncStormPostgres is the storm with the ledger on
// PostgreSQL, in a database of its own (the server's schema name is
// fixed, so a fresh database keeps it away from every other test). With
// OFFPAY_FAULT_PG_RESTART=1 the PostgreSQL cluster itself is restarted
// once mid-storm too (in the background, early, while the ledger kills go
// on); .ci/run sets it in a step of its own after the other tests, since a
// restart disturbs every other test using the server.
func TestKillDuringSyncStormPostgres(t *testing.T) {
	dsn := os.Getenv("OFFPAY_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("OFFPAY_TEST_POSTGRES not set: skipping the PostgreSQL storm")
	}
	db := freshDatabase(t, dsn)
	if os.Getenv("OFFPAY_FAULT_PG_RESTART") == "1" {
		pgRestart = restartCluster
	}
	// PostgreSQL serializable transactions settle an upload in tens of
	// milliseconds under this contention: fewer devices, longer lives.
	sz := stormSize{devices: 40, rounds: 6, killAfter: 300 * time.Millisecond, killSpread: 700 * time.Millisecond}
	if (raceEnabled || testing.Short()) && pgRestart == nil {
		sz.devices, sz.rounds = 20, 5
	}
	storm(t, db, sz)
}

// pgRestart, if set, is called once mid-storm.
var pgRestart func(t *testing.T) error

func restartCluster(t *testing.T) error {
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		return err
	}
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
	t.Logf("PostgreSQL restarted: %s %v", strings.TrimSpace(string(out)), err)
	return err
}

// freshDatabase creates a database for this test, dropped afterwards, and
// returns its URL.
func freshDatabase(t *testing.T, dsn string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL at OFFPAY_TEST_POSTGRES unreachable: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "offpay_fault_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		t.Fatal(err)
	}
	admin.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	// offpay ledger serve keeps its tables in the schema "offpay".
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA offpay"); err != nil {
		t.Fatal(err)
	}
	return u.String()
}
