package sqlstore

import "strings"

// Sizes is what a ledger database takes on disk, as its store measures it
// (sqlite: dbstat and the files; postgres: pg_total_relation_size).
type Sizes struct {
	// Disk is the whole database: SQLite's file (its WAL apart),
	// PostgreSQL's relations of the ledger's schema (tables, indexes,
	// TOAST). WAL is SQLite's write-ahead log file.
	Disk, WAL int64
	// Tables holds each table's bytes, its indexes (and TOAST) included;
	// Indexes the indexes' part of it.
	Tables  map[string]int64
	Indexes map[string]int64
}

// ArchiveSuffix ends the name of each archive table (archive.go).
const ArchiveSuffix = "_archive"

// Hot sums the tables that are not archive tables.
func (s *Sizes) Hot() int64 {
	var n int64
	for t, b := range s.Tables {
		if !strings.HasSuffix(t, ArchiveSuffix) {
			n += b
		}
	}
	return n
}
