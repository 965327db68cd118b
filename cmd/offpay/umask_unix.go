//go:build unix

package main

import "syscall"

// privateUmask makes every file and folder this process creates readable
// by its owner only (0600 and 0700), whatever the folder it lands in: the
// ledger's database, WAL and URL file, a wallet's files, the codes it
// writes. Files that offpay creates itself are made 0600 explicitly too;
// this also covers those its libraries create.
func privateUmask() { syscall.Umask(0o077) }
