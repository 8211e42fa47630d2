// End-to-end tests of the JSON API: the real HTTP server, a real SQLite file
// and the fake Autotask, all started by internal/harness.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
)

// apiActor is how the incident log names the harness's API token.
const apiActor = `API token "harness"`

// apiStart runs a fresh ticketpager with one user, policy and Autotask source.
func apiStart(t *testing.T) *harness.Harness {
	t.Helper()
	return start(t, harness.Options{})
}

// apiReq is one raw HTTP request to the server.
type apiReq struct {
	method      string
	path        string // joined to h.URL unless it starts with http
	body        []byte
	contentType string
	token       string // "" uses h.Token
	noAuth      bool   // send no Authorization header at all
}

// apiResp is a raw answer.
type apiResp struct {
	status int
	header http.Header
	body   []byte
}

// apiSend sends r and checks the answer never leaks a Go panic or stack trace.
func apiSend(t *testing.T, h *harness.Harness, r apiReq) apiResp {
	t.Helper()
	u := r.path
	if !strings.HasPrefix(u, "http") {
		u = h.URL + r.path
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, u, body)
	require.NoError(t, err)
	if !r.noAuth {
		token := r.token
		if token == "" {
			token = h.Token
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := h.HTTP.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if !strings.HasSuffix(req.URL.Path, "/metrics") { // Go collector help texts name runtime/ packages
		apiNoLeak(t, raw)
	}
	return apiResp{status: resp.StatusCode, header: resp.Header, body: raw}
}

// apiNoLeak fails when a body carries panic or stack trace text.
func apiNoLeak(t *testing.T, body []byte) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", "runtime/", ".go:", "runtime error", "sql: ", "SQL logic"} {
		require.NotContains(t, string(body), bad, "the body leaks internals")
	}
}

// apiJSON sends in as JSON with the harness token, requires wantStatus and
// decodes the answer into out (when not nil).
func apiJSON(t *testing.T, h *harness.Harness, method, path string, in any, wantStatus int, out any) apiResp {
	t.Helper()
	r := apiReq{method: method, path: path}
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		r.body, r.contentType = b, "application/json"
	}
	resp := apiSend(t, h, r)
	require.Equal(t, wantStatus, resp.status, "%s %s: %s", method, path, resp.body)
	if out != nil {
		require.NoError(t, json.Unmarshal(resp.body, out), "%s", resp.body)
	}
	return resp
}

type apiErrBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// apiRequireError checks an error answer: status, JSON content type, the
// {"error": {code, message}} shape, and the code (when code is not "").
func apiRequireError(t *testing.T, r apiResp, status int, code string) apiErrBody {
	t.Helper()
	require.Equal(t, status, r.status, "%s", r.body)
	require.Equal(t, "application/json", r.header.Get("Content-Type"), "%s", r.body)
	var raw map[string]map[string]any
	require.NoError(t, json.Unmarshal(r.body, &raw), "%s", r.body)
	require.Contains(t, raw, "error", "%s", r.body)
	var e apiErrBody
	require.NoError(t, json.Unmarshal(r.body, &e))
	require.NotEmpty(t, e.Error.Code, "%s", r.body)
	require.NotEmpty(t, e.Error.Message, "%s", r.body)
	if code != "" {
		require.Equal(t, code, e.Error.Code, "%s", r.body)
	}
	return e
}

// apiErrorJSON sends in as JSON and checks the error answer.
func apiErrorJSON(t *testing.T, h *harness.Harness, method, path string, in any, status int, code string) apiErrBody {
	t.Helper()
	r := apiReq{method: method, path: path}
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		r.body, r.contentType = b, "application/json"
	}
	return apiRequireError(t, apiSend(t, h, r), status, code)
}

// apiTicket adds a ticket to the fake Autotask with a status and priority label.
func apiTicket(t *testing.T, h *harness.Harness, title, status, priority string) autotasktest.Ticket {
	t.Helper()
	st, pr := h.Fake.StatusValue(status), h.Fake.PriorityValue(priority)
	require.Positive(t, st, "status %q", status)
	require.Positive(t, pr, "priority %q", priority)
	return h.Fake.AddTicket(autotasktest.Ticket{Title: title, Description: "Description of " + title,
		Status: st, Priority: pr, CompanyID: harness.CompanyID})
}

type apiCalloutAnswer struct {
	Action            string `json:"action"`
	CalloutID         int64  `json:"calloutId"`
	IncidentID        int64  `json:"incidentId"`
	TicketID          int64  `json:"ticketId"`
	TicketNumber      string `json:"ticketNumber"`
	TicketStatusLabel string `json:"ticketStatusLabel"`
}

