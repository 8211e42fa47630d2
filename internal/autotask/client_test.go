package autotask_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
)

const (
	testUser   = "api-user@example.com"
	testSecret = "s3cr3t-VALUE-never-shown"
	testCode   = "TRACKING-ID-1"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	fake   *autotasktest.Server
	client *autotask.Client
	src    autotask.Source
	clock  *fakeClock
	logs   *syncBuffer
	reg    *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := autotasktest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddCredentials(testUser, testSecret, testCode)
	fake.AddCompany(174, "Acme Dental")
	e := &env{
		fake:  fake,
		clock: &fakeClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)},
		logs:  &syncBuffer{},
		reg:   prometheus.NewRegistry(),
		src:   autotask.Source{ID: 1, Username: testUser, Secret: testSecret, IntegrationCode: testCode, WebServer: fake.URL()},
	}
	e.client = autotask.NewClient(autotask.Options{
		Now:        e.clock.Now,
		Registerer: e.reg,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(func() {
		require.NotContains(t, e.logs.String(), testSecret, "the secret must never be logged")
	})
	return e
}

func (e *env) addTicket(status, priority string) autotasktest.Ticket {
	return e.fake.AddTicket(autotasktest.Ticket{
		Title:     "Server down",
		Status:    e.fake.StatusValue(status),
		Priority:  e.fake.PriorityValue(priority),
		QueueID:   29682833,
		CompanyID: 174,
	})
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func requireClass(t *testing.T, err error, class error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, class)
	for _, other := range []error{autotask.ErrNotFound, autotask.ErrUnauthorized, autotask.ErrUnavailable, autotask.ErrForbiddenHost} {
		if other != class {
			require.NotErrorIs(t, err, other, "an error wraps exactly one class")
		}
	}
	require.NotContains(t, err.Error(), testSecret)
}

func TestTicketWithLabelsCompanyAndLink(t *testing.T) {
	e := newEnv(t)
	ft := e.fake.AddTicket(autotasktest.Ticket{
		Title: "Printer on fire", Description: "smoke", Status: e.fake.StatusValue("In Progress"),
		Priority: e.fake.PriorityValue("Low"), QueueID: 29682833, CompanyID: 174,
	})
	require.Equal(t, int64(100), ft.ID)
	require.Equal(t, "T20261127.0001", ft.Number)

	got, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, &autotask.Ticket{
		ID: 100, Number: "T20261127.0001", Title: "Printer on fire", Description: "smoke",
		Status: e.fake.StatusValue("In Progress"), StatusLabel: "In Progress",
		Priority: e.fake.PriorityValue("Low"), PriorityLabel: "Low",
		QueueID: 29682833, QueueLabel: "Level I Support",
		CompanyID: 174, CompanyName: "Acme Dental",
		WebLink: e.fake.URL() + "/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID=100",
	}, got)
}

func TestTicketWithoutQueueOrCompany(t *testing.T) {
	e := newEnv(t)
	ft := e.fake.AddTicket(autotasktest.Ticket{Title: "no queue"})
	got, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, "New", got.StatusLabel)
	require.Equal(t, "Medium", got.PriorityLabel)
	require.Zero(t, got.QueueID)
	require.Empty(t, got.QueueLabel)
	require.Empty(t, got.CompanyName)
	require.Zero(t, e.fake.Requests(autotasktest.EndpointCompanies))
}

func TestTicketByNumber(t *testing.T) {
	e := newEnv(t)
	e.addTicket("New", "High")
	want := e.addTicket("Waiting Customer", "Critical")

	got, err := e.client.TicketByNumber(ctxT(t, 5*time.Second), e.src, " "+strings.ToLower(want.Number)+" ")
	require.NoError(t, err)
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Number, got.Number)
	require.Equal(t, "Waiting Customer", got.StatusLabel)
	require.Equal(t, "Critical", got.PriorityLabel)
	require.Equal(t, "Acme Dental", got.CompanyName)
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointQuery))
	require.Zero(t, e.fake.Requests(autotasktest.EndpointTickets))
}

