package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	UserID     *int64     `json:"userId"`          // null: the operator's token, an admin
	Token      string     `json:"token,omitempty"` // only in the answer that created it
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

func tokenView(t store.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, UserID: ptr(t.UserID), CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   string `json:"name"`
		UserID int64  `json:"userId"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		return fault.Invalidf("name", "must be 1 to 200 characters, e.g. \"monitoring script\"")
	}
	if _, err := s.Store.User(r.Context(), in.UserID); err != nil {
		return fault.Invalidf("userId", "must be an existing user: the token acts with that user's role")
	}
	token := secret.NewToken("tp_")
	id, err := s.Store.CreateToken(r.Context(), name, s.Box.LookupHash(token), in.UserID, s.Now())
	if err != nil {
		return err
	}
	out := tokenJSON{ID: id, Name: name, UserID: &in.UserID, Token: token, CreatedAt: s.Now()}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Store.APITokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(all))
	for _, t := range all {
		out = append(out, tokenView(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Store.DeleteToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
