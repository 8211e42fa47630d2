package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ticketpager/ticketpager/internal/auth"
)

type signInData struct {
	Email   string
	Next    string
	Message string
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = ""
	}
	s.render(w, r, http.StatusOK, "sign-in", "Sign in", "", signInData{Next: next})
	return nil
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	d := signInData{Email: strings.TrimSpace(r.PostFormValue("email")), Next: r.PostFormValue("next")}
	if !localPath(d.Next) {
		d.Next = ""
	}
	token, _, err := s.Auth.SignIn(r.Context(), d.Email, r.PostFormValue("password"))
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		d.Message = "Email or password is wrong."
		s.render(w, r, http.StatusUnauthorized, "sign-in", "Sign in", "", d)
		return nil
	case errors.Is(err, auth.ErrLocked):
		d.Message = lockMessage(err)
		s.render(w, r, http.StatusTooManyRequests, "sign-in", "Sign in", "", d)
		return nil
	case err != nil:
		return err
	}
	s.Auth.SetCookie(w, token)
	target := "/incidents"
	if d.Next != "" {
		target = d.Next
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// lockMessage is auth's lockout message with its sentence case.
func lockMessage(err error) string {
	msg := err.Error()
	if msg == "" {
		return "Too many failed sign-ins. Try again later."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.SignOut(r.Context(), s.Auth.CookieToken(r)); err != nil {
		return err
	}
	s.Auth.ClearCookie(w)
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
	return nil
}