func TestNotFound(t *testing.T) {
	tests := []struct {
		name        string
		nullMissing bool
		call        func(e *env) error
		apiStatus   int // 0: no *APIError expected
	}{
		{"404", false, func(e *env) error { _, err := e.client.Ticket(context.Background(), e.src, 999); return err }, 404},
		{"item null", true, func(e *env) error { _, err := e.client.Ticket(context.Background(), e.src, 999); return err }, 0},
		{"query without items", false, func(e *env) error {
			_, err := e.client.TicketByNumber(context.Background(), e.src, "T20990101.0001")
			return err
		}, 0},
		{"zero id", false, func(e *env) error { _, err := e.client.Ticket(context.Background(), e.src, 0); return err }, 0},
		{"empty number", false, func(e *env) error { _, err := e.client.TicketByNumber(context.Background(), e.src, " "); return err }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.addTicket("New", "High")
			e.fake.SetNullForMissing(tt.nullMissing)
			err := tt.call(e)
			requireClass(t, err, autotask.ErrNotFound)
			var apiErr *autotask.APIError
			if tt.apiStatus != 0 {
				require.ErrorAs(t, err, &apiErr)
				require.Equal(t, tt.apiStatus, apiErr.StatusCode)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	tests := []struct {
		name      string
		src       func(autotask.Source) autotask.Source
		zoneCalls int
		apiCalls  int
	}{
		{"wrong secret", func(s autotask.Source) autotask.Source { s.Secret = "wrong-" + s.Secret; return s }, 2, 2},
		{"wrong integration code", func(s autotask.Source) autotask.Source { s.IntegrationCode = "other"; return s }, 2, 2},
		{"unknown user", func(s autotask.Source) autotask.Source { s.Username = "nobody@example.com"; return s }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ft := e.addTicket("New", "High")
			_, err := e.client.Ticket(ctxT(t, 5*time.Second), tt.src(e.src), ft.ID)
			requireClass(t, err, autotask.ErrUnauthorized)
			var apiErr *autotask.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.zoneCalls, e.fake.Requests(autotasktest.EndpointZone))
			require.Equal(t, tt.apiCalls, e.fake.Requests(autotasktest.EndpointTickets))
		})
	}
}

func TestRediscoversZoneOn401(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	ctx := ctxT(t, 5*time.Second)
	_, err := e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointZone))

	e.fake.MoveZone() // the old zone url now answers 401
	got, err := e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, "New", got.StatusLabel)
	require.Equal(t, 2, e.fake.Requests(autotasktest.EndpointZone))
	require.Equal(t, 3, e.fake.Requests(autotasktest.EndpointTickets), "one 401, one retry")

	// The new zone is cached: the next read is one request.
	before := e.fake.TotalRequests()
	_, err = e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, before+1, e.fake.TotalRequests())
}

func TestCredentialRotation(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	ctx := ctxT(t, 5*time.Second)
	_, err := e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)

	// Autotask admin rotates the secret; the old one fails.
	e.fake.AddCredentials(testUser, "new-secret-value", testCode)
	_, err = e.client.Ticket(ctx, e.src, ft.ID)
	requireClass(t, err, autotask.ErrUnauthorized)

	// The source is updated: a changed Source (same ID) gets fresh caches even without Forget.
	src := e.src
	src.Secret = "new-secret-value"
	_, err = e.client.Ticket(ctx, src, ft.ID)
	require.NoError(t, err)
}

func TestZoneCachedForADayAndForget(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	ctx := ctxT(t, 5*time.Second)
	read := func() {
		t.Helper()
		_, err := e.client.Ticket(ctx, e.src, ft.ID)
		require.NoError(t, err)
	}
	read()
	e.clock.Advance(23 * time.Hour)
	read()
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointZone))
	e.clock.Advance(2 * time.Hour)
	read()
	require.Equal(t, 2, e.fake.Requests(autotasktest.EndpointZone))

	fields, companies := e.fake.Requests(autotasktest.EndpointFields), e.fake.Requests(autotasktest.EndpointCompanies)
	e.client.Forget(e.src.ID)
	read()
	require.Equal(t, 3, e.fake.Requests(autotasktest.EndpointZone))
	require.Equal(t, fields+1, e.fake.Requests(autotasktest.EndpointFields))
	require.Equal(t, companies+1, e.fake.Requests(autotasktest.EndpointCompanies))
}

