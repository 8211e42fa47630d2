package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
	"github.com/ticketpager/ticketpager/internal/notify"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// paging is a running service with a controllable clock, a real SMTP server,
// and a policy whose rule 1 pages Ada and, 5 minutes later, rule 2 pages Bob.
type paging struct {
	*harness.Harness
	clock *harness.Clock
	mbox  *harness.Mailbox
}

func newMailbox(t *testing.T) *harness.Mailbox {
	t.Helper()
	m, err := harness.StartMailbox()
	require.NoError(t, err)
	t.Cleanup(func() { m.Stop() })
	return m
}

// startPaging starts the service; repeat is the policy's repeatCount. Pass a
// data folder, fake, clock and mailbox to restart on the same state.
func startPaging(t *testing.T, o harness.Options, clock *harness.Clock, repeat int, bobRule bool) *paging {
	t.Helper()
	if clock == nil {
		clock = harness.NewClock(t0)
	}
	if o.Mailbox == nil {
		o.Mailbox = newMailbox(t)
	}
	o.Now = clock.Now
	p := &paging{Harness: start(t, o), clock: clock, mbox: o.Mailbox}
	var src struct{ EscalationPolicyID int64 }
	require.NoError(t, p.Do("GET", fmt.Sprint("/api/v1/alert-sources/", p.SourceID), nil, 200, &src))
	var users struct{ Items []struct{ ID int64 } }
	require.NoError(t, p.Do("GET", "/api/v1/users", nil, 200, &users))
	if len(users.Items) > 1 { // a restart: the policy is there already
		return p
	}
	rules := []any{map[string]any{"escalationTimeoutMinutes": 5, "userIds": []int64{users.Items[0].ID}}}
	if bobRule {
		var bob struct{ ID int64 }
		require.NoError(t, p.Do("POST", "/api/v1/users", map[string]any{"name": "Bob Byte", "email": "bob@example.com"}, 201, &bob))
		rules = append(rules, map[string]any{"escalationTimeoutMinutes": 10, "userIds": []int64{bob.ID}})
	}
	require.NoError(t, p.Do("PATCH", fmt.Sprint("/api/v1/escalation-policies/", src.EscalationPolicyID),
		map[string]any{"rules": rules, "repeatCount": repeat}, 200, nil))
	return p
}

// open sends a callout for a new ticket and returns the incident id.
func (p *paging) open(t *testing.T, title string) (int64, autotasktest.Ticket) {
	t.Helper()
	tk := p.Fake.AddTicket(autotasktest.Ticket{Title: title, Status: p.Fake.StatusValue("New"),
		Priority: p.Fake.PriorityValue("High"), CompanyID: harness.CompanyID})
	code, a := callout(t, p.Harness, tk.ID)
	require.Equal(t, 201, code)
	return a.IncidentID, tk
}

// advance moves the clock once no delivery is half done: a jump of minutes
// would make a page being sent look abandoned, and send it again as after a crash.
func (p *paging) advance(t *testing.T, d time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		n, err := p.App.Store.CountNotifications(t.Context(), "SENDING")
		require.NoError(t, err)
		return n == 0
	}, 30*time.Second, 10*time.Millisecond, "a delivery stays half done")
	p.clock.Advance(d)
}

// mails waits for n messages in all and returns them.
func (p *paging) mails(t *testing.T, n int) []harness.Mail {
	t.Helper()
	msgs, err := p.mbox.Wait(n, 30*time.Second)
	require.NoError(t, err, "got: %v", subjects(msgs))
	return msgs
}

func subjects(msgs []harness.Mail) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, strings.Join(m.To, ",")+": "+m.Subject)
	}
	return out
}

// quiet checks that no message beyond n arrives while the workers poll a few times.
func (p *paging) quiet(t *testing.T, n int) {
	t.Helper()
	time.Sleep(400 * time.Millisecond) // 8 poll intervals of the job workers
	require.Len(t, p.mbox.Messages(), n, "unexpected mail: %v", subjects(p.mbox.Messages()))
}