// apiPostCallout posts a Name Value Pair callout to webhookURL, without a token.
func apiPostCallout(t *testing.T, h *harness.Harness, webhookURL string, form url.Values) apiResp {
	t.Helper()
	return apiSend(t, h, apiReq{method: http.MethodPost, path: webhookURL, noAuth: true,
		body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded"})
}

// apiCreateIncident adds a ticket and posts its callout to webhookURL; it
// requires the callout to create an incident.
func apiCreateIncident(t *testing.T, h *harness.Harness, webhookURL, title, status, priority string) (autotasktest.Ticket, apiCalloutAnswer) {
	t.Helper()
	tk := apiTicket(t, h, title, status, priority)
	r := apiPostCallout(t, h, webhookURL, url.Values{"TicketID": {strconv.FormatInt(tk.ID, 10)}})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var a apiCalloutAnswer
	require.NoError(t, json.Unmarshal(r.body, &a))
	require.Equal(t, "CREATED", a.Action)
	require.Positive(t, a.IncidentID)
	return tk, a
}

type apiUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type apiRule struct {
	EscalationTimeoutMinutes int     `json:"escalationTimeoutMinutes"`
	UserIDs                  []int64 `json:"userIds"`
}

type apiPolicy struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Rules       []apiRule `json:"rules"`
	RepeatCount int       `json:"repeatCount"`
}

type apiSource struct {
	ID                 int64  `json:"id"`
	Name               string `json:"name"`
	IntegrationType    string `json:"integrationType"`
	EscalationPolicyID int64  `json:"escalationPolicyId"`
	Status             string `json:"status"`
	WebhookURL         string `json:"webhookUrl"`
	Autotask           struct {
		Username        string `json:"username"`
		IntegrationCode string `json:"integrationCode"`
		WebServer       string `json:"webServer"`
	} `json:"autotask"`
}

type apiIncident struct {
	ID            int64  `json:"id"`
	AlertSourceID int64  `json:"alertSourceId"`
	Status        string `json:"status"`
	Priority      string `json:"priority"`
	Summary       string `json:"summary"`
	Details       string `json:"details"`
	Ticket        struct {
		ID            int64  `json:"id"`
		Number        string `json:"number"`
		StatusLabel   string `json:"statusLabel"`
		PriorityLabel string `json:"priorityLabel"`
	} `json:"ticket"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	CreatedAt  time.Time  `json:"createdAt"`
	AcceptedAt *time.Time `json:"acceptedAt"`
	ResolvedAt *time.Time `json:"resolvedAt"`
}

type apiIncidentPage struct {
	Items      []apiIncident `json:"items"`
	NextCursor *string       `json:"nextCursor"`
}

type apiLogEntry struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	CalloutID *int64    `json:"calloutId"`
	Actor     *string   `json:"actor"`
}

type apiCallout struct {
	ID                int64     `json:"id"`
	ReceivedAt        time.Time `json:"receivedAt"`
	Method            string    `json:"method"`
	ContentType       string    `json:"contentType"`
	Query             string    `json:"query"`
	Body              string    `json:"body"`
	TicketID          *int64    `json:"ticketId"`
	TicketNumber      *string   `json:"ticketNumber"`
	TicketStatusLabel *string   `json:"ticketStatusLabel"`
	Action            *string   `json:"action"`
	HTTPStatus        *int      `json:"httpStatus"`
	IncidentID        *int64    `json:"incidentId"`
	Error             *string   `json:"error"`
	Attempts          int       `json:"attempts"`
}

type apiCalloutPage struct {
	Items      []apiCallout `json:"items"`
	NextCursor *string      `json:"nextCursor"`
}

// apiOwnLog keeps the incident's own changes; escalation entries are tested elsewhere.
func apiOwnLog(items []apiLogEntry) []apiLogEntry {
	var own []apiLogEntry
	for _, e := range items {
		if e.Kind == "CREATED" || e.Kind == "ACCEPTED" || e.Kind == "RESOLVED" {
			own = append(own, e)
		}
	}
	return own
}

// apiSourceBody is a valid alert source creation body against the fake.
func apiSourceBody(h *harness.Harness, name string, policyID int64) map[string]any {
	return map[string]any{"name": name, "integrationType": "AUTOTASK", "escalationPolicyId": policyID,
		"autotask": map[string]any{"username": harness.Username, "secret": harness.Secret,
			"integrationCode": harness.IntegrationCode, "webServer": h.Fake.URL()}}
}

// apiSourcePolicy is the escalation policy of the harness's source.
func apiSourcePolicy(t *testing.T, h *harness.Harness) int64 {
	t.Helper()
	var src apiSource
	apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d", h.SourceID), nil, http.StatusOK, &src)
	return src.EscalationPolicyID
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	h := apiStart(t)

	t.Run("no Authorization header", func(t *testing.T) {
		for _, path := range []string{"/api/v1/users", "/api/v1/escalation-policies", "/api/v1/alert-sources",
			"/api/v1/incidents", fmt.Sprintf("/api/v1/alert-sources/%d/callouts", h.SourceID)} {
			r := apiSend(t, h, apiReq{method: "GET", path: path, noAuth: true})
			apiRequireError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
			require.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer", path)
		}
	})
	t.Run("no Authorization header on a write", func(t *testing.T) {
		r := apiSend(t, h, apiReq{method: "POST", path: "/api/v1/users", noAuth: true,
			body: []byte(`{"name":"Eve","email":"eve@example.com"}`), contentType: "application/json"})
		apiRequireError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
		var users struct{ Items []apiUser }
		apiJSON(t, h, "GET", "/api/v1/users", nil, http.StatusOK, &users)
		for _, u := range users.Items {
			require.NotEqual(t, "eve@example.com", u.Email, "an unauthenticated POST created a user")
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		r := apiSend(t, h, apiReq{method: "GET", path: "/api/v1/users", token: "tp_not-a-real-token"})
		apiRequireError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
		require.NotEmpty(t, r.header.Get("WWW-Authenticate"))
	})
	t.Run("other scheme", func(t *testing.T) {
		req, err := http.NewRequest("GET", h.URL+"/api/v1/users", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Basic "+h.Token)
		resp, err := h.HTTP.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		apiRequireError(t, apiResp{status: resp.StatusCode, header: resp.Header, body: raw}, http.StatusUnauthorized, "UNAUTHORIZED")
	})
	t.Run("health checks need no token", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			r := apiSend(t, h, apiReq{method: "GET", path: path, noAuth: true})
			require.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.body)
		}
	})
	t.Run("webhook needs no token", func(t *testing.T) {
		tk := apiTicket(t, h, "Printer on fire", "New", "High")
		r := apiPostCallout(t, h, h.WebhookURL, url.Values{"TicketID": {strconv.FormatInt(tk.ID, 10)}})
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	})
	t.Run("valid token", func(t *testing.T) {
		apiJSON(t, h, "GET", "/api/v1/users", nil, http.StatusOK, nil)
	})
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	h := apiStart(t)

	huge := append(append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), 1<<20+10)...), []byte(`","email":"big@example.com"}`)...)
	tests := []struct {
		name   string
		req    apiReq
		status int
		code   string
		allow  bool // 405: check the Allow header
	}{
		{"unknown field", apiReq{method: "POST", path: "/api/v1/users", contentType: "application/json",
			body: []byte(`{"name":"Ada","email":"x@example.com","admin":true}`)}, 400, "INVALID_JSON", false},
		{"malformed JSON", apiReq{method: "POST", path: "/api/v1/users", contentType: "application/json",
			body: []byte(`{"name":"Ada",`)}, 400, "INVALID_JSON", false},
		{"wrong JSON type", apiReq{method: "POST", path: "/api/v1/users", contentType: "application/json",
			body: []byte(`{"name":42,"email":"x@example.com"}`)}, 400, "INVALID_JSON", false},
		{"two JSON values", apiReq{method: "POST", path: "/api/v1/users", contentType: "application/json",
			body: []byte(`{"name":"A","email":"a@example.com"} {}`)}, 400, "INVALID_JSON", false},
		{"empty body", apiReq{method: "POST", path: "/api/v1/users", contentType: "application/json"}, 400, "INVALID_JSON", false},
		{"wrong content type", apiReq{method: "POST", path: "/api/v1/users", contentType: "text/plain",
			body: []byte(`{"name":"Ada","email":"x@example.com"}`)}, 415, "UNSUPPORTED_MEDIA_TYPE", false},
		{"form content type", apiReq{method: "POST", path: "/api/v1/escalation-policies", contentType: "application/x-www-form-urlencoded",
			body: []byte(`name=x`)}, 415, "UNSUPPORTED_MEDIA_TYPE", false},
		{"no content type", apiReq{method: "PATCH", path: "/api/v1/users/1", body: []byte(`{"name":"Ada"}`)}, 415, "UNSUPPORTED_MEDIA_TYPE", false},
		{"body over 1 MiB", apiReq{method: "POST", path: "/api/v1/users", contentType: "application/json", body: huge}, 413, "BODY_TOO_LARGE", false},
		{"unknown route", apiReq{method: "GET", path: "/api/v1/nothing-here"}, 404, "NOT_FOUND", false},
		{"unknown route without token", apiReq{method: "GET", path: "/api/v1/no/such/page", noAuth: true}, 404, "NOT_FOUND", false},
		{"wrong method on collection", apiReq{method: "PUT", path: "/api/v1/users"}, 405, "METHOD_NOT_ALLOWED", true},
		{"wrong method on item", apiReq{method: "POST", path: "/api/v1/incidents/1"}, 405, "METHOD_NOT_ALLOWED", true},
		{"wrong method on action", apiReq{method: "GET", path: "/api/v1/incidents/1/accept"}, 405, "METHOD_NOT_ALLOWED", true},
		{"non-numeric user id", apiReq{method: "GET", path: "/api/v1/users/abc"}, 404, "NOT_FOUND", false},
		{"non-numeric policy id", apiReq{method: "GET", path: "/api/v1/escalation-policies/x1"}, 404, "NOT_FOUND", false},
		{"non-numeric source id", apiReq{method: "GET", path: "/api/v1/alert-sources/1.5"}, 404, "NOT_FOUND", false},
		{"non-numeric incident id", apiReq{method: "POST", path: "/api/v1/incidents/abc/accept"}, 404, "NOT_FOUND", false},
		{"zero id", apiReq{method: "GET", path: "/api/v1/incidents/0"}, 404, "NOT_FOUND", false},
		{"negative id", apiReq{method: "GET", path: "/api/v1/users/-1"}, 404, "NOT_FOUND", false},
		{"huge id", apiReq{method: "GET", path: "/api/v1/users/99999999999999999999999"}, 404, "NOT_FOUND", false},
		{"unknown user", apiReq{method: "GET", path: "/api/v1/users/999999"}, 404, "NOT_FOUND", false},
		{"unknown incident log", apiReq{method: "GET", path: "/api/v1/incidents/999999/log"}, 404, "NOT_FOUND", false},
		{"unknown incident accept", apiReq{method: "POST", path: "/api/v1/incidents/999999/accept"}, 404, "NOT_FOUND", false},
		{"unknown source callouts", apiReq{method: "GET", path: "/api/v1/alert-sources/999999/callouts"}, 404, "NOT_FOUND", false},
		{"unknown source rotate", apiReq{method: "POST", path: "/api/v1/alert-sources/999999/rotate-key"}, 404, "NOT_FOUND", false},
		{"unknown source delete", apiReq{method: "DELETE", path: "/api/v1/alert-sources/999999"}, 404, "NOT_FOUND", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := apiSend(t, h, tc.req)
			apiRequireError(t, r, tc.status, tc.code)
			if tc.allow {
				require.NotEmpty(t, r.header.Get("Allow"), "405 without an Allow header")
				require.NotContains(t, r.header.Get("Allow"), tc.req.method)
			}
		})
	}

	t.Run("Allow names the route's methods", func(t *testing.T) {
		r := apiSend(t, h, apiReq{method: "PUT", path: "/api/v1/users"})
		apiRequireError(t, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		require.Contains(t, r.header.Get("Allow"), "GET")
		require.Contains(t, r.header.Get("Allow"), "POST")
	})
	t.Run("rejected writes change nothing", func(t *testing.T) {
		var users struct{ Items []apiUser }
		apiJSON(t, h, "GET", "/api/v1/users", nil, http.StatusOK, &users)
		require.Len(t, users.Items, 1, "only the harness's user exists")
	})
}

func TestAPIUsers(t *testing.T) {
	t.Parallel()
	h := apiStart(t)

	var grace apiUser
	apiJSON(t, h, "POST", "/api/v1/users", map[string]any{"name": "  Grace Hopper ", "email": " Grace.Hopper@Example.COM "},
		http.StatusCreated, &grace)
	require.Positive(t, grace.ID)
	require.Equal(t, "Grace Hopper", grace.Name)
	require.Equal(t, "grace.hopper@example.com", grace.Email)

	t.Run("get", func(t *testing.T) {
		var got apiUser
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/users/%d", grace.ID), nil, http.StatusOK, &got)
		require.Equal(t, grace, got)
	})
	t.Run("list", func(t *testing.T) {
		var list struct{ Items []apiUser }
		apiJSON(t, h, "GET", "/api/v1/users", nil, http.StatusOK, &list)
		require.Len(t, list.Items, 2)
		require.Contains(t, list.Items, grace)
	})
	t.Run("validation", func(t *testing.T) {
		tests := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"invalid email", map[string]any{"name": "X", "email": "not-an-email"}, "email"},
			{"email with display name", map[string]any{"name": "X", "email": "X <x@example.com>"}, "email"},
			{"empty email", map[string]any{"name": "X", "email": ""}, "email"},
			{"missing email", map[string]any{"name": "X"}, "email"},
			{"missing name", map[string]any{"email": "x@example.com"}, "name"},
			{"blank name", map[string]any{"name": "   ", "email": "x@example.com"}, "name"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := apiErrorJSON(t, h, "POST", "/api/v1/users", tc.body, http.StatusUnprocessableEntity, "")
				require.Equal(t, tc.field, e.Error.Field)
			})
		}
	})
	t.Run("duplicate email", func(t *testing.T) {
		apiErrorJSON(t, h, "POST", "/api/v1/users", map[string]any{"name": "Other", "email": "GRACE.HOPPER@example.com"},
			http.StatusConflict, "")
	})
	t.Run("patch", func(t *testing.T) {
		var got apiUser
		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/users/%d", grace.ID), map[string]any{"name": "Rear Admiral Hopper"},
			http.StatusOK, &got)
		require.Equal(t, "Rear Admiral Hopper", got.Name)
		require.Equal(t, grace.Email, got.Email, "a PATCH without email keeps it")
		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/users/%d", grace.ID), map[string]any{"email": "GH@Navy.mil"}, http.StatusOK, &got)
		require.Equal(t, "gh@navy.mil", got.Email)
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/users/%d", grace.ID), nil, http.StatusOK, &got)
		require.Equal(t, apiUser{ID: grace.ID, Name: "Rear Admiral Hopper", Email: "gh@navy.mil"}, got)

		e := apiErrorJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/users/%d", grace.ID), map[string]any{"email": "nope"},
			http.StatusUnprocessableEntity, "")
		require.Equal(t, "email", e.Error.Field)
		apiErrorJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/users/%d", grace.ID), map[string]any{"email": "ada@example.com"},
			http.StatusConflict, "")
		apiErrorJSON(t, h, "PATCH", "/api/v1/users/999999", map[string]any{"name": "Nobody"}, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("delete user in an escalation rule", func(t *testing.T) {
		var list struct{ Items []apiUser }
		apiJSON(t, h, "GET", "/api/v1/users", nil, http.StatusOK, &list)
		var ada apiUser
		for _, u := range list.Items {
			if u.Email == "ada@example.com" {
				ada = u
			}
		}
		require.Positive(t, ada.ID, "the harness's user")
		apiErrorJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil, http.StatusConflict, "USER_IN_USE")
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/users/%d", ada.ID), nil, http.StatusOK, nil)
	})
	t.Run("delete", func(t *testing.T) {
		r := apiJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/users/%d", grace.ID), nil, http.StatusNoContent, nil)
		require.Empty(t, r.body)
		apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/users/%d", grace.ID), nil, http.StatusNotFound, "NOT_FOUND")
		apiErrorJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/users/%d", grace.ID), nil, http.StatusNotFound, "NOT_FOUND")
		// The email is free again.
		apiJSON(t, h, "POST", "/api/v1/users", map[string]any{"name": "Grace", "email": "gh@navy.mil"}, http.StatusCreated, nil)
	})
}

