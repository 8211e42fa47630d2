// Package autotask is a client for the Autotask PSA REST API: it reads tickets
// (with their status, priority and queue labels from the instance's own
// picklists, and the company name), honouring Autotask's limits: at most three
// requests in flight per endpoint, Retry-After on 429, zone discovery cached
// for a day and refreshed on 401. Credentials are only ever sent to Autotask
// hosts (or to the configured web server itself).
//
// The package autotasktest holds a fake Autotask REST server for tests.
package autotask

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"
)

// DefaultWebServer is used when a Source has no WebServer.
const DefaultWebServer = "https://webservices2.autotask.net"

const (
	defaultTimeout   = 10 * time.Second
	maxBodyBytes     = 4 << 20
	threadLimit      = 3 // Autotask: at most 3 concurrent requests per endpoint per tracking identifier
	zoneTTL          = 24 * time.Hour
	picklistTTL      = time.Hour
	picklistMinGap   = time.Minute // at most one picklist refresh a minute per source
	companyTTL       = time.Hour
	companyFailTTL   = 5 * time.Minute // a company that could not be read is not asked for again before this
	default429Wait   = time.Second     // when a 429 carries no Retry-After
	maxErrorMessages = 20
)

// Source is one alert source's Autotask connection. ID keys the caches.
type Source struct {
	ID              int64
	Username        string
	Secret          string
	IntegrationCode string // sent as the ApiIntegrationCode header (the "tracking identifier")
	WebServer       string // e.g. "https://webservices2.autotask.net"; "" means that default
}

// Ticket is an Autotask ticket with its picklist labels resolved.
type Ticket struct {
	ID            int64
	Number        string // ticketNumber
	Title         string
	Description   string
	Status        int
	StatusLabel   string // from the status picklist ("" only if unknown even after a picklist refresh)
	Priority      int
	PriorityLabel string
	QueueID       int64 // 0 when absent
	QueueLabel    string
	CompanyID     int64
	CompanyName   string // from Companies/{id}, cached; "" when it could not be read
	WebLink       string // {zone webUrl}Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID={id}
}

// Options configure a Client. The zero value is usable.
type Options struct {
	HTTPClient *http.Client          // nil: a client with sensible timeouts
	Timeout    time.Duration         // per HTTP request; default 10s
	Now        func() time.Time      // injected clock for cache TTLs; nil: time.Now
	Registerer prometheus.Registerer // optional: ticketpager_autotask_requests_total{endpoint,code}, ticketpager_autotask_request_duration_seconds{endpoint}
	Logger     *slog.Logger          // optional; the secret is never logged
}

// Client reads tickets from Autotask. It is safe for concurrent use; one Client
// serves every alert source.
type Client struct {
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics

	mu      sync.Mutex
	sources map[int64]*sourceState
	sems    map[string]*semaphore.Weighted // limitKey + "\x00" + endpoint entity
}

// NewClient returns a Client.
func NewClient(o Options) *Client {
	c := &Client{
		timeout: o.Timeout,
		now:     o.Now,
		log:     o.Logger,
		sources: make(map[int64]*sourceState),
		sems:    make(map[string]*semaphore.Weighted),
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	var hc http.Client
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = 5 * time.Second
		tr.ResponseHeaderTimeout = c.timeout
		tr.MaxIdleConnsPerHost = 32
		hc.Transport = tr
	}
	hc.CheckRedirect = safeRedirect(hc.CheckRedirect)
	c.http = &hc
	c.metrics = newMetrics(o.Registerer)
	return c
}

// Forget drops every cache of that source. Call it when its credentials change.
func (c *Client) Forget(sourceID int64) {
	c.mu.Lock()
	delete(c.sources, sourceID)
	c.mu.Unlock()
}

// sourceState is everything cached for one source. It is replaced as a whole
// (by Forget or when the Source's settings change), so loads still in flight for
// an old state can never leak into the new one.
type sourceState struct {
	src Source
	sf  singleflight.Group

	mu               sync.Mutex
	zone             *zone
	zoneAt           time.Time
	picks            picklists
	picksAt          time.Time // last successful load
	picksTriedAt     time.Time // last attempt (success or not)
	picksErr         error     // last attempt's error, nil after a success
	companies        map[int64]companyEntry
	semTickets       *semaphore.Weighted
	semCompanies     *semaphore.Weighted
	semEntityInfo    *semaphore.Weighted
	semZoneInfo      *semaphore.Weighted
	webServer        string // normalized
	webServerHostKey string // scheme://host:port of webServer, lower case
}

