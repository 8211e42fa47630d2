package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	webhookTimeout      = 10 * time.Second
	maxWebhookAnswer    = 64 << 10 // bytes of the answer read at most
	webhookExcerptRunes = 200
)

// WebhookPayload is the JSON body of a webhook delivery. Receivers may decode
// it with these types.
type WebhookPayload struct {
	ID     string         `json:"id"`
	User   WebhookUser    `json:"user"`
	Events []WebhookEvent `json:"events"`
}

// WebhookUser is the user a delivery is meant for.
type WebhookUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// WebhookEvent is one Item of a delivery.
type WebhookEvent struct {
	Event      Event           `json:"event"`
	At         time.Time       `json:"at"`
	Rule       int             `json:"rule"`
	Actor      string          `json:"actor"`
	Incident   WebhookIncident `json:"incident"`
	AcceptURL  string          `json:"acceptUrl"`
	ResolveURL string          `json:"resolveUrl"`
}

// WebhookIncident is the incident an event is about.
type WebhookIncident struct {
	ID              int64     `json:"id"`
	Status          string    `json:"status"`
	Priority        string    `json:"priority"`
	Summary         string    `json:"summary"`
	Details         string    `json:"details"`
	TicketNumber    string    `json:"ticketNumber"`
	TicketStatus    string    `json:"ticketStatus"`
	TicketLink      string    `json:"ticketLink"`
	AlertSourceName string    `json:"alertSourceName"`
	CreatedAt       time.Time `json:"createdAt"`
	URL             string    `json:"url"`
}

// NewWebhookPayload builds the body Webhook.Send posts for m.
func NewWebhookPayload(m Message) WebhookPayload {
	p := WebhookPayload{
		ID:     m.ID,
		User:   WebhookUser{ID: m.To.UserID, Name: m.To.Name, Email: m.To.Email},
		Events: make([]WebhookEvent, 0, len(m.Items)),
	}
	for _, it := range m.Items {
		inc := it.Incident
		p.Events = append(p.Events, WebhookEvent{
			Event:      it.Event,
			At:         it.At.UTC(),
			Rule:       it.Rule,
			Actor:      it.Actor,
			AcceptURL:  it.AcceptURL,
			ResolveURL: it.ResolveURL,
			Incident: WebhookIncident{
				ID:              inc.ID,
				Status:          inc.Status,
				Priority:        inc.Priority,
				Summary:         inc.Summary,
				Details:         inc.Details,
				TicketNumber:    inc.TicketNumber,
				TicketStatus:    inc.TicketStatus,
				TicketLink:      inc.TicketLink,
				AlertSourceName: inc.AlertSourceName,
				CreatedAt:       inc.CreatedAt.UTC(),
				URL:             inc.URL,
			},
		})
	}
	return p
}

// Webhook posts a signed JSON document to the user's webhook URL.
type Webhook struct {
	client *http.Client
	now    func() time.Time
}

var _ Channel = (*Webhook)(nil)

// NewWebhook returns the webhook channel. With a nil client it uses one with a
// 10s timeout that does not follow redirects (a redirect is answered as a
// temporary failure, so a moved endpoint shows up in the incident log rather
// than silently receiving signed payloads somewhere else).
func NewWebhook(client *http.Client, opts ...Option) *Webhook {
	if client == nil {
		client = &http.Client{
			Timeout: webhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	o := buildOptions(opts)
	return &Webhook{client: client, now: o.now}
}

// Name returns "WEBHOOK".
func (w *Webhook) Name() string { return ChannelWebhook }

// Enabled reports whether r has a webhook URL.
func (w *Webhook) Enabled(r Recipient) bool { return w != nil && r.WebhookURL != "" }

// Send posts m to m.To.WebhookURL. A 2xx answer means sent; 408, 429, 5xx,
// redirects and network errors are temporary errors; any other answer, an
// unusable URL or an empty message is an ErrPermanent.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	u, err := webhookURL(m.To.WebhookURL)
	if err != nil {
		return permanent(err)
	}
	where := redactURL(u)
	if len(m.Items) == 0 {
		return permanent(errors.New("webhook: message has no items"))
	}
	if m.ID == "" {
		return permanent(errors.New("webhook: message has no ID"))
	}
	body, err := json.Marshal(NewWebhookPayload(m))
	if err != nil {
		return permanent(fmt.Errorf("webhook: encode payload: %w", err))
	}
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	ts := strconv.FormatInt(now().Unix(), 10)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("webhook %s: %w", where, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ticketpager")
	req.Header.Set(HeaderDelivery, m.ID)
	req.Header.Set(HeaderEvent, string(m.Items[0].Event))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign([]byte(m.To.WebhookSecret), ts, body))

	client := w.client
	if client == nil {
		client = NewWebhook(nil).client
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, which may carry a token in its
		// path or query: report the inner error with the redacted URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return fmt.Errorf("webhook POST %s: %w (%v)", where, ctxErr, err)
		}
		return fmt.Errorf("webhook POST %s: %w", where, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code >= 300 && code < 400:
		return &StatusError{URL: where, StatusCode: code, Excerpt: "redirect to " + excerpt([]byte(redactLocation(resp.Header.Get("Location"))), webhookExcerptRunes) + " not followed"}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return &StatusError{URL: where, StatusCode: code, Excerpt: excerpt(answer, webhookExcerptRunes), RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now())}
	default:
		return permanent(&StatusError{URL: where, StatusCode: code, Excerpt: excerpt(answer, webhookExcerptRunes)})
	}
}

// StatusError is a webhook answer other than 2xx.
type StatusError struct {
	URL        string // scheme://host of the webhook, without path or query
	StatusCode int
	Excerpt    string        // quoted, bounded excerpt of the answer
	RetryAfter time.Duration // from a Retry-After header, 0 if none
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("webhook POST %s: answered %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Excerpt != "" && e.Excerpt != `""` {
		s += ": " + e.Excerpt
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// RetryAfter returns how long the receiver asked to wait (a webhook's 429 or
// 503 with a Retry-After header), if err carries such a hint.
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	const maxWait = 24 * time.Hour
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return min(time.Duration(min(secs, int64(maxWait/time.Second)))*time.Second, maxWait)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxWait)
		}
	}
	return 0
}

// webhookURL accepts absolute http and https URLs with a host.
func webhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.New("webhook URL does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("webhook URL scheme %q is not http or https", truncate(oneLine(u.Scheme), 20))
	}
	if u.Host == "" {
		return nil, errors.New("webhook URL has no host")
	}
	return u, nil
}

// redactURL keeps the scheme and host: paths and queries of webhook URLs
// often embed a token.
func redactURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return "(a relative or unparsable location)"
	}
	return redactURL(u)
}
