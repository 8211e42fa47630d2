// Package incident changes incidents: from Autotask tickets through the
// lifecycle decision, and by hand through the API. Every change and its incident
// log entries are written in one transaction.
package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/lifecycle"
	"github.com/ticketpager/ticketpager/internal/store"
)

// Statuses of an incident.
const (
	Pending  = "PENDING"
	Accepted = "ACCEPTED"
	Resolved = "RESOLVED"
)

// Log kinds.
const (
	KindCreated       = "CREATED"
	KindAccepted      = "ACCEPTED"
	KindResolved      = "RESOLVED"
	KindTicketUpdated = "TICKET_UPDATED"
)

// MaxDescription bounds the ticket description copied into incident details.
const MaxDescription = 4000

// Hooks react to incident changes inside the transaction that makes them:
// the escalation engine starts paging on Opened and stops on Handled.
type Hooks interface {
	// Opened: a new PENDING incident. It may change inc's escalation fields and write them.
	Opened(ctx context.Context, tx *store.Tx, inc *store.Incident) error
	// Handled: the incident left PENDING (accepted or resolved, inc.Status says
	// which) by actor. It may change inc, which the caller then writes.
	Handled(ctx context.Context, tx *store.Tx, inc *store.Incident, actor string) error
}

type noHooks struct{}

func (noHooks) Opened(context.Context, *store.Tx, *store.Incident) error          { return nil }
func (noHooks) Handled(context.Context, *store.Tx, *store.Incident, string) error { return nil }

// Service changes incidents.
type Service struct {
	store *store.Store
	now   func() time.Time
	hooks Hooks
}

// SetHooks installs the hooks (the escalation engine).
func (s *Service) SetHooks(h Hooks) { s.hooks = h }

// NewService returns a Service; now is the injected clock.
func NewService(s *store.Store, now func() time.Time) *Service {
	return &Service{store: s, now: now, hooks: noHooks{}}
}

// Ticket is the current state of an Autotask ticket, read from the API.
type Ticket struct {
	SourceID      int64
	ID            int64
	Number        string
	Title         string
	Description   string
	StatusLabel   string
	PriorityLabel string
	QueueLabel    string
	CompanyName   string
	WebLink       string
}

// Result is what a ticket did to its incident.
type Result struct {
	Action   lifecycle.Action
	Incident store.Incident // zero for Reject
}

// Finish runs inside the transaction that applies a ticket, so the caller's
// journal row commits (or not) with the incident change.
type Finish func(ctx context.Context, tx *store.Tx, r Result) error

