package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/store"
)

type ruleJSON struct {
	EscalationTimeoutMinutes int     `json:"escalationTimeoutMinutes"`
	UserIDs                  []int64 `json:"userIds"`
}

type policyJSON struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Rules       []ruleJSON `json:"rules"`
	RepeatCount int        `json:"repeatCount"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

func policyView(p store.Policy) policyJSON {
	out := policyJSON{ID: p.ID, Name: p.Name, RepeatCount: p.RepeatCount, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Rules: []ruleJSON{}}
	for _, r := range p.Rules {
		out.Rules = append(out.Rules, ruleJSON{EscalationTimeoutMinutes: r.TimeoutMinutes, UserIDs: r.UserIDs})
	}
	return out
}

type policyInput struct {
	Name        *string     `json:"name"`
	Rules       *[]ruleJSON `json:"rules"`
	RepeatCount *int        `json:"repeatCount"`
}

func (in policyInput) apply(p *store.Policy) error {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 200 {
			return fault.Invalidf("name", "must be 1 to 200 characters")
		}
		p.Name = n
	}
	if in.RepeatCount != nil {
		if *in.RepeatCount < 0 || *in.RepeatCount > store.MaxRepeat {
			return fault.Invalidf("repeatCount", "must be from 0 to %d", store.MaxRepeat)
		}
		p.RepeatCount = *in.RepeatCount
	}
	if in.Rules != nil {
		rules := *in.Rules
		if len(rules) == 0 || len(rules) > store.MaxRules {
			return fault.Invalidf("rules", "must hold 1 to %d rules", store.MaxRules)
		}
		p.Rules = nil
		for i, r := range rules {
			if r.EscalationTimeoutMinutes < 1 || r.EscalationTimeoutMinutes > store.MaxTimeoutMinutes {
				return fault.Invalidf("rules.escalationTimeoutMinutes", "rule %d: must be from 1 to %d", i+1, store.MaxTimeoutMinutes)
			}
			if len(r.UserIDs) == 0 || len(r.UserIDs) > store.MaxRuleUsers {
				return fault.Invalidf("rules.userIds", "rule %d must name 1 to %d users", i+1, store.MaxRuleUsers)
			}
			seen := map[int64]bool{}
			for _, id := range r.UserIDs {
				if seen[id] {
					return fault.Invalidf("rules.userIds", "rule %d names user %d twice", i+1, id)
				}
				seen[id] = true
			}
			p.Rules = append(p.Rules, store.Rule{TimeoutMinutes: r.EscalationTimeoutMinutes, UserIDs: r.UserIDs})
		}
	}
	return nil
}

// unknownUsers explains a foreign key refusal of a policy's rules.
func unknownUsers(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return fault.Invalidf("rules.userIds", "every user id must be an existing user")
	}
	return err
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	var in policyInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return fault.Invalidf("name", "is required")
	}
	if in.Rules == nil {
		return fault.Invalidf("rules", "is required: at least one rule with escalationTimeoutMinutes and userIds")
	}
	p := store.Policy{CreatedAt: s.Now()}
	if err := in.apply(&p); err != nil {
		return err
	}
	p, err := s.Store.CreatePolicy(r.Context(), p)
	if err != nil {
		return unknownUsers(err)
	}
	writeJSON(w, http.StatusCreated, policyView(p))
	return nil
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Store.Policies(r.Context())
	if err != nil {
		return err
	}
	out := make([]policyJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, policyView(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.Store.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, policyView(p))
	return nil
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in policyInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Store.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	if err := in.apply(&p); err != nil {
		return err
	}
	p.UpdatedAt = s.Now()
	if p, err = s.Store.UpdatePolicy(r.Context(), p); err != nil {
		return unknownUsers(err)
	}
	writeJSON(w, http.StatusOK, policyView(p))
	return nil
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Store.DeletePolicy(r.Context(), id); err != nil {
		if isConflict(err) {
			return errorf(http.StatusConflict, "POLICY_IN_USE", "an alert source uses this escalation policy; give the source another policy first")
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
