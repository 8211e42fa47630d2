// Package e2e drives the whole service over HTTP: the real server, a real
// SQLite file, the job workers, and the fake Autotask.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
	"github.com/ticketpager/ticketpager/internal/store"
	"github.com/ticketpager/ticketpager/internal/store/storetest"
)

// databases remembers the test database of each data folder, so a restart
// on the same folder finds the same PostgreSQL database.
var databases sync.Map

// database is the test database of a data folder ("" for SQLite: the file is in the folder).
func database(t *testing.T, dir string) string {
	if u, ok := databases.Load(dir); ok {
		return u.(string)
	}
	u := storetest.URL(t, storetest.Backend(t))
	databases.Store(dir, u)
	return u
}

// start runs the service on the backend TICKETPAGER_TEST_BACKEND names.
func start(t *testing.T, o harness.Options) *harness.Harness {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.DatabaseURL == "" {
		o.DatabaseURL = database(t, o.DataDir)
	}
	h, err := harness.Start(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

type answer struct {
	Action            string
	CalloutID         int64
	IncidentID        int64
	TicketID          int64
	TicketNumber      string
	TicketStatusLabel string
	Error             struct{ Code, Message string }
}

func callout(t *testing.T, h *harness.Harness, ticketID int64) (int, answer) {
	t.Helper()
	code, body, err := h.Callout(ticketID)
	require.NoError(t, err)
	var a answer
	require.NoError(t, json.Unmarshal(body, &a), "body %s", body)
	return code, a
}

type incidentView struct {
	ID       int64
	Status   string
	Priority string
	Summary  string
	Ticket   struct {
		ID          int64
		Number      string
		StatusLabel string
	}
}

func incidents(t *testing.T, h *harness.Harness, query string) []incidentView {
	t.Helper()
	var out struct{ Items []incidentView }
	require.NoError(t, h.Do("GET", "/api/v1/incidents?limit=500&"+query, nil, 200, &out))
	return out.Items
}

func newTicket(h *harness.Harness, status, priority string) autotasktest.Ticket {
	return h.Fake.AddTicket(autotasktest.Ticket{Title: "Server " + status, Description: "It is down.",
		Status: h.Fake.StatusValue(status), Priority: h.Fake.PriorityValue(priority), CompanyID: harness.CompanyID})
}

// TestLifecycle walks tickets through the seed's tables over HTTP: each step
// sets the ticket's status in Autotask, sends a callout, and checks the answer
// and the incident.
func TestLifecycle(t *testing.T) {
	h := start(t, harness.Options{})
	type step struct {
		status     string
		wantCode   int
		wantAction string // or the error code for 400s
		wantState  string // incident status after the step ("" for none)
	}
	cases := map[string][]step{
		"new, progress, complete": {
			{"New", 201, "CREATED", "PENDING"},
			{"New", 200, "UNCHANGED", "PENDING"},
			{"In Progress", 200, "ACCEPTED", "ACCEPTED"},
			{"In Progress", 200, "UNCHANGED", "ACCEPTED"},
			{"Complete", 200, "RESOLVED", "RESOLVED"},
		},
		"created in progress": {
			{"In Progress", 201, "CREATED", "PENDING"},
			{"Waiting Customer", 200, "ACCEPTED", "ACCEPTED"},
		},
		"created with any other status": {
			{"Customer Note Added", 201, "CREATED", "PENDING"},
			{"New", 200, "UNCHANGED", "PENDING"},
			{"Denied", 200, "RESOLVED", "RESOLVED"},
		},
		"created complete": {{"Complete", 400, "TICKET_STATUS_NOT_ALERTABLE", ""}},
		"created denied":   {{"Denied", 400, "TICKET_STATUS_NOT_ALERTABLE", ""}},
		"created parked": {
			{"Waiting Materials", 400, "TICKET_STATUS_NOT_ALERTABLE", ""},
			{"New", 201, "CREATED", "PENDING"},
			{"Scheduled", 200, "ACCEPTED", "ACCEPTED"},
			{"Escalate", 200, "UNCHANGED", "ACCEPTED"},
		},
		"reopened ticket starts a new incident": {
			{"New", 201, "CREATED", "PENDING"},
			{"Complete", 200, "RESOLVED", "RESOLVED"},
			{"Complete", 400, "TICKET_STATUS_NOT_ALERTABLE", ""},
			{"New", 201, "CREATED", "PENDING"},
		},
	}
	for _, label := range []string{"Waiting Vendor", "Waiting Approval", "Waiting Dispatch", "Approved"} {
		cases["parked "+label] = []step{{label, 400, "TICKET_STATUS_NOT_ALERTABLE", ""},
			{"New", 201, "CREATED", "PENDING"}, {label, 200, "ACCEPTED", "ACCEPTED"}}
	}
	h.Fake.SetPicklist("status", append(autotasktest.DefaultStatuses(),
		autotasktest.PicklistValue{Value: 99, Label: "Customer Note Added", IsActive: true}))
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			tk := newTicket(h, steps[0].status, "High")
			var incidentIDs []int64
			for i, s := range steps {
				h.Fake.SetTicketStatus(tk.ID, h.Fake.StatusValue(s.status))
				code, a := callout(t, h, tk.ID)
				require.Equal(t, s.wantCode, code, "step %d %s", i, s.status)
				if code >= 400 {
					require.Equal(t, s.wantAction, a.Error.Code, "step %d", i)
					require.Contains(t, a.Error.Message, s.status)
					continue
				}
				require.Equal(t, s.wantAction, a.Action, "step %d %s", i, s.status)
				require.Equal(t, tk.ID, a.TicketID)
				require.Equal(t, tk.Number, a.TicketNumber)
				require.Equal(t, s.status, a.TicketStatusLabel)
				var inc incidentView
				require.NoError(t, h.Do("GET", fmt.Sprint("/api/v1/incidents/", a.IncidentID), nil, 200, &inc))
				require.Equal(t, s.wantState, inc.Status, "step %d", i)
				if a.Action == "CREATED" {
					incidentIDs = append(incidentIDs, a.IncidentID)
				}
			}
			var forTicket int
			for _, inc := range incidents(t, h, "") {
				if inc.Ticket.ID == tk.ID {
					forTicket++
				}
			}
			require.Equal(t, len(incidentIDs), forTicket, "one incident per CREATED answer")
		})
	}
}

