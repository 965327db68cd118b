package wallet_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

// TestHistoryIsSealed: the history and the archive say whom a wallet paid,
// how much and when; they are sealed by the SE (se.DataSealer), so no file
// of a copied wallet folder shows a counterparty, an amount field or a
// record (the finding: wallet.json and the archive were plain JSON). The
// wallet reads them back after a restart; a history written before
// sealing is read and sealed at the next save; another SE's history does
// not open.
func TestHistoryIsSealed(t *testing.T) {
	e := newEnv(t)
	e.keep = 3
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		transfer(t, a, b, 100+uint64(i))
	}
	for _, w := range []*wallet.Wallet{b, a, b, a} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	hist, arch := a.History(), mustArchived(t, a)
	if len(arch) == 0 || len(hist) == 0 {
		t.Fatalf("history %d, archive %d records", len(hist), len(arch))
	}
	bob := []byte(b.SE().Certificate().ID().String())
	ents, err := os.ReadDir(e.dir("alice"))
	if err != nil {
		t.Fatal(err)
	}
	aliceID := a.SE().Certificate().ID()
	for _, ent := range ents {
		raw, err := os.ReadFile(filepath.Join(e.dir("alice"), ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		// The last sync result names the device in binary (loads, times).
		for _, leak := range [][]byte{bob, []byte("amount_minor"), []byte("counterparty"), []byte(`"records"`), aliceID[:]} {
			if bytes.Contains(raw, leak) {
				t.Errorf("%s shows %q in the clear", ent.Name(), leak)
			}
		}
	}
	a2 := e.reopen("alice")
	if got := a2.History(); len(got) != len(hist) || got[0].ID != hist[0].ID {
		t.Fatalf("history after reopen: %d records, want %d", len(got), len(hist))
	}
	if got := mustArchived(t, a2); len(got) != len(arch) {
		t.Fatalf("archive after reopen: %d records, want %d", len(got), len(arch))
	}

	// Written before sealing: read as plain JSON, sealed at the next save.
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir("bob"), wallet.HistoryFile)
	sealed, _ := os.ReadFile(path)
	plain, err := b.SE().(se.DataSealer).OpenData("wallet/history", sealed)
	if err != nil || !bytes.HasPrefix(plain, []byte("{")) {
		t.Fatalf("opening bob's history: %v", err)
	}
	if err := os.WriteFile(path, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	b2 := e.reopen("bob")
	if len(b2.History()) != len(b.History()) {
		t.Fatalf("bob's plain history read as %d records, want %d", len(b2.History()), len(b.History()))
	}
	if err := b2.Flush(); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); bytes.HasPrefix(raw, []byte("{")) {
		t.Fatal("the plain history was not sealed at the next save")
	}

	// Another SE's history does not open.
	raw, _ := os.ReadFile(filepath.Join(e.dir("alice"), wallet.HistoryFile))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	v := b2.SE()
	if _, err := wallet.Open(v, e.dir("bob"), nil); !errors.Is(err, se.ErrBadData) {
		t.Fatalf("alice's history under bob's SE: %v", err)
	}
}

func mustArchived(t *testing.T, w *wallet.Wallet) []wallet.Record {
	t.Helper()
	r, err := w.Archived()
	if err != nil {
		t.Fatal(err)
	}
	return r
}
