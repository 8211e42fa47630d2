package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const webhookSecret = "whsec-very-secret-key"

// capture records the last request a webhook test server received.
type capture struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
	method string
	hits   int
}

func (c *capture) handler(status int, answer string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.header, c.body, c.method = r.Header.Clone(), body, r.Method
		c.hits++
		c.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}
}

func (c *capture) get() (http.Header, []byte, string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.header, c.body, c.method, c.hits
}

func webhookServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func hookRecipient(url string) Recipient {
	r := ada
	r.WebhookURL = url
	r.WebhookSecret = webhookSecret
	return r
}

func TestWebhookDelivery(t *testing.T) {
	var c capture
	srv := webhookServer(t, c.handler(http.StatusNoContent, ""))
	w := NewWebhook(nil, WithClock(fixedNow))
	m := Message{ID: "delivery-9", To: hookRecipient(srv.URL + "/hook?token=abc"), Items: []Item{createdItem(7), acceptedItem(8, `API token "x"`)}}

	require.NoError(t, w.Send(context.Background(), m))

	h, body, method, hits := c.get()
	require.Equal(t, 1, hits)
	require.Equal(t, http.MethodPost, method)
	require.Equal(t, "application/json", h.Get("Content-Type"))
	require.Equal(t, "ticketpager", h.Get("User-Agent"))
	require.Equal(t, "delivery-9", h.Get(HeaderDelivery))
	require.Equal(t, "incident.created", h.Get(HeaderEvent))
	require.Equal(t, "1795771805", h.Get(HeaderTimestamp))
	require.Equal(t, Sign([]byte(webhookSecret), h.Get(HeaderTimestamp), body), h.Get(HeaderSignature))

	// The body, field by field, as a receiver sees it.
	accept, resolve := links(7)
	want := `{
	  "id": "delivery-9",
	  "user": {"id": 1, "name": "Ada Lovelace", "email": "ada@example.com"},
	  "events": [
	    {"event": "incident.created", "at": "2026-11-27T09:30:05Z", "rule": 1, "actor": "",
	     "incident": {"id": 7, "status": "PENDING", "priority": "HIGH", "summary": "Mail server down",
	       "details": "Exchange does not answer on port 25.\r\nCustomer: Contoso Ltd.\n\nCalled in by phone.",
	       "ticketNumber": "T20261127.0001", "ticketStatus": "New",
	       "ticketLink": "https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID=100",
	       "alertSourceName": "Autotask production", "createdAt": "2026-11-27T09:30:00Z",
	       "url": "https://pager.example.com/api/v1/incidents/7"},
	     "acceptUrl": "` + accept + `", "resolveUrl": "` + resolve + `"},
	    {"event": "incident.accepted", "at": "2026-11-27T09:37:00Z", "rule": 0, "actor": "API token \"x\"",
	     "incident": {"id": 8, "status": "ACCEPTED", "priority": "HIGH", "summary": "Mail server down",
	       "details": "Exchange does not answer on port 25.\r\nCustomer: Contoso Ltd.\n\nCalled in by phone.",
	       "ticketNumber": "T20261127.0001", "ticketStatus": "In Progress",
	       "ticketLink": "https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID=100",
	       "alertSourceName": "Autotask production", "createdAt": "2026-11-27T09:30:00Z",
	       "url": "https://pager.example.com/api/v1/incidents/8"},
	     "acceptUrl": "", "resolveUrl": ""}
	  ]
	}`
	require.JSONEq(t, want, string(body))
	require.NotContains(t, string(body), webhookSecret)

	var p WebhookPayload
	require.NoError(t, json.Unmarshal(body, &p))
	require.Equal(t, NewWebhookPayload(m).Events[0].Incident.ID, p.Events[0].Incident.ID)
}

