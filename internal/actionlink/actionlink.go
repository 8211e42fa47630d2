// Package actionlink makes and checks the one-click accept and resolve links
// in notifications: a signed, expiring token bound to one incident, one
// action and one user. Single use is enforced by the caller (a stored nonce).
package actionlink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actions a link can perform.
const (
	Accept  = "accept"
	Resolve = "resolve"
)

// Errors of Verify, each with its own page.
var (
	ErrInvalid = errors.New("this link is not valid: it was changed or cut off")
	ErrExpired = errors.New("this link has expired")
)

// Claims is what a token says.
type Claims struct {
	IncidentID int64  `json:"i"`
	Action     string `json:"a"`
	UserID     int64  `json:"u"`
	Expires    int64  `json:"e"` // unix seconds
	Nonce      string `json:"n"`
}

// Signer signs and verifies tokens with one key.
type Signer struct {
	key []byte
	ttl time.Duration
}

// NewSigner returns a Signer whose tokens live for ttl.
func NewSigner(key []byte, ttl time.Duration) *Signer { return &Signer{key: key, ttl: ttl} }

// Token makes a token for a user to perform action on an incident.
func (s *Signer) Token(incidentID int64, action string, userID int64, now time.Time) string {
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	c := Claims{IncidentID: incidentID, Action: action, UserID: userID, Expires: now.Add(s.ttl).Unix(),
		Nonce: base64.RawURLEncoding.EncodeToString(nonce)}
	payload, _ := json.Marshal(c) // a struct of ints and strings always marshals
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 512 {
		return Claims{}, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return Claims{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil || (c.Action != Accept && c.Action != Resolve) || c.IncidentID <= 0 || c.Nonce == "" {
		return Claims{}, ErrInvalid
	}
	if now.Unix() > c.Expires {
		return c, fmt.Errorf("%w (at %s)", ErrExpired, time.Unix(c.Expires, 0).UTC().Format(time.RFC1123))
	}
	return c, nil
}
