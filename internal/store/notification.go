package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Notification statuses.
const (
	NotifyPending = "PENDING"
	NotifySending = "SENDING"
	NotifySent    = "SENT"
	NotifySkipped = "SKIPPED"
	NotifyFailed  = "FAILED"
)

// Notification is one event for one user on one channel.
type Notification struct {
	ID         int64
	IncidentID int64
	UserID     int64
	Channel    string
	Event      string
	Rule       int
	Actor      string
	Status     string
	Delivery   string
	Attempts   int
	Error      string
	CreatedAt  time.Time
}

const notificationCols = `id, incident_id, user_id, channel, event, rule, actor, status, delivery, attempts, error, created_at`

func scanNotification(row interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var delivery, errText sql.NullString
	var c int64
	err := row.Scan(&n.ID, &n.IncidentID, &n.UserID, &n.Channel, &n.Event, &n.Rule, &n.Actor, &n.Status,
		&delivery, &n.Attempts, &errText, &c)
	if err != nil {
		return Notification{}, mapErr(err)
	}
	n.Delivery, n.Error, n.CreatedAt = delivery.String, errText.String, fromMillis(c)
	return n, nil
}

// InsertNotification queues a notification as PENDING.
func InsertNotification(ctx context.Context, q Querier, n Notification) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO notifications (incident_id, user_id, channel, event, rule, actor, status,
		attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) RETURNING id`,
		n.IncidentID, n.UserID, n.Channel, n.Event, n.Rule, n.Actor, NotifyPending, millis(n.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue notification: %w", mapErr(err))
	}
	return id, nil
}

// GetNotification reads one notification.
func GetNotification(ctx context.Context, q Querier, id int64) (Notification, error) {
	n, err := scanNotification(q.QueryRowContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE id = $1`, id))
	if err != nil {
		return Notification{}, fmt.Errorf("notification %d: %w", id, err)
	}
	return n, nil
}

// ClaimNotifications marks every pending notification of a user on a channel
// as being sent in delivery, and returns them. Rows left SENDING by a process
// that died before staleBefore are claimed again: a page is sent at least once.
func ClaimNotifications(ctx context.Context, q Querier, userID int64, channel, delivery string, now, staleBefore time.Time) ([]Notification, error) {
	_, err := q.ExecContext(ctx, `UPDATE notifications SET status = $1, delivery = $2, claimed_at = $3
		WHERE user_id = $4 AND channel = $5 AND (status = $6 OR (status = $1 AND claimed_at < $7))`,
		NotifySending, delivery, millis(now), userID, channel, NotifyPending, millis(staleBefore))
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", mapErr(err))
	}
	return notifications(ctx, q, `WHERE delivery = $1 AND status = $2 ORDER BY id`, delivery, NotifySending)
}

func notifications(ctx context.Context, q Querier, where string, args ...any) ([]Notification, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// FinishDelivery records the outcome of a delivery's attempt: SENT, FAILED,
// SKIPPED, or PENDING again to be retried.
func FinishDelivery(ctx context.Context, q Querier, delivery, status, errText string, now time.Time) error {
	var sent any
	if status == NotifySent {
		sent = millis(now)
	}
	_, err := q.ExecContext(ctx, `UPDATE notifications SET status = $1, error = $2, sent_at = $3, attempts = attempts + 1
		WHERE delivery = $4 AND status = $5`, status, nullString(errText), sent, delivery, NotifySending)
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", delivery, mapErr(err))
	}
	return nil
}

// SetNotificationStatus changes one notification, e.g. to SKIPPED.
func SetNotificationStatus(ctx context.Context, q Querier, id int64, status string) error {
	if _, err := q.ExecContext(ctx, `UPDATE notifications SET status = $1 WHERE id = $2`, status, id); err != nil {
		return fmt.Errorf("notification %d: %w", id, mapErr(err))
	}
	return nil
}

// SkipPendingPages drops the pages of an incident not yet sent: it no longer needs anyone.
func SkipPendingPages(ctx context.Context, q Querier, incidentID int64, pageEvents []string) error {
	for _, ev := range pageEvents {
		if _, err := q.ExecContext(ctx, `UPDATE notifications SET status = $1 WHERE incident_id = $2 AND status = $3 AND event = $4`,
			NotifySkipped, incidentID, NotifyPending, ev); err != nil {
			return fmt.Errorf("skip pages of incident %d: %w", incidentID, mapErr(err))
		}
	}
	return nil
}

// Paged lists the users and channels an incident has paged (sent or being sent).
func Paged(ctx context.Context, q Querier, incidentID int64, pageEvents []string) ([]Notification, error) {
	var out []Notification
	seen := map[string]bool{}
	for _, ev := range pageEvents {
		list, err := notifications(ctx, q, `WHERE incident_id = $1 AND event = $2 AND status IN ($3, $4) ORDER BY id`,
			incidentID, ev, NotifySent, NotifySending)
		if err != nil {
			return nil, err
		}
		for _, n := range list {
			k := fmt.Sprint(n.UserID, n.Channel)
			if !seen[k] {
				seen[k] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// IncidentNotifications lists an incident's notifications, oldest first.
func (s *Store) IncidentNotifications(ctx context.Context, incidentID int64) ([]Notification, error) {
	return notifications(ctx, s.read, `WHERE incident_id = $1 ORDER BY id`, incidentID)
}

// LastSent is when the user was last sent a message on the channel (zero: never).
func LastSent(ctx context.Context, q Querier, userID int64, channel string) (time.Time, error) {
	var at int64
	err := q.QueryRowContext(ctx, `SELECT last_sent_at FROM notify_throttle WHERE user_id = $1 AND channel = $2`,
		userID, channel).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("throttle of user %d: %w", userID, err)
	}
	return fromMillis(at), nil
}

// SetLastSent records when the user was last sent a message on the channel.
func SetLastSent(ctx context.Context, q Querier, userID int64, channel string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO notify_throttle (user_id, channel, last_sent_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, channel) DO UPDATE SET last_sent_at = excluded.last_sent_at`, userID, channel, millis(at))
	if err != nil {
		return fmt.Errorf("throttle of user %d: %w", userID, mapErr(err))
	}
	return nil
}

// UseActionToken records a single-use link's nonce; ErrConflict when it was used before.
func UseActionToken(ctx context.Context, q Querier, nonce string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO used_action_tokens (nonce, used_at) VALUES ($1, $2)`, nonce, millis(now))
	if err != nil {
		return fmt.Errorf("use action link: %w", mapErr(err))
	}
	return nil
}

// UsersByID reads the users with the given ids.
func UsersByID(ctx context.Context, q Querier, ids []int64) (map[int64]User, error) {
	out := make(map[int64]User, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		u, err := GetUser(ctx, q, id)
		if err != nil {
			return nil, err
		}
		out[id] = u
	}
	return out, nil
}

// CountNotifications says how many notifications have a status.
func (s *Store) CountNotifications(ctx context.Context, status string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE status = $1`, status).Scan(&n); err != nil {
		return 0, fmt.Errorf("count notifications: %w", err)
	}
	return n, nil
}
