package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) (*Manager, *clock, store.User) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	box, err := secret.NewBox("a test secret key of at least 32 characters")
	require.NoError(t, err)
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	hash, err := HashPassword("correct horse battery")
	require.NoError(t, err)
	u, err := st.CreateUser(ctx, store.User{Name: "Ada", Email: "ada@example.com", Role: RoleResponder, PasswordHash: hash, CreatedAt: c.now()})
	require.NoError(t, err)
	return &Manager{Store: st, Box: box, Now: c.now, SessionTTL: time.Hour}, c, u
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$"))
	require.NotContains(t, h, "correct")
	require.True(t, CheckPassword(h, "correct horse battery"))
	require.False(t, CheckPassword(h, "correct horse batterY"))
	require.False(t, CheckPassword("garbage", "x"))
	h2, _ := HashPassword("correct horse battery")
	require.NotEqual(t, h, h2, "salted")
	require.Error(t, ValidatePassword("short"))
	require.NoError(t, ValidatePassword("twelve chars"))
}

func TestSignInSessionSignOut(t *testing.T) {
	m, c, u := setup(t)
	ctx := context.Background()
	token, p, err := m.SignIn(ctx, " ADA@example.com ", "correct horse battery")
	require.NoError(t, err)
	require.Equal(t, u.ID, p.UserID)
	require.Equal(t, "Ada", p.Actor())
	got, err := m.Session(ctx, token)
	require.NoError(t, err)
	require.Equal(t, RoleResponder, got.Role)

	c.add(2 * time.Hour)
	_, err = m.Session(ctx, token)
	require.ErrorIs(t, err, ErrNoSession, "expired")

	token, _, err = m.SignIn(ctx, "ada@example.com", "correct horse battery")
	require.NoError(t, err)
	require.NoError(t, m.SignOut(ctx, token))
	_, err = m.Session(ctx, token)
	require.ErrorIs(t, err, ErrNoSession)
	_, err = m.Session(ctx, "forged")
	require.ErrorIs(t, err, ErrNoSession)
}

func TestWrongPasswordsLockTheAccount(t *testing.T) {
	m, c, _ := setup(t)
	ctx := context.Background()
	_, _, err := m.SignIn(ctx, "nobody@example.com", "whatever it is")
	require.ErrorIs(t, err, ErrBadCredentials, "unknown email: same answer as a wrong password")
	for range LockAfter {
		_, _, err := m.SignIn(ctx, "ada@example.com", "wrong password!")
		require.ErrorIs(t, err, ErrBadCredentials)
	}
	_, _, err = m.SignIn(ctx, "ada@example.com", "correct horse battery")
	require.ErrorIs(t, err, ErrLocked, "even the right password waits out the lock")
	require.Contains(t, err.Error(), "locked until")
	c.add(LockFor + time.Second)
	_, _, err = m.SignIn(ctx, "ada@example.com", "correct horse battery")
	require.NoError(t, err)
}

func TestPagesRedirectsWithoutSession(t *testing.T) {
	m, _, _ := setup(t)
	var seen Principal
	h := m.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = FromContext(r.Context())
		w.WriteHeader(200)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/incidents?status=PENDING", nil))
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/sign-in?next=%2Fincidents%3Fstatus%3DPENDING", rec.Header().Get("Location"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sign-in", nil))
	require.Equal(t, 200, rec.Code, "the sign-in page works signed out")

	token, _, err := m.SignIn(context.Background(), "ada@example.com", "correct horse battery")
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	m.SetCookie(rec, token)
	cookie := rec.Result().Cookies()[0]
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	req := httptest.NewRequest("GET", "/incidents", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "Ada", seen.Name)
}
