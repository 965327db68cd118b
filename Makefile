# Developer targets. CI is .ci/run; these are the longer runs it cannot afford.

FUZZTIME ?= 2m

.PHONY: fuzz bench bench-quick robustness

# Every fuzz target of the repository for $(FUZZTIME) each (make fuzz FUZZTIME=10m).
# A crash is written under the package's testdata/fuzz/ and becomes a regression
# vector once committed.
fuzz:
	.ci/fuzz $(FUZZTIME)

# The full benchmark table (10^6 payments on SQLite: about two minutes on a quiet 2-core machine).
bench:
	go run ./cmd/offpay bench

bench-quick:
	go run ./cmd/offpay bench --quick

# The load and fault tests, with the race detector.
robustness:
	go test -race -count=1 ./internal/loadtest ./internal/faulttest