func TestWebhookSignatureVerifies(t *testing.T) {
	var c capture
	srv := webhookServer(t, c.handler(http.StatusOK, "ok"))
	require.NoError(t, NewWebhook(nil, WithClock(fixedNow)).Send(context.Background(), Message{ID: "d", To: hookRecipient(srv.URL), Items: []Item{createdItem(7)}}))
	h, body, _, _ := c.get()
	sig, ts := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	key := []byte(webhookSecret)

	require.NoError(t, VerifySignature(key, sig, ts, body, fixedNow(), 5*time.Minute))
	require.NoError(t, VerifySignature(key, sig, ts, body, fixedNow().Add(-4*time.Minute), 5*time.Minute), "receiver clock behind")

	altered := []byte(strings.Replace(string(body), `"priority":"HIGH"`, `"priority":"LOW"`, 1))
	require.NotEqual(t, body, altered)
	require.ErrorIs(t, VerifySignature(key, sig, ts, altered, fixedNow(), 5*time.Minute), ErrSignatureMismatch)
	require.ErrorIs(t, VerifySignature([]byte("other"), sig, ts, body, fixedNow(), 5*time.Minute), ErrSignatureMismatch)
	require.ErrorIs(t, VerifySignature(key, sig, "1795771806", body, fixedNow(), 5*time.Minute), ErrSignatureMismatch, "timestamp is signed")

	require.ErrorIs(t, VerifySignature(key, sig, ts, body, fixedNow().Add(6*time.Minute), 5*time.Minute), ErrTimestampStale, "replayed later")
	require.ErrorIs(t, VerifySignature(key, sig, ts, body, fixedNow().Add(-6*time.Minute), 5*time.Minute), ErrTimestampStale, "from the future")
	require.ErrorIs(t, VerifySignature(key, sig, ts, body, fixedNow().Add(10*time.Minute), 0), ErrTimestampStale, "default tolerance")
}

func TestVerifySignatureMalformed(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1_800_000_000, 0)
	ts := "1800000000"
	body := []byte(`{}`)
	good := Sign(key, ts, body)
	require.NoError(t, VerifySignature(key, good, ts, body, now, time.Minute))
	require.NoError(t, VerifySignature(key, " "+good+" ", ts, body, now, time.Minute))

	for _, bad := range []string{"", "-5", "+1800000000", " 1800000000", "1800000000.0", "1e9", "99999999999999999999", "abc"} {
		require.ErrorIs(t, VerifySignature(key, Sign(key, bad, body), bad, body, now, time.Minute), ErrTimestampInvalid, bad)
	}
	for _, bad := range []string{"", "sha256=", strings.TrimPrefix(good, "sha256="), "sha1=" + good[7:], good[:len(good)-2], good + "00", "sha256=zz" + good[9:]} {
		require.ErrorIs(t, VerifySignature(key, bad, ts, body, now, time.Minute), ErrSignatureMalformed, bad)
	}
	upper := "sha256=" + strings.ToUpper(good[7:])
	require.NoError(t, VerifySignature(key, upper, ts, body, now, time.Minute), "hex case does not matter")
}

func TestSign(t *testing.T) {
	// Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
	require.Equal(t, "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163",
		Sign([]byte("secret"), "1700000000", []byte("{}")))
}

func TestWebhookStatuses(t *testing.T) {
	cases := []struct {
		status    int
		permanent bool
	}{
		{200, false}, {202, false}, {204, false},
		{500, false}, {502, false}, {503, false},
		{408, false}, {429, false},
		{400, true}, {401, true}, {403, true}, {404, true}, {410, true}, {422, true},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			var c capture
			srv := webhookServer(t, c.handler(tc.status, `{"error":"nope"}`))
			err := NewWebhook(nil).Send(context.Background(), Message{ID: "d", To: hookRecipient(srv.URL + "/path/with/token-xyz"), Items: []Item{createdItem(7)}})
			if tc.status < 300 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.permanent, errors.Is(err, ErrPermanent), "%d: %v", tc.status, err)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.status, se.StatusCode)
			require.ErrorContains(t, err, `"{\"error\":\"nope\"}"`, "an excerpt of the answer")
			require.NotContains(t, err.Error(), "token-xyz", "the URL path is not repeated")
			require.NotContains(t, err.Error(), webhookSecret)
		})
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	srv := webhookServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	err := NewWebhook(nil).Send(context.Background(), Message{ID: "d", To: hookRecipient(srv.URL), Items: []Item{createdItem(7)}})
	require.NotErrorIs(t, err, ErrPermanent)
	d, ok := RetryAfter(err)
	require.True(t, ok)
	require.Equal(t, 2*time.Minute, d)

	_, ok = RetryAfter(errors.New("x"))
	require.False(t, ok)
	require.Equal(t, time.Duration(0), retryAfter("-3", fixedNow()))
	require.Equal(t, 24*time.Hour, retryAfter("99999999999999999", fixedNow()))
	require.Equal(t, 30*time.Second, retryAfter(fixedNow().Add(30*time.Second).Format(http.TimeFormat), fixedNow()))
}