// TestManualResolveHoldsUntilTicketCloses: an incident a person resolved stays
// resolved through the ticket's next edits (no page), and once the ticket is
// completed a reopened ticket pages again.
func TestManualResolveHoldsUntilTicketCloses(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "Low")
	code, a := callout(t, h, tk.ID)
	require.Equal(t, 201, code)
	require.NoError(t, h.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", a.IncidentID), nil, 200, nil))

	for _, st := range []string{"New", "In Progress", "Waiting Customer"} {
		h.Fake.SetTicketStatus(tk.ID, h.Fake.StatusValue(st))
		code, b := callout(t, h, tk.ID)
		require.Equal(t, 200, code, st)
		require.Equal(t, "UNCHANGED", b.Action, st)
		require.Equal(t, a.IncidentID, b.IncidentID)
	}
	h.Fake.SetTicketStatus(tk.ID, h.Fake.StatusValue("Complete"))
	_, b := callout(t, h, tk.ID)
	require.Equal(t, "UNCHANGED", b.Action, "already resolved")
	h.Fake.SetTicketStatus(tk.ID, h.Fake.StatusValue("New"))
	code, c := callout(t, h, tk.ID)
	require.Equal(t, 201, code, "the ticket was completed and reopened")
	require.NotEqual(t, a.IncidentID, c.IncidentID)

	var log struct{ Items []logItem }
	require.NoError(t, h.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/log", a.IncidentID), nil, 200, &log))
	require.Equal(t, []string{"CREATED", "ESCALATED", "RESOLVED", "ESCALATION_STOPPED"}, kinds(log.Items))
	log.Items = append(log.Items[:1], log.Items[2])
	require.Equal(t, "CREATED", log.Items[0].Kind)
	require.Equal(t, a.CalloutID, *log.Items[0].CalloutID)
	require.Equal(t, "RESOLVED", log.Items[1].Kind)
	require.Equal(t, `API token "harness"`, *log.Items[1].Actor)
}

// TestRacingCalloutsCreateOneIncident races callouts for one ticket: exactly
// one is CREATED, the rest see that incident.
func TestRacingCalloutsCreateOneIncident(t *testing.T) {
	h := start(t, harness.Options{})
	h.Fake.SetLatency(5 * time.Millisecond) // widen the window between read and write
	const n = 60
	for round, status := range []string{"New", "In Progress"} {
		tk := newTicket(h, status, "High")
		var wg sync.WaitGroup
		codes := make(chan int, n)
		actions := make(chan string, n)
		incidentIDs := make(chan int64, n)
		gate := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				code, body, err := h.Callout(tk.ID)
				if err != nil {
					codes <- 0
					return
				}
				var a answer
				_ = json.Unmarshal(body, &a)
				codes <- code
				actions <- a.Action
				incidentIDs <- a.IncidentID
			}()
		}
		close(gate)
		wg.Wait()
		close(codes)
		close(actions)
		close(incidentIDs)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		require.Equal(t, map[int]int{201: 1, 200: n - 1}, count, "round %d", round)
		ids := map[int64]bool{}
		for id := range incidentIDs {
			ids[id] = true
		}
		require.Len(t, ids, 1, "every answer names the same incident")
		var forTicket int
		for _, inc := range incidents(t, h, "") {
			if inc.Ticket.ID == tk.ID {
				forTicket++
			}
		}
		require.Equal(t, 1, forTicket)
	}
}

