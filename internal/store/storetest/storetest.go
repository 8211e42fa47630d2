// Package storetest gives tests a fresh database on each backend: SQLite
// always, PostgreSQL when TICKETPAGER_TEST_POSTGRES_URL names a server (CI
// starts one with scripts/pg-test-server.sh; under CI its absence fails the
// tests instead of skipping them).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvPostgres names the PostgreSQL server the tests may create databases on.
const EnvPostgres = "TICKETPAGER_TEST_POSTGRES_URL"

// EnvBackend picks the backend of the end-to-end tests: "sqlite" (default) or "postgres".
const EnvBackend = "TICKETPAGER_TEST_BACKEND"

// Backends are the backends a conformance test runs against.
func Backends(t testing.TB) []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI must run every test against PostgreSQL too (see .ci/run)", EnvPostgres)
	}
	return []string{"sqlite"}
}

// Backend is the backend the end-to-end tests use.
func Backend(t testing.TB) string {
	if os.Getenv(EnvBackend) == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// URL returns the database URL of a new, empty database on backend
// ("" for SQLite: the caller's data folder holds the file). A PostgreSQL
// database is dropped when the test ends.
func URL(t testing.TB, backend string) string {
	t.Helper()
	if backend != "postgres" {
		return ""
	}
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Fatalf("%s must name a PostgreSQL server for the postgres backend", EnvPostgres)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tp_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
