package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/store"
)

// actor names who is calling, for the incident log.
func actor(r *http.Request) string {
	if p, ok := auth.FromContext(r.Context()); ok {
		return p.Actor()
	}
	return "unknown"
}

// Who may call a route.
const (
	anyone    = ""
	adminOnly = auth.RoleAdmin
)

// authenticated checks the bearer token and the role, then runs h and writes its error.
func (s *Server) authenticated(role string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ticketpager"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "UNAUTHORIZED",
				"send an API token as Authorization: Bearer <token> (create one with `ticketpager token create`)"))
			return
		}
		// Tokens are looked up by keyed hash: only the hash is stored.
		p, err := s.Auth.Token(r.Context(), token)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ticketpager", error="invalid_token"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "UNAUTHORIZED", "the API token is not valid"))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if role == adminOnly && !p.IsAdmin() {
			s.writeError(w, r, errorf(http.StatusForbidden, "FORBIDDEN", "this call needs an admin's token; yours belongs to a %s", strings.ToLower(p.Role)))
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// observe times every request by route, turns the mux's own plain-text 404 and
// 405 answers into JSON errors, and keeps panics from reaching the client.
func (s *Server) observe(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h, pattern := mux.Handler(r)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic in handler", "path", redactPath(r.URL.Path), "panic", p)
				if rec.status == 0 {
					s.writeError(rec, r, errors.New("panic"))
				}
			}
			route := pattern
			if route == "" {
				route = "unmatched"
			}
			s.latency.WithLabelValues(route, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
		}()
		if s.Web != nil && !apiPath(r.URL.Path) {
			pattern = "web"
			s.Web.ServeHTTP(rec, r)
			return
		}
		if pattern == "" {
			s.unmatched(rec, r, h)
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

// unmatched answers a request no route took, in JSON, with the status the mux chose.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			"%s is not allowed here; allowed: %s", r.Method, probe.header.Get("Allow")))
		return
	}
	s.writeError(w, r, errorf(http.StatusNotFound, "NOT_FOUND", "no such route: %s %s", r.Method, redactPath(r.URL.Path)))
}

// headerProbe captures what the mux's fallback handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// apiPath says whether the API (rather than the web UI) owns a path.
func apiPath(p string) bool {
	for _, prefix := range []string{"/api/", "/actions/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return p == "/healthz" || p == "/readyz" || p == "/metrics"
}
