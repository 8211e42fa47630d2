package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Policy is an escalation policy: ordered rules, repeated RepeatCount times.
type Policy struct {
	ID          int64
	Name        string
	Rules       []Rule
	RepeatCount int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Rule notifies its users, then escalates after TimeoutMinutes.
type Rule struct {
	TimeoutMinutes int
	UserIDs        []int64
}

// CreatePolicy inserts p with its rules; unknown user ids give ErrConflict.
func (s *Store) CreatePolicy(ctx context.Context, p Policy) (Policy, error) {
	err := s.Tx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO escalation_policies (name, repeat_count, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`,
			p.Name, p.RepeatCount, millis(p.CreatedAt)).Scan(&p.ID)
		if err != nil {
			return mapErr(err)
		}
		return insertRules(ctx, tx, p)
	})
	if err != nil {
		return Policy{}, fmt.Errorf("create escalation policy: %w", err)
	}
	return s.Policy(ctx, p.ID)
}

func insertRules(ctx context.Context, tx *Tx, p Policy) error {
	for i, r := range p.Rules {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO escalation_rules (policy_id, position, timeout_minutes) VALUES ($1, $2, $3)`,
			p.ID, i, r.TimeoutMinutes); err != nil {
			return mapErr(err)
		}
		for j, uid := range r.UserIDs {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO escalation_rule_users (policy_id, rule_position, position, user_id) VALUES ($1, $2, $3, $4)`,
				p.ID, i, j, uid); err != nil {
				return mapErr(err)
			}
		}
	}
	return nil
}

// UpdatePolicy replaces name, repeat count and rules.
func (s *Store) UpdatePolicy(ctx context.Context, p Policy) (Policy, error) {
	err := s.Tx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE escalation_policies SET name = $1, repeat_count = $2, updated_at = $3 WHERE id = $4`,
			p.Name, p.RepeatCount, millis(p.UpdatedAt), p.ID)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM escalation_rules WHERE policy_id = $1`, p.ID); err != nil {
			return mapErr(err)
		}
		return insertRules(ctx, tx, p)
	})
	if err != nil {
		return Policy{}, fmt.Errorf("update escalation policy %d: %w", p.ID, err)
	}
	return s.Policy(ctx, p.ID)
}

// Policy reads one policy with its rules.
func (s *Store) Policy(ctx context.Context, id int64) (Policy, error) {
	return GetPolicy(ctx, s.read, id)
}

// GetPolicy reads one policy with its rules through q.
func GetPolicy(ctx context.Context, q Querier, id int64) (Policy, error) {
	ps, err := policies(ctx, q, `WHERE id = $1`, id)
	if err != nil {
		return Policy{}, err
	}
	if len(ps) == 0 {
		return Policy{}, fmt.Errorf("escalation policy %d: %w", id, ErrNotFound)
	}
	return ps[0], nil
}

// Policies lists every policy by id.
func (s *Store) Policies(ctx context.Context) ([]Policy, error) { return policies(ctx, s.read, "") }

func policies(ctx context.Context, q Querier, where string, args ...any) ([]Policy, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT id, name, repeat_count, created_at, updated_at FROM escalation_policies `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list escalation policies: %w", err)
	}
	var out []Policy
	index := map[int64]int{}
	for rows.Next() {
		var p Policy
		var c, u int64
		if err := rows.Scan(&p.ID, &p.Name, &p.RepeatCount, &c, &u); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list escalation policies: %w", err)
		}
		p.CreatedAt, p.UpdatedAt = fromMillis(c), fromMillis(u)
		index[p.ID] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list escalation policies: %w", err)
	}
	// Rules and their users, in order; few rows, so one query for all.
	rows, err = q.QueryContext(ctx, `
		SELECT r.policy_id, r.position, r.timeout_minutes, u.user_id
		FROM escalation_rules r LEFT JOIN escalation_rule_users u
		  ON u.policy_id = r.policy_id AND u.rule_position = r.position
		ORDER BY r.policy_id, r.position, u.position`)
	if err != nil {
		return nil, fmt.Errorf("list escalation rules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		var pos, timeout int
		var uid sql.NullInt64
		if err := rows.Scan(&pid, &pos, &timeout, &uid); err != nil {
			return nil, fmt.Errorf("list escalation rules: %w", err)
		}
		i, ok := index[pid]
		if !ok {
			continue
		}
		p := &out[i]
		if len(p.Rules) <= pos {
			p.Rules = append(p.Rules, Rule{TimeoutMinutes: timeout, UserIDs: []int64{}})
		}
		if uid.Valid {
			p.Rules[pos].UserIDs = append(p.Rules[pos].UserIDs, uid.Int64)
		}
	}
	return out, rows.Err()
}

// DeletePolicy removes a policy; ErrConflict while an alert source uses it.
func (s *Store) DeletePolicy(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.write, "escalation_policies", id)
}

// Limits of a policy, generous for any real rota; the API and the web UI
// validate against these.
const (
	MaxRules          = 20
	MaxRuleUsers      = 50
	MaxTimeoutMinutes = 7 * 24 * 60
	MaxRepeat         = 20
)
