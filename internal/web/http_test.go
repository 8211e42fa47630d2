package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

type env struct {
	t       *testing.T
	store   *store.Store
	srv     *Server
	ts      *httptest.Server
	fake    *autotasktest.Server
	adminID int64
	respID  int64
}

// newEnv runs the pages on an httptest server over a real SQLite store. The
// test middleware plays the lead's auth middleware: the X-Test-User header
// names the user whose Principal goes into the context.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	box, err := secret.NewBox(strings.Repeat("k", 32))
	require.NoError(t, err)
	now := func() time.Time { return time.Now() }
	client := autotask.NewClient(autotask.Options{})
	fake := autotasktest.NewServer()
	t.Cleanup(fake.Close)
	e := &env{t: t, store: st, fake: fake}
	e.srv = &Server{Store: st, Box: box, Sources: source.NewService(st, box, "https://pager.example.com", now, client.Forget),
		Incidents: incident.NewService(st, now), Autotask: client, Now: now,
		Auth:   &auth.Manager{Store: st, Box: box, Now: now},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		CreateToken: func(ctx context.Context, name string, userID int64) (string, error) {
			tok := secret.NewToken("tp_")
			_, err := st.CreateToken(ctx, name, box.LookupHash(tok), userID, now())
			return tok, err
		}}
	hash, err := auth.HashPassword("correct horse battery")
	require.NoError(t, err)
	a, err := st.CreateUser(ctx, store.User{Name: "Ada Lovelace", Email: "ada@example.com", Role: auth.RoleAdmin, PasswordHash: hash, CreatedAt: now()})
	require.NoError(t, err)
	r, err := st.CreateUser(ctx, store.User{Name: "Grace Hopper", Email: "grace@example.com", Role: auth.RoleResponder, CreatedAt: now()})
	require.NoError(t, err)
	e.adminID, e.respID = a.ID, r.ID
	mux := http.NewServeMux()
	e.srv.Routes(mux)
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if id := req.Header.Get("X-Test-User"); id != "" {
			u, err := st.User(req.Context(), mustID(id))
			require.NoError(t, err)
			req = req.WithContext(auth.WithPrincipal(req.Context(),
				auth.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Via: "session"}))
		}
		mux.ServeHTTP(w, req)
	}))
	t.Cleanup(e.ts.Close)
	return e
}

func mustID(s string) int64 {
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}

type resp struct {
	code     int
	body     string
	location string
	header   http.Header
}

