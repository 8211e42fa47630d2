package store

import (
	"context"
	"fmt"
	"time"
)

// CreateToken stores the lookup hash of a new API token.
func (s *Store) CreateToken(ctx context.Context, name, hash string, now time.Time) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx,
		`INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		name, hash, millis(now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create token: %w", mapErr(err))
	}
	return id, nil
}

// TokenByHash finds a token by its lookup hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (id int64, name string, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT id, name FROM api_tokens WHERE token_hash = $1`, hash).Scan(&id, &name)
	if err != nil {
		return 0, "", fmt.Errorf("token: %w", mapErr(err))
	}
	return id, name, nil
}

// CountTokens says how many API tokens exist.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}
