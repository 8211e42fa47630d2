package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one route table.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{}))

	// The webhook's integration key is its credential: no bearer token.
	mux.HandleFunc("/api/v1/events/autotask/{key}", s.autotaskCallout)
	// Links in notifications carry their own signed, single-use token.
	mux.HandleFunc("GET /actions/{token}", s.showAction)
	mux.HandleFunc("POST /actions/{token}", s.doAction)

	// A route's role: anyone signed in with a token, or admins only.
	api := func(role, pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, s.authenticated(role, h))
	}
	api(adminOnly, "POST /api/v1/users", s.createUser)
	api(anyone, "GET /api/v1/users", s.listUsers)
	api(anyone, "GET /api/v1/users/{id}", s.getUser)
	api(anyone, "PATCH /api/v1/users/{id}", s.updateUser) // a responder only themself, not their role
	api(adminOnly, "DELETE /api/v1/users/{id}", s.deleteUser)

	api(adminOnly, "POST /api/v1/escalation-policies", s.createPolicy)
	api(adminOnly, "GET /api/v1/escalation-policies", s.listPolicies)
	api(adminOnly, "GET /api/v1/escalation-policies/{id}", s.getPolicy)
	api(adminOnly, "PATCH /api/v1/escalation-policies/{id}", s.updatePolicy)
	api(adminOnly, "DELETE /api/v1/escalation-policies/{id}", s.deletePolicy)

	api(adminOnly, "POST /api/v1/alert-sources", s.createSource)
	api(adminOnly, "GET /api/v1/alert-sources", s.listSources)
	api(adminOnly, "GET /api/v1/alert-sources/{id}", s.getSource)
	api(adminOnly, "PATCH /api/v1/alert-sources/{id}", s.updateSource)
	api(adminOnly, "DELETE /api/v1/alert-sources/{id}", s.deleteSource)
	api(adminOnly, "POST /api/v1/alert-sources/{id}/rotate-key", s.rotateKey)
	api(adminOnly, "GET /api/v1/alert-sources/{id}/callouts", s.listCallouts)

	api(adminOnly, "POST /api/v1/api-tokens", s.createToken)
	api(adminOnly, "GET /api/v1/api-tokens", s.listTokens)
	api(adminOnly, "DELETE /api/v1/api-tokens/{id}", s.deleteToken)

	api(anyone, "GET /api/v1/incidents", s.listIncidents)
	api(anyone, "GET /api/v1/incidents/{id}", s.getIncident)
	api(anyone, "GET /api/v1/incidents/{id}/log", s.incidentLog)
	api(anyone, "POST /api/v1/incidents/{id}/accept", s.acceptIncident)
	api(anyone, "POST /api/v1/incidents/{id}/resolve", s.resolveIncident)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.Ping(r.Context()); err != nil {
		s.Logger.Warn("not ready", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
