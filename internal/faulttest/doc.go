// Package faulttest kills the ledger during sync storms and fuzzes its sync endpoint: nothing is lost, nothing settles twice, hostile bodies change nothing; and it reconciles a bank's received notifications with the ledger's books after receiver outages and SIGKILLs.
package faulttest
