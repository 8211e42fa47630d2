package account

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

func TestFields(t *testing.T) {
	n, err := Name("  Ada Lovelace ")
	require.NoError(t, err)
	require.Equal(t, "Ada Lovelace", n)
	for _, bad := range []string{"", "   ", strings.Repeat("x", 201)} {
		_, err := Name(bad)
		require.ErrorIs(t, err, ErrName)
	}
	e, err := Email(" Ada@Example.COM ")
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", e)
	for _, bad := range []string{"", "ada", "Ada <ada@example.com>", "a@b@c"} {
		_, err := Email(bad)
		require.ErrorIs(t, err, ErrEmail, bad)
	}
}

func TestSetWebhook(t *testing.T) {
	box, err := secret.NewBox("a test secret key of at least 32 characters")
	require.NoError(t, err)
	var u store.User
	sec, err := SetWebhook(box, &u, "https://chat.example.com/hook")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sec, "whsec_"))
	opened, err := box.Open(u.WebhookSecretSealed)
	require.NoError(t, err)
	require.Equal(t, sec, opened)

	again, err := SetWebhook(box, &u, "https://chat.example.com/hook")
	require.NoError(t, err)
	require.Empty(t, again, "the same URL keeps its secret")

	for _, bad := range []string{"ftp://x", "https://user:pw@x.example", "/relative", "https://"} {
		_, err := SetWebhook(box, &u, bad)
		require.ErrorIs(t, err, ErrWebhookURL, bad)
	}
	_, err = SetWebhook(box, &u, "")
	require.NoError(t, err)
	require.Empty(t, u.WebhookURL)
	require.Empty(t, u.WebhookSecretSealed)
}
