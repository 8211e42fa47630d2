// Package store keeps ticketpager's state in a SQL database through database/sql:
// an embedded SQLite file by default. Queries use $N placeholders and portable
// SQL so that one code path serves PostgreSQL too.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Sentinel errors; the API maps them to HTTP statuses in one place.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict") // a unique or foreign key constraint refused the change
)

// Querier is what both *sql.DB and *sql.Tx offer, so one function serves both.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store holds the database pools. SQLite allows one writer at a time, so writes
// go through a pool of one connection (River's SQLite driver wants the same),
// while reads use several connections thanks to WAL.
type Store struct {
	write  *pool
	read   *pool
	driver string // SQLite or Postgres
	path   string // the SQLite file
}

// The SQL dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options say which database to open and how.
type Options struct {
	URL              string        // "" or a path or "sqlite:" URL: SQLite; "postgres://...": PostgreSQL
	DataDir          string        // where the default SQLite file lives
	MaxConns         int           // PostgreSQL pool size; default 10
	StatementTimeout time.Duration // PostgreSQL statement_timeout; default 30s
}

// Open connects to the database o names.
func Open(ctx context.Context, o Options) (*Store, error) {
	if isPostgres(o.URL) {
		return openPostgres(ctx, o)
	}
	path, err := sqlitePath(o.URL, o.DataDir)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	write, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	s := &Store{write: newPool(write), read: newPool(read), driver: SQLite, path: path}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

func sqlitePath(databaseURL, dataDir string) (string, error) {
	switch {
	case databaseURL == "":
		return filepath.Join(dataDir, "ticketpager.db"), nil
	case strings.HasPrefix(databaseURL, "sqlite:"), strings.HasPrefix(databaseURL, "file:"):
		u, err := url.Parse(databaseURL)
		if err != nil {
			return "", fmt.Errorf("database URL: %w", err)
		}
		p := u.Opaque
		if p == "" {
			p = u.Path
		}
		if p == "" {
			return "", errors.New("database URL: sqlite: URL names no file, e.g. sqlite:./data/ticketpager.db")
		}
		return p, nil
	case strings.Contains(databaseURL, "://"):
		return "", fmt.Errorf("database URL: unsupported scheme in %q; use a SQLite path or sqlite: URL", redactURL(databaseURL))
	default:
		return databaseURL, nil
	}
}

// redactURL drops a password from a URL for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// DB is the pool that writes (and River's pool).
func (s *Store) DB() *sql.DB { return s.write.DB }

// Writer is the write pool, with prepared statements, for writes outside a transaction.
func (s *Store) Writer() Querier { return s.write }

// Reader is the pool for reads outside a transaction.
func (s *Store) Reader() Querier { return s.read }

// Driver names the SQL dialect: SQLite or Postgres.
func (s *Store) Driver() string { return s.driver }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.read.close(), s.write.close())
}

// Tx runs fn in a write transaction, committing when fn returns nil.
func (s *Store) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{Tx: sqlTx, pool: s.write, driver: s.driver}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	s.write.preparePending(ctx)
	return nil
}

// mapErr turns constraint violations into ErrConflict and no rows into ErrNotFound.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "23") { // integrity constraint violation
		return fmt.Errorf("%w: %s", ErrConflict, pgErr.Message)
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "FOREIGN KEY constraint failed") ||
		strings.Contains(msg, "constraint failed") {
		return fmt.Errorf("%w: %s", ErrConflict, msg)
	}
	return err
}

// millis converts a time to the stored unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMillis(ms.Int64)
	return &t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