type companyEntry struct {
	name string
	at   time.Time
	ttl  time.Duration
}

// state returns the cache of s, making a fresh one when s is new or its
// settings changed since the cache was filled.
func (c *Client) state(s Source) (*sourceState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.sources[s.ID]; ok && st.src == s {
		return st, nil
	}
	ws, err := normalizeWebServer(s.WebServer)
	if err != nil {
		return nil, &opError{class: ErrForbiddenHost, msg: "web server " + strconv.Quote(s.WebServer) + ": " + err.Error()}
	}
	st := &sourceState{src: s, companies: make(map[int64]companyEntry), webServer: ws.String(), webServerHostKey: hostKey(ws)}
	// The thread limit is Autotask's per tracking identifier (and database), so
	// sources sharing an integration code on the same web server share slots.
	lk := strings.ToLower(ws.Host) + "\x00" + s.IntegrationCode + "\x00"
	st.semTickets = c.semLocked(lk + "Tickets")
	st.semCompanies = c.semLocked(lk + "Companies")
	st.semEntityInfo = c.semLocked(lk + "Tickets/entityInformation")
	st.semZoneInfo = c.semLocked(lk + "zoneInformation")
	c.sources[s.ID] = st
	return st, nil
}

func (c *Client) semLocked(key string) *semaphore.Weighted {
	s, ok := c.sems[key]
	if !ok {
		s = semaphore.NewWeighted(threadLimit)
		c.sems[key] = s
	}
	return s
}

func (st *sourceState) sem(entity string) *semaphore.Weighted {
	switch entity {
	case "Companies":
		return st.semCompanies
	case "Tickets/entityInformation":
		return st.semEntityInfo
	case "zoneInformation":
		return st.semZoneInfo
	default:
		return st.semTickets
	}
}

// shared runs fn once for all concurrent callers with the same key. fn runs on
// a context that keeps the first caller's deadline and values but not its
// cancellation, so one caller giving up does not fail the others; every caller
// still returns as soon as its own ctx ends.
func shared[T any](ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (T, error)) (T, error) {
	ch := g.DoChan(key, func() (any, error) {
		fctx := context.WithoutCancel(ctx)
		var cancel context.CancelFunc
		if d, ok := ctx.Deadline(); ok {
			fctx, cancel = context.WithDeadline(fctx, d)
		} else {
			fctx, cancel = context.WithCancel(fctx)
		}
		defer cancel()
		return fn(fctx)
	})
	var zero T
	select {
	case <-ctx.Done():
		return zero, &opError{class: ErrUnavailable, cause: ctx.Err()}
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	}
}

// request is one logical Autotask call.
type request struct {
	method   string
	path     string // below V1.0/, e.g. "Tickets/100"
	entity   string // thread-limit bucket: "Tickets", "Companies", "Tickets/entityInformation"
	endpoint string // metrics label: "Tickets", "Tickets/query", "Tickets/entityInformation/fields", "Companies"
	body     []byte
}

// call performs an authenticated request and decodes a 2xx answer into out. It
// re-discovers the zone once on 401 and waits out one 429 when Retry-After fits
// before ctx's deadline.
func (c *Client) call(ctx context.Context, st *sourceState, r request, out any) error {
	rezoned, retried429 := false, false
	for {
		z, err := c.zone(ctx, st)
		if err != nil {
			return err
		}
		status, hdr, body, err := c.send(ctx, st, r, z)
		if err != nil {
			return err
		}
		if status >= 200 && status < 300 {
			if err := json.Unmarshal(body, out); err != nil {
				return &opError{class: ErrUnavailable, msg: fmt.Sprintf("%s %s: decode answer", r.method, r.path), cause: err}
			}
			return nil
		}
		apiErr := newAPIError(r.method, r.path, status, hdr, body, st.src.Secret)
		switch {
		case status == http.StatusUnauthorized:
			if !rezoned {
				rezoned = true
				st.dropZone(z)
				c.log.Info("autotask: 401, looking up the zone again", "source", st.src.ID, "endpoint", r.endpoint)
				continue
			}
			return &opError{class: ErrUnauthorized, cause: apiErr}
		case status == http.StatusForbidden:
			return &opError{class: ErrUnauthorized, cause: apiErr}
		case status == http.StatusNotFound:
			return &opError{class: ErrNotFound, cause: apiErr}
		case status == http.StatusTooManyRequests:
			if !retried429 && fitsBeforeDeadline(ctx, apiErr.RetryAfter, c.timeout) {
				retried429 = true
				c.log.Info("autotask: 429, waiting", "source", st.src.ID, "endpoint", r.endpoint, "retry_after", apiErr.RetryAfter)
				if err := sleepCtx(ctx, apiErr.RetryAfter); err != nil {
					return &opError{class: ErrUnavailable, cause: errors.Join(apiErr, err)}
				}
				continue
			}
			return &opError{class: ErrUnavailable, cause: apiErr}
		default:
			return &opError{class: ErrUnavailable, cause: apiErr}
		}
	}
}

