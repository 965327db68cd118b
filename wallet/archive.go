package wallet

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// ArchiveFile holds finished records moved out of the history, one JSON
// object a line, append-only.
const ArchiveFile = "wallet-archive.jsonl"

// DefaultKeepRecords is how many records the history keeps before
// finished ones (settled, rejected, expired) move to the archive: the
// history is rewritten on every payment, so it must not grow for ever.
const DefaultKeepRecords = 500

func finished(s State) bool { return s == Settled || s == Rejected || s == Expired }

// refusedHere is an incoming payment this wallet's SE refused: it never
// reached the log.
func refusedHere(r Record) bool {
	return r.Kind == KindReceive && r.State == Rejected && r.Counter == 0
}

// archive moves the oldest finished records beyond KeepRecords to the
// archive file and makes the append durable before the history drops
// them. A crash in between leaves a record in both; Archived dedupes.
func (h *history) archive(dir string, keepN int) error {
	extra := len(h.Records) - keepN
	var out, keep []Record
	for _, r := range h.Records {
		if refusedHere(r) {
			out = append(out, r) // see maxRejected
			extra--
			continue
		}
		if extra > 0 && finished(r.State) {
			out = append(out, r)
			extra--
			continue
		}
		keep = append(keep, r)
	}
	if len(out) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, ArchiveFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range out {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
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
	h.Records = keep
	h.reindex()
	return nil
}

// Archived returns the archived records, oldest first.
func (w *Wallet) Archived() ([]Record, error) {
	f, err := os.Open(filepath.Join(w.dir, ArchiveFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			// A torn last line from a crash mid-append.
			continue
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out, sc.Err()
}
