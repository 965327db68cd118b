package wallet

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/offpay/offpay/se"
)

// ArchiveFile holds finished records moved out of the history, one a
// line, append-only: the record's JSON sealed by the SE (se.DataSealer)
// and base64-encoded, or, written before sealing or by an SE without it,
// the JSON itself.
const ArchiveFile = "wallet-archive.jsonl"

// DefaultKeepRecords is how many records the history keeps before
// finished ones (settled, rejected, expired) move to the archive: the
// history is rewritten on every payment, so it must not grow for ever.
const DefaultKeepRecords = 500

func finished(s State) bool { return s == Settled || s == Rejected || s == Expired }

// refusedHere is an incoming payment this wallet's SE refused: it never
// reached the log.
func refusedHere(r Record) bool {
	return incoming(r.Kind) && r.State == Rejected && r.Counter == 0
}

// archive moves the oldest finished records beyond KeepRecords to the
// archive file and makes the append durable before the history drops
// them. A crash in between leaves a record in both; Archived dedupes.
func (h *history) archive(dir string, keepN int, sealer se.DataSealer) error {
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
	f, err := os.OpenFile(filepath.Join(dir, ArchiveFile), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	// A crash mid-append may have left a torn last line: end it, so the
	// records appended now start lines of their own.
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			w.WriteByte('\n')
		}
	}
	for _, r := range out {
		line, err := json.Marshal(r)
		if err == nil && sealer != nil {
			var sealed []byte
			if sealed, err = sealer.SealData(archiveLabel, line); err == nil {
				line = []byte(base64.StdEncoding.EncodeToString(sealed))
			}
		}
		if err == nil {
			_, err = w.Write(append(line, '\n'))
		}
		if err != nil {
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
	var lines [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []Record
	seen := map[string]bool{}
	for _, line := range lines {
		if len(line) > 0 && line[0] != '{' {
			sealed, err := base64.StdEncoding.DecodeString(string(line))
			if err == nil && w.sealer == nil {
				return nil, errors.New("wallet: the archive is sealed and this SE cannot open it")
			}
			if err == nil {
				line, err = w.sealer.OpenData(archiveLabel, sealed)
			}
			if err != nil {
				continue // a torn line from a crash mid-append
			}
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			// A torn last line from a crash mid-append.
			continue
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out, nil
}