func (e *env) do(user int64, method, path string, form url.Values) resp {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	require.NoError(e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != 0 {
		req.Header.Set("X-Test-User", itoa(user))
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{code: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }

func (e *env) policy(name string) store.Policy {
	p, err := e.store.CreatePolicy(context.Background(), store.Policy{Name: name, Rules: []store.Rule{{TimeoutMinutes: 5, UserIDs: []int64{e.respID}}}, CreatedAt: time.Now()})
	require.NoError(e.t, err)
	return p
}

func (e *env) source(policyID int64) source.Source {
	name, user, sec, code, ws := "Autotask", "api@example.com", "s3cret", "CODE", e.fake.URL()
	src, err := e.srv.Sources.Create(context.Background(), source.Input{Name: &name, Username: &user, Secret: &sec,
		IntegrationCode: &code, WebServer: &ws, EscalationPolicyID: &policyID})
	require.NoError(e.t, err)
	return src
}

func (e *env) incident(src source.Source, ticketID int64, summary string) store.Incident {
	res, err := e.srv.Incidents.ApplyTicket(context.Background(), incident.Ticket{SourceID: src.ID, ID: ticketID,
		Number: "T20260302.000" + formatInt(ticketID), Title: summary, StatusLabel: "New", PriorityLabel: "High",
		WebLink: "https://ww5.autotask.net/x?TicketID=" + formatInt(ticketID)},
		0, func(context.Context, *store.Tx, incident.Result) error { return nil })
	require.NoError(e.t, err)
	return res.Incident
}

func requireSecureHeaders(t *testing.T, r resp) {
	t.Helper()
	require.Contains(t, r.header.Get("Content-Security-Policy"), "default-src 'self'")
	require.NotContains(t, r.header.Get("Content-Security-Policy"), "unsafe-inline")
	require.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
	require.Equal(t, "same-origin", r.header.Get("Referrer-Policy"))
}

func TestIncidentFlow(t *testing.T) {
	e := newEnv(t)
	src := e.source(e.policy("Desk").ID)
	inc := e.incident(src, 100, `Server down <script>alert(1)</script>`)
	other := e.incident(src, 101, "Printer jam")

	r := e.do(e.respID, "GET", "/", nil)
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/incidents", r.location)

	r = e.do(e.respID, "GET", "/incidents", nil)
	require.Equal(t, http.StatusOK, r.code)
	requireSecureHeaders(t, r)
	require.Contains(t, r.body, "Server down &lt;script&gt;")
	require.Contains(t, r.body, "Printer jam")
	require.Contains(t, r.body, "just now")
	require.Contains(t, r.body, `data-refresh="30"`)

	r = e.do(e.respID, "GET", "/incidents/"+itoa(inc.ID), nil)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Autotask ticket T20260302.000100")
	require.Contains(t, r.body, "Created by callout")
	require.Contains(t, r.body, `action="/incidents/`+itoa(inc.ID)+`/accept"`)

	r = e.do(e.respID, "POST", "/incidents/"+itoa(inc.ID)+"/accept", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/incidents/"+itoa(inc.ID)+"?done=accepted", r.location)
	got, err := e.store.Incident(context.Background(), inc.ID)
	require.NoError(t, err)
	require.Equal(t, incident.Accepted, got.Status)
	r = e.do(e.respID, "GET", r.location, nil)
	require.Contains(t, r.body, "Incident accepted.")
	require.Contains(t, r.body, "Accepted by Grace Hopper")

	r = e.do(e.respID, "POST", "/incidents/"+itoa(inc.ID)+"/resolve", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	got, err = e.store.Incident(context.Background(), inc.ID)
	require.NoError(t, err)
	require.Equal(t, incident.Resolved, got.Status)

	// Accepting a resolved incident is explained, not a crash.
	r = e.do(e.respID, "POST", "/incidents/"+itoa(inc.ID)+"/accept", url.Values{})
	require.Equal(t, http.StatusConflict, r.code)
	require.Contains(t, r.body, "already resolved")

	// The default list shows open ones, then recently resolved; filters work.
	r = e.do(e.respID, "GET", "/incidents", nil)
	open, resolved, _ := strings.Cut(r.body, "Recently resolved")
	require.Contains(t, open, "Printer jam")
	require.Contains(t, resolved, "Server down")
	r = e.do(e.respID, "GET", "/incidents?status=RESOLVED", nil)
	require.Contains(t, r.body, "Server down")
	require.NotContains(t, r.body, "Printer jam")
	r = e.do(e.respID, "GET", "/incidents?status=PENDING&source="+itoa(src.ID), nil)
	require.Contains(t, r.body, "Printer jam")
	r = e.do(e.respID, "GET", "/incidents?status=PENDING&source=999", nil)
	require.Contains(t, r.body, "Printer jam", "an unknown source filter shows all sources")
	_ = other
}

func TestIncidentPaging(t *testing.T) {
	e := newEnv(t)
	src := e.source(e.policy("Desk").ID)
	for i := range PageSize + 3 {
		e.incident(src, int64(200+i), "Ticket "+formatInt(int64(i)))
	}
	r := e.do(e.respID, "GET", "/incidents", nil)
	m := regexp.MustCompile(`href="(/incidents\?cursor=\d+)"`).FindStringSubmatch(r.body)
	require.Len(t, m, 2, "a next page link")
	r = e.do(e.respID, "GET", strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, 3, strings.Count(r.body, `class="summary"`))
	require.Contains(t, r.body, "First page")
}

func TestNotFoundAndErrors(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/incidents/999", "/incidents/abc", "/sources/999", "/policies/999/edit", "/users/999/edit", "/tokens/999/delete", "/sources/999/callouts"} {
		r := e.do(e.adminID, "GET", p, nil)
		require.Equal(t, http.StatusNotFound, r.code, p)
		require.Contains(t, r.body, "Not found")
		require.Contains(t, r.body, `href="/incidents"`, "a way on")
		requireSecureHeaders(t, r)
	}
	r := e.do(e.adminID, "POST", "/incidents/999/accept", url.Values{})
	require.Equal(t, http.StatusNotFound, r.code)
}

func TestResponderForbiddenOnAdminPages(t *testing.T) {
	e := newEnv(t)
	src := e.source(e.policy("Desk").ID)
	for _, p := range []string{"/sources", "/sources/new", "/sources/" + itoa(src.ID), "/sources/" + itoa(src.ID) + "/callouts",
		"/policies", "/policies/new", "/users", "/users/new", "/tokens"} {
		r := e.do(e.respID, "GET", p, nil)
		require.Equal(t, http.StatusForbidden, r.code, p)
		require.Contains(t, r.body, "This page is for admins")
	}
	for _, p := range []string{"/sources/new", "/sources/" + itoa(src.ID) + "/delete", "/sources/" + itoa(src.ID) + "/rotate-key",
		"/policies/new", "/users/new", "/tokens", "/users/" + itoa(e.adminID) + "/delete"} {
		r := e.do(e.respID, "POST", p, url.Values{"name": {"x"}})
		require.Equal(t, http.StatusForbidden, r.code, p)
	}
	_, err := e.store.Source(context.Background(), src.ID)
	require.NoError(t, err, "the responder's POSTs changed nothing")
	r := e.do(e.respID, "GET", "/profile", nil)
	require.Equal(t, http.StatusOK, r.code)
	require.NotContains(t, r.body, `name="role"`)

	// Without a principal (the lead's middleware would have redirected): sign in.
	r = e.do(0, "GET", "/incidents?status=PENDING", nil)
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/sign-in?next=%2Fincidents%3Fstatus%3DPENDING", r.location)
}

func TestCreateSourceShowsWebhook(t *testing.T) {
	e := newEnv(t)
	p := e.policy("Desk")
	r := e.do(e.adminID, "GET", "/sources/new", nil)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Desk")

	r = e.do(e.adminID, "POST", "/sources/new", url.Values{"name": {"Main Autotask"}, "integrationType": {"AUTOTASK"},
		"username": {"api@example.com"}, "secret": {"s3cret"}, "integrationCode": {"CODE"}, "escalationPolicyId": {itoa(p.ID)},
		"webServer": {e.fake.URL()}})
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Regexp(t, `^/sources/\d+\?done=created$`, r.location)
	page := e.do(e.adminID, "GET", r.location, nil)
	require.Equal(t, http.StatusOK, page.code)
	srcs, err := e.srv.Sources.List(context.Background())
	require.NoError(t, err)
	require.Len(t, srcs, 1)
	require.Contains(t, page.body, `value="`+srcs[0].WebhookURL+`" readonly`)
	require.Contains(t, page.body, "https://pager.example.com/api/v1/events/autotask/atk_")
	require.Contains(t, page.body, "Extension Callout (Tickets) → New")
	require.Contains(t, page.body, "Then Execute Extension Callout")
	require.NotContains(t, page.body, "s3cret")
	id := itoa(srcs[0].ID)

	// Test connection: wrong credentials, then right ones.
	r = e.do(e.adminID, "POST", "/sources/"+id+"/test", url.Values{})
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Autotask refused the credentials")
	e.fake.AddCredentials("api@example.com", "s3cret", "CODE")
	r = e.do(e.adminID, "POST", "/sources/"+id+"/test", url.Values{})
	require.Contains(t, r.body, "Connected")

	// Edit with an empty secret keeps it.
	r = e.do(e.adminID, "POST", "/sources/"+id+"/edit", url.Values{"name": {"Renamed"}, "integrationType": {"AUTOTASK"},
		"username": {"api@example.com"}, "secret": {""}, "integrationCode": {"CODE"}, "escalationPolicyId": {itoa(p.ID)},
		"webServer": {e.fake.URL()}})
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	got, err := e.srv.Sources.Get(context.Background(), srcs[0].ID)
	require.NoError(t, err)
	require.Equal(t, "Renamed", got.Name)
	require.Equal(t, "s3cret", got.Autotask.Secret)

	// Rotate (asks first), deactivate, activate.
	r = e.do(e.adminID, "GET", "/sources/"+id+"/rotate-key", nil)
	require.Contains(t, r.body, `action="/sources/`+id+`/rotate-key"`)
	r = e.do(e.adminID, "POST", "/sources/"+id+"/rotate-key", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	rotated, err := e.srv.Sources.Get(context.Background(), srcs[0].ID)
	require.NoError(t, err)
	require.NotEqual(t, got.WebhookURL, rotated.WebhookURL)
	r = e.do(e.adminID, "POST", "/sources/"+id+"/deactivate", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	r = e.do(e.adminID, "GET", "/sources/"+id, nil)
	require.Contains(t, r.body, "This alert source is deactivated")
	r = e.do(e.adminID, "POST", "/sources/"+id+"/activate", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)

	// The callout journal.
	_, err = e.store.InsertCallout(context.Background(), store.Callout{SourceID: srcs[0].ID, ReceivedAt: time.Now(), Method: "POST",
		ContentType: "application/json", Body: `{"id":"<b>100</b>"}`})
	require.NoError(t, err)
	r = e.do(e.adminID, "GET", "/sources/"+id+"/callouts", nil)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "&lt;b&gt;100&lt;/b&gt;")
	require.Contains(t, r.body, "<details>")

	// Delete asks first, then deletes.
	r = e.do(e.adminID, "POST", "/sources/"+id+"/delete", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	_, err = e.store.Source(context.Background(), srcs[0].ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestValidationErrorsNextToFields(t *testing.T) {
	e := newEnv(t)
	p := e.policy("Desk")
	r := e.do(e.adminID, "POST", "/sources/new", url.Values{"name": {"X"}, "username": {"not-an-email"}, "secret": {"s"},
		"integrationCode": {"C"}, "escalationPolicyId": {itoa(p.ID)}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, `id="username-error"`)
	require.Contains(t, r.body, "shapes like an email address")
	require.Contains(t, r.body, `value="not-an-email"`, "what was typed is kept")

	r = e.do(e.adminID, "POST", "/sources/new", url.Values{"name": {"X"}, "username": {"a@example.com"}, "secret": {"s"}, "integrationCode": {"C"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, `id="escalationPolicyId-error"`)

	// Policies: add a rule row without JavaScript, then errors by rule.
	r = e.do(e.adminID, "POST", "/policies/new", url.Values{"name": {"P"}, "rules": {"1"}, "rule-0-timeout": {"5"},
		"rule-0-users": {itoa(e.respID)}, "op": {"add"}})
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, `name="rule-1-timeout"`)
	require.Contains(t, r.body, `name="rule-0-users" value="`+itoa(e.respID)+`" checked`)
	r = e.do(e.adminID, "POST", "/policies/new", url.Values{"name": {""}, "repeatCount": {"99"}, "rules": {"2"},
		"rule-0-timeout": {"0"}, "rule-0-users": {itoa(e.respID)}, "rule-1-timeout": {"5"}, "op": {"save"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, `id="name-error"`)
	require.Contains(t, r.body, `id="repeatCount-error"`)
	require.Contains(t, r.body, `id="rule-0-timeout-error"`)
	require.Contains(t, r.body, `id="rule-1-users-error"`)
	r = e.do(e.adminID, "POST", "/policies/new", url.Values{"name": {"Nights"}, "repeatCount": {"2"}, "rules": {"2"},
		"rule-0-timeout": {"5"}, "rule-0-users": {itoa(e.respID), itoa(e.adminID)}, "rule-1-timeout": {""}})
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	ps, err := e.store.Policies(context.Background())
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Equal(t, []store.Rule{{TimeoutMinutes: 5, UserIDs: []int64{e.respID, e.adminID}}}, ps[1].Rules)
	require.Equal(t, 2, ps[1].RepeatCount)

	// A policy in use cannot be deleted: said as a message.
	e.source(p.ID)
	r = e.do(e.adminID, "POST", "/policies/"+itoa(p.ID)+"/delete", url.Values{})
	require.Equal(t, http.StatusConflict, r.code)
	require.Contains(t, r.body, "This escalation policy is in use")

	// Users.
	r = e.do(e.adminID, "POST", "/users/new", url.Values{"name": {"Linus"}, "email": {"grace@example.com"}, "role": {"RESPONDER"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, "another user has that email address")
	r = e.do(e.adminID, "POST", "/users/new", url.Values{"name": {"Linus"}, "email": {"bad"}, "role": {"ROOT"}, "password": {"short"}, "webhookUrl": {"ftp://x"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	for _, f := range []string{"email", "role", "password", "webhookUrl"} {
		require.Contains(t, r.body, `id="`+f+`-error"`, f)
	}
	r = e.do(e.respID, "POST", "/profile", url.Values{"name": {""}, "email": {"grace@example.com"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, `id="name-error"`)
}

func TestUsersAndTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.do(e.adminID, "POST", "/users/new", url.Values{"name": {"Linus"}, "email": {"Linus@Example.com"}, "role": {"ADMIN"},
		"password": {"a long enough password"}, "webhookUrl": {"https://chat.example.com/hook"}})
	require.Equal(t, http.StatusOK, r.code, "the signing secret is shown once")
	require.Contains(t, r.body, "whsec_")
	u, err := e.store.UserByEmail(ctx, "linus@example.com")
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, u.Role)
	require.True(t, auth.CheckPassword(u.PasswordHash, "a long enough password"))

	r = e.do(e.adminID, "POST", "/users/"+itoa(u.ID)+"/edit", url.Values{"name": {"Linus T"}, "email": {"linus@example.com"},
		"role": {"RESPONDER"}, "webhookUrl": {"https://chat.example.com/hook"}})
	require.Equal(t, http.StatusSeeOther, r.code)
	u, err = e.store.User(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, "Linus T", u.Name)
	require.Equal(t, auth.RoleResponder, u.Role)
	require.NotEmpty(t, u.PasswordHash, "an empty password keeps it")

	// An admin cannot demote or delete themself.
	r = e.do(e.adminID, "POST", "/users/"+itoa(e.adminID)+"/edit", url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "role": {"RESPONDER"}})
	require.Equal(t, http.StatusSeeOther, r.code)
	me, err := e.store.User(ctx, e.adminID)
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, me.Role)
	r = e.do(e.adminID, "POST", "/users/"+itoa(e.adminID)+"/delete", url.Values{})
	require.Equal(t, http.StatusConflict, r.code)

	// A user named in a rule cannot be deleted: said as a message.
	e.policy("Desk")
	r = e.do(e.adminID, "POST", "/users/"+itoa(e.respID)+"/delete", url.Values{})
	require.Equal(t, http.StatusConflict, r.code)
	require.Contains(t, r.body, "This user is in use")
	r = e.do(e.adminID, "POST", "/users/"+itoa(u.ID)+"/delete", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)

	// Profile: a responder edits themself, never their role.
	r = e.do(e.respID, "POST", "/profile", url.Values{"name": {"Grace B. Hopper"}, "email": {"grace@example.com"}, "role": {"ADMIN"}})
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/profile?done=profile", r.location)
	g, err := e.store.User(ctx, e.respID)
	require.NoError(t, err)
	require.Equal(t, "Grace B. Hopper", g.Name)
	require.Equal(t, auth.RoleResponder, g.Role)

	// Tokens: shown once, listed without the value, deleted.
	r = e.do(e.adminID, "POST", "/tokens", url.Values{"name": {"monitoring"}, "user": {itoa(e.respID)}})
	require.Equal(t, http.StatusOK, r.code)
	tok := regexp.MustCompile(`value="(tp_[^"]+)" readonly`).FindStringSubmatch(r.body)
	require.Len(t, tok, 2)
	r = e.do(e.adminID, "GET", "/tokens", nil)
	require.Contains(t, r.body, "monitoring")
	require.Contains(t, r.body, "Grace B. Hopper")
	require.NotContains(t, r.body, tok[1])
	r = e.do(e.adminID, "POST", "/tokens", url.Values{"name": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, r.code)
	require.Contains(t, r.body, `id="user-error"`)
	list, err := e.store.APITokens(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	r = e.do(e.adminID, "GET", "/tokens/"+itoa(list[0].ID)+"/delete", nil)
	require.Equal(t, http.StatusOK, r.code)
	r = e.do(e.adminID, "POST", "/tokens/"+itoa(list[0].ID)+"/delete", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	list, err = e.store.APITokens(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	r := e.do(0, "GET", "/sign-in?next=//evil.example", nil)
	require.Equal(t, http.StatusOK, r.code)
	require.NotContains(t, r.body, "evil.example")
	requireSecureHeaders(t, r)

	r = e.do(0, "POST", "/sign-in", url.Values{"email": {"ada@example.com"}, "password": {"wrong password!"}})
	require.Equal(t, http.StatusUnauthorized, r.code)
	require.Contains(t, r.body, "Email or password is wrong")
	r = e.do(0, "POST", "/sign-in", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!"}})
	require.Equal(t, http.StatusUnauthorized, r.code)
	require.Contains(t, r.body, "Email or password is wrong")

	r = e.do(0, "POST", "/sign-in", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}, "next": {"/sources"}})
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/sources", r.location)
	require.Contains(t, r.header.Get("Set-Cookie"), "HttpOnly")
	r = e.do(0, "POST", "/sign-in", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
	require.Equal(t, "/incidents", r.location)

	r = e.do(0, "POST", "/sign-out", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/sign-in", r.location)

	for range auth.LockAfter {
		e.do(0, "POST", "/sign-in", url.Values{"email": {"ada@example.com"}, "password": {"wrong password!"}})
	}
	r = e.do(0, "POST", "/sign-in", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}})
	require.Equal(t, http.StatusTooManyRequests, r.code)
	require.Contains(t, r.body, "locked until")
}

// TestNoGetChangesState visits every GET page and checks nothing changed.
func TestNoGetChangesState(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.policy("Desk")
	src := e.source(p.ID)
	inc := e.incident(src, 100, "Down")
	tok, err := e.srv.CreateToken(ctx, "t", e.adminID)
	require.NoError(t, err)
	require.NotEmpty(t, tok)
	snapshot := func() string {
		var b strings.Builder
		s, err := e.srv.Sources.Get(ctx, src.ID)
		require.NoError(t, err)
		i, err := e.store.Incident(ctx, inc.ID)
		require.NoError(t, err)
		us, err := e.store.Users(ctx)
		require.NoError(t, err)
		ps, err := e.store.Policies(ctx)
		require.NoError(t, err)
		ts, err := e.store.APITokens(ctx)
		require.NoError(t, err)
		for _, v := range []any{s.WebhookURL, s.Status, s.Name, i.Status, i.UpdatedAt, len(us), us[0].UpdatedAt, len(ps), ps[0].UpdatedAt, len(ts)} {
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " ")) + "|")
		}
		return b.String()
	}
	before := snapshot()
	id, sid, pid, uid := itoa(inc.ID), itoa(src.ID), itoa(p.ID), itoa(e.respID)
	for _, path := range []string{"/", "/incidents", "/incidents/" + id, "/incidents/" + id + "/accept", "/incidents/" + id + "/resolve",
		"/sources", "/sources/new", "/sources/" + sid, "/sources/" + sid + "/edit", "/sources/" + sid + "/rotate-key",
		"/sources/" + sid + "/delete", "/sources/" + sid + "/activate", "/sources/" + sid + "/deactivate", "/sources/" + sid + "/test",
		"/sources/" + sid + "/callouts", "/policies", "/policies/new", "/policies/" + pid + "/edit", "/policies/" + pid + "/delete",
		"/users", "/users/new", "/users/" + uid + "/edit", "/users/" + uid + "/delete", "/tokens", "/tokens/1/delete", "/profile",
		"/sign-in", "/sign-out"} {
		r := e.do(e.adminID, "GET", path, nil)
		require.Less(t, r.code, 500, path)
	}
	require.Equal(t, before, snapshot())
}

func fmtAny(v any) string { return fmt.Sprint(v) }