func TestPicklistRefreshOnUnknownValue(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t, 5*time.Second)
	first := e.addTicket("New", "High")
	_, err := e.client.Ticket(ctx, e.src, first.ID)
	require.NoError(t, err)
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointFields))

	// An administrator adds a status; a ticket gets it.
	e.fake.SetPicklist("status", append(autotasktest.DefaultStatuses(), autotasktest.PicklistValue{Value: 23, Label: "Customer Note Added", IsActive: true}))
	ft := e.fake.AddTicket(autotasktest.Ticket{Status: 23, CompanyID: 174})
	e.clock.Advance(2 * time.Minute)
	got, err := e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, "Customer Note Added", got.StatusLabel)
	require.Equal(t, 2, e.fake.Requests(autotasktest.EndpointFields))

	// A value in no picklist: one refresh, then no storm within the minute.
	e.clock.Advance(2 * time.Minute)
	bogus := e.fake.AddTicket(autotasktest.Ticket{Status: 999, CompanyID: 174})
	for range 5 {
		got, err = e.client.Ticket(ctx, e.src, bogus.ID)
		require.NoError(t, err)
		require.Empty(t, got.StatusLabel)
		require.Equal(t, 999, got.Status)
	}
	require.Equal(t, 3, e.fake.Requests(autotasktest.EndpointFields))
	e.clock.Advance(61 * time.Second)
	_, err = e.client.Ticket(ctx, e.src, bogus.ID)
	require.NoError(t, err)
	require.Equal(t, 4, e.fake.Requests(autotasktest.EndpointFields))

	// Picklists expire after an hour.
	e.clock.Advance(time.Hour)
	_, err = e.client.Ticket(ctx, e.src, first.ID)
	require.NoError(t, err)
	require.Equal(t, 5, e.fake.Requests(autotasktest.EndpointFields))
}

func TestPicklistRefreshFailureIsUnavailable(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t, 5*time.Second)
	first := e.addTicket("New", "High")
	_, err := e.client.Ticket(ctx, e.src, first.ID)
	require.NoError(t, err)

	e.clock.Advance(2 * time.Minute)
	e.fake.SetPicklist("status", append(autotasktest.DefaultStatuses(), autotasktest.PicklistValue{Value: 23, Label: "Customer Note Added"}))
	ft := e.fake.AddTicket(autotasktest.Ticket{Status: 23})
	e.fake.FailNext(autotasktest.EndpointFields, 1, http.StatusInternalServerError, 0)
	_, err = e.client.Ticket(ctx, e.src, ft.ID)
	requireClass(t, err, autotask.ErrUnavailable) // never guess a label
	_, err = e.client.Ticket(ctx, e.src, ft.ID)
	requireClass(t, err, autotask.ErrUnavailable) // still unknown within the minute, no new request
	require.Equal(t, 2, e.fake.Requests(autotasktest.EndpointFields))
	// Tickets with known labels still work.
	_, err = e.client.Ticket(ctx, e.src, first.ID)
	require.NoError(t, err)

	e.clock.Advance(61 * time.Second)
	got, err := e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, "Customer Note Added", got.StatusLabel)
}