// TestTicketNumberOnly: a callout that carries only the ticket number is
// resolved through Tickets/query.
func TestTicketNumberOnly(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "Medium")
	before := h.Fake.Requests("Tickets/query")
	resp, err := http.Post(h.WebhookURL, "application/json",
		strings.NewReader(fmt.Sprintf(`{"event":"edited","ticketNumber":%q}`, tk.Number)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	var a answer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	require.Equal(t, tk.ID, a.TicketID)
	require.Equal(t, before+1, h.Fake.Requests("Tickets/query"))

	// GET with the id in the query string works too
	h.Fake.SetTicketStatus(tk.ID, h.Fake.StatusValue("In Progress"))
	resp2, err := http.Get(h.WebhookURL + "?TicketID=" + fmt.Sprint(tk.ID))
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, 200, resp2.StatusCode)
}

type logItem struct {
	Kind, Text string
	Actor      *string
	CalloutID  *int64
}

func kinds(items []logItem) []string {
	var out []string
	for _, e := range items {
		out = append(out, e.Kind)
	}
	return out
}

type journalEntry struct {
	ID         int64
	Action     *string
	HTTPStatus *int
	IncidentID *int64
	Error      *string
	Attempts   int
}

func journal(t *testing.T, h *harness.Harness, calloutID int64) journalEntry {
	t.Helper()
	var out struct{ Items []journalEntry }
	require.NoError(t, h.Do("GET", fmt.Sprintf("/api/v1/alert-sources/%d/callouts?limit=500", h.SourceID), nil, 200, &out))
	for _, e := range out.Items {
		if e.ID == calloutID {
			return e
		}
	}
	t.Fatalf("callout %d not in the journal", calloutID)
	return journalEntry{}
}

// waitFinal polls the journal until the callout leaves QUEUED.
func waitFinal(t *testing.T, h *harness.Harness, calloutID int64) journalEntry {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		e := journal(t, h, calloutID)
		if e.Action != nil && *e.Action != "QUEUED" {
			return e
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("callout %d still queued", calloutID)
	return journalEntry{}
}

// TestAutotaskDownQueuesAndRetries: while Autotask's API fails, callouts are
// answered 202 QUEUED; the retry job processes them once it is back.
func TestAutotaskDownQueuesAndRetries(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "High")
	h.Fake.SetDown(true)
	code, a := callout(t, h, tk.ID)
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "QUEUED", a.Action)
	e := journal(t, h, a.CalloutID)
	require.Equal(t, "QUEUED", *e.Action)
	require.Contains(t, *e.Error, "503")
	require.Empty(t, incidents(t, h, ""))

	h.Fake.SetDown(false)
	e = waitFinal(t, h, a.CalloutID)
	require.Equal(t, "CREATED", *e.Action)
	require.Equal(t, 201, *e.HTTPStatus)
	require.GreaterOrEqual(t, e.Attempts, 2)
	require.Len(t, incidents(t, h, ""), 1)
}

// TestQueuedCalloutSurvivesRestart: a callout queued while Autotask is down is
// processed by the next process on the same database.
func TestQueuedCalloutSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	fake := autotasktest.NewServer()
	defer fake.Close()
	h1, err := harness.Start(context.Background(), harness.Options{DataDir: dir, Fake: fake, DatabaseURL: database(t, dir)})
	require.NoError(t, err)
	tk := newTicket(h1, "New", "High")
	fake.SetDown(true)
	code, a := callout(t, h1, tk.ID)
	require.Equal(t, http.StatusAccepted, code)
	require.NoError(t, h1.Close())

	fake.SetDown(false)
	h2 := start(t, harness.Options{DataDir: dir, Fake: fake})
	e := waitFinal(t, h2, a.CalloutID)
	require.Equal(t, "CREATED", *e.Action)
	require.Len(t, incidents(t, h2, ""), 1)
}

