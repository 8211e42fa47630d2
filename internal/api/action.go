package api

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/ticketpager/ticketpager/internal/actionlink"
	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/store"
)

// The accept and resolve links in notifications lead here. GET only shows a
// confirmation page (mail scanners fetch links); the page's POST acts.

var actionPage = template.Must(template.New("action").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}} - ticketpager</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
.box{border:1px solid #ccc;border-radius:8px;padding:1rem 1.25rem}button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#0b57d0;color:#fff;cursor:pointer}
button:focus{outline:3px solid #f29900}.muted{color:#555}</style></head>
<body><main class="box"><h1>{{.Title}}</h1>
{{if .Incident}}<p><strong>#{{.Incident.ID}} {{.Incident.Summary}}</strong><br><span class="muted">Status {{.Incident.Status}}, priority {{.Incident.Priority}}</span></p>{{end}}
<p>{{.Message}}</p>
{{if .Confirm}}<form method="post"><button type="submit">{{.Confirm}}</button></form>{{end}}
</main></body></html>`))

type actionView struct {
	Title, Message, Confirm string
	Incident                *store.Incident
}

func (s *Server) renderAction(w http.ResponseWriter, status int, v actionView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	_ = actionPage.Execute(w, v)
}

// verifyAction checks the link and answers a page when it is no good.
func (s *Server) verifyAction(w http.ResponseWriter, r *http.Request) (actionlink.Claims, store.Incident, bool) {
	c, err := s.Links.Verify(r.PathValue("token"), s.Now())
	if err != nil {
		title := "Link not valid"
		if errors.Is(err, actionlink.ErrExpired) {
			title = "Link expired"
		}
		s.renderAction(w, http.StatusGone, actionView{Title: title,
			Message: "Nothing was changed. " + err.Error() + ". Open the incident in ticketpager or use the links in a newer message."})
		return c, store.Incident{}, false
	}
	inc, err := s.Store.Incident(r.Context(), c.IncidentID)
	if err != nil {
		s.renderAction(w, http.StatusNotFound, actionView{Title: "Incident not found",
			Message: "Nothing was changed: the incident no longer exists (its alert source may have been deleted)."})
		return c, store.Incident{}, false
	}
	return c, inc, true
}

func (s *Server) showAction(w http.ResponseWriter, r *http.Request) {
	c, inc, ok := s.verifyAction(w, r)
	if !ok {
		return
	}
	s.renderAction(w, http.StatusOK, actionView{Title: "Confirm", Incident: &inc, Confirm: actionLabel(c.Action) + " incident",
		Message: fmt.Sprintf("%s incident #%d? Nothing changes until you press the button.", actionLabel(c.Action), inc.ID)})
}

func (s *Server) doAction(w http.ResponseWriter, r *http.Request) {
	c, inc, ok := s.verifyAction(w, r)
	if !ok {
		return
	}
	if err := store.UseActionToken(r.Context(), s.Store.Writer(), c.Nonce, s.Now()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.renderAction(w, http.StatusConflict, actionView{Title: "Link already used", Incident: &inc,
				Message: "Nothing was changed: each link works once. The incident is " + inc.Status + "."})
			return
		}
		s.renderActionError(w, r, err)
		return
	}
	actor := fmt.Sprintf("user %d (link in a notification)", c.UserID)
	if u, err := s.Store.User(r.Context(), c.UserID); err == nil {
		actor = u.Name + " (link in a notification)"
	}
	change := s.Incidents.Accept
	if c.Action == actionlink.Resolve {
		change = s.Incidents.Resolve
	}
	updated, err := change(r.Context(), c.IncidentID, actor)
	if errors.Is(err, fault.ErrState) {
		s.renderAction(w, http.StatusConflict, actionView{Title: "Already resolved", Incident: &inc,
			Message: "Nothing was changed: the incident was resolved before you accepted it."})
		return
	}
	if err != nil {
		s.renderActionError(w, r, err)
		return
	}
	s.renderAction(w, http.StatusOK, actionView{Title: "Done", Incident: &updated,
		Message: fmt.Sprintf("Incident #%d is %s.", updated.ID, updated.Status)})
}

func (s *Server) renderActionError(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Error("action link failed", "path", "/actions/[token]", "error", err)
	s.renderAction(w, http.StatusInternalServerError, actionView{Title: "Something went wrong",
		Message: "The change may not have been made. Try again, or open the incident in ticketpager."})
}

func actionLabel(action string) string {
	if action == actionlink.Resolve {
		return "Resolve"
	}
	return "Accept"
}
