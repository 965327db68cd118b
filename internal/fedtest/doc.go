// Package fedtest holds the federation's end-to-end tests: a scheme and
// provider ledgers, each on its own store, with wallets on virtual SEs
// enrolled at different providers paying each other offline, the
// evidence forwarded between the ledgers in process or over NATS
// JetStream (package natsfwd), and clearing.
package fedtest
