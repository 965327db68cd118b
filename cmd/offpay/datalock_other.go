//go:build !unix

package main

import "errors"

var errServed = errors.New("already served by another process")

// lockData takes no lock where flock is missing: there, running a second
// `ledger serve` on one data folder is the operator's to avoid.
func lockData(string) (func(), error) { return func() {}, nil }
