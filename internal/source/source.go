// Package source manages alert sources: their settings, the Autotask secret
// (sealed at rest) and the integration key behind each webhook URL.
package source

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

// Values of the source fields.
const (
	TypeAutotask     = "AUTOTASK"
	StatusActive     = "ACTIVE"
	StatusInactive   = "INACTIVE"
	DefaultWebServer = "https://webservices2.autotask.net"
	keyPrefix        = "atk_"
)

// ErrInactive is a callout to a deactivated source (410).
var ErrInactive = errors.New("alert source is deactivated")

// Source is an alert source with its secrets opened.
type Source struct {
	store.AlertSource
	Key        string // the integration key in the webhook URL
	WebhookURL string
	Autotask   autotask.Source
}

// Input is what a caller may set; nil fields are left as they are on update.
type Input struct {
	Name               *string
	IntegrationType    *string
	EscalationPolicyID *int64
	Status             *string
	Username           *string
	Secret             *string
	IntegrationCode    *string
	WebServer          *string
}

// Service manages alert sources.
type Service struct {
	store   *store.Store
	box     *secret.Box
	baseURL string
	now     func() time.Time
	forget  func(sourceID int64) // drops the Autotask client's caches of a source
}

// NewService returns a Service; baseURL is the public URL webhook URLs start with.
func NewService(s *store.Store, box *secret.Box, baseURL string, now func() time.Time, forget func(int64)) *Service {
	return &Service{store: s, box: box, baseURL: strings.TrimRight(baseURL, "/"), now: now, forget: forget}
}

// Create validates in and stores a new source with a fresh integration key.
func (s *Service) Create(ctx context.Context, in Input) (Source, error) {
	a := store.AlertSource{IntegrationType: TypeAutotask, Status: StatusActive, WebServer: DefaultWebServer, CreatedAt: s.now()}
	for _, req := range []struct {
		field string
		v     *string
	}{{"name", in.Name}, {"autotask.username", in.Username}, {"autotask.secret", in.Secret}, {"autotask.integrationCode", in.IntegrationCode}} {
		if req.v == nil || strings.TrimSpace(*req.v) == "" {
			return Source{}, fault.Invalidf(req.field, "is required")
		}
	}
	if in.EscalationPolicyID == nil {
		return Source{}, fault.Invalidf("escalationPolicyId", "is required: create an escalation policy first")
	}
	if err := s.apply(ctx, &a, in); err != nil {
		return Source{}, err
	}
	key := secret.NewToken(keyPrefix)
	a.KeyHash, a.KeySealed = s.box.LookupHash(key), s.box.Seal(key)
	created, err := s.store.CreateSource(ctx, a)
	if err != nil {
		return Source{}, policyErr(err)
	}
	return s.open(created)
}

func policyErr(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return fault.Invalidf("escalationPolicyId", "no escalation policy with that id")
	}
	return err
}

// Update changes the fields set in in; a new secret replaces the old one.
func (s *Service) Update(ctx context.Context, id int64, in Input) (Source, error) {
	a, err := s.store.Source(ctx, id)
	if err != nil {
		return Source{}, err
	}
	if err := s.apply(ctx, &a, in); err != nil {
		return Source{}, err
	}
	a.UpdatedAt = s.now()
	updated, err := s.store.UpdateSource(ctx, a)
	if err != nil {
		return Source{}, policyErr(err)
	}
	s.forget(id)
	return s.open(updated)
}

