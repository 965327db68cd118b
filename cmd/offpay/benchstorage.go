package main

import (
	"context"
	"os"

	"github.com/offpay/offpay/internal/bench"
)

// storageBench runs offpay bench --storage: the storage rows alone.
func storageBench(quick, archive, noSQLite bool, largest int, pg string, progress func(string, float64)) (*bench.Result, error) {
	dir, err := os.MkdirTemp("", "offpay-bench-storage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := bench.StorageConfig{Dir: dir, Postgres: pg, Archive: archive, NoSQLite: noSQLite, Progress: progress}
	if quick {
		cfg.Sizes, cfg.Probe = []int{1_000, 10_000}, 5_000
	}
	if largest > 0 {
		cfg.Sizes = nil
		for n := 1_000; n <= largest; n *= 10 {
			cfg.Sizes = append(cfg.Sizes, n)
		}
		if len(cfg.Sizes) == 0 {
			return nil, usageErrorf("--max must be at least 1000")
		}
	}
	rows, notes, err := bench.Storage(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return &bench.Result{Rows: rows, Notes: notes, Machine: bench.Machine()}, nil
}
