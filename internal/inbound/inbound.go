// Package inbound turns Autotask callouts into incident changes: it journals
// each callout, finds the ticket it is about, reads the ticket's current state
// from the Autotask API, and applies the lifecycle. When Autotask cannot be
// reached in time the callout is queued for a durable retry job.
package inbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/callout"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/lifecycle"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

// Actions recorded in the journal beyond the lifecycle's own.
const (
	ActionQueued = "QUEUED"
	ActionFailed = "FAILED"
)

// Limits of the journal and the retry schedule.
const (
	MaxJournalBody = 64 << 10
	GiveUpAfter    = 24 * time.Hour
	firstRetry     = 3 * time.Second
	maxRetryDelay  = 5 * time.Minute
)

// Error codes in answers to Autotask.
const (
	CodeNoTicketReference = "NO_TICKET_REFERENCE"
	CodeMalformedBody     = "MALFORMED_BODY"
	CodeUnsupportedType   = "UNSUPPORTED_MEDIA_TYPE"
	CodeNotAlertable      = "TICKET_STATUS_NOT_ALERTABLE"
	CodeTicketNotFound    = "TICKET_NOT_FOUND"
)

// Answer is the outcome of a callout, as journaled and as answered over HTTP.
type Answer struct {
	Action       string
	HTTPStatus   int
	CalloutID    int64
	IncidentID   int64
	TicketID     int64
	TicketNumber string
	StatusLabel  string
	Code         string // error code for 4xx answers
	Message      string // what was wrong and what to do
}

// Config holds a Processor's dependencies.
type Config struct {
	Store       *store.Store
	Incidents   *incident.Service
	Sources     *source.Service
	Autotask    *autotask.Client
	Now         func() time.Time
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
	SyncTimeout time.Duration // how long a callout may wait for Autotask before it is queued; default 5s
	// RescueAfter is how old a callout without an outcome must be before the
	// sweep takes it for stranded (its process died); default 2m.
	RescueAfter time.Duration
}

// Processor handles callouts.
type Processor struct {
	Config
	jobs     *river.Client[*sql.Tx]
	callouts *prometheus.CounterVec
}

// NewProcessor returns a Processor; call SetJobs before the first callout.
func NewProcessor(c Config) *Processor {
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = 5 * time.Second
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = 2 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Processor{Config: c, callouts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ticketpager_callouts_total", Help: "Autotask callouts by the action they ended with.",
	}, []string{"action"})}
	if c.Registerer != nil {
		c.Registerer.MustRegister(p.callouts)
	}
	return p
}

// SetJobs gives the processor the job queue client it inserts retries with.
func (p *Processor) SetJobs(jobs *river.Client[*sql.Tx]) { p.jobs = jobs }

// Receive journals a callout for src and processes it.
func (p *Processor) Receive(ctx context.Context, src source.Source, req callout.Request) (Answer, error) {
	body, truncated := journalBody(req.ContentType, req.Body)
	id, err := p.Store.InsertCallout(ctx, store.Callout{
		SourceID: src.ID, ReceivedAt: p.Now(), Method: req.Method, ContentType: clip(req.ContentType, 200),
		Query: clip(callout.RedactQuery(req.Query).Encode(), 4096), Body: body, BodyTruncated: truncated,
	})
	if err != nil {
		return Answer{}, err
	}
	ref, err := callout.Parse(req)
	if err != nil {
		a := rejectParse(id, err)
		return a, p.record(ctx, p.Store.Writer(), a, "")
	}
	ctx, cancel := context.WithTimeout(ctx, p.SyncTimeout)
	defer cancel()
	return p.process(ctx, src, id, ref, false)
}

func rejectParse(id int64, err error) Answer {
	a := Answer{Action: string(lifecycle.Reject), HTTPStatus: http.StatusBadRequest, CalloutID: id, Message: err.Error()}
	switch {
	case errors.Is(err, callout.ErrUnsupportedMediaType):
		a.HTTPStatus, a.Code = http.StatusUnsupportedMediaType, CodeUnsupportedType
	case errors.Is(err, callout.ErrMalformedBody):
		a.Code = CodeMalformedBody
	default:
		a.Code = CodeNoTicketReference
	}
	return a
}

