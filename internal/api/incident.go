package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/store"
)

type ticketJSON struct {
	ID            int64  `json:"id"`
	Number        string `json:"number"`
	StatusLabel   string `json:"statusLabel"`
	PriorityLabel string `json:"priorityLabel"`
}

type incidentJSON struct {
	ID            int64        `json:"id"`
	AlertSourceID int64        `json:"alertSourceId"`
	Status        string       `json:"status"`
	Priority      string       `json:"priority"`
	Summary       string       `json:"summary"`
	Details       string       `json:"details"`
	Ticket        ticketJSON   `json:"ticket"`
	Links         []store.Link `json:"links"`
	CreatedAt     time.Time    `json:"createdAt"`
	AcceptedAt    *time.Time   `json:"acceptedAt"`
	ResolvedAt    *time.Time   `json:"resolvedAt"`
	// EscalationRule is the 1-based rule notified last (null before the first);
	// NextEscalationAt is when the next rule is due, while the incident is pending.
	EscalationRule   *int       `json:"escalationRule"`
	NextEscalationAt *time.Time `json:"nextEscalationAt"`
}

func incidentView(i store.Incident) incidentJSON {
	links := i.Links
	if links == nil {
		links = []store.Link{}
	}
	return incidentJSON{ID: i.ID, AlertSourceID: i.SourceID, Status: i.Status, Priority: i.Priority,
		Summary: i.Summary, Details: i.Details, Links: links, CreatedAt: i.CreatedAt,
		AcceptedAt: i.AcceptedAt, ResolvedAt: i.ResolvedAt, EscalationRule: ptr(i.EscalationRule), NextEscalationAt: i.NextEscalationAt,
		Ticket: ticketJSON{ID: i.TicketID, Number: i.TicketNumber, StatusLabel: i.TicketStatusLabel, PriorityLabel: i.TicketPriorityLabel}}
}

var incidentStatuses = map[string]bool{incident.Pending: true, incident.Accepted: true, incident.Resolved: true}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := page(r)
	if err != nil {
		return err
	}
	f := store.IncidentFilter{Limit: limit, Cursor: cursor}
	q := r.URL.Query()
	if v := q.Get("alertSourceId"); v != "" {
		if f.SourceID, err = strconv.ParseInt(v, 10, 64); err != nil || f.SourceID < 1 {
			return fault.Invalidf("alertSourceId", "must be an alert source id")
		}
	}
	for _, v := range q["status"] {
		for st := range strings.SplitSeq(v, ",") {
			st = strings.ToUpper(strings.TrimSpace(st))
			if !incidentStatuses[st] {
				return fault.Invalidf("status", "must be PENDING, ACCEPTED or RESOLVED (comma-separated for several)")
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	list, next, err := s.Store.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]incidentJSON, 0, len(list))
	for _, i := range list {
		out = append(out, incidentView(i))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "nextCursor": cursorString(next)})
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	i, err := s.Store.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incidentView(i))
	return nil
}

type logJSON struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	CalloutID *int64    `json:"calloutId"`
	Actor     *string   `json:"actor"`
}

func (s *Server) incidentLog(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.Store.Incident(r.Context(), id); err != nil {
		return err
	}
	entries, err := s.Store.IncidentLog(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]logJSON, 0, len(entries))
	for _, e := range entries {
		j := logJSON{ID: e.ID, At: e.At, Kind: e.Kind, Text: e.Text}
		if e.CalloutID != 0 {
			j.CalloutID = &e.CalloutID
		}
		if e.Actor != "" {
			j.Actor = &e.Actor
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) acceptIncident(w http.ResponseWriter, r *http.Request) error {
	return s.changeIncident(w, r, s.Incidents.Accept)
}

func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request) error {
	return s.changeIncident(w, r, s.Incidents.Resolve)
}

func (s *Server) changeIncident(w http.ResponseWriter, r *http.Request,
	change func(ctx context.Context, id int64, actor string) (store.Incident, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	i, err := change(r.Context(), id, actor(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incidentView(i))
	return nil
}