func (p *paging) log(t *testing.T, incidentID int64) []logItem {
	t.Helper()
	var out struct{ Items []logItem }
	require.NoError(t, p.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/log", incidentID), nil, 200, &out))
	return out.Items
}

// waitLog polls the incident log until an entry of kind appears.
func (p *paging) waitLog(t *testing.T, incidentID int64, kind string) logItem {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range p.log(t, incidentID) {
			if e.Kind == kind {
				return e
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s entry in the log of incident %d: %v", kind, incidentID, kinds(p.log(t, incidentID)))
	return logItem{}
}

// mailText is the decoded text of every part of a message.
func mailText(t *testing.T, m harness.Mail) string {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	require.NoError(t, err)
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	var b strings.Builder
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(part)
		require.NoError(t, err)
		b.Write(body)
		b.WriteString("\n")
	}
	return b.String()
}

var actionURL = regexp.MustCompile(`https?://[^\s"<>]+/actions/[A-Za-z0-9_.-]+`)

// link finds the accept or resolve link in a message: the confirmation page says which.
func link(t *testing.T, m harness.Mail, action string) string {
	t.Helper()
	for _, u := range actionURL.FindAllString(mailText(t, m), -1) {
		resp, err := http.Get(u)
		require.NoError(t, err)
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(page), action+" incident") {
			return u
		}
	}
	t.Fatalf("no %s link in %q", action, m.Subject)
	return ""
}

func page(t *testing.T, method, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func incidentStatus(t *testing.T, p *paging, id int64) string {
	t.Helper()
	var inc struct{ Status string }
	require.NoError(t, p.Do("GET", fmt.Sprint("/api/v1/incidents/", id), nil, 200, &inc))
	return inc.Status
}

// TestEscalationAcceptByMailLink: rule 1 gets mail, the timeout passes, rule 2
// gets mail, Bob accepts through his mail's link, and the paging stops; both
// get one short "accepted" message.
func TestEscalationAcceptByMailLink(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, true)
	id, tk := p.open(t, "Mail server down")

	msgs := p.mails(t, 1)
	require.Equal(t, []string{"ada@example.com"}, msgs[0].To)
	require.Contains(t, msgs[0].Subject, "created")
	require.Contains(t, msgs[0].Subject, tk.Number)
	var inc struct {
		EscalationRule   *int
		NextEscalationAt *time.Time
	}
	require.NoError(t, p.Do("GET", fmt.Sprint("/api/v1/incidents/", id), nil, 200, &inc))
	require.Equal(t, 1, *inc.EscalationRule)
	require.True(t, inc.NextEscalationAt.Equal(t0.Add(5*time.Minute)), "%v", inc.NextEscalationAt)

	p.advance(t, 4*time.Minute)
	p.quiet(t, 1)
	p.advance(t, time.Minute)
	msgs = p.mails(t, 2)
	require.Equal(t, []string{"bob@example.com"}, msgs[1].To)
	require.Contains(t, msgs[1].Subject, "escalated")

	accept := link(t, msgs[1], "Accept")
	code, body := page(t, "GET", accept)
	require.Equal(t, 200, code)
	require.Contains(t, body, "Nothing changes until you press the button")
	require.Equal(t, "PENDING", incidentStatus(t, p, id), "a GET changes nothing (mail scanners fetch links)")

	code, body = page(t, "POST", accept)
	require.Equal(t, 200, code, body)
	require.Contains(t, body, "ACCEPTED")
	require.Equal(t, "ACCEPTED", incidentStatus(t, p, id))

	code, body = page(t, "POST", accept)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body, "already used")

	p.advance(t, time.Minute) // Bob was paged a moment ago: the throttle holds his next message a minute
	msgs = p.mails(t, 4)      // both paged users hear it was accepted
	var accepted []string
	for _, m := range msgs[2:] {
		require.Contains(t, m.Subject, "accepted")
		accepted = append(accepted, m.To[0])
	}
	require.ElementsMatch(t, []string{"ada@example.com", "bob@example.com"}, accepted)

	p.advance(t, time.Hour)
	p.quiet(t, 4)
	log := p.log(t, id)
	var actor string
	for _, e := range log {
		if e.Kind == "ACCEPTED" {
			actor = *e.Actor
		}
	}
	require.Equal(t, "Bob Byte (link in a notification)", actor)
	require.Contains(t, kinds(log), "ESCALATION_STOPPED")
}

