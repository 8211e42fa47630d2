// Package app wires ticketpager together: config -> store -> services -> job
// queue -> HTTP server, and shuts them down in order.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/ticketpager/ticketpager/internal/actionlink"
	"github.com/ticketpager/ticketpager/internal/api"
	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/config"
	"github.com/ticketpager/ticketpager/internal/escalation"
	"github.com/ticketpager/ticketpager/internal/inbound"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/notify"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
	"github.com/ticketpager/ticketpager/internal/web"
)

// App is a wired ticketpager instance.
type App struct {
	Config    config.Config
	Logger    *slog.Logger
	Now       func() time.Time
	Store     *store.Store
	Box       *secret.Box
	Registry  *prometheus.Registry
	Autotask  *autotask.Client
	Sources   *source.Service
	Incidents *incident.Service
	Inbound   *inbound.Processor
	Engine    *escalation.Engine
	Auth      *auth.Manager
	Jobs      *river.Client[*sql.Tx]

	listener net.Listener
}

// Options tune New for tests and tools.
type Options struct {
	Now        func() time.Time // default time.Now
	HTTPClient *http.Client     // for the Autotask client; default its own
	Listener   net.Listener     // serve on this instead of Config.Listen
	Work       bool             // run job workers (serve and demo do; one-shot commands do not)
	// StubTime makes the job queue use Now too, so tests can fast-forward
	// escalations by moving the clock.
	StubTime     bool
	PollInterval time.Duration // how often idle job workers look for due jobs; default 100ms
}

// New opens the database, migrates it and wires every service.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, o Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &App{Config: cfg, Logger: logger, Now: o.Now, Registry: prometheus.NewRegistry(), listener: o.Listener}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	key := cfg.SecretKey
	if key == "" {
		var err error
		if key, err = secret.LoadOrCreateKeyFile(cfg.SecretKeyFile()); err != nil {
			return nil, err
		}
	}
	box, err := secret.NewBox(key)
	if err != nil {
		return nil, err
	}
	a.Box = box
	if a.Store, err = store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir,
		MaxConns: cfg.DBMaxConns, StatementTimeout: cfg.DBStatementTimeout}); err != nil {
		return nil, err
	}
	if err := a.Store.Migrate(ctx); err != nil {
		a.Store.Close()
		return nil, err
	}
	if a.listener == nil && o.Work {
		if a.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
			a.Store.Close()
			return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
		}
	}
	var addr net.Addr
	if a.listener != nil {
		addr = a.listener.Addr()
	}
	a.Autotask = autotask.NewClient(autotask.Options{HTTPClient: o.HTTPClient, Now: o.Now, Registerer: a.Registry, Logger: logger})
	a.Sources = source.NewService(a.Store, box, cfg.PublicURL(addr), o.Now, a.Autotask.Forget)
	a.Incidents = incident.NewService(a.Store, o.Now)
	a.Inbound = inbound.NewProcessor(inbound.Config{Store: a.Store, Incidents: a.Incidents, Sources: a.Sources,
		Autotask: a.Autotask, Now: o.Now, Logger: logger, Registerer: a.Registry, SyncTimeout: cfg.CalloutWait,
		RescueAfter: cfg.CalloutRescueAfter})
	channels, err := channels(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Engine = &escalation.Engine{Store: a.Store, Box: box, Channels: channels, BaseURL: cfg.PublicURL(addr),
		Links: actionlink.NewSigner(box.SubKey("action links"), cfg.LinkTTL), Now: o.Now, Logger: logger}
	a.Incidents.SetHooks(a.Engine)
	a.Auth = &auth.Manager{Store: a.Store, Box: box, Now: o.Now, Secure: strings.HasPrefix(cfg.PublicURL(addr), "https://")}
	if a.Jobs, err = a.newJobs(o); err != nil {
		a.Close()
		return nil, err
	}
	a.Inbound.SetJobs(a.Jobs)
	a.Engine.SetJobs(a.Jobs)
	return a, nil
}

// channels are the notification channels: email when SMTP is configured, and
// each user's own webhook.
func channels(cfg config.Config) ([]notify.Channel, error) {
	out := []notify.Channel{notify.NewWebhook(nil)}
	if cfg.SMTPHost == "" {
		return out, nil
	}
	email, err := notify.NewEmail(notify.EmailConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLS: cfg.SMTPTLS,
		Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, From: cfg.SMTPFrom})
	if err != nil {
		return nil, fmt.Errorf("email notifications: %w", err)
	}
	return append([]notify.Channel{email}, out...), nil
}

// riverTime lets the job queue share the app's clock.
type riverTime struct{ now func() time.Time }

func (r riverTime) Now() time.Time { return r.now() }
func (r riverTime) NowOrNil() *time.Time {
	t := r.now().UTC()
	return &t
}

