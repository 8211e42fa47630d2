package store

import (
	"context"
	"database/sql"
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
	Role                string // ADMIN or RESPONDER
	PasswordHash        string // "" until a password is set: no sign-in
	FailedLogins        int
	LockedUntil         *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

const userCols = `id, name, email, webhook_url, webhook_secret_sealed, role, password_hash, failed_logins, locked_until,
	created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var c, up int64
	var locked sql.NullInt64
	if err := row.Scan(&u.ID, &u.Name, &u.Email, &u.WebhookURL, &u.WebhookSecretSealed, &u.Role, &u.PasswordHash,
		&u.FailedLogins, &locked, &c, &up); err != nil {
		return User{}, mapErr(err)
	}
	u.CreatedAt, u.UpdatedAt, u.LockedUntil = fromMillis(c), fromMillis(up), fromNullMillis(locked)
	return u, nil
}

// CreateUser inserts u; a taken email gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	row := s.write.QueryRowContext(ctx,
		`INSERT INTO users (name, email, webhook_url, webhook_secret_sealed, role, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING `+userCols,
		u.Name, u.Email, u.WebhookURL, u.WebhookSecretSealed, defaultRole(u.Role), u.PasswordHash, millis(u.CreatedAt))
	out, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return out, nil
}

func defaultRole(r string) string {
	if r == "" {
		return "RESPONDER"
	}
	return r
}

// UserByEmail finds a user by (lowercased) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, email))
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// RecordLogin notes a sign-in attempt: a failure counts up and may lock the
// account until lockUntil; a success clears the count.
func (s *Store) RecordLogin(ctx context.Context, id int64, ok bool, lockAfter int, lockUntil time.Time) error {
	var err error
	if ok {
		_, err = s.write.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, id)
	} else {
		_, err = s.write.ExecContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1,
			locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END WHERE id = $3`,
			lockAfter, millis(lockUntil), id)
	}
	if err != nil {
		return fmt.Errorf("record sign-in of user %d: %w", id, mapErr(err))
	}
	return nil
}

// CountAdmins says how many users can sign in as admins.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'ADMIN' AND password_hash <> ''`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
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
		`UPDATE users SET name = $1, email = $2, webhook_url = $3, webhook_secret_sealed = $4, role = $5,
		password_hash = $6, updated_at = $7 WHERE id = $8 RETURNING `+userCols,
		u.Name, u.Email, u.WebhookURL, u.WebhookSecretSealed, defaultRole(u.Role), u.PasswordHash, millis(u.UpdatedAt), u.ID)
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
