package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

var (
	fixedNow  = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	admin     = auth.Principal{UserID: 1, Name: "Ada Lovelace", Email: "ada@example.com", Role: auth.RoleAdmin, Via: "session"}
	responder = auth.Principal{UserID: 2, Name: "Grace Hopper", Email: "grace@example.com", Role: auth.RoleResponder, Via: "session"}
	evil      = `<script>alert("x")</script>`
	long      = strings.Repeat("verylongwordwithoutspaces", 40)
)

// fixtures holds, for every page template, data sets to render it with.
func fixtures() map[string][]any {
	next := fixedNow.Add(4 * time.Minute)
	acc := fixedNow.Add(-time.Minute)
	inc := store.Incident{ID: 7, SourceID: 3, Status: "PENDING", Priority: "HIGH", Summary: "T20260302.0001: " + evil,
		Details: "Company: Acme\n\n" + evil + long, TicketID: 100, TicketNumber: "T20260302.0001", TicketStatusLabel: "New",
		TicketPriorityLabel: "High", Links: []store.Link{{Href: "https://ww5.autotask.net/x?TicketID=100", Text: "Autotask ticket T20260302.0001"}},
		CreatedAt: fixedNow.Add(-12 * time.Minute), EscalationRule: 1, NextEscalationAt: &next}
	accepted := inc
	accepted.ID, accepted.Status, accepted.AcceptedAt, accepted.Priority = 6, "ACCEPTED", &acc, "LOW"
	src := source.Source{AlertSource: store.AlertSource{ID: 3, Name: "Autotask " + evil, IntegrationType: "AUTOTASK", Status: "ACTIVE",
		EscalationPolicyID: 1, Username: "abc@example.com", IntegrationCode: "CODE", WebServer: source.DefaultWebServer, CreatedAt: fixedNow},
		WebhookURL: "https://pager.example.com/api/v1/events/autotask/atk_secretkey"}
	inactive := src
	inactive.Status = "INACTIVE"
	errs := fieldErrors{"name": "must be 1 to 200 characters " + evil, "username": "is required", "escalationPolicyId": "choose a policy",
		"rule-0-timeout": "must be a whole number", "rule-0-users": "choose 1 to 50 users", "email": "bad", "password": "short",
		"webhookUrl": "bad url", "rules": "must hold 1 to 20 rules", "user": "choose", "secret": "is required"}
	users := []store.User{{ID: 1, Name: "Ada " + evil, Email: "ada@example.com", Role: "ADMIN", PasswordHash: "x"}, {ID: 2, Name: long, Email: "g@example.com", Role: "RESPONDER"}}
	return map[string][]any{
		"error":   {errorData{404, "Not found", "There is nothing here."}, errorData{500, "Something went wrong", "x"}},
		"sign-in": {signInData{}, signInData{Email: evil, Next: "/incidents/7", Message: "Email or password is wrong."}},
		"incidents": {incidentsData{Statuses: statusFilters, Sources: []option{{Value: "", Label: "All"}}},
			incidentsData{Items: []incidentRow{{Incident: inc, SourceName: "Autotask"}, {Incident: accepted}},
				Resolved: []incidentRow{{Incident: store.Incident{ID: 1, Status: "RESOLVED", Priority: "LOW", Summary: long, CreatedAt: fixedNow.Add(-72 * time.Hour)}}},
				NextURL:  "/incidents?cursor=6", FirstURL: "/incidents", SourceID: 3}},
		"incident": {incidentData{Incident: inc, SourceName: "Autotask", PolicyID: 1, PolicyName: "Desk", RuleCount: 2,
			Log: []store.LogEntry{{ID: 1, At: fixedNow, Kind: "CREATED", Text: "Created by callout 5: " + evil, CalloutID: 5},
				{ID: 2, At: fixedNow, Kind: "ACCEPTED", Text: "Accepted by Ada", Actor: "Ada " + evil}}},
			incidentData{Incident: accepted, Message: "already resolved"}, incidentData{Incident: store.Incident{ID: 9, Status: "RESOLVED"}}},
		"sources": {[]sourceRow{}, []sourceRow{{Source: src, PolicyName: "Desk"}, {Source: inactive}}},
		"source": {sourceData{Source: src, PolicyName: "Desk"}, sourceData{Source: inactive, Test: &testResult{Message: "refused", Detail: evil}},
			sourceData{Source: src, Test: &testResult{OK: true, Message: "Connected"}}},
		"source-form": {sourceForm{}, sourceForm{ID: 3, Name: evil, HasSecret: true, Policies: []option{{Value: "1", Label: "Desk", Selected: true}}, Errors: errs}},
		"callouts": {calloutsData{Source: src.AlertSource}, calloutsData{Source: src.AlertSource, NextURL: "/sources/3/callouts?cursor=2",
			Items: []store.Callout{{ID: 5, Method: "POST", ContentType: "application/json", Body: `{"id":100}` + evil, BodyTruncated: true,
				Action: "CREATED", HTTPStatus: 201, TicketNumber: "T1", IncidentID: 7, Attempts: 2, Query: "a=b"},
				{ID: 4, Method: "GET", Error: "Autotask said " + evil, HTTPStatus: 400, Action: "REJECTED"}}}},
		"policies": {[]policyRow{}, []policyRow{{Policy: store.Policy{ID: 1, Name: evil, RepeatCount: 1},
			Rules: []ruleSummary{{TimeoutMinutes: 5, Users: []string{"Ada", "Grace"}}}, Sources: []string{"Autotask"}}}},
		"policy-form": {policyForm{Rules: []ruleRow{{}}, MaxRules: 20}, policyForm{ID: 1, Name: evil, RepeatCount: "x", MaxRules: 20,
			Rules: []ruleRow{{Index: 0, Timeout: "0", Users: []int64{2}}}, Users: users, Errors: errs}},
		"users":     {[]store.User{}, users},
		"user-form": {userForm{Role: "RESPONDER"}, userForm{ID: 1, Name: evil, Role: "ADMIN", Self: true, HasPassword: true, Errors: errs}},
		"profile":   {userForm{ID: 2, Name: "Grace", Role: "RESPONDER", Profile: true, Self: true}, userForm{Profile: true, Errors: errs}},
		"tokens": {tokensData{}, tokensData{NewToken: "tp_abc", NewName: evil, Errors: errs, Users: []option{{Value: "1", Label: "Ada"}},
			Items: []tokenRow{{APIToken: store.APIToken{ID: 1, Name: evil, UserID: 1, CreatedAt: fixedNow, LastUsedAt: &fixedNow}, UserName: "Ada"},
				{APIToken: store.APIToken{ID: 2, Name: "operator"}}}}},
		"confirm": {confirmData{Heading: "Delete?", Subject: evil, Message: "sure?", Action: "/x", Button: "Delete", Cancel: "/", Danger: true},
			confirmData{Heading: "Delete?", Problem: "in use", Cancel: "/"}},
		"secret": {secretData{Heading: "Secret", Message: evil, Secret: "whsec_x", Back: "/users"}},
	}
}