func TestAPIEscalationPolicies(t *testing.T) {
	t.Parallel()
	h := apiStart(t)

	users := make([]apiUser, 3)
	for i := range users {
		apiJSON(t, h, "POST", "/api/v1/users", map[string]any{"name": fmt.Sprintf("User %d", i),
			"email": fmt.Sprintf("user%d@example.com", i)}, http.StatusCreated, &users[i])
	}
	rules := []apiRule{
		{EscalationTimeoutMinutes: 15, UserIDs: []int64{users[2].ID, users[0].ID}},
		{EscalationTimeoutMinutes: 5, UserIDs: []int64{users[1].ID}},
		{EscalationTimeoutMinutes: 30, UserIDs: []int64{users[0].ID, users[1].ID, users[2].ID}},
	}
	var pol apiPolicy
	apiJSON(t, h, "POST", "/api/v1/escalation-policies", map[string]any{"name": "Night shift", "rules": rules, "repeatCount": 2},
		http.StatusCreated, &pol)
	require.Positive(t, pol.ID)
	require.Equal(t, apiPolicy{ID: pol.ID, Name: "Night shift", Rules: rules, RepeatCount: 2}, pol)

	t.Run("get and list", func(t *testing.T) {
		var got apiPolicy
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), nil, http.StatusOK, &got)
		require.Equal(t, pol, got)
		var list struct{ Items []apiPolicy }
		apiJSON(t, h, "GET", "/api/v1/escalation-policies", nil, http.StatusOK, &list)
		require.Len(t, list.Items, 2)
		require.Contains(t, list.Items, pol)
	})
	t.Run("validation", func(t *testing.T) {
		good := []any{map[string]any{"escalationTimeoutMinutes": 5, "userIds": []int64{users[0].ID}}}
		tests := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"no rules", map[string]any{"name": "P", "rules": []any{}, "repeatCount": 0}, "rules"},
			{"rules missing", map[string]any{"name": "P", "repeatCount": 0}, "rules"},
			{"timeout 0", map[string]any{"name": "P", "repeatCount": 0,
				"rules": []any{map[string]any{"escalationTimeoutMinutes": 0, "userIds": []int64{users[0].ID}}}}, "rules.escalationTimeoutMinutes"},
			{"timeout negative", map[string]any{"name": "P", "repeatCount": 0,
				"rules": []any{map[string]any{"escalationTimeoutMinutes": -5, "userIds": []int64{users[0].ID}}}}, "rules.escalationTimeoutMinutes"},
			{"unknown user", map[string]any{"name": "P", "repeatCount": 0,
				"rules": []any{map[string]any{"escalationTimeoutMinutes": 5, "userIds": []int64{999999}}}}, "rules.userIds"},
			{"no users", map[string]any{"name": "P", "repeatCount": 0,
				"rules": []any{map[string]any{"escalationTimeoutMinutes": 5, "userIds": []int64{}}}}, "rules.userIds"},
			{"repeatCount negative", map[string]any{"name": "P", "repeatCount": -1, "rules": good}, "repeatCount"},
			{"missing name", map[string]any{"repeatCount": 0, "rules": good}, "name"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := apiErrorJSON(t, h, "POST", "/api/v1/escalation-policies", tc.body, http.StatusUnprocessableEntity, "")
				require.Equal(t, tc.field, e.Error.Field)
			})
		}
		var list struct{ Items []apiPolicy }
		apiJSON(t, h, "GET", "/api/v1/escalation-policies", nil, http.StatusOK, &list)
		require.Len(t, list.Items, 2, "a refused policy was stored")
	})
	t.Run("patch replaces rules", func(t *testing.T) {
		newRules := []apiRule{{EscalationTimeoutMinutes: 60, UserIDs: []int64{users[1].ID}}}
		var got apiPolicy
		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), map[string]any{"rules": newRules},
			http.StatusOK, &got)
		require.Equal(t, apiPolicy{ID: pol.ID, Name: "Night shift", Rules: newRules, RepeatCount: 2}, got)
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), nil, http.StatusOK, &got)
		require.Equal(t, newRules, got.Rules)

		// A refused PATCH leaves the policy as it was.
		e := apiErrorJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID),
			map[string]any{"rules": []any{map[string]any{"escalationTimeoutMinutes": 5, "userIds": []int64{999999}}}},
			http.StatusUnprocessableEntity, "")
		require.Equal(t, "rules.userIds", e.Error.Field)
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), nil, http.StatusOK, &got)
		require.Equal(t, newRules, got.Rules)

		// users[0] and users[2] are no longer in any rule: they may go.
		apiJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/users/%d", users[2].ID), nil, http.StatusNoContent, nil)
		apiErrorJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/users/%d", users[1].ID), nil, http.StatusConflict, "USER_IN_USE")
	})
	t.Run("delete in use, then after moving the source", func(t *testing.T) {
		harnessPolicy := apiSourcePolicy(t, h)
		apiErrorJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/escalation-policies/%d", harnessPolicy), nil,
			http.StatusConflict, "POLICY_IN_USE")

		var src apiSource
		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", h.SourceID), map[string]any{"escalationPolicyId": pol.ID},
			http.StatusOK, &src)
		require.Equal(t, pol.ID, src.EscalationPolicyID)

		apiJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/escalation-policies/%d", harnessPolicy), nil, http.StatusNoContent, nil)
		apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/escalation-policies/%d", harnessPolicy), nil, http.StatusNotFound, "NOT_FOUND")
		apiErrorJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/escalation-policies/%d", pol.ID), nil, http.StatusConflict, "POLICY_IN_USE")
	})
}

