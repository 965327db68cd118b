package storetest

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// RunScenarios replays every scenario file in dir (spec/scenarios) on a
// fresh store from open, as another implementation of the ledger would:
// the keys from the file, the clock from each step, the requests as
// envelopes. It fails unless every step answers as the file says.
func RunScenarios(t *testing.T, open Opener, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenarios in %s", dir)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var sc Scenario
			if err := json.Unmarshal(b, &sc); err != nil {
				t.Fatal(err)
			}
			if err := ReplayScenario(context.Background(), open(t), &sc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// ReplayScenario replays sc on store and reports the first step that
// answers otherwise than sc says.
func ReplayScenario(ctx context.Context, store ledger.Store, sc *Scenario) error {
	keys, err := scenarioKeys(sc)
	if err != nil {
		return err
	}
	var now atomic.Int64
	svc := ledger.New(store, keys, ledger.Options{Clock: func() time.Time { return time.Unix(0, now.Load()) }})
	var accounts []string
	for i, st := range sc.Steps {
		now.Store(st.At)
		got, err := replayStep(ctx, svc, st)
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", i, st.Op, err)
		}
		if got.Error == "" && st.Op == "create_account" {
			accounts = append(accounts, st.Account)
		}
		got.Report, got.Accounts = snapshot(ctx, svc, accounts)
		if !reflect.DeepEqual(normal(got), normal(st.Expect)) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(st.Expect)
			return fmt.Errorf("step %d (%s) at %s answered\n  %s\nwant\n  %s", i, st.Op, time.Unix(0, st.At).UTC().Format(time.RFC3339), g, w)
		}
	}
	return nil
}

// normal makes nil and empty lists equal.
func normal(x Expect) Expect {
	if len(x.Statuses) == 0 {
		x.Statuses = nil
	}
	if len(x.Missing) == 0 {
		x.Missing = nil
	}
	if len(x.Accounts) == 0 {
		x.Accounts = nil
	}
	if len(x.Report.Revoked) == 0 {
		x.Report.Revoked = nil
	}
	if len(x.Report.Proofs) == 0 {
		x.Report.Proofs = nil
	}
	return x
}

func scenarioKeys(sc *Scenario) (*ledger.Keys, error) {
	// The root's seed is in the scenario for completeness; a serving ledger
	// never holds the root key.
	var rootKey protocol.Signer
	k := &ledger.Keys{Currency: sc.Currency}
	for _, c := range []struct {
		seed, cert string
		key        *protocol.Signer
		dst        **protocol.Certificate
	}{{sc.RootSeed, sc.Root, &rootKey, &k.Root}, {sc.IssuerSeed, sc.Issuer, &k.IssuerKey, &k.Issuer}} {
		seed, err := hex.DecodeString(c.seed)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("bad seed")
		}
		*c.key = protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
		b, err := hex.DecodeString(c.cert)
		if err != nil {
			return nil, err
		}
		*c.dst = new(protocol.Certificate)
		if err := protocol.Unmarshal(b, *c.dst); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// open decodes a step's request envelope into m.
func openReq(st Step, m protocol.Message) error {
	b, err := hex.DecodeString(st.Request)
	if err != nil {
		return err
	}
	return protocol.OpenAs(b, m)
}

func replayStep(ctx context.Context, svc *ledger.Service, st Step) (Expect, error) {
	var x Expect
	var err error
	switch st.Op {
	case "create_account":
		_, err = svc.CreateAccount(ctx, st.Account, st.Merchant)
	case "deposit":
		_, err = svc.Deposit(ctx, st.Account, st.Amount, st.Ref)
	case "withdraw":
		_, err = svc.Withdraw(ctx, st.Account, st.Amount, st.Ref)
	case "enrol":
		var r protocol.EnrolmentRequest
		if e := openReq(st, &r); e != nil {
			return x, e
		}
		_, err = svc.Enrol(ctx, &r)
	case "reserve":
		var r protocol.ReserveRequest
		if e := openReq(st, &r); e != nil {
			return x, e
		}
		var l *protocol.Load
		if l, err = svc.Reserve(ctx, &r); err == nil {
			x.Load = seal(l)
		}
	case "sync":
		var up protocol.SyncUpload
		if e := openReq(st, &up); e != nil {
			return x, e
		}
		var res *protocol.SyncResult
		if res, err = svc.Sync(ctx, &up); err == nil {
			x.Acked, x.Missing, x.Swept = res.Acked, res.Missing, res.Swept
			for _, s := range res.Statuses {
				x.Statuses = append(x.Statuses, ExpectStatus{Payment: s.Payment.String(), Status: s.Status})
			}
			slices.SortFunc(x.Statuses, func(a, b ExpectStatus) int { return strings.Compare(a.Payment, b.Payment) })
		}
	case "revoke":
		var id protocol.KeyID
		b, e := hex.DecodeString(st.Device)
		if e != nil || len(b) != len(id) {
			return x, fmt.Errorf("bad device %q", st.Device)
		}
		copy(id[:], b)
		err = svc.Revoke(ctx, id, st.Reason)
	case "assess":
		var a *ledger.Assessment
		if a, err = svc.Assess(ctx); err == nil {
			x.Revoked, x.Expired, x.Restored = a.Revoked, a.Expired, a.Restored
		}
	case "lost":
		var id protocol.KeyID
		b, e := hex.DecodeString(st.Device)
		if e != nil || len(b) != len(id) {
			return x, fmt.Errorf("bad device %q", st.Device)
		}
		copy(id[:], b)
		err = svc.Lost(ctx, id)
	default:
		return x, fmt.Errorf("unknown op %q", st.Op)
	}
	if err != nil {
		x.Error = string(offpay.ErrorCode(err))
	}
	return x, nil
}
