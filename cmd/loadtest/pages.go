package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
)

// firstPages measures the time from a callout's arrival to the first page
// handed to the SMTP server, over n new incidents. Each incident comes in on
// its own alert source whose policy pages its own user, so the per-user
// throttle (one message a minute) does not hold pages back; callouts are sent
// at rate per second.
func firstPages(h *harness.Harness, mbox *harness.Mailbox, n int, rate float64) {
	type target struct {
		webhook string
		ticket  int64
	}
	targets := make([]target, n)
	for i := range n {
		var user, policy, src struct {
			ID         int64
			WebhookURL string
		}
		must(h.Do("POST", "/api/v1/users", map[string]any{"name": fmt.Sprint("On-call ", i), "email": fmt.Sprintf("oncall%d@example.com", i)}, 201, &user))
		must(h.Do("POST", "/api/v1/escalation-policies", map[string]any{"name": fmt.Sprint("Team ", i), "repeatCount": 0,
			"rules": []any{map[string]any{"escalationTimeoutMinutes": 30, "userIds": []int64{user.ID}}}}, 201, &policy))
		must(h.Do("POST", "/api/v1/alert-sources", map[string]any{"name": fmt.Sprint("Autotask ", i), "integrationType": "AUTOTASK",
			"escalationPolicyId": policy.ID, "autotask": map[string]any{"username": harness.Username, "secret": harness.Secret,
				"integrationCode": harness.IntegrationCode, "webServer": h.Fake.URL()}}, 201, &src))
		t := h.Fake.AddTicket(autotasktest.Ticket{Title: fmt.Sprint("Outage ", i), Status: h.Fake.StatusValue("New"),
			Priority: h.Fake.PriorityValue("High"), CompanyID: harness.CompanyID})
		targets[i] = target{src.WebhookURL, t.ID}
	}
	sent := make(map[string]time.Time, n) // incident id -> when its callout was sent
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for _, tg := range targets {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp, err := h.HTTP.PostForm(tg.webhook, url.Values{"TicketID": {strconv.FormatInt(tg.ticket, 10)}})
			if err != nil {
				log.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				log.Fatalf("callout answered %d", resp.StatusCode)
			}
			var a struct{ IncidentID int64 }
			must(decodeJSON(resp, &a))
			mu.Lock()
			sent[strconv.FormatInt(a.IncidentID, 10)] = start
			mu.Unlock()
		}()
	}
	wg.Wait()
	msgs, err := mbox.Wait(n, 60*time.Second)
	must(err)
	var lat []time.Duration
	for _, m := range msgs {
		id := strings.TrimSpace(m.Header.Get("X-Ticketpager-Incident"))
		if t, ok := sent[id]; ok {
			lat = append(lat, m.Received.Sub(t))
			delete(sent, id) // the first page of each incident only
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("first pages:           %d incidents, callouts at %.0f/s, SMTP on loopback\n", len(lat), rate)
	fmt.Printf("callout -> SMTP p50/p99: %s / %s (max %s)\n", pct(0.5).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func decodeJSON(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
