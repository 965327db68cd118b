// Package recoverytest runs real wallets against a ledger served over
// HTTP on loopback whose database goes back to a backup, and checks that
// every wallet's next sync gives the ledger back what it lost (package
// tests only; README "Operating the ledger").
package recoverytest
