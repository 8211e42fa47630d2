package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/harness"
)

// TestRoles: an API token carries its user's role; a responder works
// incidents and edits only their own contact details.
func TestRoles(t *testing.T) {
	h := start(t, harness.Options{})
	var resp struct {
		ID   int64
		Role string
	}
	require.NoError(t, h.Do("POST", "/api/v1/users", map[string]any{"name": "Rita Responder", "email": "rita@example.com",
		"role": "RESPONDER", "password": "a long enough password"}, 201, &resp))
	require.Equal(t, "RESPONDER", resp.Role)
	var tok struct{ Token string }
	require.NoError(t, h.Do("POST", "/api/v1/api-tokens", map[string]any{"name": "rita's script", "userId": resp.ID}, 201, &tok))
	require.True(t, strings.HasPrefix(tok.Token, "tp_"))

	var users struct{ Items []struct{ ID int64 } }
	require.NoError(t, h.Do("GET", "/api/v1/users", nil, 200, &users))
	ada := users.Items[0].ID

	cases := []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/api/v1/incidents", nil, 200},
		{"GET", "/api/v1/users", nil, 200},
		{"PATCH", fmt.Sprint("/api/v1/users/", resp.ID), map[string]any{"name": "Rita R."}, 200},
		{"PATCH", fmt.Sprint("/api/v1/users/", resp.ID), map[string]any{"role": "ADMIN"}, 403},
		{"PATCH", fmt.Sprint("/api/v1/users/", ada), map[string]any{"name": "Not Ada"}, 403},
		{"POST", "/api/v1/users", map[string]any{"name": "X", "email": "x@example.com"}, 403},
		{"DELETE", fmt.Sprint("/api/v1/users/", ada), nil, 403},
		{"GET", "/api/v1/escalation-policies", nil, 403},
		{"GET", "/api/v1/alert-sources", nil, 403},
		{"POST", "/api/v1/api-tokens", map[string]any{"name": "more", "userId": resp.ID}, 403},
	}
	for _, c := range cases {
		require.NoError(t, h.DoAs(tok.Token, c.method, c.path, c.body, c.want, nil), "%s %s", c.method, c.path)
	}

	// the responder accepts an incident; the log names them and their token
	tk := newTicket(h, "New", "High")
	_, a := callout(t, h, tk.ID)
	require.NoError(t, h.DoAs(tok.Token, "POST", fmt.Sprintf("/api/v1/incidents/%d/accept", a.IncidentID), nil, 200, nil))
	var log struct{ Items []logItem }
	require.NoError(t, h.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/log", a.IncidentID), nil, 200, &log))
	var actor string
	for _, e := range log.Items {
		if e.Kind == "ACCEPTED" {
			actor = *e.Actor
		}
	}
	require.Equal(t, `Rita R. (API token "rita's script")`, actor)

	// a revoked token stops working
	var list struct{ Items []struct{ ID int64 } }
	require.NoError(t, h.Do("GET", "/api/v1/api-tokens", nil, 200, &list))
	require.NoError(t, h.Do("DELETE", fmt.Sprint("/api/v1/api-tokens/", list.Items[len(list.Items)-1].ID), nil, 204, nil))
	require.NoError(t, h.DoAs(tok.Token, "GET", "/api/v1/incidents", nil, 401, nil))
}

// TestCrossOriginRefused: a browser's cross-site form post (CSRF) is refused
// before any handler runs; the webhook, which browsers do not call, is not affected.
func TestCrossOriginRefused(t *testing.T) {
	h := start(t, harness.Options{})
	tk := newTicket(h, "New", "High")
	_, a := callout(t, h, tk.ID)
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/incidents/%d/accept", h.URL, a.IncidentID), nil)
	req.Header.Set("Authorization", "Bearer "+h.Token)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.NoError(t, h.Do("GET", fmt.Sprint("/api/v1/incidents/", a.IncidentID), nil, 200, nil))
	var inc struct{ Status string }
	require.NoError(t, h.Do("GET", fmt.Sprint("/api/v1/incidents/", a.IncidentID), nil, 200, &inc))
	require.Equal(t, "PENDING", inc.Status)
}
