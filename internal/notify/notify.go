// Package notify delivers incident notifications to people: it renders what
// happened to an incident into a message and sends it over a channel (email,
// outbound webhook, and later SMS, voice or chat).
//
// The package knows nothing about escalation policies, throttling or retries:
// the escalation engine decides who gets which items and when, builds a
// Message, and calls Channel.Send. Send reports whether a failure is worth
// retrying: errors that wrap ErrPermanent are not, every other error is.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Event is what happened to an incident.
type Event string

// The events a user is notified about.
const (
	EventCreated   Event = "incident.created"
	EventEscalated Event = "incident.escalated"
	EventAccepted  Event = "incident.accepted"
	EventResolved  Event = "incident.resolved"
)

// Valid reports whether e is one of the known events.
func (e Event) Valid() bool {
	switch e {
	case EventCreated, EventEscalated, EventAccepted, EventResolved:
		return true
	}
	return false
}

// Channel names, as returned by Channel.Name.
const (
	ChannelEmail   = "EMAIL"
	ChannelWebhook = "WEBHOOK"
)

// Recipient is the user a message goes to.
type Recipient struct {
	UserID        int64
	Name          string
	Email         string
	WebhookURL    string // "" = no webhook channel for this user
	WebhookSecret string // HMAC key for the webhook signature
}

// Incident is the part of an incident a message shows.
type Incident struct {
	ID              int64
	Status          string // PENDING, ACCEPTED, RESOLVED
	Priority        string // HIGH, LOW
	Summary         string
	Details         string
	TicketNumber    string
	TicketStatus    string
	TicketLink      string // Autotask web link, may be ""
	AlertSourceName string
	CreatedAt       time.Time
	URL             string // the incident in ticketpager's API, e.g. https://pager.example.com/api/v1/incidents/7
}

// Item is one thing that happened to one incident, as one user is told about it.
type Item struct {
	Event      Event
	At         time.Time
	Incident   Incident
	Rule       int    // escalation rule number (1-based) that paged this user; 0 for accepted/resolved
	Actor      string // who accepted/resolved, for those events
	AcceptURL  string // one-click links; "" for accepted/resolved events
	ResolveURL string
}

// Message is what one user gets on one channel: one item, or several bundled by throttling.
type Message struct {
	ID    string // unique per delivery, for idempotency on the receiving side (goes into Message-ID / a webhook header)
	To    Recipient
	Items []Item
}

// Channel is one way of reaching a user.
type Channel interface {
	Name() string             // "EMAIL" or "WEBHOOK"
	Enabled(r Recipient) bool // whether this channel can reach r
	// Send delivers m. An error wrapping ErrPermanent means retrying cannot
	// help; any other error is temporary and worth a retry with backoff.
	Send(ctx context.Context, m Message) error
}

// ErrPermanent wraps failures that retrying cannot fix (invalid address,
// webhook answered 4xx other than 408/429, SMTP 5xx permanent rejection of the
// recipient); everything else is temporary.
var ErrPermanent = errors.New("permanent failure")

// permanentError marks err as permanent while keeping its chain.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{ErrPermanent, e.err} }

func permanent(err error) error { return &permanentError{err: err} }

// Option configures a channel.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes a channel read the time from now (the Date header of an
// email, the timestamp of a webhook signature) instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// oneLine turns outside text (ticket titles, names) into one printable line:
// control characters and line breaks become spaces, runs of spaces collapse,
// invalid UTF-8 is replaced.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens s to at most n runes, ending it with "…" when it was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// excerpt makes a short, printable, bounded excerpt of an answer body for an
// error message.
func excerpt(b []byte, n int) string {
	return fmt.Sprintf("%q", truncate(oneLine(string(b)), n))
}
