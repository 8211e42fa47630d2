package api

import (
	"net/http"
	"time"

	"github.com/ticketpager/ticketpager/internal/source"
)

type autotaskJSON struct {
	Username        string `json:"username"`
	IntegrationCode string `json:"integrationCode"`
	WebServer       string `json:"webServer"`
}

type sourceJSON struct {
	ID                 int64        `json:"id"`
	Name               string       `json:"name"`
	IntegrationType    string       `json:"integrationType"`
	EscalationPolicyID int64        `json:"escalationPolicyId"`
	Status             string       `json:"status"`
	WebhookURL         string       `json:"webhookUrl"`
	Autotask           autotaskJSON `json:"autotask"`
	CreatedAt          time.Time    `json:"createdAt"`
	UpdatedAt          time.Time    `json:"updatedAt"`
}

// sourceView never carries the Autotask secret.
func sourceView(src source.Source) sourceJSON {
	return sourceJSON{ID: src.ID, Name: src.Name, IntegrationType: src.IntegrationType,
		EscalationPolicyID: src.EscalationPolicyID, Status: src.Status, WebhookURL: src.WebhookURL,
		Autotask:  autotaskJSON{Username: src.Username, IntegrationCode: src.IntegrationCode, WebServer: src.WebServer},
		CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt}
}

type sourceInput struct {
	Name               *string `json:"name"`
	IntegrationType    *string `json:"integrationType"`
	EscalationPolicyID *int64  `json:"escalationPolicyId"`
	Status             *string `json:"status"`
	Autotask           *struct {
		Username        *string `json:"username"`
		Secret          *string `json:"secret"`
		IntegrationCode *string `json:"integrationCode"`
		WebServer       *string `json:"webServer"`
	} `json:"autotask"`
}

func (in sourceInput) input() source.Input {
	out := source.Input{Name: in.Name, IntegrationType: in.IntegrationType, EscalationPolicyID: in.EscalationPolicyID, Status: in.Status}
	if a := in.Autotask; a != nil {
		out.Username, out.Secret, out.IntegrationCode, out.WebServer = a.Username, a.Secret, a.IntegrationCode, a.WebServer
	}
	return out
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	var in sourceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	src, err := s.Sources.Create(r.Context(), in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sourceView(src))
	return nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Sources.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]sourceJSON, 0, len(all))
	for _, src := range all {
		out = append(out, sourceView(src))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	src, err := s.Sources.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceView(src))
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in sourceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	src, err := s.Sources.Update(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceView(src))
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Sources.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	src, err := s.Sources.RotateKey(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceView(src))
	return nil
}
