package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/store"
)

// PageSize is how many rows a list page shows.
const PageSize = 50

// RefreshSeconds is how often the incident list reloads itself.
const RefreshSeconds = 30

type option struct {
	Value, Label string
	Selected     bool
}

type incidentRow struct {
	store.Incident
	SourceName string
}

type incidentsData struct {
	Status   string
	SourceID int64
	Statuses []option
	Sources  []option
	Items    []incidentRow
	Resolved []incidentRow // the latest resolved ones, under the open ones on the default view
	NextURL  string
	FirstURL string // set when this is not the first page
}

// incident list filters: "" is the default (open incidents, then recently resolved ones).
var statusFilters = []option{
	{Value: "", Label: "Open (pending and accepted)"},
	{Value: incident.Pending, Label: "Pending"},
	{Value: incident.Accepted, Label: "Accepted"},
	{Value: incident.Resolved, Label: "Resolved"},
	{Value: "all", Label: "All"},
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := incidentsData{Status: strings.ToUpper(strings.TrimSpace(q.Get("status")))}
	if d.Status == "ALL" {
		d.Status = "all"
	}
	known := false
	for _, o := range statusFilters {
		o.Selected = o.Value == d.Status
		known = known || o.Selected
		d.Statuses = append(d.Statuses, o)
	}
	if !known {
		d.Status = ""
		d.Statuses[0].Selected = true
	}
	d.SourceID, _ = strconv.ParseInt(q.Get("source"), 10, 64)
	names, err := s.sourceNames(r.Context())
	if err != nil {
		return err
	}
	if _, ok := names[d.SourceID]; !ok {
		d.SourceID = 0
	}
	d.Sources = append(d.Sources, option{Value: "", Label: "All alert sources", Selected: d.SourceID == 0})
	srcs, err := s.Store.Sources(r.Context())
	if err != nil {
		return err
	}
	for _, src := range srcs {
		d.Sources = append(d.Sources, option{Value: strconv.FormatInt(src.ID, 10), Label: src.Name, Selected: src.ID == d.SourceID})
	}

	f := store.IncidentFilter{SourceID: d.SourceID, Limit: PageSize, Cursor: cursorParam(r)}
	switch d.Status {
	case "":
		f.Statuses = []string{incident.Pending, incident.Accepted}
	case "all":
	default:
		f.Statuses = []string{d.Status}
	}
	list, next, err := s.Store.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	if d.Status == "" { // what needs someone first: pending before accepted, newest first within each
		slices.SortStableFunc(list, func(a, b store.Incident) int {
			return boolCmp(a.Status != incident.Pending, b.Status != incident.Pending)
		})
	}
	d.Items = rows(list, names)
	if d.Status == "" && f.Cursor == 0 {
		resolved, _, err := s.Store.Incidents(r.Context(), store.IncidentFilter{SourceID: d.SourceID,
			Statuses: []string{incident.Resolved}, Limit: 10})
		if err != nil {
			return err
		}
		d.Resolved = rows(resolved, names)
	}
	link := func(cursor int64) string {
		v := url.Values{}
		if d.Status != "" {
			v.Set("status", d.Status)
		}
		if d.SourceID != 0 {
			v.Set("source", strconv.FormatInt(d.SourceID, 10))
		}
		if cursor != 0 {
			v.Set("cursor", strconv.FormatInt(cursor, 10))
		}
		if len(v) == 0 {
			return "/incidents"
		}
		return "/incidents?" + v.Encode()
	}
	if next != 0 {
		d.NextURL = link(next)
	}
	if f.Cursor != 0 {
		d.FirstURL = link(0)
	}
	s.renderView(w, r, http.StatusOK, "incidents", view{Title: "Incidents", Nav: "incidents", Refresh: RefreshSeconds, Data: d})
	return nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}

func rows(list []store.Incident, names map[int64]string) []incidentRow {
	out := make([]incidentRow, 0, len(list))
	for _, i := range list {
		out = append(out, incidentRow{Incident: i, SourceName: names[i.SourceID]})
	}
	return out
}

func (s *Server) sourceNames(ctx context.Context) (map[int64]string, error) {
	srcs, err := s.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, src := range srcs {
		out[src.ID] = src.Name
	}
	return out, nil
}

type incidentData struct {
	Incident   store.Incident
	SourceName string
	PolicyID   int64
	PolicyName string
	RuleCount  int
	Log        []store.LogEntry
	Message    string // why the last action did not happen
}

func (s *Server) showIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.renderIncident(w, r, id, http.StatusOK, "")
}

func (s *Server) renderIncident(w http.ResponseWriter, r *http.Request, id int64, status int, message string) error {
	inc, err := s.Store.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	d := incidentData{Incident: inc, Message: message}
	if src, err := s.Store.Source(r.Context(), inc.SourceID); err == nil {
		d.SourceName, d.PolicyID = src.Name, src.EscalationPolicyID
		if p, err := s.Store.Policy(r.Context(), src.EscalationPolicyID); err == nil {
			d.PolicyName, d.RuleCount = p.Name, len(p.Rules)
		}
	}
	if d.Log, err = s.Store.IncidentLog(r.Context(), id); err != nil {
		return err
	}
	title := "Incident " + strconv.FormatInt(id, 10)
	s.renderView(w, r, status, "incident", view{Title: title, Nav: "incidents", Data: d})
	return nil
}

func (s *Server) acceptIncident(w http.ResponseWriter, r *http.Request) error {
	return s.changeIncident(w, r, s.Incidents.Accept, "accepted")
}

func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request) error {
	return s.changeIncident(w, r, s.Incidents.Resolve, "resolved")
}

func (s *Server) changeIncident(w http.ResponseWriter, r *http.Request,
	change func(ctx context.Context, id int64, actor string) (store.Incident, error), done string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, _ := principalFrom(r.Context())
	if _, err := change(r.Context(), id, p.Actor()); err != nil {
		if errors.Is(err, fault.ErrState) {
			return s.renderIncident(w, r, id, http.StatusConflict,
				"This incident is already resolved, so it cannot be accepted.")
		}
		return err
	}
	redirect(w, r, "/incidents/"+strconv.FormatInt(id, 10), done)
	return nil
}
