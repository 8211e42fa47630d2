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

	api := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, s.authenticated(h))
	}
	api("POST /api/v1/users", s.createUser)
	api("GET /api/v1/users", s.listUsers)
	api("GET /api/v1/users/{id}", s.getUser)
	api("PATCH /api/v1/users/{id}", s.updateUser)
	api("DELETE /api/v1/users/{id}", s.deleteUser)

	api("POST /api/v1/escalation-policies", s.createPolicy)
	api("GET /api/v1/escalation-policies", s.listPolicies)
	api("GET /api/v1/escalation-policies/{id}", s.getPolicy)
	api("PATCH /api/v1/escalation-policies/{id}", s.updatePolicy)
	api("DELETE /api/v1/escalation-policies/{id}", s.deletePolicy)

	api("POST /api/v1/alert-sources", s.createSource)
	api("GET /api/v1/alert-sources", s.listSources)
	api("GET /api/v1/alert-sources/{id}", s.getSource)
	api("PATCH /api/v1/alert-sources/{id}", s.updateSource)
	api("DELETE /api/v1/alert-sources/{id}", s.deleteSource)
	api("POST /api/v1/alert-sources/{id}/rotate-key", s.rotateKey)
	api("GET /api/v1/alert-sources/{id}/callouts", s.listCallouts)

	api("GET /api/v1/incidents", s.listIncidents)
	api("GET /api/v1/incidents/{id}", s.getIncident)
	api("GET /api/v1/incidents/{id}/log", s.incidentLog)
	api("POST /api/v1/incidents/{id}/accept", s.acceptIncident)
	api("POST /api/v1/incidents/{id}/resolve", s.resolveIncident)
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