func TestAPIAlertSources(t *testing.T) {
	t.Parallel()
	h := apiStart(t)
	policyID := apiSourcePolicy(t, h)
	prefix := h.URL + "/api/v1/events/autotask/"

	// noSecret requires that no answer ever carries the Autotask secret.
	noSecret := func(t *testing.T, r apiResp, secrets ...string) {
		t.Helper()
		for _, s := range append(secrets, harness.Secret) {
			require.NotContains(t, string(r.body), s, "an answer carries the Autotask secret")
		}
		require.NotContains(t, string(r.body), `"secret"`)
	}

	var src apiSource
	r := apiJSON(t, h, "POST", "/api/v1/alert-sources", apiSourceBody(h, "Contoso PSA", policyID), http.StatusCreated, &src)
	noSecret(t, r)
	require.Positive(t, src.ID)
	require.Equal(t, "Contoso PSA", src.Name)
	require.Equal(t, "AUTOTASK", src.IntegrationType)
	require.Equal(t, policyID, src.EscalationPolicyID)
	require.Equal(t, "ACTIVE", src.Status)
	require.True(t, strings.HasPrefix(src.WebhookURL, prefix), src.WebhookURL)
	require.Greater(t, len(src.WebhookURL), len(prefix)+16, "the integration key is too short")
	require.Equal(t, harness.Username, src.Autotask.Username)
	require.Equal(t, harness.IntegrationCode, src.Autotask.IntegrationCode)
	require.Equal(t, h.Fake.URL(), src.Autotask.WebServer)
	require.NotEqual(t, h.WebhookURL, src.WebhookURL, "two sources share a webhook URL")

	t.Run("get and list hide the secret", func(t *testing.T) {
		var got apiSource
		noSecret(t, apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), nil, http.StatusOK, &got))
		require.Equal(t, src, got)
		var list struct{ Items []apiSource }
		noSecret(t, apiJSON(t, h, "GET", "/api/v1/alert-sources", nil, http.StatusOK, &list))
		require.Len(t, list.Items, 2)
		require.Contains(t, list.Items, src)
	})
	t.Run("default web server", func(t *testing.T) {
		body := apiSourceBody(h, "Default server", policyID)
		delete(body["autotask"].(map[string]any), "webServer")
		var got apiSource
		noSecret(t, apiJSON(t, h, "POST", "/api/v1/alert-sources", body, http.StatusCreated, &got))
		require.Equal(t, "https://webservices2.autotask.net", got.Autotask.WebServer)
		apiJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/alert-sources/%d", got.ID), nil, http.StatusNoContent, nil)
	})
	t.Run("validation", func(t *testing.T) {
		without := func(field string) map[string]any {
			b := apiSourceBody(h, "Bad", policyID)
			if at, ok := strings.CutPrefix(field, "autotask."); ok {
				delete(b["autotask"].(map[string]any), at)
			} else {
				delete(b, field)
			}
			return b
		}
		with := func(field string, v any) map[string]any {
			b := apiSourceBody(h, "Bad", policyID)
			if at, ok := strings.CutPrefix(field, "autotask."); ok {
				b["autotask"].(map[string]any)[at] = v
			} else {
				b[field] = v
			}
			return b
		}
		tests := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"missing name", without("name"), "name"},
			{"missing username", without("autotask.username"), "autotask.username"},
			{"missing secret", without("autotask.secret"), "autotask.secret"},
			{"missing integration code", without("autotask.integrationCode"), "autotask.integrationCode"},
			{"missing escalation policy", without("escalationPolicyId"), "escalationPolicyId"},
			{"missing autotask", without("autotask"), "autotask.username"},
			{"blank secret", with("autotask.secret", "  "), "autotask.secret"},
			{"unknown escalation policy", with("escalationPolicyId", 999999), "escalationPolicyId"},
			{"other integration type", with("integrationType", "PAGERDUTY"), "integrationType"},
			{"lower-case integration type", with("integrationType", "autotask"), "integrationType"},
			{"web server not a URL", with("autotask.webServer", "ftp://example.com"), "autotask.webServer"},
			{"username not an email", with("autotask.username", "apiuser"), "autotask.username"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b, err := json.Marshal(tc.body)
				require.NoError(t, err)
				r := apiSend(t, h, apiReq{method: "POST", path: "/api/v1/alert-sources", body: b, contentType: "application/json"})
				e := apiRequireError(t, r, http.StatusUnprocessableEntity, "")
				require.Equal(t, tc.field, e.Error.Field, "%s", r.body)
				noSecret(t, r)
			})
		}
		var list struct{ Items []apiSource }
		apiJSON(t, h, "GET", "/api/v1/alert-sources", nil, http.StatusOK, &list)
		require.Len(t, list.Items, 2, "a refused source was stored")

		e := apiErrorJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID),
			map[string]any{"escalationPolicyId": 999999}, http.StatusUnprocessableEntity, "")
		require.Equal(t, "escalationPolicyId", e.Error.Field)
		e = apiErrorJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID),
			map[string]any{"status": "PAUSED"}, http.StatusUnprocessableEntity, "")
		require.Equal(t, "status", e.Error.Field)
	})
	t.Run("new secret is used for callouts", func(t *testing.T) {
		// A first incident with the original secret.
		apiCreateIncident(t, h, src.WebhookURL, "Before the new secret", "New", "High")

		const newSecret = "brand-new-autotask-secret-9876543210"
		var got apiSource
		r := apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID),
			map[string]any{"name": "Contoso PSA (renamed)", "autotask": map[string]any{"secret": newSecret}}, http.StatusOK, &got)
		noSecret(t, r, newSecret)
		require.Equal(t, "Contoso PSA (renamed)", got.Name)
		require.Equal(t, src.WebhookURL, got.WebhookURL, "a new secret keeps the webhook URL")
		require.Equal(t, src.Autotask, got.Autotask)
		noSecret(t, apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), nil, http.StatusOK, nil), newSecret)
		noSecret(t, apiJSON(t, h, "GET", "/api/v1/alert-sources", nil, http.StatusOK, nil), newSecret)

		// Autotask now accepts only the new secret for this API user.
		h.Fake.AddCredentials(harness.Username, newSecret, harness.IntegrationCode)
		t.Cleanup(func() { h.Fake.AddCredentials(harness.Username, harness.Secret, harness.IntegrationCode) })
		apiCreateIncident(t, h, src.WebhookURL, "After the new secret", "New", "High")
		h.Fake.AddCredentials(harness.Username, harness.Secret, harness.IntegrationCode)
		// Put the original secret back for the subtests below.
		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID),
			map[string]any{"autotask": map[string]any{"secret": harness.Secret}}, http.StatusOK, nil)
	})
	t.Run("rotate key", func(t *testing.T) {
		var got apiSource
		noSecret(t, apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/alert-sources/%d/rotate-key", src.ID), nil, http.StatusOK, &got))
		require.NotEqual(t, src.WebhookURL, got.WebhookURL)
		require.True(t, strings.HasPrefix(got.WebhookURL, prefix), got.WebhookURL)
		var again apiSource
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), nil, http.StatusOK, &again)
		require.Equal(t, got.WebhookURL, again.WebhookURL)

		tk := apiTicket(t, h, "After rotation", "New", "Low")
		form := url.Values{"TicketID": {strconv.FormatInt(tk.ID, 10)}}
		apiRequireError(t, apiPostCallout(t, h, src.WebhookURL, form), http.StatusNotFound, "")
		r := apiPostCallout(t, h, got.WebhookURL, form)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		src.WebhookURL = got.WebhookURL
	})
	t.Run("inactive source answers 410", func(t *testing.T) {
		var got apiSource
		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), map[string]any{"status": "INACTIVE"}, http.StatusOK, &got)
		require.Equal(t, "INACTIVE", got.Status)
		tk := apiTicket(t, h, "While inactive", "New", "High")
		form := url.Values{"TicketID": {strconv.FormatInt(tk.ID, 10)}}
		apiRequireError(t, apiPostCallout(t, h, src.WebhookURL, form), http.StatusGone, "")

		apiJSON(t, h, "PATCH", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), map[string]any{"status": "ACTIVE"}, http.StatusOK, &got)
		require.Equal(t, "ACTIVE", got.Status)
		r := apiPostCallout(t, h, src.WebhookURL, form)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	})
	t.Run("delete removes its incidents", func(t *testing.T) {
		_, a := apiCreateIncident(t, h, src.WebhookURL, "Doomed", "New", "High")
		_, other := apiCreateIncident(t, h, h.WebhookURL, "Survivor", "New", "High")
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", a.IncidentID), nil, http.StatusOK, nil)

		r := apiJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), nil, http.StatusNoContent, nil)
		require.Empty(t, r.body)
		apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d", src.ID), nil, http.StatusNotFound, "NOT_FOUND")
		apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", a.IncidentID), nil, http.StatusNotFound, "NOT_FOUND")
		apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d/log", a.IncidentID), nil, http.StatusNotFound, "NOT_FOUND")
		apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d/callouts", src.ID), nil, http.StatusNotFound, "NOT_FOUND")
		var page apiIncidentPage
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents?alertSourceId=%d", src.ID), nil, http.StatusOK, &page)
		require.Empty(t, page.Items)
		apiRequireError(t, apiPostCallout(t, h, src.WebhookURL, url.Values{"TicketID": {"100"}}), http.StatusNotFound, "")

		// The other source and its incident are untouched.
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", other.IncidentID), nil, http.StatusOK, nil)
		var list struct{ Items []apiSource }
		apiJSON(t, h, "GET", "/api/v1/alert-sources", nil, http.StatusOK, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, h.SourceID, list.Items[0].ID)
	})
}

