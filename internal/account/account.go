// Package account holds the rules for a user's own fields, shared by the JSON
// API and the web UI so that both accept and refuse the same input.
package account

import (
	"errors"
	"net/mail"
	"net/url"
	"strings"

	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

// Rules' messages, shown next to the field.
var (
	ErrName       = errors.New("must be 1 to 200 characters")
	ErrEmail      = errors.New("must be an email address like ada@example.com")
	ErrWebhookURL = errors.New("must be an http or https URL without credentials, e.g. https://chat.example.com/hooks/pager")
)

// Name trims a user's name and checks its length.
func Name(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 200 {
		return "", ErrName
	}
	return v, nil
}

// Email checks an address and returns it lowercased, the form it is stored in.
func Email(v string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(v))
	if err != nil || addr.Name != "" || len(addr.Address) > 320 {
		return "", ErrEmail
	}
	return strings.ToLower(addr.Address), nil
}

// SetWebhook gives u a new webhook URL ("" removes it). A new URL gets a new
// signing secret, sealed in u and returned in the clear to be shown once.
func SetWebhook(box *secret.Box, u *store.User, v string) (newSecret string, err error) {
	v = strings.TrimSpace(v)
	if v == u.WebhookURL {
		return "", nil
	}
	if v == "" {
		u.WebhookURL, u.WebhookSecretSealed = "", ""
		return "", nil
	}
	wu, perr := url.Parse(v)
	if perr != nil || (wu.Scheme != "https" && wu.Scheme != "http") || wu.Host == "" || wu.User != nil || len(v) > 2000 {
		return "", ErrWebhookURL
	}
	newSecret = secret.NewToken("whsec_")
	u.WebhookURL, u.WebhookSecretSealed = v, box.Seal(newSecret)
	return newSecret, nil
}
