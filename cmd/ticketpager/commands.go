package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ticketpager/ticketpager/internal/app"
	"github.com/ticketpager/ticketpager/internal/config"
	"github.com/ticketpager/ticketpager/internal/demo"
	"github.com/ticketpager/ticketpager/internal/source"
)

type serveCmd struct{}

func (serveCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, *cfg, logger, app.Options{Work: true})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.EnsureAdmin(ctx, os.Stdout); err != nil {
		return err
	}
	return a.Serve(ctx)
}

type migrateCmd struct{}

func (migrateCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, *cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Println("database schema is up to date")
	return nil
}

type tokenCreateCmd struct {
	Name  string `required:"" help:"What the token is for, e.g. 'monitoring script'."`
	Email string `help:"The user the token acts for (it carries their role); default: an operator's token with the admin role."`
}

func (c tokenCreateCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, *cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	var userID int64
	if c.Email != "" {
		u, err := a.Store.UserByEmail(ctx, strings.ToLower(c.Email))
		if err != nil {
			return fmt.Errorf("user %s: %w", c.Email, err)
		}
		userID = u.ID
	}
	token, err := a.CreateToken(ctx, c.Name, userID)
	if err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}

type userCreateCmd struct {
	Name     string `required:"" help:"The person's name."`
	Email    string `required:"" help:"Their email address: the sign-in name, and where email pages go."`
	Admin    bool   `help:"Make them an admin (manages users, policies, alert sources, API tokens)."`
	Password string `env:"TICKETPAGER_USER_PASSWORD" help:"Their password (12+ characters; better passed in the environment); default: a random one, printed once."`
}

func (c userCreateCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, *cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	u, password, err := a.CreateUser(ctx, c.Name, c.Email, c.Password, c.Admin)
	if err != nil {
		return err
	}
	fmt.Printf("user %d created: %s <%s>, role %s\n", u.ID, u.Name, u.Email, u.Role)
	if c.Password == "" {
		fmt.Printf("password (shown once): %s\n", password)
	}
	return nil
}

type sourceCreateCmd struct {
	Name               string `required:"" help:"Name of the alert source."`
	EscalationPolicyID int64  `required:"" name:"escalation-policy-id" help:"Id of the escalation policy the source's incidents run."`
	Username           string `required:"" help:"Autotask API user's username."`
	Secret             string `required:"" env:"TICKETPAGER_AUTOTASK_SECRET" help:"Autotask API user's secret (better passed in the environment)."`
	IntegrationCode    string `required:"" help:"Autotask API tracking identifier (integration code)."`
	WebServer          string `help:"Autotask web server." default:"https://webservices2.autotask.net"`
}

func (c sourceCreateCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, *cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	src, err := a.Sources.Create(ctx, source.Input{Name: &c.Name, EscalationPolicyID: &c.EscalationPolicyID,
		Username: &c.Username, Secret: &c.Secret, IntegrationCode: &c.IntegrationCode, WebServer: &c.WebServer})
	if err != nil {
		return err
	}
	fmt.Printf("alert source %d created\nwebhook URL: %s\n", src.ID, src.WebhookURL)
	return nil
}

type sourceListCmd struct{}

func (sourceListCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, *cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	all, err := a.Sources.List(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATUS\tPOLICY\tWEBHOOK URL")
	for _, s := range all {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\n", s.ID, s.Name, s.Status, s.EscalationPolicyID, s.WebhookURL)
	}
	return w.Flush()
}

type demoCmd struct{}

func (demoCmd) Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	if cfg.Level() < slog.LevelWarn && cfg.Level() != slog.LevelDebug {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return demo.Run(ctx, os.Stdout, logger)
}
