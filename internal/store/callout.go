package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Callout is one journaled request from Autotask.
type Callout struct {
	ID                int64
	SourceID          int64
	ReceivedAt        time.Time
	Method            string
	ContentType       string
	Query             string
	Body              string
	BodyTruncated     bool
	TicketID          int64
	TicketNumber      string
	TicketStatusLabel string
	Action            string // "" while being processed
	HTTPStatus        int
	IncidentID        int64
	Error             string
	Attempts          int
	UpdatedAt         time.Time
}

const calloutCols = `id, alert_source_id, received_at, method, content_type, query, body, body_truncated, ticket_id,
	ticket_number, ticket_status_label, action, http_status, incident_id, error, attempts, updated_at`

func scanCallout(row interface{ Scan(...any) error }) (Callout, error) {
	var c Callout
	var recv, upd int64
	var trunc int
	var tid, status, inc sql.NullInt64
	var num, label, action, errText sql.NullString
	err := row.Scan(&c.ID, &c.SourceID, &recv, &c.Method, &c.ContentType, &c.Query, &c.Body, &trunc, &tid,
		&num, &label, &action, &status, &inc, &errText, &c.Attempts, &upd)
	if err != nil {
		return Callout{}, mapErr(err)
	}
	c.ReceivedAt, c.UpdatedAt, c.BodyTruncated = fromMillis(recv), fromMillis(upd), trunc != 0
	c.TicketID, c.TicketNumber, c.TicketStatusLabel = tid.Int64, num.String, label.String
	c.Action, c.HTTPStatus, c.IncidentID, c.Error = action.String, int(status.Int64), inc.Int64, errText.String
	return c, nil
}

// InsertCallout journals a callout before it is processed.
func (s *Store) InsertCallout(ctx context.Context, c Callout) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO callouts (alert_source_id, received_at, method, content_type, query,
		body, body_truncated, attempts, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $2) RETURNING id`,
		c.SourceID, millis(c.ReceivedAt), c.Method, c.ContentType, c.Query, c.Body, boolInt(c.BodyTruncated)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("journal callout: %w", mapErr(err))
	}
	return id, nil
}

// Outcome is the result of one attempt at processing a callout.
type Outcome struct {
	TicketID          int64
	TicketNumber      string
	TicketStatusLabel string
	Action            string
	HTTPStatus        int
	IncidentID        int64
	Error             string
}

// RecordOutcome stores an attempt's outcome and counts the attempt.
func RecordOutcome(ctx context.Context, q Querier, id int64, o Outcome, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE callouts SET
		ticket_id = COALESCE($1, ticket_id), ticket_number = COALESCE($2, ticket_number),
		ticket_status_label = COALESCE($3, ticket_status_label), action = $4, http_status = $5,
		incident_id = COALESCE($6, incident_id), error = $7, attempts = attempts + 1, updated_at = $8 WHERE id = $9`,
		nullInt(o.TicketID), nullString(o.TicketNumber), nullString(o.TicketStatusLabel), o.Action, o.HTTPStatus,
		nullInt(o.IncidentID), nullString(o.Error), millis(now), id)
	if err != nil {
		return fmt.Errorf("record callout %d outcome: %w", id, mapErr(err))
	}
	return nil
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// RecordOutcome is the same outside a transaction.
func (s *Store) RecordOutcome(ctx context.Context, id int64, o Outcome, now time.Time) error {
	return RecordOutcome(ctx, s.write, id, o, now)
}

// Callout reads one journaled callout.
func (s *Store) Callout(ctx context.Context, id int64) (Callout, error) {
	c, err := scanCallout(s.read.QueryRowContext(ctx, `SELECT `+calloutCols+` FROM callouts WHERE id = $1`, id))
	if err != nil {
		return Callout{}, fmt.Errorf("callout %d: %w", id, err)
	}
	return c, nil
}

// Callouts lists a source's journal, newest first; cursor is the last id seen.
func (s *Store) Callouts(ctx context.Context, sourceID int64, limit int, cursor int64) ([]Callout, int64, error) {
	if cursor <= 0 {
		cursor = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+calloutCols+` FROM callouts
		WHERE alert_source_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, sourceID, cursor, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list callouts: %w", err)
	}
	defer rows.Close()
	out := []Callout{}
	for rows.Next() {
		c, err := scanCallout(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list callouts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list callouts: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// StrandedCallouts lists callouts that were journaled before `before` but never
// got an outcome (the process stopped while handling them).
func (s *Store) StrandedCallouts(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM callouts WHERE action IS NULL AND received_at < $1
		ORDER BY id LIMIT $2`, millis(before), limit)
	if err != nil {
		return nil, fmt.Errorf("stranded callouts: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("stranded callouts: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
