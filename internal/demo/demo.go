// Package demo walks tickets through the whole callout flow against a built-in
// fake Autotask, so a newcomer sees ticketpager work without an Autotask account.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
)

// Run starts a throwaway ticketpager and prints each step to out.
func Run(ctx context.Context, out io.Writer, logger *slog.Logger) error {
	mbox, err := harness.StartMailbox()
	if err != nil {
		return fmt.Errorf("start demo mailbox: %w", err)
	}
	defer mbox.Stop()
	h, err := harness.Start(ctx, harness.Options{Logger: logger.With("component", "demo-server"), Mailbox: mbox})
	if err != nil {
		return fmt.Errorf("start demo: %w", err)
	}
	defer h.Close()
	host, port := mbox.HostPort()
	fmt.Fprintf(out, "ticketpager demo: service on %s, fake Autotask on %s, SMTP server on %s:%d\n", h.URL, h.Fake.URL(), host, port)
	fmt.Fprintf(out, "alert source %d has webhook URL %s\n\n", h.SourceID, h.WebhookURL)

	f := h.Fake
	t1 := f.AddTicket(autotasktest.Ticket{Title: "Mail server does not answer", Description: "Users at the main office get no mail since 08:10.",
		Status: f.StatusValue("New"), Priority: f.PriorityValue("High"), CompanyID: harness.CompanyID})
	steps := []struct {
		ticket autotasktest.Ticket
		status string
	}{
		{t1, "New"}, {t1, "New"}, {t1, "In Progress"}, {t1, "Complete"},
	}
	t2 := f.AddTicket(autotasktest.Ticket{Title: "Order a new laptop", Status: f.StatusValue("Waiting Customer"),
		Priority: f.PriorityValue("Low"), CompanyID: harness.CompanyID})
	steps = append(steps, struct {
		ticket autotasktest.Ticket
		status string
	}{t2, "Waiting Customer"})

	for _, s := range steps {
		f.SetTicketStatus(s.ticket.ID, f.StatusValue(s.status))
		code, body, err := h.Callout(s.ticket.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "ticket %s is %-12q -> callout answered %d %s\n", s.ticket.Number, s.status, code, compact(body))
		if code == 201 { // let the page go out before the ticket moves on
			msgs, err := mbox.Wait(len(mbox.Messages())+1, 10*time.Second)
			if err != nil {
				return err
			}
			m := msgs[len(msgs)-1]
			fmt.Fprintf(out, "    email to %s: %s\n", strings.Join(m.To, ", "), m.Subject)
		}
	}

	var list struct {
		Items []struct {
			ID       int64
			Status   string
			Priority string
			Summary  string
		}
	}
	if err := h.Do("GET", "/api/v1/incidents", nil, 200, &list); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nincidents:\n")
	for _, i := range list.Items {
		fmt.Fprintf(out, "  #%d %-8s %-4s %s\n", i.ID, i.Status, i.Priority, i.Summary)
		var log struct {
			Items []struct{ Kind, Text string }
		}
		if err := h.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/log", i.ID), nil, 200, &log); err != nil {
			return err
		}
		for _, e := range log.Items {
			fmt.Fprintf(out, "      %-9s %s\n", e.Kind, e.Text)
		}
	}
	fmt.Fprintf(out, "\nAutotask API requests made: %d for %d callouts\n", f.TotalRequests(), len(steps))
	return nil
}

func compact(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