func TestAPIIncidents(t *testing.T) {
	t.Parallel()
	h := apiStart(t)

	type made struct {
		ticket   autotasktest.Ticket
		answer   apiCalloutAnswer
		priority string
	}
	var all []made
	for i, p := range []string{"Low", "High", "Medium", "Critical", "Low"} {
		tk, a := apiCreateIncident(t, h, h.WebhookURL, fmt.Sprintf("Server %d down", i), "New", p)
		want := "HIGH"
		if p == "Low" {
			want = "LOW"
		}
		all = append(all, made{tk, a, want})
	}

	t.Run("list newest first with the incident shape", func(t *testing.T) {
		r := apiJSON(t, h, "GET", "/api/v1/incidents", nil, http.StatusOK, nil)
		var raw struct {
			Items      []map[string]json.RawMessage `json:"items"`
			NextCursor json.RawMessage              `json:"nextCursor"`
		}
		require.NoError(t, json.Unmarshal(r.body, &raw))
		require.Equal(t, "null", string(raw.NextCursor))
		require.Len(t, raw.Items, len(all))
		for _, it := range raw.Items {
			for _, k := range []string{"id", "alertSourceId", "status", "priority", "summary", "details", "ticket", "links",
				"createdAt", "acceptedAt", "resolvedAt"} {
				require.Contains(t, it, k)
			}
			var tk map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(it["ticket"], &tk))
			for _, k := range []string{"id", "number", "statusLabel", "priorityLabel"} {
				require.Contains(t, tk, k)
			}
		}

		var page apiIncidentPage
		require.NoError(t, json.Unmarshal(r.body, &page))
		for k, inc := range page.Items {
			m := all[len(all)-1-k]
			tk := m.ticket
			require.Equal(t, m.answer.IncidentID, inc.ID, "newest first")
			require.Equal(t, h.SourceID, inc.AlertSourceID)
			require.Equal(t, "PENDING", inc.Status)
			require.Equal(t, m.priority, inc.Priority, tk.Title)
			require.Equal(t, tk.Number+": "+tk.Title, inc.Summary)
			require.Contains(t, inc.Details, tk.Description)
			require.Contains(t, inc.Details, "New")
			require.Contains(t, inc.Details, "Contoso Ltd")
			require.Equal(t, tk.ID, inc.Ticket.ID)
			require.Equal(t, tk.Number, inc.Ticket.Number)
			require.Equal(t, "New", inc.Ticket.StatusLabel)
			require.Contains(t, inc.Details, inc.Ticket.PriorityLabel)
			require.NotEmpty(t, inc.Ticket.PriorityLabel)
			require.Len(t, inc.Links, 1)
			require.Contains(t, inc.Links[0].Href, "ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID="+strconv.FormatInt(tk.ID, 10))
			require.NotEmpty(t, inc.Links[0].Text)
			require.False(t, inc.CreatedAt.IsZero())
			require.Nil(t, inc.AcceptedAt)
			require.Nil(t, inc.ResolvedAt)
			if k > 0 {
				require.False(t, inc.CreatedAt.After(page.Items[k-1].CreatedAt), "newest first by createdAt")
			}
		}
		require.Equal(t, "Low", page.Items[0].Ticket.PriorityLabel)
		require.Equal(t, "Critical", page.Items[1].Ticket.PriorityLabel)

		var one apiIncident
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", page.Items[2].ID), nil, http.StatusOK, &one)
		require.Equal(t, page.Items[2], one)
	})

	// Accept one, resolve another: statuses PENDING x3, ACCEPTED, RESOLVED.
	accepted, resolved := all[1].answer.IncidentID, all[3].answer.IncidentID

	t.Run("manual accept and resolve", func(t *testing.T) {
		var inc apiIncident
		apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/accept", accepted), nil, http.StatusOK, &inc)
		require.Equal(t, "ACCEPTED", inc.Status)
		require.NotNil(t, inc.AcceptedAt)
		require.Nil(t, inc.ResolvedAt)
		first := *inc.AcceptedAt

		var again apiIncident
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", accepted), nil, http.StatusOK, &again)
		require.Equal(t, inc, again, "the accept answer is what is stored")
		apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/accept", accepted), nil, http.StatusOK, &again)
		require.Equal(t, inc, again, "accepting again changes nothing")
		require.True(t, first.Equal(*again.AcceptedAt))

		apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", resolved), nil, http.StatusOK, &inc)
		require.Equal(t, "RESOLVED", inc.Status)
		require.NotNil(t, inc.ResolvedAt)
		require.Nil(t, inc.AcceptedAt, "resolved without an accept")
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", resolved), nil, http.StatusOK, &again)
		require.Equal(t, inc, again, "the resolve answer is what is stored")
		apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", resolved), nil, http.StatusOK, &again)
		require.Equal(t, inc, again, "resolving again changes nothing")

		e := apiErrorJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/accept", resolved), nil, http.StatusConflict, "")
		require.NotEmpty(t, e.Error.Message)
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d", resolved), nil, http.StatusOK, &again)
		require.Equal(t, "RESOLVED", again.Status)
		require.Nil(t, again.AcceptedAt)

		// An accepted incident can be resolved and keeps its acceptedAt.
		var acc apiIncident
		apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/accept", all[4].answer.IncidentID), nil, http.StatusOK, &acc)
		acceptedAt := *acc.AcceptedAt
		apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", all[4].answer.IncidentID), nil, http.StatusOK, &acc)
		require.Equal(t, "RESOLVED", acc.Status)
		require.NotNil(t, acc.ResolvedAt)
		require.NotNil(t, acc.AcceptedAt)
		require.True(t, acceptedAt.Equal(*acc.AcceptedAt))
		require.False(t, acc.ResolvedAt.Before(acceptedAt))
	})

	t.Run("log", func(t *testing.T) {
		var log struct{ Items []apiLogEntry }
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d/log", accepted), nil, http.StatusOK, &log)
		log.Items = apiOwnLog(log.Items)
		require.Len(t, log.Items, 2, "created, accepted once: %+v", log.Items)
		created := log.Items[0]
		require.Equal(t, "CREATED", created.Kind)
		require.NotNil(t, created.CalloutID)
		require.Equal(t, all[1].answer.CalloutID, *created.CalloutID)
		require.NotEmpty(t, created.Text)
		require.False(t, created.Time.IsZero())
		require.Nil(t, created.Actor, "a callout has no actor")

		acc := log.Items[1]
		require.Equal(t, "ACCEPTED", acc.Kind)
		require.NotNil(t, acc.Actor)
		require.Equal(t, apiActor, *acc.Actor)
		require.Contains(t, acc.Text, apiActor)
		require.Nil(t, acc.CalloutID)
		require.False(t, acc.Time.Before(created.Time))

		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents/%d/log", resolved), nil, http.StatusOK, &log)
		log.Items = apiOwnLog(log.Items)
		require.Len(t, log.Items, 2, "created, resolved once: %+v", log.Items)
		require.Equal(t, "CREATED", log.Items[0].Kind)
		require.Equal(t, all[3].answer.CalloutID, *log.Items[0].CalloutID)
		require.Equal(t, "RESOLVED", log.Items[1].Kind)
		require.NotNil(t, log.Items[1].Actor)
		require.Equal(t, apiActor, *log.Items[1].Actor)
		require.Nil(t, log.Items[1].CalloutID)
	})

	t.Run("status filter", func(t *testing.T) {
		ids := func(q string) []int64 {
			t.Helper()
			var page apiIncidentPage
			apiJSON(t, h, "GET", "/api/v1/incidents?"+q, nil, http.StatusOK, &page)
			out := []int64{}
			for _, i := range page.Items {
				out = append(out, i.ID)
			}
			return out
		}
		id := func(k int) int64 { return all[k].answer.IncidentID }
		require.Equal(t, []int64{id(2), id(1), id(0)}, ids("status=PENDING,ACCEPTED"))
		require.Equal(t, []int64{id(2), id(0)}, ids("status=PENDING"))
		require.Equal(t, []int64{id(1)}, ids("status=ACCEPTED"))
		require.Equal(t, []int64{id(4), id(3)}, ids("status=RESOLVED"))
		require.Equal(t, []int64{id(4), id(3), id(1)}, ids("status=ACCEPTED&status=RESOLVED"))
		require.Equal(t, []int64{id(4), id(3), id(2), id(1), id(0)}, ids(""))
	})

	t.Run("alertSourceId filter", func(t *testing.T) {
		var other apiSource
		apiJSON(t, h, "POST", "/api/v1/alert-sources", apiSourceBody(h, "Second", apiSourcePolicy(t, h)), http.StatusCreated, &other)
		_, a := apiCreateIncident(t, h, other.WebhookURL, "On the second source", "New", "High")

		var page apiIncidentPage
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents?alertSourceId=%d", other.ID), nil, http.StatusOK, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, a.IncidentID, page.Items[0].ID)
		require.Equal(t, other.ID, page.Items[0].AlertSourceID)

		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents?alertSourceId=%d", h.SourceID), nil, http.StatusOK, &page)
		require.Len(t, page.Items, len(all))
		for _, i := range page.Items {
			require.Equal(t, h.SourceID, i.AlertSourceID)
		}
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents?alertSourceId=%d&status=PENDING", other.ID), nil, http.StatusOK, &page)
		require.Len(t, page.Items, 1)
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/incidents?alertSourceId=%d&status=RESOLVED", other.ID), nil, http.StatusOK, &page)
		require.Empty(t, page.Items)
		require.NotNil(t, page.Items, "an empty list is [] not null")
		apiJSON(t, h, "DELETE", fmt.Sprintf("/api/v1/alert-sources/%d", other.ID), nil, http.StatusNoContent, nil)
	})

	t.Run("invalid query", func(t *testing.T) {
		tests := []struct{ query, field string }{
			{"limit=0", "limit"},
			{"limit=-1", "limit"},
			{"limit=501", "limit"},
			{"limit=ten", "limit"},
			{"status=OPEN", "status"},
			{"status=PENDING,", "status"},
			{"cursor=abc", "cursor"},
			{"cursor=0", "cursor"},
			{"alertSourceId=abc", "alertSourceId"},
			{"alertSourceId=0", "alertSourceId"},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				e := apiErrorJSON(t, h, "GET", "/api/v1/incidents?"+tc.query, nil, http.StatusUnprocessableEntity, "")
				require.Equal(t, tc.field, e.Error.Field)
			})
		}
	})
}

