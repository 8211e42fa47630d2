package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/account"
	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/store"
)

type userJSON struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Email      string  `json:"email"`
	WebhookURL *string `json:"webhookUrl"`
	Role       string  `json:"role"`
	// HasPassword says whether the user can sign in to the web UI.
	HasPassword bool `json:"hasPassword"`
	// WebhookSecret is shown once, in the answer that set a new webhook URL:
	// the receiver checks X-Ticketpager-Signature with it.
	WebhookSecret string    `json:"webhookSecret,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

func userView(u store.User) userJSON {
	return userJSON{ID: u.ID, Name: u.Name, Email: u.Email, WebhookURL: ptr(u.WebhookURL), Role: u.Role,
		HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type userInput struct {
	Name       *string `json:"name"`
	Email      *string `json:"email"`
	WebhookURL *string `json:"webhookUrl"` // "" removes it
	Role       *string `json:"role"`       // ADMIN or RESPONDER; admins only
	Password   *string `json:"password"`   // sets the web UI password; write only
}

// apply validates the set fields of in onto u. A new webhook URL gets a new
// signing secret, returned (in the clear) so the answer can show it once.
func (s *Server) applyUser(in userInput, u *store.User) (newSecret string, err error) {
	if err := in.apply(u); err != nil {
		return "", err
	}
	if in.Role != nil {
		if *in.Role != auth.RoleAdmin && *in.Role != auth.RoleResponder {
			return "", fault.Invalidf("role", "must be ADMIN or RESPONDER")
		}
		u.Role = *in.Role
	}
	if in.Password != nil {
		if err := auth.ValidatePassword(*in.Password); err != nil {
			return "", fault.Invalidf("password", "%s", err.Error())
		}
		if u.PasswordHash, err = auth.HashPassword(*in.Password); err != nil {
			return "", err
		}
	}
	if in.WebhookURL != nil {
		if newSecret, err = account.SetWebhook(s.Box, u, *in.WebhookURL); err != nil {
			return "", fault.Invalidf("webhookUrl", "%s", err.Error())
		}
	}
	return newSecret, nil
}

// apply validates name and email onto u.
func (in userInput) apply(u *store.User) error {
	if in.Name != nil {
		name, err := account.Name(*in.Name)
		if err != nil {
			return fault.Invalidf("name", "%s", err.Error())
		}
		u.Name = name
	}
	if in.Email != nil {
		email, err := account.Email(*in.Email)
		if err != nil {
			return fault.Invalidf("email", "%s", err.Error())
		}
		u.Email = email
	}
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return fault.Invalidf("name", "is required")
	}
	if in.Email == nil {
		return fault.Invalidf("email", "is required")
	}
	u := store.User{CreatedAt: s.Now()}
	sec, err := s.applyUser(in, &u)
	if err != nil {
		return err
	}
	if u, err = s.Store.CreateUser(r.Context(), u); err != nil {
		return emailTaken(err)
	}
	out := userView(u)
	out.WebhookSecret = sec
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func emailTaken(err error) error {
	if strings.Contains(err.Error(), "users.email") || strings.Contains(err.Error(), "users_email") {
		return errorf(http.StatusConflict, "EMAIL_TAKEN", "another user has that email address")
	}
	return err
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.Store.Users(r.Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, userView(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.Store.User(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in userInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if p, _ := auth.FromContext(r.Context()); !p.IsAdmin() {
		if p.UserID != id {
			return errorf(http.StatusForbidden, "FORBIDDEN", "you may change only your own user; an admin changes the others")
		}
		if in.Role != nil {
			return errorf(http.StatusForbidden, "FORBIDDEN", "only an admin changes roles")
		}
	}
	u, err := s.Store.User(r.Context(), id)
	if err != nil {
		return err
	}
	sec, err := s.applyUser(in, &u)
	if err != nil {
		return err
	}
	u.UpdatedAt = s.Now()
	if u, err = s.Store.UpdateUser(r.Context(), u); err != nil {
		return emailTaken(err)
	}
	if in.Password != nil { // a new password signs out the old sessions
		if err := s.Store.DeleteUserSessions(r.Context(), u.ID); err != nil {
			return err
		}
	}
	out := userView(u)
	out.WebhookSecret = sec
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Store.DeleteUser(r.Context(), id); err != nil {
		if isConflict(err) {
			return errorf(http.StatusConflict, "USER_IN_USE", "the user is a target of an escalation policy; remove them from its rules first")
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
