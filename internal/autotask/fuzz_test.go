package autotask

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCredentialsAllowed: whatever a zone answer says, credentials go only to
// an https host under autotask.net or to exactly the configured web server.
func FuzzCredentialsAllowed(f *testing.F) {
	for _, s := range []string{"https://webservices5.autotask.net/ATServicesRest/", "https://evil.example/autotask.net",
		"https://autotask.net.evil.example/", "http://webservices5.autotask.net/", "https://user:pw@webservices2.autotask.net/",
		"http://127.0.0.1:8080/ATServicesRest/", "https://WEBSERVICES2.AUTOTASK.NET./x"} {
		f.Add(s, "http://127.0.0.1:8080")
	}
	f.Fuzz(func(t *testing.T, raw, webServer string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		ws, err := normalizeWebServer(webServer)
		key := ""
		if err == nil {
			key = hostKey(ws)
		}
		if !credentialsAllowed(u, key) {
			return
		}
		h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		autotaskHost := u.Scheme == "https" && (h == "autotask.net" || strings.HasSuffix(h, ".autotask.net"))
		if u.User != nil || (!autotaskHost && (key == "" || hostKey(u) != key)) {
			t.Fatalf("credentials allowed to %q with web server %q", raw, webServer)
		}
	})
}

// FuzzParseRetryAfter: no panic, never a negative wait.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-5", "Fri, 27 Nov 2026 09:00:00 GMT", "", "9999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := parseRetryAfter(v, now); ok && d < 0 {
			t.Fatalf("negative wait %s for %q", d, v)
		}
	})
}

// FuzzTicketJSON: any ticket answer decodes or fails cleanly.
func FuzzTicketJSON(f *testing.F) {
	f.Add([]byte(`{"item":{"id":100,"ticketNumber":"T20261127.0001","status":"5","priority":3.0,"queueID":null,"companyID":174}}`))
	f.Add([]byte(`{"item":null}`))
	f.Add([]byte(`{"item":{"id":1e400}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out struct {
			Item *apiTicket `json:"item"`
		}
		_ = json.Unmarshal(b, &out)
	})
}
