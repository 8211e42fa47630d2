package actionlink

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	tok := s.Token(7, Accept, 3, now)
	c, err := s.Verify(tok, now.Add(59*time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(7), c.IncidentID)
	require.Equal(t, Accept, c.Action)
	require.Equal(t, int64(3), c.UserID)
	require.NotEqual(t, c.Nonce, mustVerify(t, s, s.Token(7, Accept, 3, now)).Nonce, "each link has its own nonce")

	_, err = s.Verify(tok, now.Add(61*time.Minute))
	require.ErrorIs(t, err, ErrExpired)
}

func mustVerify(t *testing.T, s *Signer, tok string) Claims {
	c, err := s.Verify(tok, now)
	require.NoError(t, err)
	return c
}

func TestTamperingRefused(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	other := NewSigner([]byte("another key, another key, 123456"), time.Hour)
	tok := s.Token(7, Resolve, 3, now)
	p, sig, _ := strings.Cut(tok, ".")
	forged := other.Token(7, Resolve, 3, now)
	fp, _, _ := strings.Cut(forged, ".")
	for name, bad := range map[string]string{
		"other key":       forged,
		"swapped payload": fp + "." + sig,
		"flipped char":    p[:len(p)-1] + string("AB"[(strings.IndexByte("A", p[len(p)-1])+1)%2]) + "." + sig,
		"no signature":    p,
		"empty":           "",
		"garbage":         "!!!.???",
		"huge":            strings.Repeat("a", 1000) + "." + sig,
	} {
		_, err := s.Verify(bad, now)
		require.ErrorIs(t, err, ErrInvalid, name)
	}
}

func FuzzVerify(f *testing.F) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	f.Add(s.Token(1, Accept, 1, now))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, now)
		if err == nil && (c.IncidentID <= 0 || (c.Action != Accept && c.Action != Resolve)) {
			t.Fatalf("accepted bad claims %+v", c)
		}
	})
}
