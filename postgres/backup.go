package postgres

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backup writes the store's schema to out with PostgreSQL's own pg_dump
// (custom format, a consistent snapshot taken while the ledger serves).
// For point-in-time recovery use PostgreSQL's continuous archiving (WAL
// archiving and base backups), README "Operating the ledger".
func (s *Store) Backup(ctx context.Context, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("postgres: backup: %s exists", out)
	}
	args := []string{"--format=custom", "--no-owner", "--file=" + out + ".partial", "--dbname=" + s.dsn}
	if s.schema != "" {
		args = append(args, "--schema="+s.schema)
	}
	if err := run(ctx, "pg_dump", args...); err != nil {
		os.Remove(out + ".partial")
		return err
	}
	if err := os.Chmod(out+".partial", 0o600); err != nil {
		return err
	}
	return os.Rename(out+".partial", out)
}

// Restore replaces the store's schema with the backup at from (pg_restore)
// and reopens the store: the ledger goes back to the moment of the backup.
// Only for a store nothing else is using.
func (s *Store) Restore(ctx context.Context, from string) error {
	if s.schema == "" {
		return fmt.Errorf("postgres: restore needs a store opened with a schema")
	}
	s.db.Close()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return fmt.Errorf("postgres: restore: %w", err)
	}
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s.schema}.Sanitize()+" CASCADE")
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("postgres: restore: %w", err)
	}
	if err := run(ctx, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+s.dsn, from); err != nil {
		return err
	}
	n, err := OpenWith(ctx, s.dsn, s.schema, s.opts)
	if err != nil {
		return err
	}
	s.db, s.syncCommit = n.db, n.syncCommit
	return nil
}

func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("postgres: %s: %w: %s", name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// Scratch restores the pg_dump backup at path into a new scratch database
// of the server at dsn and opens it (on the schema the archive holds);
// drop removes the database.
func Scratch(ctx context.Context, dsn, path string) (*Store, func(), error) {
	list, err := output(ctx, "pg_restore", "--list", path)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: not a pg_dump archive: %w", err)
	}
	schema := ""
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[3] == "SCHEMA" && f[4] == "-" {
			schema = f[5]
		}
	}
	if schema == "" {
		return nil, nil, fmt.Errorf("postgres: the archive holds no schema")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("offpay_verify_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return nil, nil, err
	}
	drop := func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}
	url, err := withDatabase(dsn, name)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if err := run(ctx, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+url, path); err != nil {
		drop()
		return nil, nil, err
	}
	s, err := OpenWith(ctx, url, schema, Options{AllowAsyncCommit: true})
	if err != nil {
		drop()
		return nil, nil, err
	}
	return s, func() { s.Close(); drop() }, nil
}

// withDatabase returns dsn naming database name instead.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String(), nil
}
