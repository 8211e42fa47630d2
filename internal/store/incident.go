package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Incident is what people are paged for.
type Incident struct {
	ID                  int64
	SourceID            int64
	Status              string // PENDING, ACCEPTED, RESOLVED
	Priority            string // HIGH, LOW
	Summary             string
	Details             string
	TicketID            int64
	TicketNumber        string
	TicketStatusLabel   string
	TicketPriorityLabel string
	Links               []Link
	CreatedAt           time.Time
	AcceptedAt          *time.Time
	ResolvedAt          *time.Time
	UpdatedAt           time.Time
	EscalationStep      int        // escalation steps run so far
	EscalationRule      int        // 1-based rule notified last; 0 before the first
	NextEscalationAt    *time.Time // when the next step is due; nil when none is
}

// Link is a web link shown with an incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

const incidentCols = `id, alert_source_id, status, priority, summary, details, ticket_id, ticket_number,
	ticket_status_label, ticket_priority_label, links, created_at, accepted_at, resolved_at, updated_at,
	escalation_step, escalation_rule, next_escalation_at`

func scanIncident(row interface{ Scan(...any) error }) (Incident, error) {
	var i Incident
	var links string
	var c, u int64
	var acc, res, next sql.NullInt64
	err := row.Scan(&i.ID, &i.SourceID, &i.Status, &i.Priority, &i.Summary, &i.Details, &i.TicketID, &i.TicketNumber,
		&i.TicketStatusLabel, &i.TicketPriorityLabel, &links, &c, &acc, &res, &u,
		&i.EscalationStep, &i.EscalationRule, &next)
	if err != nil {
		return Incident{}, mapErr(err)
	}
	if err := json.Unmarshal([]byte(links), &i.Links); err != nil {
		return Incident{}, fmt.Errorf("incident %d links: %w", i.ID, err)
	}
	i.CreatedAt, i.UpdatedAt = fromMillis(c), fromMillis(u)
	i.AcceptedAt, i.ResolvedAt, i.NextEscalationAt = fromNullMillis(acc), fromNullMillis(res), fromNullMillis(next)
	return i, nil
}

// InsertIncident adds an incident; the caller links it to its ticket.
func InsertIncident(ctx context.Context, q Querier, i Incident) (Incident, error) {
	links, err := json.Marshal(nonNil(i.Links))
	if err != nil {
		return Incident{}, fmt.Errorf("encode links: %w", err)
	}
	row := q.QueryRowContext(ctx, `INSERT INTO incidents (alert_source_id, status, priority, summary, details, ticket_id,
		ticket_number, ticket_status_label, ticket_priority_label, links, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING `+incidentCols,
		i.SourceID, i.Status, i.Priority, i.Summary, i.Details, i.TicketID, i.TicketNumber,
		i.TicketStatusLabel, i.TicketPriorityLabel, string(links), millis(i.CreatedAt))
	out, err := scanIncident(row)
	if err != nil {
		return Incident{}, fmt.Errorf("insert incident: %w", err)
	}
	return out, nil
}

func nonNil(l []Link) []Link {
	if l == nil {
		return []Link{}
	}
	return l
}

// UpdateIncident writes the status, times and ticket snapshot of i.
func UpdateIncident(ctx context.Context, q Querier, i Incident) error {
	links, err := json.Marshal(nonNil(i.Links))
	if err != nil {
		return fmt.Errorf("encode links: %w", err)
	}
	_, err = q.ExecContext(ctx, `UPDATE incidents SET status = $1, priority = $2, summary = $3, details = $4,
		ticket_number = $5, ticket_status_label = $6, ticket_priority_label = $7, links = $8,
		accepted_at = $9, resolved_at = $10, updated_at = $11, escalation_step = $12, escalation_rule = $13,
		next_escalation_at = $14 WHERE id = $15`,
		i.Status, i.Priority, i.Summary, i.Details, i.TicketNumber, i.TicketStatusLabel, i.TicketPriorityLabel,
		string(links), nullMillis(i.AcceptedAt), nullMillis(i.ResolvedAt), millis(i.UpdatedAt),
		i.EscalationStep, i.EscalationRule, nullMillis(i.NextEscalationAt), i.ID)
	if err != nil {
		return fmt.Errorf("update incident %d: %w", i.ID, mapErr(err))
	}
	return nil
}

func nullMillis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return millis(*t)
}

