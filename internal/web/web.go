// Package web serves ticketpager's server-rendered UI: html/template pages with
// their CSS and a few lines of JavaScript embedded in the binary. Handlers are
// methods on Server, one file per resource, and call the same services as the
// JSON API (source, incident, store); every state change is a POST that ends
// in a 303 redirect, or re-renders its form with messages next to the fields.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// MaxForm is the largest form body accepted.
const MaxForm = 64 << 10

// Server holds the pages' dependencies.
type Server struct {
	Store     *store.Store
	Box       *secret.Box // seals users' webhook signing secrets, like the JSON API
	Sources   *source.Service
	Incidents *incident.Service
	Autotask  *autotask.Client
	Auth      *auth.Manager
	// CreateToken makes an API token of a user and returns its value (shown once).
	CreateToken func(ctx context.Context, name string, userID int64) (string, error)
	Now         func() time.Time
	Logger      *slog.Logger

	pages map[string]*template.Template
}

// principalFrom reads who is signed in; the lead's middleware puts it in the context.
var principalFrom = auth.FromContext

// handler is a page handler; its error becomes an error page.
type handler func(w http.ResponseWriter, r *http.Request) error

// Routes registers every page on mux. Every route but /sign-in and /static/
// expects a Principal in the request context (the caller's middleware); admin
// pages answer 403 to anyone else.
func (s *Server) Routes(mux *http.ServeMux) {
	if s.pages == nil {
		s.pages = mustParse()
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))

	page := func(pattern string, h handler) { mux.Handle(pattern, s.wrap(h, false)) }
	admin := func(pattern string, h handler) { mux.Handle(pattern, s.wrap(h, true)) }

	page("GET /{$}", func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/incidents", http.StatusSeeOther)
		return nil
	})
	mux.Handle("GET /sign-in", s.public(s.signInForm))
	mux.Handle("POST /sign-in", s.public(s.signIn))
	mux.Handle("POST /sign-out", s.public(s.signOut))

	page("GET /incidents", s.listIncidents)
	page("GET /incidents/{id}", s.showIncident)
	page("POST /incidents/{id}/accept", s.acceptIncident)
	page("POST /incidents/{id}/resolve", s.resolveIncident)

	page("GET /profile", s.profileForm)
	page("POST /profile", s.saveProfile)

	admin("GET /sources", s.listSources)
	admin("GET /sources/new", s.newSource)
	admin("POST /sources/new", s.createSource)
	admin("GET /sources/{id}", s.showSource)
	admin("GET /sources/{id}/edit", s.editSource)
	admin("POST /sources/{id}/edit", s.updateSource)
	admin("GET /sources/{id}/rotate-key", s.confirmRotate)
	admin("POST /sources/{id}/rotate-key", s.rotateKey)
	admin("POST /sources/{id}/activate", s.activateSource)
	admin("POST /sources/{id}/deactivate", s.deactivateSource)
	admin("GET /sources/{id}/delete", s.confirmDeleteSource)
	admin("POST /sources/{id}/delete", s.deleteSource)
	admin("POST /sources/{id}/test", s.testSource)
	admin("GET /sources/{id}/callouts", s.listCallouts)

	admin("GET /policies", s.listPolicies)
	admin("GET /policies/new", s.newPolicy)
	admin("POST /policies/new", s.createPolicy)
	admin("GET /policies/{id}/edit", s.editPolicy)
	admin("POST /policies/{id}/edit", s.updatePolicy)
	admin("GET /policies/{id}/delete", s.confirmDeletePolicy)
	admin("POST /policies/{id}/delete", s.deletePolicy)

	admin("GET /users", s.listUsers)
	admin("GET /users/new", s.newUser)
	admin("POST /users/new", s.createUser)
	admin("GET /users/{id}/edit", s.editUser)
	admin("POST /users/{id}/edit", s.updateUser)
	admin("GET /users/{id}/delete", s.confirmDeleteUser)
	admin("POST /users/{id}/delete", s.deleteUser)

	admin("GET /tokens", s.listTokens)
	admin("POST /tokens", s.createToken)
	admin("GET /tokens/{id}/delete", s.confirmDeleteToken)
	admin("POST /tokens/{id}/delete", s.deleteToken)
}

// NotFound answers the 404 page; the caller may use it for unmatched non-API paths.
func (s *Server) NotFound(w http.ResponseWriter, r *http.Request) {
	if s.pages == nil {
		s.pages = mustParse()
	}
	secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, errNotFound)
	})).ServeHTTP(w, r)
}

