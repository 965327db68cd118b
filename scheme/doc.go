// Package scheme is the scheme node of a federation (README
// "Federation"): the root key, the register of providers and their issuer
// certificates, the scheme-wide revocation list and clearing of the
// obligations the providers' ledgers report.
package scheme