// journalBody is the body as the journal keeps it: credentials masked, valid
// UTF-8, at most MaxJournalBody bytes.
func journalBody(contentType string, body []byte) (string, bool) {
	// valid UTF-8 without NUL: PostgreSQL's text refuses both
	s := strings.ReplaceAll(strings.ToValidUTF8(string(callout.Redact(contentType, body)), "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= MaxJournalBody {
		return s, false
	}
	cut := MaxJournalBody
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// process reads the ticket and applies it. retrying is true inside the retry job,
// which must not queue the callout a second time.
func (p *Processor) process(ctx context.Context, src source.Source, id int64, ref callout.Reference, retrying bool) (Answer, error) {
	a := Answer{CalloutID: id, TicketID: ref.TicketID, TicketNumber: ref.TicketNumber}
	var t *autotask.Ticket
	var err error
	if ref.TicketID > 0 {
		t, err = p.Autotask.Ticket(ctx, src.Autotask, ref.TicketID)
	} else {
		t, err = p.Autotask.TicketByNumber(ctx, src.Autotask, ref.TicketNumber)
	}
	switch {
	case err == nil:
	case errors.Is(err, autotask.ErrNotFound):
		a.Action, a.HTTPStatus, a.Code = ActionFailed, http.StatusUnprocessableEntity, CodeTicketNotFound
		a.Message = fmt.Sprintf("Autotask has no ticket %s that the API user %s can see; check the ticket and the API user's security level",
			ticketName(ref), src.Username)
		return a, p.record(ctx, p.Store.Writer(), a, "")
	default:
		return p.queue(ctx, id, a, err, retrying)
	}
	a.TicketID, a.TicketNumber, a.StatusLabel = t.ID, t.Number, t.StatusLabel
	_, err = p.Incidents.ApplyTicket(ctx, incident.Ticket{
		SourceID: src.ID, ID: t.ID, Number: t.Number, Title: t.Title, Description: t.Description,
		StatusLabel: t.StatusLabel, PriorityLabel: t.PriorityLabel, QueueLabel: t.QueueLabel,
		CompanyName: t.CompanyName, WebLink: t.WebLink,
	}, id, func(ctx context.Context, tx *store.Tx, r incident.Result) error {
		a.Action, a.IncidentID = string(r.Action), r.Incident.ID
		switch r.Action {
		case lifecycle.Create:
			a.HTTPStatus = http.StatusCreated
		case lifecycle.Reject:
			a.HTTPStatus, a.Code = http.StatusBadRequest, CodeNotAlertable
			a.Message = fmt.Sprintf("ticket %s has status %q and no open incident: by the lifecycle rules no incident is created for this status",
				t.Number, t.StatusLabel)
		default:
			a.HTTPStatus = http.StatusOK
		}
		return p.record(ctx, tx, a, "")
	})
	if err != nil {
		return Answer{}, err
	}
	return a, nil
}

func ticketName(ref callout.Reference) string {
	if ref.TicketNumber != "" {
		return ref.TicketNumber
	}
	return fmt.Sprintf("with id %d", ref.TicketID)
}

// queue journals the callout as QUEUED and, on the first attempt, inserts the
// retry job in the same transaction, so the two commit together.
func (p *Processor) queue(ctx context.Context, id int64, a Answer, cause error, retrying bool) (Answer, error) {
	a.Action, a.HTTPStatus = ActionQueued, http.StatusAccepted
	a.Message = "queued, to be retried in the background: " + cause.Error()
	// The request's deadline may be what failed; journal with a fresh one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := p.Store.Tx(ctx, func(tx *store.Tx) error {
		if err := p.record(ctx, tx, a, cause.Error()); err != nil {
			return err
		}
		if retrying {
			return nil
		}
		return p.enqueue(ctx, tx, id, max(backoff(1), retryAfter(cause)))
	})
	if err != nil {
		return Answer{}, err
	}
	p.Logger.Warn("callout queued", "callout", id, "error", cause)
	return a, nil
}

func (p *Processor) enqueue(ctx context.Context, tx *store.Tx, id int64, delay time.Duration) error {
	_, err := p.jobs.InsertTx(ctx, tx.Tx, RetryArgs{CalloutID: id}, &river.InsertOpts{
		ScheduledAt: p.Now().Add(delay),
		MaxAttempts: 1000, // the job gives up by age (GiveUpAfter), not by count
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("queue retry of callout %d: %w", id, err)
	}
	return nil
}

// backoff is the wait before the given attempt: from a few seconds, doubling,
// to at most five minutes.
func backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}

// retryAfter is how long Autotask asked us to wait (its Retry-After), capped.
func retryAfter(cause error) time.Duration {
	var apiErr *autotask.APIError
	if errors.As(cause, &apiErr) {
		return min(apiErr.RetryAfter, maxRetryDelay)
	}
	return 0
}

// record writes an answer to the journal and counts it.
func (p *Processor) record(ctx context.Context, q store.Querier, a Answer, errText string) error {
	if errText == "" && a.HTTPStatus >= 400 {
		errText = a.Message
	}
	err := store.RecordOutcome(ctx, q, a.CalloutID, store.Outcome{
		TicketID: a.TicketID, TicketNumber: a.TicketNumber, TicketStatusLabel: a.StatusLabel,
		Action: a.Action, HTTPStatus: a.HTTPStatus, IncidentID: a.IncidentID, Error: errText,
	}, p.Now())
	if err == nil {
		p.callouts.WithLabelValues(a.Action).Inc()
	}
	return err
}