func TestAPIIncidentPaging(t *testing.T) {
	t.Parallel()
	h := apiStart(t)

	const n = 7
	want := map[int64]bool{}
	for i := range n {
		_, a := apiCreateIncident(t, h, h.WebhookURL, fmt.Sprintf("Paged %d", i), "New", "Medium")
		want[a.IncidentID] = true
	}
	// Accept every other one so the status filter pages too.
	var pending int
	for id := range want {
		if id%2 == 0 {
			apiJSON(t, h, "POST", fmt.Sprintf("/api/v1/incidents/%d/accept", id), nil, http.StatusOK, nil)
		} else {
			pending++
		}
	}

	walk := func(t *testing.T, query string, limit int) (ids []int64, pages int) {
		t.Helper()
		cursor := ""
		for {
			q := fmt.Sprintf("/api/v1/incidents?limit=%d%s", limit, query)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			var page apiIncidentPage
			apiJSON(t, h, "GET", q, nil, http.StatusOK, &page)
			require.LessOrEqual(t, len(page.Items), limit)
			pages++
			for _, i := range page.Items {
				ids = append(ids, i.ID)
			}
			if page.NextCursor == nil {
				return ids, pages
			}
			require.Len(t, page.Items, limit, "a page before the last is full")
			require.Less(t, pages, 100, "paging does not end")
			cursor = *page.NextCursor
		}
	}
	for _, limit := range []int{1, 2, 3, n, n + 1, 500} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			ids, pages := walk(t, "", limit)
			require.Len(t, ids, n)
			seen := map[int64]bool{}
			for k, id := range ids {
				require.True(t, want[id], "unknown incident %d", id)
				require.False(t, seen[id], "incident %d seen twice", id)
				seen[id] = true
				if k > 0 {
					require.Less(t, id, ids[k-1], "newest first across pages")
				}
			}
			require.Equal(t, (n+limit-1)/limit, pages)
		})
	}
	t.Run("with a status filter", func(t *testing.T) {
		ids, _ := walk(t, "&status=PENDING", 2)
		require.Len(t, ids, pending)
		ids, _ = walk(t, "&status=ACCEPTED", 2)
		require.Len(t, ids, n-pending)
	})
}

