// Package bench measures offpay's settlement throughput, sync time, payment latency and message sizes against the ed25519 verification limit, and writes them as a table.
package bench