func TestThreadLimit(t *testing.T) {
	e := newEnv(t)
	ids := make([]int64, 20)
	for i := range ids {
		ids[i] = e.addTicket("New", "High").ID
	}
	e.fake.SetLatency(20 * time.Millisecond)
	ctx := ctxT(t, 30*time.Second)
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() { _, errs[i] = e.client.Ticket(ctx, e.src, id) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.LessOrEqual(t, e.fake.MaxConcurrent(autotasktest.EndpointTickets), autotasktest.ThreadLimit)
	require.Zero(t, e.fake.Throttled())
	require.Equal(t, 20, e.fake.Requests(autotasktest.EndpointTickets))
}

func TestThreadLimitWaitEndsWithCtx(t *testing.T) {
	e := newEnv(t)
	warm := e.addTicket("New", "High")
	_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, warm.ID)
	require.NoError(t, err)

	e.fake.SetLatency(time.Second)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	for range autotasktest.ThreadLimit {
		id := e.addTicket("New", "High").ID
		wg.Go(func() { _, _ = e.client.Ticket(context.Background(), e.src, id) })
	}
	require.Eventually(t, func() bool { return e.fake.InFlight(autotasktest.EndpointTickets) == autotasktest.ThreadLimit },
		5*time.Second, time.Millisecond)

	waiting := e.addTicket("New", "High")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = e.client.Ticket(ctx, e.src, waiting.ID)
	requireClass(t, err, autotask.ErrUnavailable)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 1+autotasktest.ThreadLimit, e.fake.Requests(autotasktest.EndpointTickets), "the waiting call sent nothing")
}

func TestSingleflight(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("In Progress", "High")
	e.fake.SetLatency(100 * time.Millisecond)
	ctx := ctxT(t, 30*time.Second)
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]*autotask.Ticket, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Go(func() {
			<-start
			results[i], errs[i] = e.client.Ticket(ctx, e.src, ft.ID)
		})
	}
	close(start)
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
		require.Equal(t, "In Progress", results[i].StatusLabel)
	}
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointTickets))
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointZone))
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointFields))
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointCompanies))
	// Every caller has its own copy.
	results[0].Title = "changed"
	require.NotEqual(t, "changed", results[1].Title)

	// Same for numbers.
	e.fake.ResetStats()
	start2 := make(chan struct{})
	for i := range results {
		wg.Go(func() {
			<-start2
			results[i], errs[i] = e.client.TicketByNumber(ctx, e.src, ft.Number)
		})
	}
	close(start2)
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
	}
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointQuery))
}

func TestCallerCancelDoesNotFailSharedRead(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	e.fake.SetLatency(200 * time.Millisecond)
	first, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := e.client.Ticket(first, e.src, ft.ID); done <- err }()
	require.Eventually(t, func() bool { return e.fake.Requests(autotasktest.EndpointZone) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	err := <-done
	requireClass(t, err, autotask.ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)
	got, err := e.client.Ticket(ctxT(t, 10*time.Second), e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, ft.ID, got.ID)
}

func Test429(t *testing.T) {
	t.Run("short Retry-After is waited out", func(t *testing.T) {
		e := newEnv(t)
		ft := e.addTicket("New", "High")
		_, err := e.client.Ticket(ctxT(t, 10*time.Second), e.src, ft.ID) // warm caches
		require.NoError(t, err)
		e.fake.FailNext(autotasktest.EndpointTickets, 1, http.StatusTooManyRequests, time.Second)
		got, err := e.client.Ticket(ctxT(t, 10*time.Second), e.src, ft.ID)
		require.NoError(t, err)
		require.Equal(t, ft.ID, got.ID)
		require.Equal(t, 3, e.fake.Requests(autotasktest.EndpointTickets))
	})
	t.Run("long Retry-After is returned", func(t *testing.T) {
		e := newEnv(t)
		ft := e.addTicket("New", "High")
		e.fake.FailNext(autotasktest.EndpointTickets, 1, http.StatusTooManyRequests, time.Minute)
		_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
		requireClass(t, err, autotask.ErrUnavailable)
		var apiErr *autotask.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
		require.Equal(t, time.Minute, apiErr.RetryAfter)
		require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointTickets))
	})
	t.Run("second 429 is returned", func(t *testing.T) {
		e := newEnv(t)
		ft := e.addTicket("New", "High")
		e.fake.FailNext(autotasktest.EndpointTickets, 2, http.StatusTooManyRequests, time.Second)
		_, err := e.client.Ticket(ctxT(t, 10*time.Second), e.src, ft.ID)
		requireClass(t, err, autotask.ErrUnavailable)
		require.Equal(t, 2, e.fake.Requests(autotasktest.EndpointTickets))
	})
}

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		class  error
	}{
		{"500 (also permission failures)", http.StatusInternalServerError, autotask.ErrUnavailable},
		{"502", http.StatusBadGateway, autotask.ErrUnavailable},
		{"503", http.StatusServiceUnavailable, autotask.ErrUnavailable},
		{"403", http.StatusForbidden, autotask.ErrUnauthorized},
		{"400", http.StatusBadRequest, autotask.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ft := e.addTicket("New", "High")
			e.fake.FailNext(autotasktest.EndpointTickets, 1, tt.status, 0)
			_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
			requireClass(t, err, tt.class)
			var apiErr *autotask.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.status, apiErr.StatusCode)
			want := fmt.Sprintf("simulated failure %d on Tickets", tt.status)
			require.Equal(t, []string{want}, apiErr.Messages)
			require.Contains(t, err.Error(), want)
			require.Contains(t, err.Error(), fmt.Sprintf("autotask GET Tickets/%d: %d", ft.ID, tt.status))
		})
	}
}

