package sim

import (
	"context"
	"testing"
)

// BenchmarkShortSeed is one short seed, start to drain.
func BenchmarkShortSeed(b *testing.B) {
	cfg := Short()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), uint64(i+1), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