// send does one HTTP round trip with credentials, holding a thread-limit slot.
func (c *Client) send(ctx context.Context, st *sourceState, r request, z *zone) (int, http.Header, []byte, error) {
	u := z.url + "V1.0/" + r.path
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, u, rd)
	if err != nil {
		return 0, nil, nil, &opError{class: ErrUnavailable, msg: "build request", cause: err}
	}
	// Checked again on the final URL, not only when the zone was cached.
	if !credentialsAllowed(req.URL, st.webServerHostKey) {
		return 0, nil, nil, &opError{class: ErrForbiddenHost, msg: "refusing to send credentials to " + req.URL.Scheme + "://" + req.URL.Host}
	}
	req.Header.Set("ApiIntegrationCode", st.src.IntegrationCode)
	req.Header.Set("UserName", st.src.Username)
	req.Header.Set("Secret", st.src.Secret)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(ctx, req, st.sem(r.entity), r.endpoint)
}

// do sends req with a slot of sem held and the per-request timeout, and reads
// the body (size limited).
func (c *Client) do(ctx context.Context, req *http.Request, sem *semaphore.Weighted, endpoint string) (int, http.Header, []byte, error) {
	if err := sem.Acquire(ctx, 1); err != nil {
		return 0, nil, nil, &opError{class: ErrUnavailable, msg: "waiting for a thread-limit slot for " + endpoint, cause: err}
	}
	defer sem.Release(1)
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(rctx)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.metrics.observe(endpoint, "error", time.Since(start))
		c.log.Warn("autotask request failed", "method", req.Method, "endpoint", endpoint, "host", req.URL.Host, "err", err)
		if errors.Is(err, errRedirect) {
			return 0, nil, nil, &opError{class: ErrForbiddenHost, cause: err}
		}
		return 0, nil, nil, &opError{class: ErrUnavailable, cause: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	d := time.Since(start)
	if err != nil {
		c.metrics.observe(endpoint, "error", d)
		return 0, nil, nil, &opError{class: ErrUnavailable, msg: req.Method + " " + endpoint + ": read answer", cause: err}
	}
	c.metrics.observe(endpoint, strconv.Itoa(resp.StatusCode), d)
	c.log.Debug("autotask request", "method", req.Method, "endpoint", endpoint, "status", resp.StatusCode, "duration", d)
	if len(body) > maxBodyBytes {
		return 0, nil, nil, &opError{class: ErrUnavailable, msg: fmt.Sprintf("%s %s: answer larger than %d bytes", req.Method, endpoint, maxBodyBytes)}
	}
	return resp.StatusCode, resp.Header, body, nil
}

func newAPIError(method, path string, status int, hdr http.Header, body []byte, secret string) *APIError {
	e := &APIError{Method: method, Endpoint: path, StatusCode: status}
	var eb struct {
		Errors []any `json:"errors"`
	}
	if json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 {
		for i, m := range eb.Errors {
			if i == maxErrorMessages {
				break
			}
			var s string
			switch m := m.(type) {
			case string:
				s = m
			case map[string]any: // tolerate {"message": "..."} objects
				if msg, ok := m["message"].(string); ok {
					s = msg
				} else {
					b, _ := json.Marshal(m)
					s = string(b)
				}
			default:
				s = fmt.Sprint(m)
			}
			e.Messages = append(e.Messages, redact(truncate(s, 500), secret))
		}
	} else if s := strings.TrimSpace(string(body)); s != "" {
		e.Messages = []string{redact(truncate(s, 200), secret)}
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(hdr.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		} else if status == http.StatusTooManyRequests {
			e.RetryAfter = default429Wait
		}
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// keep valid UTF-8
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// fitsBeforeDeadline says whether waiting d and then sending one more request
// still fits in ctx. Without a deadline, waits up to max are allowed.
func fitsBeforeDeadline(ctx context.Context, d, max time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok {
		return d < time.Until(dl)
	}
	return d <= max
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
