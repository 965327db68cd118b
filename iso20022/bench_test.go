package iso20022

import (
	"fmt"
	"testing"
)

// cycleOf returns a balanced cycle of n providers in a ring: each owes the
// next 100 + i minor units.
func cycleOf(n int) *Cycle {
	c := threeProviders()
	c.Positions, c.Obligations = nil, nil
	for i := 0; i < n; i++ {
		c.Positions = append(c.Positions, Position{Provider: Agent{ID: fmt.Sprintf("provider-%d", i)}})
	}
	for i := 0; i < n; i++ {
		j := (i + 1) % n
		a := int64(100 + i)
		c.Obligations = append(c.Obligations, Obligation{From: c.Positions[i].Provider.ID, To: c.Positions[j].Provider.ID, Amount: a})
		c.Positions[i].Net -= a
		c.Positions[j].Net += a
	}
	return c
}

func BenchmarkPacs009(b *testing.B) {
	for _, n := range []int{3, 100} {
		b.Run(fmt.Sprintf("providers=%d", n), func(b *testing.B) {
			c := cycleOf(n)
			for b.Loop() {
				if _, err := SettlementPacs009(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCamt054(b *testing.B) {
	n := sampleNotification()
	for b.Loop() {
		if _, err := Camt054(n); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRingCycleValidates: the benchmark's cycle of 100 providers is valid.
func TestRingCycleValidates(t *testing.T) {
	doc, err := SettlementPacs009(cycleOf(100))
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, doc)
	net, _ := readPacs009(t, doc, "EUR")
	for _, p := range cycleOf(100).Positions {
		if net[p.Provider.ID] != p.Net {
			t.Fatalf("%s: %d, want %d", p.Provider.ID, net[p.Provider.ID], p.Net)
		}
	}
}
