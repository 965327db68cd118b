// Package wallet runs the payer and payee flows over a secure element, keeps the user's history and talks to the ledger when online.
package wallet
