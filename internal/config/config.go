// Package config holds ticketpager's settings: each is a flag and a
// TICKETPAGER_* environment variable (kong reads both from this struct).
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is shared by every command.
type Config struct {
	Listen             string        `help:"Address to listen on." default:"127.0.0.1:8080" env:"TICKETPAGER_LISTEN"`
	DataDir            string        `help:"Folder for the SQLite file and the generated secret key." default:"./data" env:"TICKETPAGER_DATA_DIR" type:"path"`
	DatabaseURL        string        `help:"Database: a SQLite path or sqlite: URL (default: ticketpager.db in the data folder), or postgres://user:password@host/db." env:"TICKETPAGER_DATABASE_URL"`
	DBMaxConns         int           `name:"db-max-conns" help:"PostgreSQL connection pool size per replica." default:"10" env:"TICKETPAGER_DB_MAX_CONNS"`
	DBStatementTimeout time.Duration `name:"db-statement-timeout" help:"PostgreSQL statement_timeout." default:"30s" env:"TICKETPAGER_DB_STATEMENT_TIMEOUT"`
	BaseURL            string        `help:"Public URL of this service, used in webhook URLs (default: http:// + listen address)." env:"TICKETPAGER_BASE_URL"`
	AdminToken         string        `help:"When set, an admin API token with this value exists." env:"TICKETPAGER_ADMIN_TOKEN"`
	SecretKey          string        `help:"At least 32 characters; the key that encrypts secrets at rest is derived from it (default: a random key kept in the data folder)." env:"TICKETPAGER_SECRET_KEY"`
	LogLevel           string        `help:"debug, info, warn or error." default:"info" env:"TICKETPAGER_LOG_LEVEL" enum:"debug,info,warn,error"`
	CalloutWait        time.Duration `help:"How long a callout may wait for Autotask's API before it is answered 202 and retried in the background." default:"5s" env:"TICKETPAGER_CALLOUT_WAIT"`
	CalloutRescueAfter time.Duration `help:"A callout left without an outcome this long (its replica died) is retried by a survivor." default:"2m" env:"TICKETPAGER_CALLOUT_RESCUE_AFTER"`
	LinkTTL            time.Duration `help:"How long the accept and resolve links in notifications stay valid." default:"24h" env:"TICKETPAGER_LINK_TTL"`

	SMTPHost     string `name:"smtp-host" help:"SMTP server for email notifications (email is off when empty)." env:"TICKETPAGER_SMTP_HOST"`
	SMTPPort     int    `name:"smtp-port" help:"SMTP port (default: 587 for starttls, 465 for tls, 25 for none)." env:"TICKETPAGER_SMTP_PORT"`
	SMTPTLS      string `name:"smtp-tls" help:"none, starttls or tls (implicit TLS)." default:"starttls" enum:"none,starttls,tls" env:"TICKETPAGER_SMTP_TLS"`
	SMTPUsername string `name:"smtp-username" help:"SMTP user for AUTH (optional)." env:"TICKETPAGER_SMTP_USERNAME"`
	SMTPPassword string `name:"smtp-password" help:"SMTP password (better passed in the environment)." env:"TICKETPAGER_SMTP_PASSWORD"`
	SMTPFrom     string `name:"smtp-from" help:"From address of notification emails, e.g. 'ticketpager <pager@example.com>'." env:"TICKETPAGER_SMTP_FROM"`
}

// Validate checks the settings that flags alone cannot.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen address %q: %w (use host:port, e.g. 127.0.0.1:8080)", c.Listen, err)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base URL %q: must be an http or https URL such as https://pager.example.com", c.BaseURL)
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 20 {
		return fmt.Errorf("admin token: must be at least 20 characters so it cannot be guessed")
	}
	if c.LinkTTL < time.Minute || c.LinkTTL > 30*24*time.Hour {
		return fmt.Errorf("link TTL %s: must be from 1m to 720h", c.LinkTTL)
	}
	if c.SMTPHost != "" && c.SMTPFrom == "" {
		return fmt.Errorf("SMTP: set TICKETPAGER_SMTP_FROM, the address notification emails come from")
	}
	if c.CalloutRescueAfter != 0 && (c.CalloutRescueAfter < time.Second || c.CalloutRescueAfter < c.CalloutWait) {
		return fmt.Errorf("callout rescue after %s: must be at least 1s and at least the callout wait", c.CalloutRescueAfter)
	}
	if c.CalloutWait <= 0 || c.CalloutWait > time.Minute {
		return fmt.Errorf("callout wait %s: must be more than 0 and at most 1m", c.CalloutWait)
	}
	return nil
}

// PublicURL is the base of webhook URLs: BaseURL, or http:// + the address the
// server actually listens on.
func (c *Config) PublicURL(listening net.Addr) string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	if listening != nil {
		return "http://" + listening.String()
	}
	return "http://" + c.Listen
}

// SecretKeyFile is where the generated secret key is kept.
func (c *Config) SecretKeyFile() string { return filepath.Join(c.DataDir, "secret.key") }

// Level is the slog level of LogLevel.
func (c *Config) Level() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.LogLevel))
	return l
}
