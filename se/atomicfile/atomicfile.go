// Package atomicfile replaces a file atomically and durably, with a hook that lets tests crash at each step.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Stage is a point inside one atomic write where a crash can happen.
type Stage int

// Crash stages: before the rename the old file survives a crash; after it
// the new one does.
const (
	BeforeRename Stage = 1 // temp file written and synced, not yet renamed
	AfterRename  Stage = 2 // renamed, folder not yet synced
)

// ErrCrash is returned when a Hook asks for a simulated crash.
var ErrCrash = errors.New("atomicfile: simulated crash")

// Hook is called at each stage of each write; returning true simulates a
// crash there: the write stops, leaving the disk as a crash would.
type Hook func(name string, s Stage) bool

// TempSuffix marks temp files; readers ignore and may delete them.
const TempSuffix = ".tmp"

// Write replaces dir/name with data: write a temp file, fsync it, rename
// it over the old file, fsync the folder.
func Write(dir, name string, data []byte, h Hook) error {
	tmp := filepath.Join(dir, name+TempSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if h != nil && h(name, BeforeRename) {
		return ErrCrash
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	if h != nil && h(name, AfterRename) {
		return ErrCrash
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a folder so that a rename in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
