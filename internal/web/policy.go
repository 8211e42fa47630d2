package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketpager/ticketpager/internal/store"
)

type policyRow struct {
	store.Policy
	Rules   []ruleSummary
	Sources []string
}

type ruleSummary struct {
	TimeoutMinutes int
	Users          []string
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Store.Policies(r.Context())
	if err != nil {
		return err
	}
	names, err := s.userNames(r)
	if err != nil {
		return err
	}
	srcs, err := s.Store.Sources(r.Context())
	if err != nil {
		return err
	}
	out := make([]policyRow, 0, len(ps))
	for _, p := range ps {
		row := policyRow{Policy: p}
		for _, rule := range p.Rules {
			sum := ruleSummary{TimeoutMinutes: rule.TimeoutMinutes}
			for _, id := range rule.UserIDs {
				sum.Users = append(sum.Users, names[id])
			}
			row.Rules = append(row.Rules, sum)
		}
		for _, src := range srcs {
			if src.EscalationPolicyID == p.ID {
				row.Sources = append(row.Sources, src.Name)
			}
		}
		out = append(out, row)
	}
	s.render(w, r, http.StatusOK, "policies", "Escalation policies", "policies", out)
	return nil
}

func (s *Server) userNames(r *http.Request) (map[int64]string, error) {
	us, err := s.Store.Users(r.Context())
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, u := range us {
		out[u.ID] = u.Name
	}
	return out, nil
}

// ruleRow is one rule of the form, as typed.
type ruleRow struct {
	Index   int
	Timeout string
	Users   []int64
}

type policyForm struct {
	ID          int64
	Name        string
	RepeatCount string
	Rules       []ruleRow
	Users       []store.User
	MaxRules    int
	Errors      fieldErrors
}

func (s *Server) policyFormView(w http.ResponseWriter, r *http.Request, status int, f policyForm) error {
	users, err := s.Store.Users(r.Context())
	if err != nil {
		return err
	}
	f.Users, f.MaxRules = users, store.MaxRules
	for i := range f.Rules {
		f.Rules[i].Index = i
	}
	title := "New escalation policy"
	if f.ID != 0 {
		title = "Edit escalation policy " + f.Name
	}
	s.render(w, r, status, "policy-form", title, "policies", f)
	return nil
}

func (s *Server) newPolicy(w http.ResponseWriter, r *http.Request) error {
	return s.policyFormView(w, r, http.StatusOK, policyForm{RepeatCount: "0", Rules: []ruleRow{{Timeout: "5"}}})
}

func (s *Server) editPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.Store.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	f := policyForm{ID: id, Name: p.Name, RepeatCount: strconv.Itoa(p.RepeatCount)}
	for _, rule := range p.Rules {
		f.Rules = append(f.Rules, ruleRow{Timeout: strconv.Itoa(rule.TimeoutMinutes), Users: rule.UserIDs})
	}
	return s.policyFormView(w, r, http.StatusOK, f)
}

// readPolicyForm reads the posted form. op is the button pressed: "save",
// "add" (one more rule row) or "remove-N" (drop row N); the last two only
// re-render the form, so rules can be added and removed without JavaScript.
func readPolicyForm(r *http.Request, f *policyForm) (op string) {
	f.Name = strings.TrimSpace(r.PostFormValue("name"))
	f.RepeatCount = strings.TrimSpace(r.PostFormValue("repeatCount"))
	n, _ := strconv.Atoi(r.PostFormValue("rules"))
	n = min(max(n, 0), store.MaxRules)
	for i := range n {
		row := ruleRow{Timeout: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("rule-%d-timeout", i)))}
		for _, v := range r.PostForm[fmt.Sprintf("rule-%d-users", i)] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
				row.Users = append(row.Users, id)
			}
		}
		f.Rules = append(f.Rules, row)
	}
	op = r.PostFormValue("op")
	switch {
	case op == "add":
		if len(f.Rules) < store.MaxRules {
			f.Rules = append(f.Rules, ruleRow{})
		}
	case strings.HasPrefix(op, "remove-"):
		if i, err := strconv.Atoi(strings.TrimPrefix(op, "remove-")); err == nil && i >= 0 && i < len(f.Rules) {
			f.Rules = append(f.Rules[:i], f.Rules[i+1:]...)
		}
	default:
		op = "save"
	}
	return op
}

