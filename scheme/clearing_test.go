package scheme

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// statements builds statements where each provider reports owed[i][j]
// as owed to j and due[j][i] as due from i.
func statements(n int, owed, due [][]int64) map[string]*Statement {
	by := map[string]*Statement{}
	for i := 0; i < n; i++ {
		s := &Statement{Provider: fmt.Sprint("p", i), Report: &ledger.Report{ConservationOK: true}}
		for j := 0; j < n; j++ {
			if i != j {
				s.Obligations = append(s.Obligations, ledger.Obligation{Provider: fmt.Sprint("p", j), Owe: owed[i][j], Due: due[i][j]})
				s.Report.Clearing += owed[i][j] - due[i][j]
			}
		}
		by[s.Provider] = s
	}
	return by
}

func matrix(n int, f func(i, j int) int64) [][]int64 {
	m := make([][]int64, n)
	for i := range m {
		m[i] = make([]int64, n)
		for j := range m[i] {
			if i != j {
				m[i][j] = f(i, j)
			}
		}
	}
	return m
}

// TestNetPositionsSumToZero: over random obligations among up to 8
// providers, agreeing or not, over consecutive cycles, the net positions
// always sum to zero and follow the payers' providers' figures; the
// federation holds exactly when both sides agree.
func TestNetPositionsSumToZero(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 500; run++ {
		n := 2 + r.IntN(7)
		prev := map[string]map[string]int64{}
		cum := matrix(n, func(int, int) int64 { return 0 })
		for cycle := 0; cycle < 3; cycle++ {
			for i := range cum {
				for j := range cum[i] {
					if i != j {
						cum[i][j] += r.Int64N(1_000_000)
					}
				}
			}
			agree := r.IntN(2) == 0
			due := matrix(n, func(i, j int) int64 { return cum[j][i] }) // j reports what i owes it
			if !agree {
				due[1][0]++
			}
			c, owed, err := clear(statements(n, cum, due), prev)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, p := range c.Positions {
				sum += p.Net
			}
			if sum != 0 {
				t.Fatalf("run %d cycle %d: positions sum to %d", run, cycle, sum)
			}
			if c.Federation.Holds != agree || (len(c.Mismatches) == 0) != agree {
				t.Fatalf("run %d: agree %v, holds %v, mismatches %v", run, agree, c.Federation.Holds, c.Mismatches)
			}
			var moved int64
			for _, tr := range c.Transfers {
				moved += tr.Amount
			}
			var want int64
			for i := range cum {
				for j := range cum[i] {
					want += cum[i][j] - prev[fmt.Sprint("p", i)][fmt.Sprint("p", j)]
				}
			}
			if moved != want {
				t.Fatalf("run %d: transfers %d, want %d", run, moved, want)
			}
			prev = owed
		}
	}
}

// TestClearingRefusesBadStatements: a provider that reports owing less
// than at the last cycle (undoing a paid obligation), a negative figure,
// obligations with a stranger, or figures beyond int64 is refused.
func TestClearingRefusesBadStatements(t *testing.T) {
	owed := matrix(2, func(int, int) int64 { return 100 })
	_, prev, err := clear(statements(2, owed, owed), nil)
	if err != nil {
		t.Fatal(err)
	}
	less := matrix(2, func(int, int) int64 { return 99 })
	if _, _, err := clear(statements(2, less, less), prev); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("a shrinking obligation: %v", err)
	}
	neg := matrix(2, func(int, int) int64 { return -5 })
	if _, _, err := clear(statements(2, neg, neg), nil); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("a negative obligation: %v", err)
	}
	by := statements(2, owed, owed)
	by["p0"].Obligations = append(by["p0"].Obligations, ledger.Obligation{Provider: "stranger", Owe: 1})
	if _, _, err := clear(by, nil); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("an obligation with a stranger: %v", err)
	}
	huge := matrix(3, func(i, j int) int64 { return 1 << 62 })
	if _, _, err := clear(statements(3, huge, huge), nil); offpay.ErrorCode(err) != offpay.ELIMIT {
		t.Fatalf("beyond int64: %v", err)
	}
}

// TestProviderOverstatesWhatIsDue: a payee's provider that claims more
// than the payer's provider settled does not move money: transfers
// follow the payer's side, and the cycle shows the mismatch.
func TestProviderOverstatesWhatIsDue(t *testing.T) {
	owed := matrix(2, func(i, j int) int64 { return map[bool]int64{true: 500, false: 0}[i == 0] })
	due := matrix(2, func(i, j int) int64 { return 0 })
	due[1][0] = 5000 // p1 claims p0 owes it 5000; p0 settled 500
	c, _, err := clear(statements(2, owed, due), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Transfers) != 1 || c.Transfers[0] != (Transfer{From: "p0", To: "p1", Amount: 500}) || c.Federation.Holds {
		t.Fatalf("cycle %+v", c)
	}
	if len(c.Mismatches) != 1 || c.Mismatches[0] != (Mismatch{From: "p0", To: "p1", Owe: 500, Due: 5000}) {
		t.Fatalf("mismatches %+v", c.Mismatches)
	}
}