// GetIncident reads one incident through q (a transaction or a pool); in a
// PostgreSQL transaction it locks the row, so changes to one incident queue up.
func GetIncident(ctx context.Context, q Querier, id int64) (Incident, error) {
	i, err := scanIncident(q.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1`+lockRow(q), id))
	if err != nil {
		return Incident{}, fmt.Errorf("incident %d: %w", id, err)
	}
	return i, nil
}

// Incident reads one incident.
func (s *Store) Incident(ctx context.Context, id int64) (Incident, error) {
	return GetIncident(ctx, s.read, id)
}

// CurrentIncident returns the incident linked to the ticket, or ErrNotFound.
func CurrentIncident(ctx context.Context, q Querier, sourceID, ticketID int64) (Incident, error) {
	row := q.QueryRowContext(ctx, `SELECT `+prefixed("i.", incidentCols)+` FROM ticket_links l
		JOIN incidents i ON i.id = l.incident_id WHERE l.alert_source_id = $1 AND l.ticket_id = $2`+lockRow(q), sourceID, ticketID)
	i, err := scanIncident(row)
	if err != nil {
		return Incident{}, fmt.Errorf("current incident of ticket %d: %w", ticketID, err)
	}
	return i, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for k, c := range parts {
		parts[k] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// LinkTicket makes the incident the ticket's current one. A concurrent link of
// the same ticket fails with ErrConflict: the unique key is the dedup guard.
func LinkTicket(ctx context.Context, q Querier, sourceID, ticketID, incidentID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO ticket_links (alert_source_id, ticket_id, incident_id, created_at)
		VALUES ($1, $2, $3, $4)`, sourceID, ticketID, incidentID, millis(now))
	if err != nil {
		return fmt.Errorf("link ticket %d: %w", ticketID, mapErr(err))
	}
	return nil
}

// UnlinkTicket ends the ticket's current incident link.
func UnlinkTicket(ctx context.Context, q Querier, sourceID, ticketID int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM ticket_links WHERE alert_source_id = $1 AND ticket_id = $2`,
		sourceID, ticketID); err != nil {
		return fmt.Errorf("unlink ticket %d: %w", ticketID, mapErr(err))
	}
	return nil
}

// IncidentFilter selects incidents, newest first; Cursor is the last id seen.
type IncidentFilter struct {
	SourceID int64
	Statuses []string
	Limit    int
	Cursor   int64
}

// Incidents lists incidents matching f and returns the cursor of the next page (0: none).
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]Incident, int64, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.SourceID != 0 {
		where = append(where, "alert_source_id = "+arg(f.SourceID))
	}
	if len(f.Statuses) > 0 {
		var ph []string
		for _, st := range f.Statuses {
			ph = append(ph, arg(st))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Cursor > 0 {
		where = append(where, "id < "+arg(f.Cursor))
	}
	q := `SELECT ` + incidentCols + ` FROM incidents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(f.Limit+1)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list incidents: %w", err)
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// LogEntry is one line of an incident's timeline.
type LogEntry struct {
	ID         int64
	IncidentID int64
	At         time.Time
	Kind       string
	Text       string
	CalloutID  int64  // 0 when no callout caused it
	Actor      string // who did it, "" for the system
}

// AddLog appends to an incident's timeline.
func AddLog(ctx context.Context, q Querier, e LogEntry) error {
	var callout, actor any
	if e.CalloutID != 0 {
		callout = e.CalloutID
	}
	if e.Actor != "" {
		actor = e.Actor
	}
	_, err := q.ExecContext(ctx, `INSERT INTO incident_log (incident_id, at, kind, text, callout_id, actor)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.IncidentID, millis(e.At), e.Kind, e.Text, callout, actor)
	if err != nil {
		return fmt.Errorf("add to incident log %d: %w", e.IncidentID, mapErr(err))
	}
	return nil
}

// IncidentLog reads an incident's timeline, oldest first.
func (s *Store) IncidentLog(ctx context.Context, incidentID int64) ([]LogEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, incident_id, at, kind, text, callout_id, actor
		FROM incident_log WHERE incident_id = $1 ORDER BY id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident log %d: %w", incidentID, err)
	}
	defer rows.Close()
	out := []LogEntry{}
	for rows.Next() {
		var e LogEntry
		var at int64
		var callout sql.NullInt64
		var actor sql.NullString
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Text, &callout, &actor); err != nil {
			return nil, fmt.Errorf("incident log %d: %w", incidentID, err)
		}
		e.At, e.CalloutID, e.Actor = fromMillis(at), callout.Int64, actor.String
		out = append(out, e)
	}
	return out, rows.Err()
}