func (a *App) newJobs(o Options) (*river.Client[*sql.Tx], error) {
	rc := &river.Config{Logger: a.Logger.With("component", "jobs"), JobTimeout: time.Minute, RescueStuckJobsAfter: 3 * time.Minute}
	if o.StubTime {
		rc.Test.Time = riverTime{o.Now}
	}
	if o.Work {
		workers := river.NewWorkers()
		river.AddWorker(workers, &inbound.RetryWorker{P: a.Inbound})
		river.AddWorker(workers, &inbound.SweepWorker{P: a.Inbound})
		river.AddWorker(workers, &escalation.StepWorker{E: a.Engine})
		river.AddWorker(workers, &escalation.DeliverWorker{E: a.Engine})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}}
		rc.FetchPollInterval = o.PollInterval // the database/sql drivers have no LISTEN/NOTIFY: poll
		if rc.FetchPollInterval == 0 {
			rc.FetchPollInterval = 100 * time.Millisecond
		}
		rc.FetchCooldown = min(rc.FetchPollInterval, 100*time.Millisecond)
		sweep := min(max(a.Inbound.RescueAfter/2, time.Second), time.Minute)
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(sweep),
			func() (river.JobArgs, *river.InsertOpts) { return inbound.SweepArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})}
	}
	jobs, err := river.NewClient(a.Store.JobDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return jobs, nil
}

// Addr is the address the server listens on ("" before Serve's listener exists).
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Handler is the HTTP handler, for tests that drive it directly.
func (a *App) Handler() http.Handler {
	pages := &web.Server{Store: a.Store, Box: a.Box, Sources: a.Sources, Incidents: a.Incidents, Autotask: a.Autotask,
		Auth: a.Auth, CreateToken: a.CreateToken, Now: a.Now, Logger: a.Logger}
	webMux := http.NewServeMux()
	pages.Routes(webMux)
	webHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := webMux.Handler(r); pattern == "" {
			pages.NotFound(w, r)
			return
		}
		webMux.ServeHTTP(w, r)
	})
	s := &api.Server{Store: a.Store, Box: a.Box, Sources: a.Sources, Incidents: a.Incidents, Inbound: a.Inbound,
		Autotask: a.Autotask, Links: a.Engine.Links, Auth: a.Auth, Now: a.Now, Logger: a.Logger, Gatherer: a.Registry,
		Web: a.Auth.Pages(webHandler)}
	// Browsers' cross-origin form posts are refused everywhere (CSRF); the
	// webhook and API clients send no Origin or Sec-Fetch-Site and pass.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Cross-origin request refused: submit the form from ticketpager's own pages.", http.StatusForbidden)
	}))
	return csrf.Handler(s.Handler(a.Registry))
}

// Serve runs the job workers and the HTTP server until ctx is done, then shuts
// down gracefully: stop accepting, finish requests in flight, stop the workers.
func (a *App) Serve(ctx context.Context) error {
	if a.listener == nil {
		return errors.New("serve: the app was made without a listener (Options.Work)")
	}
	// Jobs run on a context that shutdown does not cancel: Stop below lets the
	// jobs in flight finish, so a page is not cut off half sent.
	if err := a.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job workers: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	a.Logger.Info("ticketpager listening", "address", a.listener.Addr().String(), "database", a.Store.Driver())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if jerr := a.Jobs.Stop(shutdown); jerr != nil {
		err = errors.Join(err, fmt.Errorf("stop job workers: %w", jerr))
	}
	return err
}

// Close releases the database.
func (a *App) Close() error {
	if a.listener != nil {
		a.listener.Close()
	}
	return a.Store.Close()
}

// CreateToken makes a new API token for a user (0: the operator's, an admin)
// and returns it; only its keyed hash is stored.
func (a *App) CreateToken(ctx context.Context, name string, userID int64) (string, error) {
	token := secret.NewToken("tp_")
	if _, err := a.Store.CreateToken(ctx, name, a.Box.LookupHash(token), userID, a.Now()); err != nil {
		return "", err
	}
	return token, nil
}

// CreateUser makes a user who can sign in; an empty password gets a random
// one, returned so it can be shown once.
func (a *App) CreateUser(ctx context.Context, name, email, password string, admin bool) (store.User, string, error) {
	if password == "" {
		password = secret.NewToken("")[:20]
	}
	if err := auth.ValidatePassword(password); err != nil {
		return store.User{}, "", fmt.Errorf("password: %w", err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.User{}, "", err
	}
	role := auth.RoleResponder
	if admin {
		role = auth.RoleAdmin
	}
	u, err := a.Store.CreateUser(ctx, store.User{Name: name, Email: strings.ToLower(strings.TrimSpace(email)),
		Role: role, PasswordHash: hash, CreatedAt: a.Now()})
	return u, password, err
}

// EnsureAdmin makes sure a fresh install is not open to whoever reaches it
// first: the configured admin token exists, and a database with no admin and
// no token gets a first admin whose password and API token are printed once.
func (a *App) EnsureAdmin(ctx context.Context, out io.Writer) error {
	if t := a.Config.AdminToken; t != "" {
		_, err := a.Store.TokenByHash(ctx, a.Box.LookupHash(t))
		if errors.Is(err, store.ErrNotFound) {
			_, err = a.Store.CreateToken(ctx, "admin (TICKETPAGER_ADMIN_TOKEN)", a.Box.LookupHash(t), 0, a.Now())
		}
		return err
	}
	tokens, err := a.Store.CountTokens(ctx)
	if err != nil {
		return err
	}
	admins, err := a.Store.CountAdmins(ctx)
	if err != nil || tokens > 0 || admins > 0 {
		return err
	}
	u, password, err := a.CreateUser(ctx, "Administrator", "admin@ticketpager.invalid", "", true)
	if err != nil {
		return err
	}
	token, err := a.CreateToken(ctx, "admin", u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nCreated the first admin (shown once; keep it safe, then change the email and password):\n\n"+
		"    sign in as  %s\n    password    %s\n    API token   %s\n\nUse the token as: Authorization: Bearer %s\n\n",
		u.Email, password, token, token)
	return nil
}
