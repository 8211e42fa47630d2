// Package harness starts a whole ticketpager (real HTTP server, real SQLite
// file, job workers) against a fake Autotask, with one user, one escalation
// policy and one Autotask alert source ready. The demo, the load test and the
// end-to-end tests all drive the service through it.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ticketpager/ticketpager/internal/app"
	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/config"
)

// Credentials of the fake Autotask's API user.
const (
	Username        = "ticketpager-api@example.com"
	Secret          = "fake-autotask-secret-0123456789"
	IntegrationCode = "TICKETPAGER-DEMO"
	CompanyID       = 174
)

// Options for Start.
type Options struct {
	DataDir     string               // default: a new temporary folder, removed by Close
	DatabaseURL string               // default: SQLite in DataDir; or a postgres:// URL
	Fake        *autotasktest.Server // default: a new fake, closed by Close; pass one to keep it across restarts
	Logger      *slog.Logger
	Now         func() time.Time // a Clock's Now to control time; the job queue follows it too
	CalloutWait time.Duration    // default 5s
	Mailbox     *Mailbox         // email notifications go to this SMTP server; default none (email off)
	BaseURL     string           // TICKETPAGER_BASE_URL; default the server's address
	SecretKey   string           // TICKETPAGER_SECRET_KEY; replicas on one database must share it
}

// Harness is a running ticketpager with a fake Autotask.
type Harness struct {
	App        *app.App
	Fake       *autotasktest.Server
	URL        string // http://127.0.0.1:port
	Token      string // an API token
	SourceID   int64
	WebhookURL string
	HTTP       *http.Client

	tmp       string
	ownFake   bool
	closeOnce sync.Once
	closeErr  error
	cancel    context.CancelFunc
	done      chan error
}

// Start runs the service on a free loopback port and sets up a source.
func Start(ctx context.Context, o Options) (*Harness, error) {
	h := &Harness{Fake: o.Fake, done: make(chan error, 1),
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	if h.Fake == nil {
		h.Fake, h.ownFake = autotasktest.NewServer(), true
	}
	h.Fake.AddCredentials(Username, Secret, IntegrationCode)
	h.Fake.AddCompany(CompanyID, "Contoso Ltd")
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "ticketpager-")
		if err != nil {
			return nil, err
		}
		o.DataDir, h.tmp = dir, dir
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CalloutWait == 0 {
		o.CalloutWait = 5 * time.Second
	}
	cfg := config.Config{Listen: "127.0.0.1:0", DataDir: o.DataDir, DatabaseURL: o.DatabaseURL, LogLevel: "info",
		CalloutWait: o.CalloutWait, LinkTTL: 24 * time.Hour, BaseURL: o.BaseURL, SecretKey: o.SecretKey}
	if o.Mailbox != nil {
		cfg.SMTPHost, cfg.SMTPPort = o.Mailbox.HostPort()
		cfg.SMTPTLS, cfg.SMTPFrom = "none", "ticketpager <pager@example.com>"
	}
	a, err := app.New(ctx, cfg, o.Logger, app.Options{Work: true, Now: o.Now, StubTime: o.Now != nil, PollInterval: 50 * time.Millisecond})
	if err != nil {
		h.Close()
		return nil, err
	}
	h.App, h.URL = a, "http://"+a.Addr()
	if h.Token, err = a.CreateToken(ctx, "harness", 0); err != nil {
		h.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel = cancel
	go func() { h.done <- a.Serve(sctx) }()
	if err := h.setup(); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// setup creates a user, a policy and an Autotask source through the API,
// unless the data folder already has a source (a restart).
func (h *Harness) setup() error {
	var existing struct {
		Items []struct {
			ID         int64
			WebhookURL string
		}
	}
	if err := h.Do("GET", "/api/v1/alert-sources", nil, 200, &existing); err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		h.SourceID, h.WebhookURL = existing.Items[0].ID, existing.Items[0].WebhookURL
		return nil
	}
	var user, policy struct{ ID int64 }
	if err := h.Do("POST", "/api/v1/users", map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}, 201, &user); err != nil {
		return err
	}
	if err := h.Do("POST", "/api/v1/escalation-policies", map[string]any{"name": "Service desk", "repeatCount": 1,
		"rules": []any{map[string]any{"escalationTimeoutMinutes": 5, "userIds": []int64{user.ID}}}}, 201, &policy); err != nil {
		return err
	}
	var src struct {
		ID         int64
		WebhookURL string
	}
	if err := h.Do("POST", "/api/v1/alert-sources", map[string]any{"name": "Autotask", "integrationType": "AUTOTASK",
		"escalationPolicyId": policy.ID, "autotask": map[string]any{"username": Username, "secret": Secret,
			"integrationCode": IntegrationCode, "webServer": h.Fake.URL()}}, 201, &src); err != nil {
		return err
	}
	h.SourceID, h.WebhookURL = src.ID, src.WebhookURL
	return nil
}

// Do calls the JSON API with the harness token, checks the status and decodes the answer into out.
func (h *Harness) Do(method, path string, in any, wantStatus int, out any) error {
	return h.DoAs(h.Token, method, path, in, wantStatus, out)
}

// DoAs is Do with another API token.
func (h *Harness) DoAs(token, method, path string, in any, wantStatus int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.URL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != wantStatus {
		return fmt.Errorf("%s %s: got %d, want %d: %s", method, path, resp.StatusCode, wantStatus, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// Callout posts a Name Value Pair callout for a ticket id to the source's
// webhook, as Autotask does, and returns the status and answer body.
func (h *Harness) Callout(ticketID int64) (int, []byte, error) {
	form := url.Values{"TicketID": {fmt.Sprint(ticketID)}}
	resp, err := h.HTTP.Post(h.WebhookURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Close stops the service and the fake and removes a temporary data folder.
// Closing again does nothing.
func (h *Harness) Close() error {
	h.closeOnce.Do(func() { h.closeErr = h.close() })
	return h.closeErr
}

func (h *Harness) close() error {
	var err error
	if h.cancel != nil {
		h.cancel()
		err = <-h.done
	}
	if h.App != nil {
		h.App.Close()
	}
	if h.ownFake {
		h.Fake.Close()
	}
	if h.tmp != "" {
		os.RemoveAll(h.tmp)
	}
	return err
}