// TestTicketInProgressStopsEscalation: the ticket is taken before rule 1 times out.
func TestTicketInProgressStopsEscalation(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, true)
	id, tk := p.open(t, "Printer on fire")
	p.mails(t, 1)
	p.Fake.SetTicketStatus(tk.ID, p.Fake.StatusValue("In Progress"))
	code, a := callout(t, p.Harness, tk.ID)
	require.Equal(t, 200, code)
	require.Equal(t, "ACCEPTED", a.Action)
	p.advance(t, time.Minute) // past Ada's throttle window
	msgs := p.mails(t, 2)
	require.Equal(t, []string{"ada@example.com"}, msgs[1].To)
	require.Contains(t, msgs[1].Subject, "accepted")
	p.advance(t, 30*time.Minute)
	p.quiet(t, 2)
	require.NotContains(t, subjects(p.mbox.Messages()), "bob@example.com")
	require.Contains(t, kinds(p.log(t, id)), "ESCALATION_STOPPED")
}

// TestRepeatCountExhausted: one rule, repeated once, then the log says it ended.
func TestRepeatCountExhausted(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 1, false)
	id, _ := p.open(t, "Disk full")
	p.mails(t, 1)
	p.advance(t, 5*time.Minute)
	msgs := p.mails(t, 2)
	require.Contains(t, msgs[1].Subject, "escalated")
	p.advance(t, 5*time.Minute)
	end := p.waitLog(t, id, "ESCALATION_ENDED")
	require.Contains(t, end.Text, "2 round(s)")
	p.advance(t, time.Hour)
	p.quiet(t, 2)
	require.Equal(t, "PENDING", incidentStatus(t, p, id))
}

// TestSMTPDownThenBack: a page that cannot be delivered is retried, and sent once.
func TestSMTPDownThenBack(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, false)
	require.NoError(t, p.mbox.Stop())
	id, _ := p.open(t, "VPN down")
	retry := p.waitLog(t, id, "NOTIFICATION_RETRYING")
	require.Contains(t, retry.Text, "Ada Lovelace")
	require.NoError(t, p.mbox.Start())
	for range 10 { // the retry backs off in job-queue time: move the clock past it
		p.advance(t, 10*time.Second)
		if len(p.mbox.Messages()) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	msgs := p.mails(t, 1)
	require.Contains(t, msgs[0].Subject, "created")
	p.waitLog(t, id, "NOTIFIED")
	p.advance(t, 2*time.Minute)
	p.quiet(t, 1)
}

// TestRestartMidEscalation: the service stops after rule 1; the next process
// on the same database pages rule 2 on time, once.
func TestRestartMidEscalation(t *testing.T) {
	dir := t.TempDir()
	fake := autotasktest.NewServer()
	defer fake.Close()
	clock := harness.NewClock(t0)
	mbox := newMailbox(t)
	p1 := startPaging(t, harness.Options{DataDir: dir, Fake: fake, Mailbox: mbox}, clock, 0, true)
	id, _ := p1.open(t, "Firewall down")
	p1.mails(t, 1)
	require.NoError(t, p1.Close())

	p2 := startPaging(t, harness.Options{DataDir: dir, Fake: fake, Mailbox: mbox}, clock, 0, true)
	p2.advance(t, 5*time.Minute)
	msgs := p2.mails(t, 2)
	require.Equal(t, []string{"bob@example.com"}, msgs[1].To, "%v", subjects(msgs))
	p2.advance(t, time.Hour)
	p2.waitLog(t, id, "ESCALATION_ENDED")
	p2.quiet(t, 2)
}

// TestThrottleBundles: pages to one user within a minute become one message.
func TestThrottleBundles(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, false)
	p.open(t, "First")
	p.mails(t, 1)
	p.open(t, "Second")
	p.open(t, "Third")
	p.quiet(t, 1)
	p.advance(t, 61*time.Second)
	msgs := p.mails(t, 2)
	require.Contains(t, msgs[1].Subject, "2 incident updates")
	text := mailText(t, msgs[1])
	require.Contains(t, text, "Second")
	require.Contains(t, text, "Third")
	p.quiet(t, 2)
}

