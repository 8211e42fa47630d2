package store

import (
	"context"
	"fmt"
	"time"
)

// AlertSource is one configured inbound integration, as stored: secrets sealed.
type AlertSource struct {
	ID                 int64
	Name               string
	IntegrationType    string
	EscalationPolicyID int64
	Status             string
	KeyHash            string
	KeySealed          string
	Username           string
	SecretSealed       string
	IntegrationCode    string
	WebServer          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

const sourceCols = `id, name, integration_type, escalation_policy_id, status, key_hash, key_sealed,
	autotask_username, autotask_secret_sealed, autotask_integration_code, autotask_web_server, created_at, updated_at`

func scanSource(row interface{ Scan(...any) error }) (AlertSource, error) {
	var a AlertSource
	var c, u int64
	err := row.Scan(&a.ID, &a.Name, &a.IntegrationType, &a.EscalationPolicyID, &a.Status, &a.KeyHash, &a.KeySealed,
		&a.Username, &a.SecretSealed, &a.IntegrationCode, &a.WebServer, &c, &u)
	if err != nil {
		return AlertSource{}, mapErr(err)
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(c), fromMillis(u)
	return a, nil
}

// CreateSource inserts a; an unknown policy gives ErrConflict.
func (s *Store) CreateSource(ctx context.Context, a AlertSource) (AlertSource, error) {
	row := s.write.QueryRowContext(ctx, `INSERT INTO alert_sources (name, integration_type, escalation_policy_id, status,
		key_hash, key_sealed, autotask_username, autotask_secret_sealed, autotask_integration_code, autotask_web_server,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING `+sourceCols,
		a.Name, a.IntegrationType, a.EscalationPolicyID, a.Status, a.KeyHash, a.KeySealed,
		a.Username, a.SecretSealed, a.IntegrationCode, a.WebServer, millis(a.CreatedAt))
	out, err := scanSource(row)
	if err != nil {
		return AlertSource{}, fmt.Errorf("create alert source: %w", err)
	}
	return out, nil
}

// UpdateSource writes every field but the id and creation time.
func (s *Store) UpdateSource(ctx context.Context, a AlertSource) (AlertSource, error) {
	row := s.write.QueryRowContext(ctx, `UPDATE alert_sources SET name = $1, escalation_policy_id = $2, status = $3,
		key_hash = $4, key_sealed = $5, autotask_username = $6, autotask_secret_sealed = $7,
		autotask_integration_code = $8, autotask_web_server = $9, updated_at = $10 WHERE id = $11 RETURNING `+sourceCols,
		a.Name, a.EscalationPolicyID, a.Status, a.KeyHash, a.KeySealed, a.Username, a.SecretSealed,
		a.IntegrationCode, a.WebServer, millis(a.UpdatedAt), a.ID)
	out, err := scanSource(row)
	if err != nil {
		return AlertSource{}, fmt.Errorf("update alert source %d: %w", a.ID, err)
	}
	return out, nil
}

// Source reads one alert source.
func (s *Store) Source(ctx context.Context, id int64) (AlertSource, error) {
	return GetSource(ctx, s.read, id)
}

// GetSource reads one alert source through q. Inside a transaction, read
// through the transaction: a second connection could wait on the pool forever.
func GetSource(ctx context.Context, q Querier, id int64) (AlertSource, error) {
	a, err := scanSource(q.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM alert_sources WHERE id = $1`, id))
	if err != nil {
		return AlertSource{}, fmt.Errorf("alert source %d: %w", id, err)
	}
	return a, nil
}

// SourceByKeyHash finds the source whose integration key has this lookup hash.
func (s *Store) SourceByKeyHash(ctx context.Context, hash string) (AlertSource, error) {
	a, err := scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM alert_sources WHERE key_hash = $1`, hash))
	if err != nil {
		return AlertSource{}, fmt.Errorf("alert source by key: %w", err)
	}
	return a, nil
}

// Sources lists alert sources by id.
func (s *Store) Sources(ctx context.Context) ([]AlertSource, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceCols+` FROM alert_sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list alert sources: %w", err)
	}
	defer rows.Close()
	var out []AlertSource
	for rows.Next() {
		a, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("list alert sources: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteSource removes a source with its incidents and callout journal.
func (s *Store) DeleteSource(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.write, "alert_sources", id)
}
