// Package auth signs people in and says who is calling: server-side sessions
// in cookies for the web UI, API tokens for the JSON API, each carrying the
// user's role (ADMIN or RESPONDER).
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

// Roles.
const (
	RoleAdmin     = "ADMIN"
	RoleResponder = "RESPONDER"
)

// Lockout: after this many failed sign-ins in a row an account is locked for LockFor.
const (
	LockAfter = 5
	LockFor   = 15 * time.Minute
)

// Errors of SignIn.
var (
	ErrBadCredentials = errors.New("email or password is wrong")
	ErrLocked         = errors.New("too many failed sign-ins")
	ErrNoSession      = errors.New("not signed in")
)

// Principal is who a request acts for.
type Principal struct {
	UserID    int64 // 0 for the operator's token
	Name      string
	Email     string
	Role      string
	Via       string // "session" or "token"
	TokenName string
}

// IsAdmin reports whether the principal may manage the configuration.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// Actor is what the incident log says did it.
func (p Principal) Actor() string {
	switch {
	case p.Via == "token" && p.UserID == 0:
		return "API token " + strconv.Quote(p.TokenName)
	case p.Via == "token":
		return fmt.Sprintf("%s (API token %q)", p.Name, p.TokenName)
	default:
		return p.Name
	}
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal the middleware put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Manager keeps sessions and checks credentials.
type Manager struct {
	Store      *store.Store
	Box        *secret.Box
	Now        func() time.Time
	SessionTTL time.Duration // default 12h
	Secure     bool          // cookies only over HTTPS (the base URL is https)
}

const cookieName = "ticketpager_session"

// dummyHash equalises the time of a sign-in for an unknown email.
var dummyHash, _ = HashPassword("not a password of anyone's, only for timing")

// SignIn checks an email and password and starts a session.
func (m *Manager) SignIn(ctx context.Context, email, password string) (string, Principal, error) {
	now := m.Now()
	u, err := m.Store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		CheckPassword(dummyHash, password)
		return "", Principal{}, ErrBadCredentials
	}
	if err != nil {
		return "", Principal{}, err
	}
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return "", Principal{}, fmt.Errorf("%w: the account is locked until %s UTC; try again then, or ask an admin to set a new password",
			ErrLocked, u.LockedUntil.UTC().Format("15:04"))
	}
	if !CheckPassword(u.PasswordHash, password) {
		if err := m.Store.RecordLogin(ctx, u.ID, false, LockAfter, now.Add(LockFor)); err != nil {
			return "", Principal{}, err
		}
		return "", Principal{}, ErrBadCredentials
	}
	if err := m.Store.RecordLogin(ctx, u.ID, true, 0, now); err != nil {
		return "", Principal{}, err
	}
	token := secret.NewToken("")
	if err := m.Store.CreateSession(ctx, m.Box.LookupHash(token), u.ID, now, now.Add(m.ttl())); err != nil {
		return "", Principal{}, err
	}
	return token, principal(u, "session"), nil
}

func (m *Manager) ttl() time.Duration {
	if m.SessionTTL <= 0 {
		return 12 * time.Hour
	}
	return m.SessionTTL
}

func principal(u store.User, via string) Principal {
	return Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Via: via}
}

// Session returns the principal of a session token.
func (m *Manager) Session(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > 100 {
		return Principal{}, ErrNoSession
	}
	u, err := m.Store.SessionUser(ctx, m.Box.LookupHash(token), m.Now())
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	return principal(u, "session"), nil
}

// SignOut ends a session.
func (m *Manager) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return m.Store.DeleteSession(ctx, m.Box.LookupHash(token))
}

// Token returns the principal of an API token: its user's role, or admin for
// the operator's token (no user).
func (m *Manager) Token(ctx context.Context, token string) (Principal, error) {
	t, err := m.Store.TokenByHash(ctx, m.Box.LookupHash(token))
	if err != nil {
		return Principal{}, err
	}
	_ = m.Store.TouchToken(ctx, t.ID, m.Now()) // best effort: "last used" is information only
	if t.UserID == 0 {
		return Principal{Role: RoleAdmin, Via: "token", TokenName: t.Name}, nil
	}
	u, err := m.Store.User(ctx, t.UserID)
	if err != nil {
		return Principal{}, err
	}
	p := principal(u, "token")
	p.TokenName = t.Name
	return p, nil
}

// SetCookie gives the browser the session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS.
func (m *Manager) SetCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", HttpOnly: true, Secure: m.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(m.ttl().Seconds())})
}

// ClearCookie removes the session cookie.
func (m *Manager) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: m.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// CookieToken is the session token the request carries, or "".
func (m *Manager) CookieToken(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// Pages guards the web UI: a request with a valid session cookie carries its
// principal; one without goes to the sign-in page, except for the pages that
// must work signed out (sign-in itself and the static files).
func (m *Manager) Pages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := m.Session(r.Context(), m.CookieToken(r))
		if err == nil {
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
			return
		}
		if !errors.Is(err, ErrNoSession) {
			http.Error(w, "The service cannot check your session right now; try again in a moment.", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/sign-in" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		m.ClearCookie(w)
		target := "/sign-in"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}