// ApplyTicket decides and applies what the ticket's status does to its current
// incident. The decision is made inside the write transaction, and the ticket
// link's unique key turns a concurrent second create into a retry that sees
// the first one, so a ticket never gets two incidents.
func (s *Service) ApplyTicket(ctx context.Context, t Ticket, calloutID int64, finish Finish) (Result, error) {
	var res Result
	var err error
	for range 3 {
		err = s.store.Tx(ctx, func(tx *store.Tx) error {
			var e error
			res, e = s.applyTicket(ctx, tx, t, calloutID)
			if e != nil {
				return e
			}
			return finish(ctx, tx, res)
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("apply ticket %d: %w", t.ID, err)
	}
	return res, nil
}

// clock is the current time at the store's precision (milliseconds), so what
// a change returns equals what a later read shows.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) applyTicket(ctx context.Context, tx *store.Tx, t Ticket, calloutID int64) (Result, error) {
	now := s.clock()
	cur, err := store.CurrentIncident(ctx, tx, t.SourceID, t.ID)
	var current *lifecycle.Current
	switch {
	case err == nil:
		current = &lifecycle.Current{Accepted: cur.Status != Pending, Resolved: cur.Status == Resolved}
	case !errors.Is(err, store.ErrNotFound):
		return Result{}, err
	}
	d := lifecycle.Decide(t.StatusLabel, current)
	log := func(inc store.Incident, kind, text string) error {
		return store.AddLog(ctx, tx, store.LogEntry{IncidentID: inc.ID, At: now, Kind: kind, Text: text, CalloutID: calloutID})
	}
	status := fmt.Sprintf("ticket status %q", strings.TrimSpace(t.StatusLabel))
	switch d.Action {
	case lifecycle.Reject:
		return Result{Action: d.Action}, nil
	case lifecycle.Create:
		inc := store.Incident{SourceID: t.SourceID, Status: Pending, CreatedAt: now, TicketID: t.ID}
		snapshot(&inc, t)
		if inc, err = store.InsertIncident(ctx, tx, inc); err != nil {
			return Result{}, err
		}
		if err := store.LinkTicket(ctx, tx, t.SourceID, t.ID, inc.ID, now); err != nil {
			return Result{}, err
		}
		if err := log(inc, KindCreated, fmt.Sprintf("Created by callout %d: %s", calloutID, status)); err != nil {
			return Result{}, err
		}
		return Result{Action: d.Action, Incident: inc}, s.hooks.Opened(ctx, tx, &inc)
	}
	wasPending := cur.Status == Pending
	inc := cur
	changed := snapshotChanged(inc, t) && inc.Status != Resolved
	if changed {
		snapshot(&inc, t)
		if d.Action == lifecycle.Unchanged { // an accept or resolve entry below says it otherwise
			if err := log(inc, KindTicketUpdated, fmt.Sprintf("Ticket updated: %s, priority %q", status, t.PriorityLabel)); err != nil {
				return Result{}, err
			}
		}
	}
	switch d.Action {
	case lifecycle.Accept:
		inc.Status, inc.AcceptedAt, changed = Accepted, &now, true
		if err := log(inc, KindAccepted, "Accepted by "+status); err != nil {
			return Result{}, err
		}
	case lifecycle.Resolve:
		inc.Status, inc.ResolvedAt, changed = Resolved, &now, true
		if err := log(inc, KindResolved, "Resolved by "+status); err != nil {
			return Result{}, err
		}
	}
	if d.Detach {
		if err := store.UnlinkTicket(ctx, tx, t.SourceID, t.ID); err != nil {
			return Result{}, err
		}
	}
	if wasPending && inc.Status != Pending {
		if err := s.hooks.Handled(ctx, tx, &inc, status); err != nil {
			return Result{}, err
		}
	}
	if changed {
		inc.UpdatedAt = now
		if err := store.UpdateIncident(ctx, tx, inc); err != nil {
			return Result{}, err
		}
	}
	return Result{Action: d.Action, Incident: inc}, nil
}

// snapshot copies the ticket's state into the incident's content.
func snapshot(inc *store.Incident, t Ticket) {
	inc.TicketNumber = t.Number
	inc.TicketStatusLabel = t.StatusLabel
	inc.TicketPriorityLabel = t.PriorityLabel
	inc.Priority = lifecycle.Priority(t.PriorityLabel)
	inc.Summary = t.Number + ": " + t.Title
	inc.Details = details(t)
	inc.Links = nil
	if t.WebLink != "" {
		inc.Links = []store.Link{{Href: t.WebLink, Text: "Autotask ticket " + t.Number}}
	}
}

func snapshotChanged(inc store.Incident, t Ticket) bool {
	var probe store.Incident
	snapshot(&probe, t)
	return probe.Summary != inc.Summary || probe.Details != inc.Details ||
		probe.TicketStatusLabel != inc.TicketStatusLabel || probe.TicketPriorityLabel != inc.TicketPriorityLabel ||
		probe.TicketNumber != inc.TicketNumber
}

func details(t Ticket) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("Ticket", t.Number)
	line("Status", t.StatusLabel)
	line("Priority", t.PriorityLabel)
	line("Queue", t.QueueLabel)
	line("Company", t.CompanyName)
	if d := strings.TrimSpace(t.Description); d != "" {
		b.WriteString("\n")
		b.WriteString(truncate(d, MaxDescription))
	}
	return strings.TrimRight(b.String(), "\n")
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " [truncated]"
}

// Accept marks a pending incident accepted by actor. Accepting an accepted
// incident changes nothing; a resolved one cannot be accepted.
func (s *Service) Accept(ctx context.Context, id int64, actor string) (store.Incident, error) {
	return s.byHand(ctx, id, actor, func(inc *store.Incident, now time.Time) (string, string, error) {
		switch inc.Status {
		case Accepted:
			return "", "", nil
		case Resolved:
			return "", "", fmt.Errorf("incident %d is resolved and cannot be accepted: %w", id, fault.ErrState)
		}
		inc.Status, inc.AcceptedAt = Accepted, &now
		return KindAccepted, "Accepted by " + actor, nil
	})
}

// Resolve marks an incident resolved by actor. Its ticket link stays, so the
// ticket's next edits do not page again until the ticket is completed.
func (s *Service) Resolve(ctx context.Context, id int64, actor string) (store.Incident, error) {
	return s.byHand(ctx, id, actor, func(inc *store.Incident, now time.Time) (string, string, error) {
		if inc.Status == Resolved {
			return "", "", nil
		}
		inc.Status, inc.ResolvedAt = Resolved, &now
		return KindResolved, "Resolved by " + actor, nil
	})
}

func (s *Service) byHand(ctx context.Context, id int64, actor string,
	change func(inc *store.Incident, now time.Time) (kind, text string, err error)) (store.Incident, error) {
	var inc store.Incident
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if inc, err = store.GetIncident(ctx, tx, id); err != nil {
			return err
		}
		now := s.clock()
		wasPending := inc.Status == Pending
		kind, text, err := change(&inc, now)
		if err != nil || kind == "" {
			return err
		}
		if err := store.AddLog(ctx, tx, store.LogEntry{IncidentID: id, At: now, Kind: kind, Text: text, Actor: actor}); err != nil {
			return err
		}
		if wasPending {
			if err := s.hooks.Handled(ctx, tx, &inc, actor); err != nil {
				return err
			}
		}
		inc.UpdatedAt = now
		return store.UpdateIncident(ctx, tx, inc)
	})
	return inc, err
}
