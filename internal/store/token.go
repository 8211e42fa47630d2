package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// APIToken is an API token as stored (its value is not: only a keyed hash).
type APIToken struct {
	ID         int64
	Name       string
	UserID     int64 // 0: the operator's token, which acts as an admin
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// CreateToken stores the lookup hash of a new API token of a user (0: none).
func (s *Store) CreateToken(ctx context.Context, name, hash string, userID int64, now time.Time) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx,
		`INSERT INTO api_tokens (name, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		name, hash, nullInt(userID), millis(now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create token: %w", mapErr(err))
	}
	return id, nil
}

const tokenCols = `id, name, user_id, created_at, last_used_at`

func scanToken(row interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	var uid, used sql.NullInt64
	var c int64
	if err := row.Scan(&t.ID, &t.Name, &uid, &c, &used); err != nil {
		return APIToken{}, mapErr(err)
	}
	t.UserID, t.CreatedAt, t.LastUsedAt = uid.Int64, fromMillis(c), fromNullMillis(used)
	return t, nil
}

// TokenByHash finds a token by its lookup hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (APIToken, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = $1`, hash))
	if err != nil {
		return APIToken{}, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// APITokens lists every API token.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes an API token.
func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.write, "api_tokens", id)
}

// TouchToken records when a token was last used (at most once a minute).
func (s *Store) TouchToken(ctx context.Context, id int64, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`, millis(now), id, millis(now.Add(-time.Minute)))
	if err != nil {
		return fmt.Errorf("touch token %d: %w", id, mapErr(err))
	}
	return nil
}

// CountTokens says how many API tokens exist.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}