// apply validates and copies the set fields of in onto a.
func (s *Service) apply(ctx context.Context, a *store.AlertSource, in Input) error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || len(name) > 200 {
			return fault.Invalidf("name", "must be 1 to 200 characters")
		}
		a.Name = name
	}
	if in.IntegrationType != nil && *in.IntegrationType != TypeAutotask {
		return fault.Invalidf("integrationType", "must be %q, the only integration type so far", TypeAutotask)
	}
	if in.EscalationPolicyID != nil {
		if _, err := s.store.Policy(ctx, *in.EscalationPolicyID); err != nil {
			return fault.Invalidf("escalationPolicyId", "no escalation policy with id %d", *in.EscalationPolicyID)
		}
		a.EscalationPolicyID = *in.EscalationPolicyID
	}
	if in.Status != nil {
		if *in.Status != StatusActive && *in.Status != StatusInactive {
			return fault.Invalidf("status", "must be ACTIVE or INACTIVE")
		}
		a.Status = *in.Status
	}
	for _, f := range []struct {
		field string
		in    *string
		out   *string
	}{{"autotask.username", in.Username, &a.Username}, {"autotask.integrationCode", in.IntegrationCode, &a.IntegrationCode}} {
		if f.in == nil {
			continue
		}
		v := strings.TrimSpace(*f.in)
		if v == "" || len(v) > 500 {
			return fault.Invalidf(f.field, "must be 1 to 500 characters")
		}
		*f.out = v
	}
	if in.Username != nil {
		if !strings.Contains(a.Username, "@") || strings.ContainsAny(a.Username, " <>") {
			return fault.Invalidf("autotask.username", "must be the API user's username, which Autotask shapes like an email address")
		}
	}
	if in.Secret != nil {
		if strings.TrimSpace(*in.Secret) == "" || len(*in.Secret) > 500 {
			return fault.Invalidf("autotask.secret", "must be 1 to 500 characters")
		}
		a.SecretSealed = s.box.Seal(*in.Secret)
	}
	if in.WebServer != nil {
		ws, err := webServer(*in.WebServer)
		if err != nil {
			return err
		}
		a.WebServer = ws
	}
	return nil
}

// webServer normalises the Autotask web server setting to scheme://host[:port].
func webServer(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultWebServer, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", fault.Invalidf("autotask.webServer", "must be a URL like %s", DefaultWebServer)
	}
	return u.Scheme + "://" + u.Host, nil
}

// RotateKey gives the source a new integration key; the old webhook URL stops working.
func (s *Service) RotateKey(ctx context.Context, id int64) (Source, error) {
	a, err := s.store.Source(ctx, id)
	if err != nil {
		return Source{}, err
	}
	key := secret.NewToken(keyPrefix)
	a.KeyHash, a.KeySealed, a.UpdatedAt = s.box.LookupHash(key), s.box.Seal(key), s.now()
	updated, err := s.store.UpdateSource(ctx, a)
	if err != nil {
		return Source{}, err
	}
	return s.open(updated)
}

// Get reads one source.
func (s *Service) Get(ctx context.Context, id int64) (Source, error) {
	a, err := s.store.Source(ctx, id)
	if err != nil {
		return Source{}, err
	}
	return s.open(a)
}

// List reads every source.
func (s *Service) List(ctx context.Context) ([]Source, error) {
	all, err := s.store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Source, 0, len(all))
	for _, a := range all {
		src, err := s.open(a)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

// Delete removes a source with its incidents and journal.
func (s *Service) Delete(ctx context.Context, id int64) error {
	if err := s.store.DeleteSource(ctx, id); err != nil {
		return err
	}
	s.forget(id)
	return nil
}

// ByKey finds the source of a webhook's integration key: store.ErrNotFound for
// an unknown or rotated key, ErrInactive for a deactivated source.
func (s *Service) ByKey(ctx context.Context, key string) (Source, error) {
	if !strings.HasPrefix(key, keyPrefix) || len(key) > 100 {
		return Source{}, fmt.Errorf("integration key: %w", store.ErrNotFound)
	}
	a, err := s.store.SourceByKeyHash(ctx, s.box.LookupHash(key))
	if err != nil {
		return Source{}, err
	}
	src, err := s.open(a)
	if err != nil {
		return Source{}, err
	}
	if !secret.Equal(src.Key, key) { // the hash matched; compare the key itself in constant time too
		return Source{}, fmt.Errorf("integration key: %w", store.ErrNotFound)
	}
	if a.Status != StatusActive {
		return src, ErrInactive
	}
	return src, nil
}

// open decrypts a stored source's secrets and builds its webhook URL.
func (s *Service) open(a store.AlertSource) (Source, error) {
	key, err := s.box.Open(a.KeySealed)
	if err != nil {
		return Source{}, fmt.Errorf("alert source %d integration key: %w", a.ID, err)
	}
	sec, err := s.box.Open(a.SecretSealed)
	if err != nil {
		return Source{}, fmt.Errorf("alert source %d Autotask secret: %w", a.ID, err)
	}
	return Source{
		AlertSource: a,
		Key:         key,
		WebhookURL:  s.baseURL + "/api/v1/events/autotask/" + key,
		Autotask: autotask.Source{ID: a.ID, Username: a.Username, Secret: sec,
			IntegrationCode: a.IntegrationCode, WebServer: a.WebServer},
	}, nil
}
