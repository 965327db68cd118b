// Package faulttest kills the ledger during sync storms and fuzzes its sync endpoint: nothing is lost, nothing settles twice, hostile bodies change nothing.
package faulttest
