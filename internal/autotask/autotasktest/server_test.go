package autotasktest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type rawResp struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, method, url string, body string, auth bool) rawResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if auth {
		req.Header.Set("ApiIntegrationCode", "CODE")
		req.Header.Set("UserName", "api@example.com")
		req.Header.Set("Secret", "pw")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return rawResp{resp.StatusCode, resp.Header, m}
}

func newFake(t *testing.T) *Server {
	s := NewServer()
	t.Cleanup(s.Close)
	s.AddCredentials("api@example.com", "pw", "CODE")
	return s
}

func TestZone(t *testing.T) {
	s := newFake(t)
	r := do(t, "GET", s.URL()+"/ATServicesRest/V1.0/zoneInformation?user=API%40example.com", "", false)
	require.Equal(t, 200, r.status)
	require.Equal(t, s.URL()+"/ATServicesRest/", r.body["url"])
	require.Equal(t, s.URL()+"/", r.body["webUrl"])

	r = do(t, "GET", s.URL()+"/atservicesrest/v1.0/zoneinformation?user=nobody", "", false)
	require.Equal(t, 404, r.status)
	require.NotEmpty(t, r.body["errors"])

	s.MoveZone()
	r = do(t, "GET", s.URL()+"/atservicesrest/v1.0/zoneInformation?user=api@example.com", "", false)
	require.Equal(t, s.URL()+"/z1/ATServicesRest/", r.body["url"])
	s.AddTicket(Ticket{})
	require.Equal(t, 401, do(t, "GET", s.URL()+"/ATServicesRest/V1.0/Tickets/100", "", true).status)
	require.Equal(t, 200, do(t, "GET", s.URL()+"/z1/ATServicesRest/V1.0/Tickets/100", "", true).status)

	s.ZoneURL("https://elsewhere.example/ATServicesRest/")
	r = do(t, "GET", s.URL()+"/atservicesrest/v1.0/zoneInformation?user=api@example.com", "", false)
	require.Equal(t, "https://elsewhere.example/ATServicesRest/", r.body["url"])
	require.Equal(t, 4, s.Requests(EndpointZone))
}

func TestAuthAndTickets(t *testing.T) {
	s := newFake(t)
	s.AddCompany(174, "Acme")
	a := s.AddTicket(Ticket{Title: "a", CompanyID: 174})
	b := s.AddTicket(Ticket{Title: "b", QueueID: 29682833, Status: s.StatusValue("Complete")})
	require.Equal(t, int64(100), a.ID)
	require.Equal(t, "T20261127.0001", a.Number)
	require.Equal(t, int64(101), b.ID)
	require.Equal(t, "T20261127.0002", b.Number)
	require.Equal(t, s.StatusValue("New"), a.Status)
	require.Equal(t, s.PriorityValue("Medium"), a.Priority)
	require.Equal(t, -1, s.StatusValue("No Such Status"))

	base := s.URL() + "/ATServicesRest/V1.0/"
	r := do(t, "GET", base+"Tickets/100", "", false)
	require.Equal(t, 401, r.status)
	require.NotEmpty(t, r.body["errors"])

	r = do(t, "GET", base+"Tickets/100", "", true)
	require.Equal(t, 200, r.status)
	item := r.body["item"].(map[string]any)
	require.Equal(t, "T20261127.0001", item["ticketNumber"])
	require.Nil(t, item["queueID"])
	require.EqualValues(t, 174, item["companyID"])

	require.Equal(t, 404, do(t, "GET", base+"Tickets/999", "", true).status)
	s.SetNullForMissing(true)
	r = do(t, "GET", base+"Tickets/999", "", true)
	require.Equal(t, 200, r.status)
	require.Nil(t, r.body["item"])

	s.SetTicketStatus(101, s.StatusValue("In Progress"))
	r = do(t, "POST", base+"Tickets/query", `{"filter":[{"op":"eq","field":"ticketNumber","value":"t20261127.0002"}]}`, true)
	require.Equal(t, 200, r.status)
	items := r.body["items"].([]any)
	require.Len(t, items, 1)
	require.EqualValues(t, s.StatusValue("In Progress"), items[0].(map[string]any)["status"])
	require.EqualValues(t, 29682833, items[0].(map[string]any)["queueID"])

	r = do(t, "POST", base+"Tickets/query", `{"filter":[{"op":"eq","field":"ticketNumber","value":"T1"}]}`, true)
	require.Empty(t, r.body["items"])
	require.Equal(t, 500, do(t, "POST", base+"Tickets/query", `{"filter":[{"op":"like","field":"title","value":"x"}]}`, true).status)

	r = do(t, "GET", base+"Companies/174", "", true)
	require.Equal(t, "Acme", r.body["item"].(map[string]any)["companyName"])

	r = do(t, "GET", base+"Tickets/entityInformation/fields", "", true)
	var statusValues []any
	for _, f := range r.body["fields"].([]any) {
		if f.(map[string]any)["name"] == "status" {
			statusValues = f.(map[string]any)["picklistValues"].([]any)
		}
	}
	require.NotEmpty(t, statusValues)
	require.Equal(t, "1", statusValues[0].(map[string]any)["value"], "picklist values are strings")
	require.Equal(t, "New", statusValues[0].(map[string]any)["label"])

	require.Equal(t, 4, s.Requests(EndpointTickets))
	require.Equal(t, 3, s.Requests(EndpointQuery))
	require.Equal(t, 1, s.Requests(EndpointCompanies))
	require.Equal(t, 1, s.Requests(EndpointFields))
	require.Equal(t, 9, s.TotalRequests())
}

func TestFailuresAndDown(t *testing.T) {
	s := newFake(t)
	s.AddTicket(Ticket{})
	url := s.URL() + "/ATServicesRest/V1.0/Tickets/100"
	s.FailNext(EndpointTickets, 2, 429, 1500*time.Millisecond)
	for range 2 {
		r := do(t, "GET", url, "", true)
		require.Equal(t, 429, r.status)
		require.Equal(t, "2", r.header.Get("Retry-After"))
		require.NotEmpty(t, r.body["errors"])
	}
	require.Equal(t, 200, do(t, "GET", url, "", true).status)

	s.SetDown(true)
	require.Equal(t, 503, do(t, "GET", url, "", true).status)
	s.SetDown(false)
	require.Equal(t, 200, do(t, "GET", url, "", true).status)
}

func TestThreadLimitEnforced(t *testing.T) {
	s := newFake(t)
	for range 10 {
		s.AddTicket(Ticket{})
	}
	s.SetLatency(200 * time.Millisecond)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 10 {
		wg.Go(func() {
			r := do(t, "GET", s.URL()+"/ATServicesRest/V1.0/Tickets/"+strconv.Itoa(100+i), "", true)
			mu.Lock()
			codes[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, 10, codes[200]+codes[429])
	require.Greater(t, codes[429], 0, "more than 3 concurrent requests are refused")
	require.Equal(t, codes[429], s.Throttled())
	require.Greater(t, s.MaxConcurrent(EndpointTickets), ThreadLimit)
}
