package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/store/storetest"
)

// openTest opens a migrated store on a fresh database of backend.
func openTest(t *testing.T, backend string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Options{URL: storetest.URL(t, backend), DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(ctx))
	return s
}

// conform runs a test against every backend: the storage conformance suite.
func conform(t *testing.T, test func(t *testing.T, s *Store)) {
	for _, b := range storetest.Backends(t) {
		t.Run(b, func(t *testing.T) { test(t, openTest(t, b)) })
	}
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func seed(t *testing.T, s *Store) (User, Policy, AlertSource) {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, User{Name: "Ada", Email: "ada@example.com", CreatedAt: t0})
	require.NoError(t, err)
	p, err := s.CreatePolicy(ctx, Policy{Name: "Default", RepeatCount: 1, CreatedAt: t0,
		Rules: []Rule{{TimeoutMinutes: 5, UserIDs: []int64{u.ID}}, {TimeoutMinutes: 10, UserIDs: []int64{u.ID}}}})
	require.NoError(t, err)
	a, err := s.CreateSource(ctx, AlertSource{Name: "Autotask", IntegrationType: "AUTOTASK", EscalationPolicyID: p.ID,
		Status: "ACTIVE", KeyHash: "h1", KeySealed: "k", Username: "u", SecretSealed: "s", IntegrationCode: "c",
		WebServer: "https://webservices2.autotask.net", CreatedAt: t0})
	require.NoError(t, err)
	return u, p, a
}

func TestOpenAndMigrateTwice(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for range 2 {
		s, err := Open(ctx, Options{URL: "sqlite:" + filepath.Join(dir, "x.db"), DataDir: dir})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(ctx))
		require.NoError(t, s.Close())
	}
	_, err := Open(ctx, Options{URL: "postgres://u:pw@127.0.0.1:1/db", DataDir: dir})
	require.Error(t, err, "nothing listens on port 1")
	require.NotContains(t, err.Error(), "pw")
	_, err = Open(ctx, Options{URL: "mysql://u:pw@localhost/db", DataDir: dir})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "pw")
}

func TestPolicyRulesRoundTrip(t *testing.T) { conform(t, testPolicyRulesRoundTrip) }

func testPolicyRulesRoundTrip(t *testing.T, s *Store) {
	ctx := context.Background()
	u, p, a := seed(t, s)
	require.Len(t, p.Rules, 2)
	require.Equal(t, []int64{u.ID}, p.Rules[1].UserIDs)
	require.Equal(t, 10, p.Rules[1].TimeoutMinutes)

	// a user in a rule cannot be deleted; a policy in use cannot be deleted
	require.ErrorIs(t, s.DeleteUser(ctx, u.ID), ErrConflict)
	require.ErrorIs(t, s.DeletePolicy(ctx, p.ID), ErrConflict)
	require.NoError(t, s.DeleteSource(ctx, a.ID))
	require.NoError(t, s.DeletePolicy(ctx, p.ID))
	require.NoError(t, s.DeleteUser(ctx, u.ID))
	require.ErrorIs(t, s.DeleteUser(ctx, u.ID), ErrNotFound)

	_, err := s.CreatePolicy(ctx, Policy{Name: "x", Rules: []Rule{{TimeoutMinutes: 1, UserIDs: []int64{999}}}, CreatedAt: t0})
	require.ErrorIs(t, err, ErrConflict)
}

func TestTicketLinkIsTheDedupGuard(t *testing.T) { conform(t, testTicketLinkIsTheDedupGuard) }

func testTicketLinkIsTheDedupGuard(t *testing.T, s *Store) {
	ctx := context.Background()
	_, _, a := seed(t, s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	linked, conflicts := 0, 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Tx(ctx, func(tx *Tx) error {
				i, err := InsertIncident(ctx, tx, Incident{SourceID: a.ID, Status: "PENDING", Priority: "HIGH", TicketID: 7, CreatedAt: t0})
				if err != nil {
					return err
				}
				return LinkTicket(ctx, tx, a.ID, 7, i.ID, t0)
			})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				linked++
			} else {
				require.ErrorIs(t, err, ErrConflict)
				conflicts++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, linked)
	require.Equal(t, 19, conflicts)
	list, next, err := s.Incidents(ctx, IncidentFilter{Limit: 50})
	require.NoError(t, err)
	require.Len(t, list, 1, "rolled back creates leave no incident")
	require.Zero(t, next)
	cur, err := CurrentIncident(ctx, s.Reader(), a.ID, 7)
	require.NoError(t, err)
	require.Equal(t, list[0].ID, cur.ID)
}

func TestIncidentPaging(t *testing.T) { conform(t, testIncidentPaging) }

func testIncidentPaging(t *testing.T, s *Store) {
	ctx := context.Background()
	_, _, a := seed(t, s)
	for k := range 5 {
		st := "PENDING"
		if k%2 == 1 {
			st = "RESOLVED"
		}
		_, err := InsertIncident(ctx, s.DB(), Incident{SourceID: a.ID, Status: st, Priority: "LOW", TicketID: int64(k), CreatedAt: t0})
		require.NoError(t, err)
	}
	page, next, err := s.Incidents(ctx, IncidentFilter{Limit: 2, Statuses: []string{"PENDING"}})
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.NotZero(t, next)
	page2, next2, err := s.Incidents(ctx, IncidentFilter{Limit: 2, Statuses: []string{"PENDING"}, Cursor: next})
	require.NoError(t, err)
	require.Len(t, page2, 1)
	require.Zero(t, next2)
	require.Greater(t, page[1].ID, page2[0].ID)
}

func TestCalloutJournal(t *testing.T) { conform(t, testCalloutJournal) }

func testCalloutJournal(t *testing.T, s *Store) {
	ctx := context.Background()
	_, _, a := seed(t, s)
	id, err := s.InsertCallout(ctx, Callout{SourceID: a.ID, ReceivedAt: t0, Method: "POST", ContentType: "application/json", Body: `{"id":1}`})
	require.NoError(t, err)
	stranded, err := s.StrandedCallouts(ctx, t0.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []int64{id}, stranded)
	require.NoError(t, s.RecordOutcome(ctx, id, Outcome{Action: "QUEUED", HTTPStatus: 202, TicketID: 1, Error: "down"}, t0))
	require.NoError(t, s.RecordOutcome(ctx, id, Outcome{Action: "CREATED", HTTPStatus: 201, TicketStatusLabel: "New"}, t0))
	c, err := s.Callout(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "CREATED", c.Action)
	require.Equal(t, int64(1), c.TicketID, "kept from the first attempt")
	require.Equal(t, "New", c.TicketStatusLabel)
	require.Equal(t, 2, c.Attempts)
	require.Empty(t, c.Error)
	stranded, err = s.StrandedCallouts(ctx, t0.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Empty(t, stranded)
}

// TestMigrationsMatch: both dialects have the same migration versions, so a
// database can move between them and replicas agree on the schema version.
func TestMigrationsMatch(t *testing.T) {
	names := func(dialect string) []string {
		entries, err := migrations.ReadDir("migrations/" + dialect)
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, postgres := names(SQLite), names(Postgres)
	require.NotEmpty(t, sqlite)
	require.Equal(t, sqlite, postgres)
}
