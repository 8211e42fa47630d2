package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketpager/ticketpager/internal/store"
)

type tokenRow struct {
	store.APIToken
	UserName string
}

type tokensData struct {
	Items    []tokenRow
	Users    []option
	Name     string
	UserID   int64
	NewToken string // shown once, right after it was made
	NewName  string
	Errors   fieldErrors
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	return s.renderTokens(w, r, http.StatusOK, tokensData{})
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, d tokensData) error {
	tokens, err := s.Store.APITokens(r.Context())
	if err != nil {
		return err
	}
	users, err := s.Store.Users(r.Context())
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = u.Name
		d.Users = append(d.Users, option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name + " (" + u.Email + ")", Selected: u.ID == d.UserID})
	}
	for _, t := range tokens {
		d.Items = append(d.Items, tokenRow{APIToken: t, UserName: names[t.UserID]})
	}
	s.render(w, r, status, "tokens", "API tokens", "tokens", d)
	return nil
}

// createToken makes a token and shows it once on the page it answers with
// (not after a redirect: the value must not travel in a URL or a cookie).
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	d := tokensData{Name: strings.TrimSpace(r.PostFormValue("name")), Errors: fieldErrors{}}
	if d.Name == "" || len(d.Name) > 200 {
		d.Errors.add("name", "must be 1 to 200 characters, e.g. “monitoring script”")
	}
	uid, err := strconv.ParseInt(r.PostFormValue("user"), 10, 64)
	if err == nil && uid > 0 {
		d.UserID = uid
		if _, err := s.Store.User(r.Context(), uid); err != nil {
			d.Errors.add("user", "choose an existing user")
		}
	} else {
		d.Errors.add("user", "choose the user the token acts for: it gets that user's role")
	}
	if len(d.Errors) > 0 {
		return s.renderTokens(w, r, http.StatusUnprocessableEntity, d)
	}
	token, err := s.CreateToken(r.Context(), d.Name, d.UserID)
	if err != nil {
		return err
	}
	return s.renderTokens(w, r, http.StatusOK, tokensData{NewToken: token, NewName: d.Name})
}

func (s *Server) confirmDeleteToken(w http.ResponseWriter, r *http.Request) error {
	t, err := s.token(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "confirm", "Delete API token?", "tokens", confirmData{Heading: "Delete this API token?",
		Subject: t.Name, Message: "Programs using it stop working at once. It cannot be undone.",
		Action: "/tokens/" + strconv.FormatInt(t.ID, 10) + "/delete", Button: "Delete API token", Cancel: "/tokens", Danger: true})
	return nil
}

func (s *Server) token(r *http.Request) (store.APIToken, error) {
	id, err := pathID(r)
	if err != nil {
		return store.APIToken{}, err
	}
	tokens, err := s.Store.APITokens(r.Context())
	if err != nil {
		return store.APIToken{}, err
	}
	for _, t := range tokens {
		if t.ID == id {
			return t, nil
		}
	}
	return store.APIToken{}, errNotFound
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteToken(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, "/tokens", "token-deleted")
	return nil
}
