//go:build cgo

package pkcs11_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay/hsm/pkcs11"
	"github.com/offpay/offpay/protocol"
)

// cpuTime is the process's CPU time, user and system: SoftHSM2 runs in
// the process, so its work is counted too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSign signs a SyncResult-sized signing input (about 200 bytes)
// through SoftHSM2 and in process, for both algorithms, from one
// goroutine and from GOMAXPROCS (the ledger signs from many requests at
// once). Besides ns/op it reports cpu-ns/op: the CPU time per signature.
//
//	go test -run - -bench Sign -count 3 ./hsm/pkcs11
func BenchmarkSign(b *testing.B) {
	module := softhsmNew(b)
	tok, err := pkcs11.Open(module, tokenLabel, []byte(pin))
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	msg := make([]byte, 200)
	for _, alg := range algs {
		hk, err := tok.Generate(alg, "bench")
		if err != nil {
			b.Fatal(err)
		}
		var local protocol.Signer = protocol.NewEd25519Signer()
		if alg == protocol.AlgECDSAP256 {
			local = protocol.NewP256Signer()
		}
		for _, s := range []struct {
			name string
			k    protocol.Signer
		}{{"in-process", local}, {"softhsm", hk}} {
			b.Run(alg.String()+"/"+s.name+"/serial", func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := s.k.Sign(msg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
			b.Run(alg.String()+"/"+s.name+"/parallel", func(b *testing.B) {
				cpu0 := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.k.Sign(msg); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