// TestWebhookChannelSigned: a user with a webhook URL gets signed JSON posts.
func TestWebhookChannelSigned(t *testing.T) {
	var mu sync.Mutex
	var got []notify.WebhookPayload
	var secret string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		err := notify.VerifySignature([]byte(secret), r.Header.Get(notify.HeaderSignature),
			r.Header.Get(notify.HeaderTimestamp), body, t0, time.Hour)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var pl notify.WebhookPayload
		if json.Unmarshal(body, &pl) != nil {
			http.Error(w, "bad json", 400)
			return
		}
		got = append(got, pl)
	}))
	defer sink.Close()
	p := startPaging(t, harness.Options{}, nil, 0, false)
	var users struct{ Items []struct{ ID int64 } }
	require.NoError(t, p.Do("GET", "/api/v1/users", nil, 200, &users))
	var ada struct{ WebhookSecret string }
	require.NoError(t, p.Do("PATCH", fmt.Sprint("/api/v1/users/", users.Items[0].ID), map[string]any{"webhookUrl": sink.URL}, 200, &ada))
	require.NotEmpty(t, ada.WebhookSecret)
	mu.Lock()
	secret = ada.WebhookSecret
	mu.Unlock()
	var again struct{ WebhookSecret string }
	require.NoError(t, p.Do("GET", fmt.Sprint("/api/v1/users/", users.Items[0].ID), nil, 200, &again))
	require.Empty(t, again.WebhookSecret, "the secret is shown once")

	id, _ := p.open(t, "Webhook me")
	p.waitLog(t, id, "NOTIFIED")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 }, 30*time.Second, 20*time.Millisecond)
	mu.Lock()
	ev := got[0].Events[0]
	mu.Unlock()
	require.Equal(t, notify.EventCreated, ev.Event)
	require.Equal(t, id, ev.Incident.ID)
	require.Contains(t, ev.AcceptURL, "/actions/")
}

// TestActionLinkTampering: changed, expired and foreign links change nothing.
func TestActionLinkTampering(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, false)
	id, _ := p.open(t, "Tamper")
	msgs := p.mails(t, 1)
	resolve := link(t, msgs[0], "Resolve")
	u, err := url.Parse(resolve)
	require.NoError(t, err)
	tok := strings.TrimPrefix(u.Path, "/actions/")
	payload, sig, _ := strings.Cut(tok, ".")
	for name, bad := range map[string]string{
		"changed signature": payload + "." + strings.Repeat("A", len(sig)),
		"cut off":           payload,
		"garbage":           "not-a-token",
	} {
		code, body := page(t, "POST", p.URL+"/actions/"+bad)
		require.Equal(t, http.StatusGone, code, name)
		require.Contains(t, body, "Nothing was changed", name)
	}
	p.advance(t, 25*time.Hour)
	code, body := page(t, "POST", resolve)
	require.Equal(t, http.StatusGone, code)
	require.Contains(t, body, "expired")
	require.Equal(t, "PENDING", incidentStatus(t, p, id))
}

// TestStepRunsOnce: a step job that runs again, or one that is not due,
// changes nothing (the at-least-once job queue must not page twice).
func TestStepRunsOnce(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, true)
	id, _ := p.open(t, "Duplicate step")
	p.mails(t, 1)
	p.waitLog(t, id, "NOTIFIED")
	before := p.log(t, id)
	ctx := t.Context()
	require.NoError(t, p.App.Engine.Step(ctx, id, 0)) // ran already in the callout's transaction
	require.NoError(t, p.App.Engine.Step(ctx, id, 7)) // not the step due
	require.Equal(t, before, p.log(t, id))
	p.quiet(t, 1)
	notes, err := p.App.Store.IncidentNotifications(ctx, id)
	require.NoError(t, err)
	require.Len(t, notes, 1)
}

// TestAbandonedDeliveryIsSentAgain: a page whose sender died mid-send (its
// notification left SENDING) is taken over once it is 5 minutes old: a page
// is sent at least once, never silently dropped.
func TestAbandonedDeliveryIsSentAgain(t *testing.T) {
	p := startPaging(t, harness.Options{}, nil, 0, false)
	id, _ := p.open(t, "Half sent")
	p.mails(t, 1)
	p.waitLog(t, id, "NOTIFIED")
	notes, err := p.App.Store.IncidentNotifications(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	// What a replica killed between claiming and recording leaves behind.
	_, err = p.App.Store.DB().Exec(`UPDATE notifications SET status = 'SENDING', claimed_at = $1, sent_at = NULL WHERE id = $2`,
		t0.UnixMilli(), notes[0].ID)
	require.NoError(t, err)

	p.clock.Advance(4 * time.Minute) // not abandoned yet
	require.NoError(t, p.App.Engine.Deliver(t.Context(), notes[0].ID))
	p.quiet(t, 1)

	p.clock.Advance(2 * time.Minute)
	require.NoError(t, p.App.Engine.Deliver(t.Context(), notes[0].ID))
	msgs := p.mails(t, 2)
	require.Equal(t, msgs[0].Subject, msgs[1].Subject)
	notes, err = p.App.Store.IncidentNotifications(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, "SENT", notes[0].Status)
}
