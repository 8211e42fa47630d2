// Command ticketpager is the on-call service: `ticketpager serve` runs it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/ticketpager/ticketpager/internal/config"
)

type cli struct {
	config.Config
	Serve   serveCmd   `cmd:"" help:"Run the service (HTTP API, webhook and job workers)."`
	Migrate migrateCmd `cmd:"" help:"Bring the database schema up to date and exit."`
	Token   struct {
		Create tokenCreateCmd `cmd:"" help:"Create an API token and print it once."`
	} `cmd:"" help:"Manage API tokens."`
	User struct {
		Create userCreateCmd `cmd:"" help:"Create a user who can sign in to the web UI (--admin for an admin)."`
	} `cmd:"" help:"Manage users."`
	Source struct {
		Create sourceCreateCmd `cmd:"" help:"Create an Autotask alert source and print its webhook URL."`
		List   sourceListCmd   `cmd:"" help:"List alert sources with their webhook URLs."`
	} `cmd:"" help:"Manage alert sources."`
	Demo demoCmd `cmd:"" help:"Walk two tickets through the whole flow against a built-in fake Autotask."`
}

func main() {
	var c cli
	kctx := kong.Parse(&c, kong.Name("ticketpager"),
		kong.Description("Incident management and on-call paging, fed by Autotask PSA callouts."),
		kong.UsageOnError())
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.Level()}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(&c.Config, logger); err != nil {
		fmt.Fprintln(os.Stderr, "ticketpager:", err)
		os.Exit(1)
	}
}
