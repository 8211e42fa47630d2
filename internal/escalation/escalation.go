// Package escalation runs escalation policies: a pending incident notifies the
// users of rule 1 at once, then rule 2 after rule 1's timeout, and so on,
// starting over repeatCount times, until someone accepts or resolves it. Every
// step and every delivery is a durable job inserted in the same transaction
// as the change that causes it, unique per incident and step.
package escalation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/ticketpager/ticketpager/internal/actionlink"
	"github.com/ticketpager/ticketpager/internal/notify"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

// Log kinds written by the engine.
const (
	KindEscalated      = "ESCALATED"
	KindEscalationEnd  = "ESCALATION_ENDED"
	KindEscalationStop = "ESCALATION_STOPPED"
	KindNotified       = "NOTIFIED"
	KindNotifyFailed   = "NOTIFICATION_FAILED"
	KindNotifyRetrying = "NOTIFICATION_RETRYING"
)

// Throttle is the least time between two messages to one user on one channel;
// what arrives in between is bundled into the next message.
const Throttle = time.Minute

var pageEvents = []string{string(notify.EventCreated), string(notify.EventEscalated)}

// Engine escalates incidents and delivers notifications.
type Engine struct {
	Store    *store.Store
	Box      *secret.Box
	Links    *actionlink.Signer
	Channels []notify.Channel
	BaseURL  string // public URL of the service, for links in messages
	Now      func() time.Time
	Logger   *slog.Logger

	jobs *river.Client[*sql.Tx]
}

// SetJobs gives the engine the job queue client it inserts steps and deliveries with.
func (e *Engine) SetJobs(jobs *river.Client[*sql.Tx]) { e.jobs = jobs }

func (e *Engine) now() time.Time { return e.Now().UTC().Truncate(time.Millisecond) }

// StepArgs is one escalation step of one incident.
type StepArgs struct {
	IncidentID int64 `json:"incidentId"`
	Step       int   `json:"step"`
}

// Kind names the job.
func (StepArgs) Kind() string { return "escalation_step" }