func TestWebhookAnswerIsBounded(t *testing.T) {
	srv := webhookServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "<html>\n\x00\x1b[31m"+strings.Repeat("x", 1<<20))
	}))
	err := NewWebhook(nil).Send(context.Background(), Message{ID: "d", To: hookRecipient(srv.URL), Items: []Item{createdItem(7)}})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)
	require.Less(t, len(err.Error()), 500)
	require.NotContains(t, err.Error(), "\x1b")
	require.NotContains(t, err.Error(), "\n")
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	var target capture
	dst := webhookServer(t, target.handler(http.StatusOK, ""))
	src := webhookServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dst.URL+"/elsewhere?key=leak", http.StatusTemporaryRedirect)
	}))
	err := NewWebhook(nil).Send(context.Background(), Message{ID: "d", To: hookRecipient(src.URL), Items: []Item{createdItem(7)}})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)
	require.ErrorContains(t, err, "307")
	require.ErrorContains(t, err, "not followed")
	require.NotContains(t, err.Error(), "key=leak")
	_, _, _, hits := target.get()
	require.Zero(t, hits, "the redirect target got nothing")
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := webhookServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for handlers

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := NewWebhook(nil).Send(ctx, Message{ID: "d", To: hookRecipient(srv.URL), Items: []Item{createdItem(7)}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ErrPermanent)
	require.Less(t, time.Since(start), 5*time.Second)

	t.Run("client timeout", func(t *testing.T) {
		w := NewWebhook(&http.Client{Timeout: 50 * time.Millisecond})
		err := w.Send(context.Background(), Message{ID: "d", To: hookRecipient(srv.URL), Items: []Item{createdItem(7)}})
		require.Error(t, err)
		require.NotErrorIs(t, err, ErrPermanent)
	})
}

func TestWebhookNetworkErrorIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := NewWebhook(nil).Send(context.Background(), Message{ID: "d", To: hookRecipient(url + "/secret-path"), Items: []Item{createdItem(7)}})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)
	require.NotContains(t, err.Error(), "secret-path")
}

func TestWebhookRefusesBadURLs(t *testing.T) {
	var hits atomic.Int32
	w := NewWebhook(&http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		hits.Add(1)
		return nil, errors.New("must not be called")
	})})
	for _, u := range []string{"ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd", "/relative", "http://", "::"} {
		err := w.Send(context.Background(), Message{ID: "d", To: hookRecipient(u), Items: []Item{createdItem(7)}})
		require.ErrorIs(t, err, ErrPermanent, u)
	}
	err := w.Send(context.Background(), Message{ID: "d", To: hookRecipient("https://example.com")})
	require.ErrorIs(t, err, ErrPermanent, "no items")
	err = w.Send(context.Background(), Message{To: hookRecipient("https://example.com"), Items: []Item{createdItem(7)}})
	require.ErrorIs(t, err, ErrPermanent, "no ID")
	require.Zero(t, hits.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWebhookEnabled(t *testing.T) {
	var none *Webhook
	require.False(t, none.Enabled(hookRecipient("https://example.com")))
	w := NewWebhook(nil)
	require.Equal(t, "WEBHOOK", w.Name())
	require.True(t, w.Enabled(hookRecipient("https://example.com")))
	require.False(t, w.Enabled(ada))
}
