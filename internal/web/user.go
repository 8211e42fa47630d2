package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketpager/ticketpager/internal/account"
	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/store"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.Store.Users(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "users", "Users", "users", users)
	return nil
}

type userForm struct {
	ID          int64
	Name        string
	Email       string
	Role        string
	WebhookURL  string
	HasPassword bool
	Self        bool // the signed-in user: role is not editable
	Profile     bool // the profile page rather than the admin's form
	Errors      fieldErrors
}

func (s *Server) userFormView(w http.ResponseWriter, r *http.Request, status int, f userForm) {
	title, nav := "New user", "users"
	switch {
	case f.Profile:
		title, nav = "Your profile", "profile"
	case f.ID != 0:
		title = "Edit user " + f.Name
	}
	page := "user-form"
	if f.Profile {
		page = "profile"
	}
	s.render(w, r, status, page, title, nav, f)
}

func formOf(u store.User) userForm {
	return userForm{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, WebhookURL: u.WebhookURL, HasPassword: u.PasswordHash != ""}
}

func (s *Server) newUser(w http.ResponseWriter, r *http.Request) error {
	s.userFormView(w, r, http.StatusOK, userForm{Role: auth.RoleResponder})
	return nil
}

func (s *Server) editUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.Store.User(r.Context(), id)
	if err != nil {
		return err
	}
	f := formOf(u)
	p, _ := principalFrom(r.Context())
	f.Self = p.UserID == id
	s.userFormView(w, r, http.StatusOK, f)
	return nil
}

// applyUserForm validates the posted form onto u with the JSON API's rules for
// users (internal/api/user.go: userInput.apply and Server.applyUser), plus the
// role and password. A new webhook URL gets a new signing secret, returned in
// the clear to be shown once.
func (s *Server) applyUserForm(r *http.Request, f *userForm, u *store.User, roleEditable bool) (newSecret string, errs fieldErrors, err error) {
	errs = fieldErrors{}
	f.Name = strings.TrimSpace(r.PostFormValue("name"))
	f.Email = strings.TrimSpace(r.PostFormValue("email"))
	f.WebhookURL = strings.TrimSpace(r.PostFormValue("webhookUrl"))
	if name, err := account.Name(f.Name); err != nil {
		errs.add("name", err.Error())
	} else {
		u.Name = name
	}
	if email, err := account.Email(f.Email); err != nil {
		errs.add("email", err.Error())
	} else {
		u.Email = email
	}
	if roleEditable {
		f.Role = r.PostFormValue("role")
		if f.Role != auth.RoleAdmin && f.Role != auth.RoleResponder {
			errs.add("role", "choose Admin or Responder")
		}
		u.Role = f.Role
	}
	if pw := r.PostFormValue("password"); pw != "" {
		if verr := auth.ValidatePassword(pw); verr != nil {
			errs.add("password", verr.Error())
		} else if len(errs) == 0 {
			if u.PasswordHash, err = auth.HashPassword(pw); err != nil {
				return "", nil, err
			}
		}
	}
	if newSecret, err = account.SetWebhook(s.Box, u, f.WebhookURL); err != nil {
		errs.add("webhookUrl", err.Error())
		err = nil
	}
	return newSecret, errs, nil
}

// emailTaken explains a unique-key refusal of a user's email.
func emailTaken(err error, errs fieldErrors) bool {
	if !errors.Is(err, store.ErrConflict) {
		return false
	}
	errs.add("email", "another user has that email address")
	return true
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var f userForm
	u := store.User{CreatedAt: s.now()}
	sec, errs, err := s.applyUserForm(r, &f, &u, true)
	if err != nil {
		return err
	}
	if len(errs) == 0 {
		if u, err = s.Store.CreateUser(r.Context(), u); err == nil {
			return s.userSaved(w, r, u, sec, "/users")
		}
		if !emailTaken(err, errs) {
			return err
		}
	}
	f.Errors = errs
	s.userFormView(w, r, http.StatusUnprocessableEntity, f)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.Store.User(r.Context(), id)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	p, _ := principalFrom(r.Context())
	f := userForm{ID: id, Self: p.UserID == id, HasPassword: u.PasswordHash != "", Role: u.Role}
	// An admin cannot take their own admin role away: someone must be left to manage.
	return s.saveUser(w, r, f, u, !f.Self, "/users")
}