// DeliverArgs delivers one notification (and whatever is bundled with it).
type DeliverArgs struct {
	NotificationID int64 `json:"notificationId"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "notification_delivery" }

// Opened starts the escalation of a new pending incident: step 0 runs in the
// caller's transaction, so the first pages are queued with the incident.
func (e *Engine) Opened(ctx context.Context, tx *store.Tx, inc *store.Incident) error {
	return e.step(ctx, tx, inc, 0)
}

// Handled stops the escalation of an incident that left PENDING, drops its
// pages not sent yet, and tells everyone it paged (one short message each).
func (e *Engine) Handled(ctx context.Context, tx *store.Tx, inc *store.Incident, actor string) error {
	now := e.now()
	event := notify.EventAccepted
	if inc.Status == "RESOLVED" {
		event = notify.EventResolved
	}
	if inc.NextEscalationAt != nil {
		inc.NextEscalationAt = nil
		if err := store.AddLog(ctx, tx, store.LogEntry{IncidentID: inc.ID, At: now, Kind: KindEscalationStop,
			Text: "Escalation stopped: the incident is " + strings.ToLower(inc.Status)}); err != nil {
			return err
		}
	}
	if err := store.SkipPendingPages(ctx, tx, inc.ID, pageEvents); err != nil {
		return err
	}
	paged, err := store.Paged(ctx, tx, inc.ID, pageEvents)
	if err != nil {
		return err
	}
	for _, p := range paged {
		if err := e.queue(ctx, tx, store.Notification{IncidentID: inc.ID, UserID: p.UserID, Channel: p.Channel,
			Event: string(event), Actor: actor, CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// Step runs escalation step s of an incident (the StepArgs job).
func (e *Engine) Step(ctx context.Context, incidentID int64, s int) error {
	return e.Store.Tx(ctx, func(tx *store.Tx) error {
		inc, err := store.GetIncident(ctx, tx, incidentID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted with its alert source
		}
		if err != nil {
			return err
		}
		return e.step(ctx, tx, &inc, s)
	})
}

// step notifies the rule of step s and schedules step s+1. It does nothing
// unless the incident is pending and s is exactly its next step, so a step
// job that runs twice, or late, changes nothing.
func (e *Engine) step(ctx context.Context, tx *store.Tx, inc *store.Incident, s int) error {
	if inc.Status != "PENDING" || inc.EscalationStep != s {
		return nil
	}
	src, err := store.GetSource(ctx, tx, inc.SourceID)
	if err != nil {
		return err
	}
	policy, err := store.GetPolicy(ctx, tx, src.EscalationPolicyID)
	if err != nil {
		return err
	}
	now := e.now()
	inc.EscalationStep = s + 1
	inc.UpdatedAt = now
	n := len(policy.Rules)
	round, ruleIdx := s/n, s%n
	if n == 0 || round > policy.RepeatCount {
		inc.NextEscalationAt = nil
		if err := store.UpdateIncident(ctx, tx, *inc); err != nil {
			return err
		}
		return store.AddLog(ctx, tx, store.LogEntry{IncidentID: inc.ID, At: now, Kind: KindEscalationEnd,
			Text: fmt.Sprintf("Escalation ended: nobody accepted after %d round(s) of policy %q", policy.RepeatCount+1, policy.Name)})
	}
	rule := policy.Rules[ruleIdx]
	users, err := store.UsersByID(ctx, tx, rule.UserIDs)
	if err != nil {
		return err
	}
	event := notify.EventCreated
	if s > 0 {
		event = notify.EventEscalated
	}
	var reached, unreachable []string
	for _, uid := range rule.UserIDs {
		u := users[uid]
		r, err := e.recipient(u)
		if err != nil {
			return err
		}
		any := false
		for _, ch := range e.Channels {
			if !ch.Enabled(r) {
				continue
			}
			any = true
			if err := e.queue(ctx, tx, store.Notification{IncidentID: inc.ID, UserID: uid, Channel: ch.Name(),
				Event: string(event), Rule: ruleIdx + 1, CreatedAt: now}); err != nil {
				return err
			}
		}
		if any {
			reached = append(reached, u.Name)
		} else {
			unreachable = append(unreachable, u.Name)
		}
	}
	text := fmt.Sprintf("Paging rule %d of policy %q", ruleIdx+1, policy.Name)
	if s > 0 {
		text = fmt.Sprintf("Escalated to rule %d (round %d of %d)", ruleIdx+1, round+1, policy.RepeatCount+1)
	}
	var parts []string
	if len(reached) > 0 {
		parts = append(parts, "notifying "+strings.Join(reached, ", "))
	}
	if len(unreachable) > 0 {
		parts = append(parts, fmt.Sprintf("no channel reaches %s (configure SMTP or give them a webhook URL)", strings.Join(unreachable, ", ")))
	}
	text += ": " + strings.Join(parts, "; ")
	next := now.Add(time.Duration(rule.TimeoutMinutes) * time.Minute)
	inc.EscalationRule, inc.NextEscalationAt = ruleIdx+1, &next
	if err := store.UpdateIncident(ctx, tx, *inc); err != nil {
		return err
	}
	if err := store.AddLog(ctx, tx, store.LogEntry{IncidentID: inc.ID, At: now, Kind: KindEscalated, Text: text}); err != nil {
		return err
	}
	_, err = e.jobs.InsertTx(ctx, tx.Tx, StepArgs{IncidentID: inc.ID, Step: s + 1}, &river.InsertOpts{
		ScheduledAt: next, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return fmt.Errorf("schedule escalation step %d of incident %d: %w", s+1, inc.ID, err)
	}
	return nil
}

// queue inserts a notification and its delivery job.
func (e *Engine) queue(ctx context.Context, tx *store.Tx, n store.Notification) error {
	id, err := store.InsertNotification(ctx, tx, n)
	if err != nil {
		return err
	}
	_, err = e.jobs.InsertTx(ctx, tx.Tx, DeliverArgs{NotificationID: id}, &river.InsertOpts{
		MaxAttempts: 60, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return fmt.Errorf("queue delivery of notification %d: %w", id, err)
	}
	return nil
}

// recipient is a user with their webhook secret opened.
func (e *Engine) recipient(u store.User) (notify.Recipient, error) {
	r := notify.Recipient{UserID: u.ID, Name: u.Name, Email: u.Email, WebhookURL: u.WebhookURL}
	if u.WebhookSecretSealed != "" {
		sec, err := e.Box.Open(u.WebhookSecretSealed)
		if err != nil {
			return r, fmt.Errorf("user %d webhook secret: %w", u.ID, err)
		}
		r.WebhookSecret = sec
	}
	return r, nil
}

func (e *Engine) channel(name string) notify.Channel {
	for _, ch := range e.Channels {
		if ch.Name() == name {
			return ch
		}
	}
	return nil
}
