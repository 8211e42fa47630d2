package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const pass = "an operator's passphrase of sufficient length"

func TestSealOpen(t *testing.T) {
	b, err := NewBox(pass)
	require.NoError(t, err)
	sealed := b.Seal("hunter2-secret")
	require.NotContains(t, sealed, "hunter2")
	require.NotEqual(t, sealed, b.Seal("hunter2-secret"), "nonces must differ")
	got, err := b.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "hunter2-secret", got)

	other, err := NewBox(pass + "!")
	require.NoError(t, err)
	_, err = other.Open(sealed)
	require.ErrorIs(t, err, ErrDecrypt)

	tampered := sealed[:len(sealed)-2] + "AA"
	_, err = b.Open(tampered)
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = b.Open("plain")
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestShortKeyRefused(t *testing.T) {
	_, err := NewBox("short")
	require.ErrorContains(t, err, "at least 32")
}

func TestLookupHash(t *testing.T) {
	a, _ := NewBox(pass)
	b, _ := NewBox(pass)
	c, _ := NewBox(pass + "x")
	require.Equal(t, a.LookupHash("k"), b.LookupHash("k"))
	require.NotEqual(t, a.LookupHash("k"), c.LookupHash("k"))
	require.NotEqual(t, a.LookupHash("k"), a.LookupHash("l"))
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewToken("tp_")
		require.True(t, strings.HasPrefix(tok, "tp_"))
		require.Len(t, tok, 3+43)
		require.False(t, seen[tok])
		seen[tok] = true
	}
	require.True(t, Equal("abc", "abc"))
	require.False(t, Equal("abc", "abd"))
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "secret.key")
	k1, err := LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(k1), MinKeyLength)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k2, err := LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.Equal(t, k1, k2)

	require.NoError(t, os.WriteFile(path, []byte("tiny"), 0o600))
	_, err = LoadOrCreateKeyFile(path)
	require.ErrorContains(t, err, "shorter than")
}
