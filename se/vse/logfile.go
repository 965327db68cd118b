package vse

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/se/atomicfile"
)

// LogFile holds log entries spilled out of the state file, so that a long
// unsynced log does not make every write rewrite all of it. Records are
// appended: [length u32][counter u64][nonce][XChaCha20-Poly1305(entry)],
// with this SE's salt and the counter as associated data. The state says
// which counters the file must hold (FirstLog..Spilled); records beyond
// Spilled were appended by a write that never committed and are cut off.
const LogFile = "vse.log"

// DefaultLogSpill is how many entries the state file holds before they
// move to the log file.
const DefaultLogSpill = 256

var logMagic = []byte("OPVSELOG")

const recHead = 4 + 8 + chacha20poly1305.NonceSizeX

func (v *VSE) recordAD(counter uint64) []byte {
	ad := append(append([]byte{}, logMagic...), v.hdr.salt[:]...)
	return binary.BigEndian.AppendUint64(ad, counter)
}

func (v *VSE) sealRecord(counter uint64, entry []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(v.key)
	if err != nil {
		return nil, err
	}
	rec := make([]byte, recHead, recHead+len(entry)+aead.Overhead())
	binary.BigEndian.PutUint64(rec[4:], counter)
	if _, err := rand.Read(rec[12:recHead]); err != nil {
		return nil, err
	}
	rec = aead.Seal(rec, rec[12:recHead], entry, v.recordAD(counter))
	binary.BigEndian.PutUint32(rec, uint32(len(rec)-4))
	return rec, nil
}

// loadLogFile reads the spilled entries FirstLog..Spilled and cuts off an
// uncommitted or torn tail.
func (v *VSE) loadLogFile() error {
	s := v.s
	v.spill, v.spillRaw = nil, nil
	path := filepath.Join(v.dir, LogFile)
	file, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		file = nil
	} else if err != nil {
		return err
	}
	aead, err := chacha20poly1305.NewX(v.key)
	if err != nil {
		return err
	}
	off, next := 0, s.FirstLog
	for off+recHead <= len(file) {
		n := int(binary.BigEndian.Uint32(file[off:]))
		c := binary.BigEndian.Uint64(file[off+4:])
		if n < recHead-4 || off+4+n > len(file) || c > s.Spilled {
			break // torn, or never committed
		}
		rec := file[off : off+4+n]
		if c >= s.FirstLog {
			if c != next {
				return fmt.Errorf("vse: log file holds counter %d where %d belongs", c, next)
			}
			entry, err := aead.Open(nil, rec[12:recHead], rec[recHead:], v.recordAD(c))
			if err != nil {
				return fmt.Errorf("vse: log file record %d does not authenticate", c)
			}
			v.spill = append(v.spill, entry)
			v.spillRaw = append(v.spillRaw, rec)
			next++
		}
		off += 4 + n
	}
	if s.Spilled >= s.FirstLog && next != s.Spilled+1 {
		return fmt.Errorf("vse: log file ends before counter %d", s.Spilled)
	}
	v.logSize = int64(off)
	if off < len(file) {
		if err := os.Truncate(path, int64(off)); err != nil {
			return err
		}
	}
	return nil
}

// spillLog moves the state's entries to the log file when there are more
// than the threshold. It runs inside commit, before the state is written:
// if the state write is lost, the appended records are beyond Spilled and
// the next open cuts them off.
func (v *VSE) spillLog() error {
	s := v.s
	if len(s.Log) <= v.o.LogSpill {
		return nil
	}
	first := s.Counter - uint64(len(s.Log)) + 1
	var buf bytes.Buffer
	raws := make([][]byte, 0, len(s.Log))
	for i, e := range s.Log {
		rec, err := v.sealRecord(first+uint64(i), e)
		if err != nil {
			return err
		}
		buf.Write(rec)
		raws = append(raws, rec)
	}
	path := filepath.Join(v.dir, LogFile)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(buf.Bytes(), v.logSize); err != nil {
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
	if statErr != nil {
		if err := atomicfile.SyncDir(v.dir); err != nil {
			return err
		}
	}
	if v.o.Hook != nil && v.o.Hook(LogFile, atomicfile.AfterRename) {
		return atomicfile.ErrCrash
	}
	v.logSize += int64(buf.Len())
	v.spill = append(v.spill, s.Log...)
	v.spillRaw = append(v.spillRaw, raws...)
	s.Spilled = s.Counter
	s.Log = nil
	return nil
}

// pruneLogFile rewrites the log file without the entries below FirstLog.
// It runs after the state that moved FirstLog is on disk; if it is lost,
// the next open skips the old records and a later prune drops them.
func (v *VSE) pruneLogFile() error {
	s := v.s
	drop := 0
	if s.Spilled >= s.FirstLog {
		drop = len(v.spill) - int(s.Spilled-s.FirstLog+1)
	} else {
		drop = len(v.spill)
	}
	if drop == 0 && (len(v.spill) > 0 || v.logSize == 0) {
		return nil
	}
	v.spill = append([][]byte(nil), v.spill[drop:]...)
	v.spillRaw = append([][]byte(nil), v.spillRaw[drop:]...)
	data := bytes.Join(v.spillRaw, nil)
	if err := atomicfile.Write(v.dir, LogFile, data, v.o.Hook); err != nil {
		return err
	}
	v.logSize = int64(len(data))
	return nil
}