func TestDownAndNetworkErrors(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	e.fake.SetDown(true)
	_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	requireClass(t, err, autotask.ErrUnavailable)
	e.fake.SetDown(false)
	_, err = e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	require.NoError(t, err)

	url := e.fake.URL()
	e.fake.Close()
	_, err = e.client.Ticket(ctxT(t, 5*time.Second), autotask.Source{ID: 2, Username: testUser, Secret: testSecret, IntegrationCode: testCode, WebServer: url}, ft.ID)
	requireClass(t, err, autotask.ErrUnavailable)
}

func TestRequestTimeout(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	e.client = autotask.NewClient(autotask.Options{Timeout: 50 * time.Millisecond})
	e.fake.SetLatency(2 * time.Second)
	_, err := e.client.Ticket(context.Background(), e.src, ft.ID)
	requireClass(t, err, autotask.ErrUnavailable)
}

// recorder is a foreign server that records whatever reaches it.
type recorder struct {
	mu      sync.Mutex
	hits    int
	secrets []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.hits++
	if s := req.Header.Get("Secret"); s != "" {
		r.secrets = append(r.secrets, s)
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"item":{"id":100,"ticketNumber":"T1","status":1,"priority":1}}`))
}

func TestNoCredentialsToForeignHost(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	rec := &recorder{}
	foreign := httptest.NewServer(rec)
	defer foreign.Close()

	for _, override := range []string{
		foreign.URL + "/ATServicesRest/",                   // another port on the same IP
		"http://webservices5.autotask.net/ATServicesRest/", // plain http to Autotask
		"https://webservices5.autotask.net.evil.example/ATServicesRest/",
		"https://evilautotask.net/ATServicesRest/",
	} {
		e.fake.ZoneURL(override)
		_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
		requireClass(t, err, autotask.ErrForbiddenHost)
		require.Zero(t, e.fake.Requests(autotasktest.EndpointTickets))
	}
	require.Zero(t, rec.hits)
	require.Empty(t, rec.secrets)

	err := e.client.CheckConnection(ctxT(t, 5*time.Second), e.src)
	requireClass(t, err, autotask.ErrForbiddenHost)
}

func TestNoCredentialsFollowRedirect(t *testing.T) {
	rec := &recorder{}
	foreign := httptest.NewServer(rec)
	defer foreign.Close()
	var self string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(strings.ToLower(r.URL.Path), "zoneinformation") {
			fmt.Fprintf(w, `{"zoneName":"x","url":%q,"webUrl":%q}`, self+"/ATServicesRest/", self+"/")
			return
		}
		http.Redirect(w, r, foreign.URL+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	self = srv.URL

	c := autotask.NewClient(autotask.Options{})
	_, err := c.Ticket(ctxT(t, 5*time.Second), autotask.Source{ID: 1, Username: testUser, Secret: testSecret, IntegrationCode: testCode, WebServer: srv.URL}, 100)
	requireClass(t, err, autotask.ErrForbiddenHost)
	require.Zero(t, rec.hits)
	require.Empty(t, rec.secrets)
}

func TestSteadyStateOneRequestPerTicket(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	for range 10 {
		ids = append(ids, e.addTicket("In Progress", "Medium").ID)
	}
	ctx := ctxT(t, 10*time.Second)
	_, err := e.client.Ticket(ctx, e.src, ids[0]) // cold: zone, ticket, picklists, company
	require.NoError(t, err)
	require.Equal(t, 4, e.fake.TotalRequests())

	e.fake.ResetStats()
	const calls = 200
	for i := range calls {
		_, err := e.client.Ticket(ctx, e.src, ids[i%len(ids)])
		require.NoError(t, err)
	}
	num, err := e.client.TicketByNumber(ctx, e.src, "T20261127.0003")
	require.NoError(t, err)
	require.Equal(t, "In Progress", num.StatusLabel)
	require.Equal(t, calls+1, e.fake.TotalRequests())
	require.Equal(t, calls, e.fake.Requests(autotasktest.EndpointTickets))
}

func TestCompanyFailureIsNotFatal(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	ctx := ctxT(t, 5*time.Second)
	e.fake.FailNext(autotasktest.EndpointCompanies, 1, http.StatusInternalServerError, 0)
	got, err := e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Empty(t, got.CompanyName)
	require.Equal(t, int64(174), got.CompanyID)

	// Not asked again at once (keeps the one-request-per-callout budget) ...
	_, err = e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointCompanies))
	// ... but after a few minutes.
	e.clock.Advance(6 * time.Minute)
	got, err = e.client.Ticket(ctx, e.src, ft.ID)
	require.NoError(t, err)
	require.Equal(t, "Acme Dental", got.CompanyName)

	// A missing company is not fatal either.
	orphan := e.fake.AddTicket(autotasktest.Ticket{CompanyID: 5555})
	got, err = e.client.Ticket(ctx, e.src, orphan.ID)
	require.NoError(t, err)
	require.Empty(t, got.CompanyName)
}

func TestCheckConnection(t *testing.T) {
	tests := []struct {
		name  string
		prep  func(e *env)
		src   func(autotask.Source) autotask.Source
		class error
	}{
		{"ok", nil, nil, nil},
		{"wrong secret", nil, func(s autotask.Source) autotask.Source { s.Secret = "nope"; return s }, autotask.ErrUnauthorized},
		{"unknown user", nil, func(s autotask.Source) autotask.Source { s.Username = "x@example.com"; return s }, autotask.ErrUnauthorized},
		{"down", func(e *env) { e.fake.SetDown(true) }, nil, autotask.ErrUnavailable},
		{"bad web server", nil, func(s autotask.Source) autotask.Source { s.WebServer = "ftp://example.com"; return s }, autotask.ErrForbiddenHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.prep != nil {
				tt.prep(e)
			}
			src := e.src
			if tt.src != nil {
				src = tt.src(src)
			}
			err := e.client.CheckConnection(ctxT(t, 5*time.Second), src)
			if tt.class == nil {
				require.NoError(t, err)
				require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointFields))
				// The picklists it read are cached: a ticket read now is ticket + company only.
				ft := e.addTicket("New", "High")
				_, err := e.client.Ticket(ctxT(t, 5*time.Second), src, ft.ID)
				require.NoError(t, err)
				require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointFields))
				require.Equal(t, 1, e.fake.Requests(autotasktest.EndpointZone))
				return
			}
			requireClass(t, err, tt.class)
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	// A server that echoes the secret back in its error messages and in a non-JSON body.
	var hits atomic.Int32
	var self string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(strings.ToLower(r.URL.Path), "zoneinformation") {
			fmt.Fprintf(w, `{"zoneName":"x","url":%q,"webUrl":%q}`, self+"/ATServicesRest/", self+"/")
			return
		}
		if hits.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"errors":["bad secret %s for user %s"]}`, r.Header.Get("Secret"), r.Header.Get("UserName"))
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "<html>proxy error for %s</html>", r.Header.Get("Secret"))
	}))
	defer srv.Close()
	self = srv.URL
	logs := &syncBuffer{}
	c := autotask.NewClient(autotask.Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	src := autotask.Source{ID: 9, Username: testUser, Secret: testSecret, IntegrationCode: testCode, WebServer: srv.URL}
	for range 2 {
		_, err := c.Ticket(ctxT(t, 5*time.Second), src, 100)
		requireClass(t, err, autotask.ErrUnavailable)
		require.Contains(t, err.Error(), "[redacted]")
		var apiErr *autotask.APIError
		require.ErrorAs(t, err, &apiErr)
		require.NotContains(t, strings.Join(apiErr.Messages, " "), testSecret)
	}
	require.NotContains(t, logs.String(), testSecret)

	// And in every other failure mode of the fake.
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	for _, fail := range []func(){
		func() { e.fake.FailNext(autotasktest.EndpointTickets, 1, 500, 0) },
		func() { e.fake.FailNext(autotasktest.EndpointTickets, 1, 429, time.Hour) },
		func() { e.fake.FailNext(autotasktest.EndpointTickets, 2, 401, 0) },
		func() { e.fake.FailNext(autotasktest.EndpointZone, 1, 500, 0) },
		func() { e.fake.ZoneURL("https://evil.example/") },
	} {
		e.client.Forget(e.src.ID)
		fail()
		_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
		require.Error(t, err)
		require.NotContains(t, err.Error(), testSecret)
		require.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testSecret)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	ft := e.addTicket("New", "High")
	_, err := e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	require.NoError(t, err)
	e.fake.FailNext(autotasktest.EndpointTickets, 1, 500, 0)
	_, err = e.client.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	require.Error(t, err)

	// A second client on the same registry shares the collectors.
	c2 := autotask.NewClient(autotask.Options{Registerer: e.reg})
	_, err = c2.Ticket(ctxT(t, 5*time.Second), e.src, ft.ID)
	require.NoError(t, err)

	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	counts := map[string]float64{}
	var histCount uint64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "ticketpager_autotask_requests_total":
				counts[labels["endpoint"]+" "+labels["code"]] = m.GetCounter().GetValue()
			case "ticketpager_autotask_request_duration_seconds":
				histCount += m.GetHistogram().GetSampleCount()
			}
		}
	}
	require.Equal(t, map[string]float64{
		"zoneInformation 200":                  2,
		"Tickets 200":                          2,
		"Tickets 500":                          1,
		"Tickets/entityInformation/fields 200": 2,
		"Companies 200":                        2,
	}, counts)
	require.Equal(t, uint64(9), histCount)
}

func TestAPIErrorString(t *testing.T) {
	e := &autotask.APIError{Method: "GET", Endpoint: "Tickets/100", StatusCode: 500, Messages: []string{"one", "two"}}
	require.Equal(t, "autotask GET Tickets/100: 500: one; two", e.Error())
	require.True(t, errors.Is(fmt.Errorf("x: %w", e), e))
}

func BenchmarkTicketSteadyState(b *testing.B) {
	fake := autotasktest.NewServer()
	defer fake.Close()
	fake.AddCredentials(testUser, testSecret, testCode)
	fake.AddCompany(174, "Acme")
	var ids []int64
	for range 100 {
		ids = append(ids, fake.AddTicket(autotasktest.Ticket{CompanyID: 174}).ID)
	}
	c := autotask.NewClient(autotask.Options{})
	src := autotask.Source{ID: 1, Username: testUser, Secret: testSecret, IntegrationCode: testCode, WebServer: fake.URL()}
	ctx := context.Background()
	_, err := c.Ticket(ctx, src, ids[0])
	require.NoError(b, err)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Ticket(ctx, src, ids[n.Add(1)%int64(len(ids))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(fake.TotalRequests()-4)/float64(b.N), "req/op")
}
