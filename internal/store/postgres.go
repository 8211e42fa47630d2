package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens one pool used for reads and writes: PostgreSQL runs
// transactions side by side, and row locks and unique keys keep them apart.
func openPostgres(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err) // pgx's message does not echo the password
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	cfg.RuntimeParams["application_name"] = "ticketpager"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxLifetime(30 * time.Minute)
	p := newPool(db)
	s := &Store{write: p, read: p, driver: Postgres}
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open PostgreSQL %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return s, nil
}

// migrationLock is the advisory lock key under which replicas migrate one at a time.
const migrationLock = 0x7469636b // "tick"

// withMigrationLock runs fn while holding a PostgreSQL session advisory lock,
// so replicas starting together migrate one after the other.
func (s *Store) withMigrationLock(ctx context.Context, fn func() error) error {
	if s.driver != Postgres {
		return fn()
	}
	conn, err := s.write.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck // the session ends with conn anyway
	return fn()
}