func (s *Server) saveUser(w http.ResponseWriter, r *http.Request, f userForm, u store.User, roleEditable bool, back string) error {
	oldHash := u.PasswordHash
	sec, errs, err := s.applyUserForm(r, &f, &u, roleEditable)
	if err != nil {
		return err
	}
	if len(errs) == 0 {
		u.UpdatedAt = s.now()
		if u, err = s.Store.UpdateUser(r.Context(), u); err == nil {
			if u.PasswordHash != oldHash { // a new password lifts a lockout and ends the old sessions
				if err := s.Store.RecordLogin(r.Context(), u.ID, true, 0, s.now()); err != nil {
					return err
				}
				if err := s.Store.DeleteUserSessions(r.Context(), u.ID); err != nil {
					return err
				}
			}
			return s.userSaved(w, r, u, sec, back)
		}
		if !emailTaken(err, errs) {
			return err
		}
	}
	f.Errors = errs
	s.userFormView(w, r, http.StatusUnprocessableEntity, f)
	return nil
}

type secretData struct {
	Heading string
	Message string
	Secret  string
	Back    string
}

// userSaved redirects, or shows a new webhook signing secret once.
func (s *Server) userSaved(w http.ResponseWriter, r *http.Request, u store.User, sec, back string) error {
	done := "saved"
	if back == "/profile" {
		done = "profile"
	}
	if sec == "" {
		redirect(w, r, back, done)
		return nil
	}
	s.render(w, r, http.StatusOK, "secret", "Webhook signing secret", "users", secretData{
		Heading: "Webhook signing secret of " + u.Name,
		Message: "Every notification to " + u.WebhookURL + " carries an X-Ticketpager-Signature header made with this secret. " +
			"Give it to the receiver now: it is shown only once.",
		Secret: sec, Back: back})
	return nil
}

// userToDelete reads the user of a delete request and its confirmation page;
// own says the admin is asking to delete themself, which is refused.
func (s *Server) userToDelete(r *http.Request) (id int64, d confirmData, own bool, err error) {
	if id, err = pathID(r); err != nil {
		return 0, d, false, err
	}
	u, err := s.Store.User(r.Context(), id)
	if err != nil {
		return 0, d, false, err
	}
	d = userConfirm(u)
	if p, _ := principalFrom(r.Context()); p.UserID == id {
		d.Problem = "You cannot delete your own account. Another admin can."
		own = true
	}
	return id, d, own, nil
}

func (s *Server) confirmDeleteUser(w http.ResponseWriter, r *http.Request) error {
	_, d, _, err := s.userToDelete(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "confirm", d.Heading, "users", d)
	return nil
}

func userConfirm(u store.User) confirmData {
	return confirmData{Heading: "Delete this user?", Subject: u.Name + " <" + u.Email + ">",
		Message: "They can no longer sign in, and their API tokens stop working. It cannot be undone.",
		Action:  "/users/" + strconv.FormatInt(u.ID, 10) + "/delete", Button: "Delete user", Cancel: "/users", Danger: true}
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id, d, own, err := s.userToDelete(r)
	if err != nil {
		return err
	}
	if own {
		s.render(w, r, http.StatusConflict, "confirm", d.Heading, "users", d)
		return nil
	}
	if err := s.Store.DeleteUser(r.Context(), id); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		d.Problem = "This user is in use: an escalation policy's rule notifies them. Remove them from its rules first, then delete the user."
		s.render(w, r, http.StatusConflict, "confirm", d.Heading, "users", d)
		return nil
	}
	redirect(w, r, "/users", "deleted")
	return nil
}

// profileForm lets anyone edit their own name, email, webhook URL and password (not their role).
func (s *Server) profileForm(w http.ResponseWriter, r *http.Request) error {
	p, _ := principalFrom(r.Context())
	if p.UserID == 0 {
		return errNotFound // the operator's API token has no profile
	}
	u, err := s.Store.User(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	f := formOf(u)
	f.Self, f.Profile = true, true
	s.userFormView(w, r, http.StatusOK, f)
	return nil
}

func (s *Server) saveProfile(w http.ResponseWriter, r *http.Request) error {
	p, _ := principalFrom(r.Context())
	if p.UserID == 0 {
		return errNotFound
	}
	u, err := s.Store.User(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := userForm{ID: u.ID, Role: u.Role, Self: true, Profile: true, HasPassword: u.PasswordHash != ""}
	return s.saveUser(w, r, f, u, false, "/profile")
}