func TestAPICalloutJournal(t *testing.T) {
	t.Parallel()
	h := apiStart(t)
	journal := func(t *testing.T, q string) apiCalloutPage {
		t.Helper()
		var page apiCalloutPage
		apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d/callouts%s", h.SourceID, q), nil, http.StatusOK, &page)
		return page
	}

	// 1: creates; 2: the same ticket again, unchanged; 3: a closed ticket with
	// no incident, rejected; 4: a form carrying a password, creates.
	tk1, a1 := apiCreateIncident(t, h, h.WebhookURL, "Mail down", "New", "High")
	r := apiPostCallout(t, h, h.WebhookURL, url.Values{"TicketID": {strconv.FormatInt(tk1.ID, 10)}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	tk3 := apiTicket(t, h, "Already done", "Complete", "Low")
	r = apiPostCallout(t, h, h.WebhookURL, url.Values{"TicketID": {strconv.FormatInt(tk3.ID, 10)}})
	apiRequireError(t, r, http.StatusBadRequest, "TICKET_STATUS_NOT_ALERTABLE")
	tk4 := apiTicket(t, h, "With credentials", "New", "Low")
	r = apiPostCallout(t, h, h.WebhookURL, url.Values{"TicketID": {strconv.FormatInt(tk4.ID, 10)},
		"username": {"callout-user"}, "password": {"hunter2"}})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var a4 apiCalloutAnswer
	require.NoError(t, json.Unmarshal(r.body, &a4))

	page := journal(t, "")
	require.Nil(t, page.NextCursor)
	require.Len(t, page.Items, 4)
	for k := 1; k < len(page.Items); k++ {
		require.Less(t, page.Items[k].ID, page.Items[k-1].ID, "newest first")
	}
	type want struct {
		ticket     autotasktest.Ticket
		status     string
		action     string
		httpStatus int
		incidentID int64
	}
	wants := []want{ // newest first
		{tk4, "New", "CREATED", 201, a4.IncidentID},
		{tk3, "Complete", "REJECTED", 400, 0},
		{tk1, "New", "UNCHANGED", 200, a1.IncidentID},
		{tk1, "New", "CREATED", 201, a1.IncidentID},
	}
	for k, w := range wants {
		c := page.Items[k]
		require.Equal(t, "POST", c.Method, k)
		require.Equal(t, "application/x-www-form-urlencoded", c.ContentType, k)
		require.Contains(t, c.Body, "TicketID="+strconv.FormatInt(w.ticket.ID, 10), k)
		require.NotNil(t, c.TicketID, k)
		require.Equal(t, w.ticket.ID, *c.TicketID, k)
		require.NotNil(t, c.TicketNumber, k)
		require.Equal(t, w.ticket.Number, *c.TicketNumber, k)
		require.NotNil(t, c.TicketStatusLabel, k)
		require.Equal(t, w.status, *c.TicketStatusLabel, k)
		require.NotNil(t, c.Action, k)
		require.Equal(t, w.action, *c.Action, k)
		require.NotNil(t, c.HTTPStatus, k)
		require.Equal(t, w.httpStatus, *c.HTTPStatus, k)
		if w.incidentID == 0 {
			require.Nil(t, c.IncidentID, k)
		} else {
			require.NotNil(t, c.IncidentID, k)
			require.Equal(t, w.incidentID, *c.IncidentID, k)
		}
		require.Equal(t, 1, c.Attempts, k)
		require.False(t, c.ReceivedAt.IsZero(), k)
	}
	require.Equal(t, a1.CalloutID, page.Items[3].ID, "the callout id of the answer is the journal's")
	require.Equal(t, a4.CalloutID, page.Items[0].ID)

	t.Run("password is masked", func(t *testing.T) {
		c := page.Items[0]
		require.NotContains(t, c.Body, "hunter2")
		require.Contains(t, c.Body, "password=", "the field stays, its value is masked")
		raw := apiJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d/callouts", h.SourceID), nil, http.StatusOK, nil)
		require.NotContains(t, string(raw.body), "hunter2")
	})
	t.Run("password in the query string is masked", func(t *testing.T) {
		tk := apiTicket(t, h, "GET callout", "New", "High")
		r := apiSend(t, h, apiReq{method: "GET", noAuth: true,
			path: h.WebhookURL + "?TicketID=" + strconv.FormatInt(tk.ID, 10) + "&password=hunter2"})
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		latest := journal(t, "?limit=1").Items[0]
		require.Equal(t, "GET", latest.Method)
		require.Equal(t, "CREATED", *latest.Action)
		require.NotContains(t, latest.Query, "hunter2")
		require.NotContains(t, latest.Body, "hunter2")
	})
	t.Run("paging", func(t *testing.T) {
		all := journal(t, "").Items
		require.Len(t, all, 5)
		var ids []int64
		cursor, pages := "", 0
		for {
			q := "?limit=2"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p := journal(t, q)
			pages++
			require.LessOrEqual(t, len(p.Items), 2)
			for _, c := range p.Items {
				ids = append(ids, c.ID)
			}
			if p.NextCursor == nil {
				break
			}
			require.Less(t, pages, 100, "paging does not end")
			cursor = *p.NextCursor
		}
		require.Equal(t, 3, pages)
		want := []int64{}
		for _, c := range all {
			want = append(want, c.ID)
		}
		require.Equal(t, want, ids, "every callout exactly once, newest first")
	})
	t.Run("invalid paging", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=x", "limit=501", "cursor=-3"} {
			apiErrorJSON(t, h, "GET", fmt.Sprintf("/api/v1/alert-sources/%d/callouts?%s", h.SourceID, q), nil,
				http.StatusUnprocessableEntity, "")
		}
	})
}

