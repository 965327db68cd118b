//go:build cgo

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/hsm/pkcs11"
	"github.com/offpay/offpay/hsm/pkcs11/softhsmtest"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// BenchmarkSettleHSM settles payments on a fresh SQLite ledger whose
// keys are in process or on a SoftHSM2 token (README "The ledger's keys
// in an HSM"). Settlement signs one SyncResult per upload: per=1 is the
// phone that syncs after each payment (the signature weighs most),
// per=100 a terminal's day. It reports payments/s, uploads/s and the CPU
// time per upload (SoftHSM2 runs in the process: its work is counted).
// The three variants run in turn, three rounds, so that ratios come from
// the same minutes of a shared machine.
//
//	go test -run - -bench SettleHSM -benchtime 1x ./internal/bench
func BenchmarkSettleHSM(b *testing.B) {
	module := softhsmtest.New(b, "bench", "1234")
	tok, err := pkcs11.Open(module, "bench", []byte("1234"))
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	ctx := context.Background()
	type keysFn func(dir string) (*ledger.Keys, error)
	onToken := func(alg protocol.Alg) keysFn {
		return func(dir string) (*ledger.Keys, error) {
			root, err := tok.Generate(alg, "root")
			if err != nil {
				return nil, err
			}
			issuer, err := tok.Generate(alg, "issuer")
			if err != nil {
				return nil, err
			}
			return ledger.InitSigners(filepath.Join(dir, "keys"), "EUR", root, issuer)
		}
	}
	// The variants take turns, rounds times, so that the load of a
	// shared machine falls on all of them alike.
	rounds := 3
	for _, per := range []int{1, 100} {
		n := 2000 * per
		if per > 1 {
			n = 10_000
		}
		for round := range rounds * 3 {
			k := []struct {
				name string
				keys keysFn
			}{
				{"in-process", func(dir string) (*ledger.Keys, error) { return ledger.Init(filepath.Join(dir, "keys"), "EUR", nil) }},
				{"softhsm-ed25519", onToken(protocol.AlgEd25519)},
				{"softhsm-p256", onToken(protocol.AlgECDSAP256)},
			}[round%3]
			b.Run(fmt.Sprintf("per=%d/round=%d/%s", per, round/3+1, k.name), func(b *testing.B) {
				var total SettleResult
				for range b.N {
					b.StopTimer()
					dir, err := os.MkdirTemp("", "offpay-settle-hsm-")
					if err != nil {
						b.Fatal(err)
					}
					defer os.RemoveAll(dir)
					st, closeFn, err := OpenSQLite(ctx, dir)
					if err != nil {
						b.Fatal(err)
					}
					keys, err := k.keys(dir)
					if err != nil {
						b.Fatal(err)
					}
					svc := ledger.New(st, keys, ledger.Options{})
					b.StartTimer()
					r, err := SettlePer(ctx, svc, n, per, nil)
					b.StopTimer()
					closeFn()
					if err != nil {
						b.Fatal(err)
					}
					total.Payments += r.Payments
					total.Uploads += r.Uploads
					total.Elapsed += r.Elapsed
					total.CPU += r.CPU
				}
				b.ReportMetric(total.Rate(), "payments/s")
				b.ReportMetric(float64(total.Uploads)/total.Elapsed.Seconds(), "uploads/s")
				b.ReportMetric(float64(total.CPU.Microseconds())/float64(total.Uploads), "cpu-µs/upload")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