// validPolicy checks the form against the JSON API's rules for a policy
// (internal/api/policy.go, policyInput.apply) and copies it onto p. Rows left
// completely empty are ignored.
func validPolicy(f *policyForm, p *store.Policy) fieldErrors {
	errs := fieldErrors{}
	if f.Name == "" || len(f.Name) > 200 {
		errs.add("name", "must be 1 to 200 characters")
	}
	p.Name = f.Name
	rc, err := strconv.Atoi(f.RepeatCount)
	if f.RepeatCount == "" {
		rc, err = 0, nil
	}
	if err != nil || rc < 0 || rc > store.MaxRepeat {
		errs.add("repeatCount", fmt.Sprintf("must be a whole number from 0 to %d", store.MaxRepeat))
	}
	p.RepeatCount = rc
	var kept []ruleRow
	for _, row := range f.Rules {
		if row.Timeout == "" && len(row.Users) == 0 {
			continue
		}
		kept = append(kept, row)
	}
	f.Rules = kept
	if len(kept) == 0 || len(kept) > store.MaxRules {
		errs.add("rules", fmt.Sprintf("must hold 1 to %d rules", store.MaxRules))
	}
	p.Rules = nil
	for i, row := range kept {
		t, err := strconv.Atoi(row.Timeout)
		if err != nil || t < 1 || t > store.MaxTimeoutMinutes {
			errs.add(fmt.Sprintf("rule-%d-timeout", i), fmt.Sprintf("must be a whole number of minutes from 1 to %d", store.MaxTimeoutMinutes))
		}
		if len(row.Users) == 0 || len(row.Users) > store.MaxRuleUsers {
			errs.add(fmt.Sprintf("rule-%d-users", i), fmt.Sprintf("choose 1 to %d users", store.MaxRuleUsers))
		}
		seen := map[int64]bool{}
		for _, id := range row.Users {
			if seen[id] {
				errs.add(fmt.Sprintf("rule-%d-users", i), "names a user twice")
			}
			seen[id] = true
		}
		p.Rules = append(p.Rules, store.Rule{TimeoutMinutes: t, UserIDs: row.Users})
	}
	return errs
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	return s.savePolicy(w, r, 0)
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.savePolicy(w, r, id)
}

func (s *Server) savePolicy(w http.ResponseWriter, r *http.Request, id int64) error {
	var p store.Policy
	if id != 0 {
		var err error
		if p, err = s.Store.Policy(r.Context(), id); err != nil {
			return err
		}
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := policyForm{ID: id}
	if op := readPolicyForm(r, &f); op != "save" {
		return s.policyFormView(w, r, http.StatusOK, f)
	}
	errs := validPolicy(&f, &p)
	if len(errs) == 0 {
		var err error
		if id == 0 {
			p.CreatedAt = s.now()
			p, err = s.Store.CreatePolicy(r.Context(), p)
		} else {
			p.UpdatedAt = s.now()
			p, err = s.Store.UpdatePolicy(r.Context(), p)
		}
		if err == nil {
			redirect(w, r, "/policies", "saved")
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		errs.add("rules", "every user must be an existing user; one may have just been deleted")
	}
	if len(f.Rules) == 0 {
		f.Rules = []ruleRow{{}}
	}
	f.Errors = errs
	return s.policyFormView(w, r, http.StatusUnprocessableEntity, f)
}

func (s *Server) confirmDeletePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.Store.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "confirm", "Delete escalation policy?", "policies", policyConfirm(p))
	return nil
}

func policyConfirm(p store.Policy) confirmData {
	return confirmData{Heading: "Delete this escalation policy?", Subject: p.Name,
		Message: "It cannot be undone.", Action: "/policies/" + strconv.FormatInt(p.ID, 10) + "/delete",
		Button: "Delete escalation policy", Cancel: "/policies", Danger: true}
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.Store.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.Store.DeletePolicy(r.Context(), id); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		d := policyConfirm(p)
		d.Problem = "This escalation policy is in use: an alert source uses it. Give the alert source another policy first, then delete this one."
		s.render(w, r, http.StatusConflict, "confirm", "Delete escalation policy?", "policies", d)
		return nil
	}
	redirect(w, r, "/policies", "deleted")
	return nil
}