func TestAPIMetrics(t *testing.T) {
	t.Parallel()
	h := apiStart(t)
	apiCreateIncident(t, h, h.WebhookURL, "Metered", "New", "High")
	apiJSON(t, h, "GET", "/api/v1/incidents", nil, http.StatusOK, nil)

	r := apiSend(t, h, apiReq{method: "GET", path: "/metrics", noAuth: true})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	body := string(r.body)
	for _, want := range []string{
		`ticketpager_callouts_total{action="CREATED"}`,
		"ticketpager_autotask_requests_total",
		"ticketpager_http_request_duration_seconds",
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "/api/v1/events/autotask/atk_", "metrics carry a webhook key")
}

// TestAPIWriteAnswersMatchReads checks that what a create, patch or action
// answers is exactly what a later GET of the same object shows.
func TestAPIWriteAnswersMatchReads(t *testing.T) {
	t.Parallel()
	h := apiStart(t)
	_, inc := apiCreateIncident(t, h, h.WebhookURL, "Consistency", "New", "High")
	policyID := apiSourcePolicy(t, h)

	var user, policy, src struct {
		ID int64 `json:"id"`
	}
	steps := []struct {
		name   string
		method string
		path   func() string
		body   any
		status int
		get    func() string
		save   any
	}{
		{"create user", "POST", func() string { return "/api/v1/users" }, map[string]any{"name": "Lin", "email": "lin@example.com"},
			201, func() string { return fmt.Sprintf("/api/v1/users/%d", user.ID) }, &user},
		{"patch user", "PATCH", func() string { return fmt.Sprintf("/api/v1/users/%d", user.ID) }, map[string]any{"name": "Lin B"},
			200, func() string { return fmt.Sprintf("/api/v1/users/%d", user.ID) }, nil},
		{"create policy", "POST", func() string { return "/api/v1/escalation-policies" },
			map[string]any{"name": "P", "repeatCount": 1, "rules": []any{map[string]any{"escalationTimeoutMinutes": 3, "userIds": []int64{1}}}},
			201, func() string { return fmt.Sprintf("/api/v1/escalation-policies/%d", policy.ID) }, &policy},
		{"patch policy", "PATCH", func() string { return fmt.Sprintf("/api/v1/escalation-policies/%d", policy.ID) },
			map[string]any{"repeatCount": 3}, 200, func() string { return fmt.Sprintf("/api/v1/escalation-policies/%d", policy.ID) }, nil},
		{"create source", "POST", func() string { return "/api/v1/alert-sources" }, apiSourceBody(h, "S", policyID),
			201, func() string { return fmt.Sprintf("/api/v1/alert-sources/%d", src.ID) }, &src},
		{"patch source", "PATCH", func() string { return fmt.Sprintf("/api/v1/alert-sources/%d", src.ID) },
			map[string]any{"name": "S2", "escalationPolicyId": "policy"}, 200,
			func() string { return fmt.Sprintf("/api/v1/alert-sources/%d", src.ID) }, nil},
		{"rotate key", "POST", func() string { return fmt.Sprintf("/api/v1/alert-sources/%d/rotate-key", src.ID) }, nil,
			200, func() string { return fmt.Sprintf("/api/v1/alert-sources/%d", src.ID) }, nil},
		{"accept incident", "POST", func() string { return fmt.Sprintf("/api/v1/incidents/%d/accept", inc.IncidentID) }, nil,
			200, func() string { return fmt.Sprintf("/api/v1/incidents/%d", inc.IncidentID) }, nil},
		{"resolve incident", "POST", func() string { return fmt.Sprintf("/api/v1/incidents/%d/resolve", inc.IncidentID) }, nil,
			200, func() string { return fmt.Sprintf("/api/v1/incidents/%d", inc.IncidentID) }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			body := st.body
			if m, ok := body.(map[string]any); ok && m["escalationPolicyId"] == "policy" {
				m["escalationPolicyId"] = policy.ID // known only once the policy step ran
			}
			var answer, read map[string]any
			r := apiJSON(t, h, st.method, st.path(), body, st.status, &answer)
			if st.save != nil {
				require.NoError(t, json.Unmarshal(r.body, st.save))
			}
			apiJSON(t, h, "GET", st.get(), nil, http.StatusOK, &read)
			require.Equal(t, read, answer)
		})
	}
}
