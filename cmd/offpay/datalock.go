//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// serveLockFile is held (flock) by the one `ledger serve` of a data
// folder for as long as it runs; the kernel drops it when the process
// ends, however it ends.
const serveLockFile = "serve.lock"

// errServed reports a data folder another process serves.
var errServed = errors.New("already served by another process")

// lockData takes the data folder's serve lock, or says which ledger holds
// it: a second `ledger serve` would overwrite ledger.url, and the
// administrator's commands would then talk to the wrong process.
func lockData(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, serveLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			at := "its address is in " + ledgerURLFile
			if b, err := os.ReadFile(filepath.Join(dir, ledgerURLFile)); err == nil {
				at = "at " + strings.TrimSpace(string(b))
			}
			return nil, fmt.Errorf("the ledger of %s is %w (%s): one ledger serve per data folder; for more processes over one PostgreSQL database, give each its own copy of the folder", dir, errServed, at)
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
