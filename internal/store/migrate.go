package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrations embed.FS

// Migrate brings the schema up to date: ticketpager's own tables with goose,
// then River's job tables with River's migrator.
// On PostgreSQL, replicas starting together take turns under an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	return s.withMigrationLock(ctx, func() error {
		dir, err := fs.Sub(migrations, "migrations/"+s.driver)
		if err != nil {
			return fmt.Errorf("migrations for %s: %w", s.driver, err)
		}
		dialect := goose.DialectSQLite3
		if s.driver == Postgres {
			dialect = goose.DialectPostgres
		}
		p, err := goose.NewProvider(dialect, s.write.DB, dir)
		if err != nil {
			return fmt.Errorf("load migrations: %w", err)
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		m, err := rivermigrate.New(s.JobDriver(), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("migrate job queue: %w", err)
		}
		return nil
	})
}

// JobDriver is River's driver for this database: the job queue lives in it,
// so jobs commit with the changes that cause them.
func (s *Store) JobDriver() riverdriver.Driver[*sql.Tx] {
	if s.driver == Postgres {
		return riverdatabasesql.New(s.write.DB)
	}
	return riversqlite.New(s.write.DB)
}