func testServer() *Server {
	return &Server{Now: func() time.Time { return fixedNow }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), pages: mustParse()}
}

func renderPage(t *testing.T, s *Server, p *auth.Principal, name string, data any) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	if p != nil {
		r = r.WithContext(auth.WithPrincipal(context.Background(), *p))
	}
	w := httptest.NewRecorder()
	s.render(w, r, http.StatusOK, name, "Title "+evil, "incidents", data)
	require.Equal(t, http.StatusOK, w.Code, "page %s: %s", name, w.Body.String())
	return w.Body.String()
}

func TestEveryTemplateRenders(t *testing.T) {
	s := testServer()
	fx := fixtures()
	for _, name := range pageNames {
		sets, ok := fx[name]
		require.True(t, ok, "no fixture for page %s", name)
		for i, data := range sets {
			for _, p := range []*auth.Principal{&admin, &responder, nil} {
				body := renderPage(t, s, p, name, data)
				require.Contains(t, body, `<html lang="en">`, "%s #%d", name, i)
				require.Contains(t, body, `<meta name="viewport"`)
				require.Contains(t, body, `href="#main"`, "skip link")
				require.NotContains(t, body, "<script>alert", "%s #%d is not escaped", name, i)
				require.NotContains(t, body, "<no value>", "%s #%d", name, i)
				require.Contains(t, body, "&lt;script&gt;", "title is escaped in %s", name)
				header, _, _ := strings.Cut(body, "</header>")
				switch {
				case p == nil:
					require.NotContains(t, body, "Sign out")
				case p.IsAdmin():
					require.Contains(t, header, `href="/sources"`)
					require.Contains(t, header, p.Name)
					require.Contains(t, body, "Sign out")
				default:
					require.NotContains(t, header, `href="/sources"`)
					require.NotContains(t, header, `href="/tokens"`)
					require.Contains(t, body, "Sign out")
				}
			}
		}
	}
}

