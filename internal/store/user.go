package store

import (
	"context"
	"fmt"
	"time"
)

// User is a person who can be paged.
type User struct {
	ID                  int64
	Name                string
	Email               string
	WebhookURL          string // "" when the user has no outbound webhook
	WebhookSecretSealed string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

const userCols = "id, name, email, webhook_url, webhook_secret_sealed, created_at, updated_at"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var c, up int64
	if err := row.Scan(&u.ID, &u.Name, &u.Email, &u.WebhookURL, &u.WebhookSecretSealed, &c, &up); err != nil {
		return User{}, mapErr(err)
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(c), fromMillis(up)
	return u, nil
}

// CreateUser inserts u; a taken email gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	row := s.write.QueryRowContext(ctx,
		`INSERT INTO users (name, email, webhook_url, webhook_secret_sealed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+userCols,
		u.Name, u.Email, u.WebhookURL, u.WebhookSecretSealed, millis(u.CreatedAt))
	out, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return out, nil
}

// User reads one user.
func (s *Store) User(ctx context.Context, id int64) (User, error) { return GetUser(ctx, s.read, id) }

// GetUser reads one user through q.
func GetUser(ctx context.Context, q Querier, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// Users lists users by id.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser writes name and email.
func (s *Store) UpdateUser(ctx context.Context, u User) (User, error) {
	row := s.write.QueryRowContext(ctx,
		`UPDATE users SET name = $1, email = $2, webhook_url = $3, webhook_secret_sealed = $4, updated_at = $5
		WHERE id = $6 RETURNING `+userCols,
		u.Name, u.Email, u.WebhookURL, u.WebhookSecretSealed, millis(u.UpdatedAt), u.ID)
	out, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return out, nil
}

// DeleteUser removes a user; ErrConflict while an escalation rule names them.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.write, "users", id)
}

func deleteRow(ctx context.Context, q Querier, table string, id int64) error {
	res, err := q.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete from %s %d: %w", table, id, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete from %s %d: %w", table, id, ErrNotFound)
	}
	return nil
}