// secureHeaders sets the headers every page carries.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// wrap turns a handler into a page: headers, role check, body limit, errors as pages, panics as a 500 page.
func (s *Server) wrap(h handler, adminOnly bool) http.Handler {
	return secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		p, ok := principalFrom(r.Context())
		if !ok {
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if adminOnly && !p.IsAdmin() {
			s.renderError(w, r, errForbidden)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
		}
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	}))
}

// public is a page that needs no principal (sign-in, sign-out).
func (s *Server) public(h handler) http.Handler {
	return secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
		}
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	}))
}

func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		s.Logger.Error("panic in page handler", "method", r.Method, "path", r.URL.Path, "panic", p)
		s.renderError(w, r, errors.New("panic"))
	}
}

// Errors that pick an error page.
var (
	errNotFound  = errors.New("page not found")
	errForbidden = errors.New("forbidden")
	errBadForm   = errors.New("bad form")
)

type errorData struct {
	Status  int
	Heading string
	Message string
}

// renderError maps an error to its page; the one place that does. Internal
// error text is logged, never shown.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	d := errorData{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message: "Something went wrong on our side. Try again in a moment; if it keeps happening, the server log has the details."}
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		d = errorData{http.StatusNotFound, "Not found", "There is nothing here: it may have been deleted, or the link is wrong."}
	case errors.Is(err, errForbidden):
		d = errorData{http.StatusForbidden, "Not allowed", "This page is for admins. Ask an admin of ticketpager if you need a change here."}
	case errors.As(err, &tooBig):
		d = errorData{http.StatusRequestEntityTooLarge, "Too much data", "The form was larger than ticketpager accepts. Shorten the text and try again."}
	case errors.Is(err, errBadForm):
		d = errorData{http.StatusBadRequest, "Bad request", "The form could not be read. Go back, reload the page and try again."}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		d = errorData{http.StatusServiceUnavailable, "Too slow", "The request took too long. Try again in a moment."}
	default:
		s.Logger.Error("page failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	s.render(w, r, d.Status, "error", d.Heading, "", d)
}

// view is what every page template receives.
type view struct {
	Title    string
	Nav      string // the active header item
	User     auth.Principal
	SignedIn bool
	Flash    string
	Refresh  int // seconds between automatic reloads; 0: none
	Now      time.Time
	Data     any
}

// render executes a page into a buffer, then writes it with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	s.renderView(w, r, status, name, view{Title: title, Nav: nav, Data: data})
}

func (s *Server) renderView(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := s.pages[name]
	if !ok {
		s.Logger.Error("no such page template", "name", name)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	v.User, v.SignedIn = principalFrom(r.Context())
	v.Now = s.now()
	if v.Flash == "" {
		v.Flash = flashText(r.URL.Query().Get("done"))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Logger.Error("render page", "page", name, "error", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Something went wrong on our side; the server log has the details.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// flashes are the messages a redirect may ask the next page to show (?done=key):
// a fixed set, so no text from the URL reaches the page.
var flashes = map[string]string{
	"accepted":      "Incident accepted.",
	"resolved":      "Incident resolved.",
	"created":       "Saved.",
	"saved":         "Saved.",
	"deleted":       "Deleted.",
	"rotated":       "New webhook URL made. The old URL no longer works: update the Extension Callout in Autotask.",
	"activated":     "Alert source activated: callouts to its webhook URL are processed again.",
	"deactivated":   "Alert source deactivated: callouts to its webhook URL are refused (HTTP 410) until you activate it.",
	"token-deleted": "API token deleted.",
	"profile":       "Your profile is saved.",
}

func flashText(key string) string { return flashes[key] }

// redirect answers a successful POST.
func redirect(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path += "?done=" + done
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// pathID reads a positive integer path parameter; anything else is a 404.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// parseForm reads a POST form body.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return fmt.Errorf("%w: %v", errBadForm, err)
	}
	return nil
}

// cursorParam reads the paging cursor; a bad one is the first page.
func cursorParam(r *http.Request) int64 {
	c, err := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	if err != nil || c < 1 {
		return 0
	}
	return c
}

// localPath says whether next is a path on this site: it starts with one "/"
// and no "//" or "/\" that a browser would read as another host.
func localPath(next string) bool {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return false
	}
	return !strings.ContainsAny(next, "\r\n\t")
}

// fieldErrors maps form field names to messages shown next to them.
type fieldErrors map[string]string

func (e fieldErrors) add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}