// TestWebhookErrors: what a misconfigured or broken callout gets back.
func TestWebhookErrors(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "High")
	base := h.WebhookURL[:strings.LastIndex(h.WebhookURL, "/")+1]
	cases := []struct {
		name, method, url, contentType, body string
		wantCode                             int
		wantError                            string
	}{
		{"unknown key", "POST", base + "atk_nope", "application/x-www-form-urlencoded", "TicketID=1", 404, "UNKNOWN_INTEGRATION_KEY"},
		{"garbage key", "POST", base + "..%2f..%2fetc", "application/x-www-form-urlencoded", "TicketID=1", 404, ""},
		{"wrong method", "PUT", h.WebhookURL, "application/json", "{}", 405, "METHOD_NOT_ALLOWED"},
		{"no ticket reference", "POST", h.WebhookURL, "application/json", `{"hello":"world"}`, 400, "NO_TICKET_REFERENCE"},
		{"malformed json", "POST", h.WebhookURL, "application/json", `{"ticketId": 1`, 400, "MALFORMED_BODY"},
		{"binary body", "POST", h.WebhookURL, "image/png", "\x89PNG\r\n\x1a\n\x00\x00", 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"unknown ticket", "POST", h.WebhookURL, "application/x-www-form-urlencoded", "TicketID=999999", 422, "TICKET_NOT_FOUND"},
		{"too large", "POST", h.WebhookURL, "text/plain", strings.Repeat("a", 1<<20+1), 413, "BODY_TOO_LARGE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", c.contentType)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			require.Equal(t, c.wantCode, resp.StatusCode, "%s", raw)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var body answer
			require.NoError(t, json.Unmarshal(raw, &body))
			require.NotEmpty(t, body.Error.Message)
			if c.wantError != "" {
				require.Equal(t, c.wantError, body.Error.Code)
			}
		})
	}

	// rotated key: the old URL stops working, the new one works
	old := h.WebhookURL
	var rotated struct{ WebhookURL string }
	require.NoError(t, h.Do("POST", fmt.Sprintf("/api/v1/alert-sources/%d/rotate-key", h.SourceID), nil, 200, &rotated))
	require.NotEqual(t, old, rotated.WebhookURL)
	resp, err := http.PostForm(old, map[string][]string{"TicketID": {fmt.Sprint(tk.ID)}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode)
	h.WebhookURL = rotated.WebhookURL
	code, _ := callout(t, h, tk.ID)
	require.Equal(t, 201, code)

	// deactivated source: 410, and the callout is not processed
	require.NoError(t, h.Do("PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", h.SourceID), map[string]any{"status": "INACTIVE"}, 200, nil))
	code, a := callout(t, h, tk.ID)
	require.Equal(t, 410, code)
	require.Equal(t, "ALERT_SOURCE_INACTIVE", a.Error.Code)
}

// TestSteadyStateAutotaskRequests: with zone, picklists and company cached, a
// callout costs one Autotask request.
func TestSteadyStateAutotaskRequests(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "High")
	callout(t, h, tk.ID) // warms the caches
	before := h.Fake.TotalRequests()
	for range 20 {
		code, _ := callout(t, h, tk.ID)
		require.Equal(t, 200, code)
	}
	require.Equal(t, 20, h.Fake.TotalRequests()-before)
}

// TestStrandedCalloutIsSwept: a callout journaled by a process that died before
// answering (no outcome) is found by the sweep and processed.
func TestStrandedCalloutIsSwept(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "High")
	ctx := context.Background()
	id, err := h.App.Store.InsertCallout(ctx, store.Callout{SourceID: h.SourceID, ReceivedAt: time.Now().Add(-3 * time.Minute),
		Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: fmt.Sprintf("TicketID=%d", tk.ID)})
	require.NoError(t, err)
	n, err := h.App.Inbound.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	e := waitFinal(t, h, id)
	require.Equal(t, "CREATED", *e.Action)
	n, err = h.App.Inbound.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a finished callout is not swept again")
}
