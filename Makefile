# Developer targets. CI is .ci/run; these are the longer runs it cannot afford.

FUZZTIME ?= 2m

.PHONY: fuzz bench bench-quick bench-hsm robustness scenarios sim sim-curves

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

# Signatures and settlement with the ledger's keys on a SoftHSM2 token against
# in-process keys (README "The ledger's keys in an HSM"; about four minutes).
bench-hsm:
	go test -run - -bench Sign -benchtime 2s ./hsm/pkcs11
	go test -run - -bench SettleHSM -benchtime 1x -timeout 30m ./internal/bench

# The load and fault tests, with the race detector.
robustness:
	go test -race -count=1 ./internal/loadtest ./internal/faulttest

# Re-record the stateful conformance vectors of spec/scenarios from the contract suite
# (after a deliberate change of a settlement rule; TestScenarios replays them).
scenarios:
	rm -f spec/scenarios/*.json
	OFFPAY_WRITE_SCENARIOS=$(CURDIR)/spec/scenarios go test -count=1 -run TestContract ./sqlite

# The simulator over many short seeds, every attack (about three minutes on
# the shared 2-core machine); SEEDS=1..300 for fewer.
SEEDS ?= 1..3000
sim:
	go run ./cmd/offpay sim --seeds $(SEEDS) --short

# Loss curves at scale (PNG, SVG and CSV in sim-curves/).
sim-curves:
	go run ./cmd/offpay sim --devices 10000 --out sim-curves