func TestTemplateContent(t *testing.T) {
	s := testServer()
	fx := fixtures()
	body := renderPage(t, s, &admin, "incidents", fx["incidents"][1])
	require.Contains(t, body, "12 min ago")
	require.Contains(t, body, "HIGH priority")
	require.Contains(t, body, "Recently resolved")
	require.Contains(t, body, "3 days ago")
	require.Contains(t, body, `href="/incidents?cursor=6"`)

	body = renderPage(t, s, &admin, "incidents", fx["incidents"][0])
	require.Contains(t, body, "No open incidents")

	body = renderPage(t, s, &responder, "incident", fx["incident"][0])
	require.Contains(t, body, `action="/incidents/7/accept"`)
	require.Contains(t, body, `action="/incidents/7/resolve"`)
	require.Contains(t, body, "Next escalation in 4 min")
	require.Contains(t, body, "Rule 1 notified last")
	require.Contains(t, body, "Autotask ticket T20260302.0001")
	require.Contains(t, body, "callout 5")
	require.NotContains(t, body, "/sources/3/callouts", "a responder gets no link to the admin-only journal")
	body = renderPage(t, s, &admin, "incident", fx["incident"][0])
	require.Contains(t, body, `/sources/3/callouts?cursor=6#callout-5`)
	body = renderPage(t, s, &admin, "incident", fx["incident"][2])
	require.NotContains(t, body, "/accept")
	require.NotContains(t, body, "/resolve")

	body = renderPage(t, s, &admin, "source", fx["source"][0])
	require.Contains(t, body, `value="https://pager.example.com/api/v1/events/autotask/atk_secretkey" readonly`)
	require.Contains(t, body, `data-copy="webhook-url"`)
	require.Contains(t, body, "Extension Callout (Tickets)")
	require.Contains(t, body, "Admin → Workflow Rules → New")
	body = renderPage(t, s, &admin, "source", fx["source"][1])
	require.Contains(t, body, "Connection test failed")
	require.Contains(t, body, "Activate")

	body = renderPage(t, s, &admin, "source-form", fx["source-form"][1])
	require.Contains(t, body, `aria-describedby="username-error"`)
	require.Contains(t, body, `<p class="field-error" id="username-error">is required</p>`)
	require.Contains(t, body, "Leave empty to keep the current secret")

	body = renderPage(t, s, &admin, "callouts", fx["callouts"][1])
	require.Contains(t, body, `id="callout-5"`)
	require.Contains(t, body, "<details>")
	require.Contains(t, body, "Older callouts")

	body = renderPage(t, s, &admin, "policy-form", fx["policy-form"][1])
	require.Contains(t, body, `name="rule-0-users" value="2" checked`)
	require.Contains(t, body, `value="add"`)
	require.Contains(t, body, "choose 1 to 50 users")

	body = renderPage(t, s, &admin, "tokens", fx["tokens"][1])
	require.Contains(t, body, `value="tp_abc" readonly`)
	require.Contains(t, body, "operator (admin)")
	require.Contains(t, body, "never")

	body = renderPage(t, s, &responder, "profile", fx["profile"][0])
	require.NotContains(t, body, `name="role"`)
	body = renderPage(t, s, &admin, "user-form", fx["user-form"][1])
	require.Contains(t, body, "You cannot change your own role")
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 12 * time.Minute: "12 min ago", 90 * time.Minute: "1 h 30 min ago",
		11 * time.Hour: "11 h ago", 72 * time.Hour: "3 days ago",
	} {
		require.Equal(t, want, ago(fixedNow, fixedNow.Add(-d)))
	}
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{"/incidents/1": true, "/": true, "": false, "//evil.example": false,
		"/\\evil.example": false, "https://evil.example": false, "incidents": false, "/x\r\nSet-Cookie: a": false} {
		require.Equal(t, want, localPath(p), p)
	}
}

func TestStaticAssets(t *testing.T) {
	mux := http.NewServeMux()
	testServer().Routes(mux)
	for _, p := range []string{"/static/style.css", "/static/app.js"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
		require.Equal(t, http.StatusOK, w.Code, p)
		require.NotEmpty(t, bytes.TrimSpace(w.Body.Bytes()))
		require.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'")
	}
}
