package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

type sourceRow struct {
	source.Source
	PolicyName string
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Sources.List(r.Context())
	if err != nil {
		return err
	}
	policies, err := s.policyNames(r)
	if err != nil {
		return err
	}
	out := make([]sourceRow, 0, len(all))
	for _, src := range all {
		out = append(out, sourceRow{Source: src, PolicyName: policies[src.EscalationPolicyID]})
	}
	s.render(w, r, http.StatusOK, "sources", "Alert sources", "sources", out)
	return nil
}

func (s *Server) policyNames(r *http.Request) (map[int64]string, error) {
	ps, err := s.Store.Policies(r.Context())
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, p := range ps {
		out[p.ID] = p.Name
	}
	return out, nil
}

// sourceForm is the create/edit form: values as typed, and messages by field.
type sourceForm struct {
	ID                 int64 // 0 on create
	Name               string
	IntegrationType    string
	Username           string
	IntegrationCode    string
	EscalationPolicyID int64
	WebServer          string
	HasSecret          bool // on edit: a secret is stored (it is never shown)
	Policies           []option
	DefaultWebServer   string
	Errors             fieldErrors
}

func (s *Server) sourceFormView(w http.ResponseWriter, r *http.Request, status int, f sourceForm) error {
	ps, err := s.Store.Policies(r.Context())
	if err != nil {
		return err
	}
	for _, p := range ps {
		f.Policies = append(f.Policies, option{Value: strconv.FormatInt(p.ID, 10), Label: p.Name, Selected: p.ID == f.EscalationPolicyID})
	}
	f.DefaultWebServer = source.DefaultWebServer
	if f.IntegrationType == "" {
		f.IntegrationType = source.TypeAutotask
	}
	title := "New alert source"
	if f.ID != 0 {
		title = "Edit alert source " + f.Name
	}
	s.render(w, r, status, "source-form", title, "sources", f)
	return nil
}

func (s *Server) newSource(w http.ResponseWriter, r *http.Request) error {
	return s.sourceFormView(w, r, http.StatusOK, sourceForm{})
}

func (s *Server) editSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := s.Sources.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return s.sourceFormView(w, r, http.StatusOK, sourceForm{ID: id, Name: src.Name, IntegrationType: src.IntegrationType,
		Username: src.Username, IntegrationCode: src.IntegrationCode, EscalationPolicyID: src.EscalationPolicyID,
		WebServer: src.WebServer, HasSecret: true})
}

// readSourceForm reads the posted form into f and the service's input. An
// empty secret on edit keeps the stored one.
func readSourceForm(r *http.Request, f *sourceForm) (source.Input, fieldErrors) {
	errs := fieldErrors{}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f.Name, f.IntegrationType, f.Username = get("name"), get("integrationType"), get("username")
	f.IntegrationCode, f.WebServer = get("integrationCode"), get("webServer")
	in := source.Input{Name: &f.Name, Username: &f.Username, IntegrationCode: &f.IntegrationCode, WebServer: &f.WebServer}
	if f.IntegrationType != "" {
		in.IntegrationType = &f.IntegrationType
	}
	if sec := r.PostFormValue("secret"); sec != "" || f.ID == 0 {
		in.Secret = &sec
	}
	if v := get("escalationPolicyId"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			errs.add("escalationPolicyId", "choose an escalation policy")
		} else {
			f.EscalationPolicyID, in.EscalationPolicyID = id, &id
		}
	}
	return in, errs
}

// sourceFields maps the service's field names to the form's.
func sourceField(field string) string {
	return strings.TrimPrefix(field, "autotask.")
}

// invalidSource turns a validation error into field messages, or returns false.
func invalidSource(err error, errs fieldErrors) bool {
	var inv *fault.Invalid
	if !errors.As(err, &inv) {
		return false
	}
	errs.add(sourceField(inv.Field), inv.Message)
	return true
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var f sourceForm
	in, errs := readSourceForm(r, &f)
	if len(errs) == 0 {
		src, err := s.Sources.Create(r.Context(), in)
		if err == nil {
			redirect(w, r, "/sources/"+strconv.FormatInt(src.ID, 10), "created")
			return nil
		}
		if !invalidSource(err, errs) {
			return err
		}
	}
	f.Errors = errs
	return s.sourceFormView(w, r, http.StatusUnprocessableEntity, f)
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Store.Source(r.Context(), id); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := sourceForm{ID: id, HasSecret: true}
	in, errs := readSourceForm(r, &f)
	if len(errs) == 0 {
		_, err := s.Sources.Update(r.Context(), id, in)
		if err == nil {
			redirect(w, r, "/sources/"+strconv.FormatInt(id, 10), "saved")
			return nil
		}
		if !invalidSource(err, errs) {
			return err
		}
	}
	f.Errors = errs
	return s.sourceFormView(w, r, http.StatusUnprocessableEntity, f)
}

type sourceData struct {
	Source     source.Source
	PolicyName string
	Test       *testResult
}

// testResult is what "test connection" found.
type testResult struct {
	OK      bool
	Message string
	Detail  string
}

func (s *Server) showSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.renderSource(w, r, id, nil)
}

func (s *Server) renderSource(w http.ResponseWriter, r *http.Request, id int64, test *testResult) error {
	src, err := s.Sources.Get(r.Context(), id)
	if err != nil {
		return err
	}
	d := sourceData{Source: src, Test: test}
	if p, err := s.Store.Policy(r.Context(), src.EscalationPolicyID); err == nil {
		d.PolicyName = p.Name
	}
	s.render(w, r, http.StatusOK, "source", src.Name, "sources", d)
	return nil
}

// testSource checks the source's Autotask credentials: a fresh zone lookup and
// one authenticated call. It changes nothing, so it shows its answer directly.
func (s *Server) testSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := s.Sources.Get(r.Context(), id)
	if err != nil {
		return err
	}
	res := &testResult{OK: true, Message: "Connected: Autotask accepted the credentials and ticketpager can read the ticket fields."}
	if err := s.Autotask.CheckConnection(r.Context(), src.Autotask); err != nil {
		res = &testResult{Message: connectionMessage(err), Detail: err.Error()}
		s.Logger.Info("alert source connection test failed", "source", id, "error", err)
	}
	return s.renderSource(w, r, id, res)
}

// connectionMessage says what a failed connection test means and what to do.
func connectionMessage(err error) string {
	switch {
	case errors.Is(err, autotask.ErrUnauthorized):
		return "Autotask refused the credentials. Check the API user's username, the secret and the integration code " +
			"(the API tracking identifier), and that the API user is active."
	case errors.Is(err, autotask.ErrForbiddenHost):
		return "ticketpager will not send the credentials to that host. Check the web server: it must be an Autotask " +
			"web services address such as " + source.DefaultWebServer + "."
	case errors.Is(err, autotask.ErrNotFound):
		return "Autotask does not know this API user or the ticket fields. Check the username."
	case errors.Is(err, autotask.ErrUnavailable):
		return "Autotask could not be reached or answered with an error (it reports missing permissions as errors too). " +
			"Check the web server and that the API user's security level can read tickets; then try again."
	default:
		return "The connection test failed."
	}
}

func (s *Server) confirmRotate(w http.ResponseWriter, r *http.Request) error {
	return s.confirmSource(w, r, confirmData{Heading: "Make a new webhook URL?",
		Message: "The current webhook URL stops working at once. Autotask's Extension Callout must be given the new URL, " +
			"or its callouts will be refused.", Action: "rotate-key", Button: "Make a new webhook URL"})
}

func (s *Server) confirmDeleteSource(w http.ResponseWriter, r *http.Request) error {
	return s.confirmSource(w, r, confirmData{Heading: "Delete this alert source?",
		Message: "This deletes the alert source with its incidents and its callout journal. It cannot be undone. " +
			"To stop callouts but keep the history, deactivate it instead.", Action: "delete", Button: "Delete alert source", Danger: true})
}

func (s *Server) confirmSource(w http.ResponseWriter, r *http.Request, d confirmData) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := s.Store.Source(r.Context(), id)
	if err != nil {
		return err
	}
	d.Subject = src.Name
	d.Action = "/sources/" + strconv.FormatInt(id, 10) + "/" + d.Action
	d.Cancel = "/sources/" + strconv.FormatInt(id, 10)
	s.render(w, r, http.StatusOK, "confirm", d.Heading, "sources", d)
	return nil
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Sources.RotateKey(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, "/sources/"+strconv.FormatInt(id, 10), "rotated")
	return nil
}

func (s *Server) activateSource(w http.ResponseWriter, r *http.Request) error {
	return s.setSourceStatus(w, r, source.StatusActive, "activated")
}

func (s *Server) deactivateSource(w http.ResponseWriter, r *http.Request) error {
	return s.setSourceStatus(w, r, source.StatusInactive, "deactivated")
}

func (s *Server) setSourceStatus(w http.ResponseWriter, r *http.Request, status, done string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Sources.Update(r.Context(), id, source.Input{Status: &status}); err != nil {
		return err
	}
	redirect(w, r, "/sources/"+strconv.FormatInt(id, 10), done)
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Sources.Delete(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, "/sources", "deleted")
	return nil
}

type calloutsData struct {
	Source   store.AlertSource
	Items    []store.Callout
	NextURL  string
	FirstURL string
}

func (s *Server) listCallouts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := s.Store.Source(r.Context(), id)
	if err != nil {
		return err
	}
	cursor := cursorParam(r)
	list, next, err := s.Store.Callouts(r.Context(), id, PageSize, cursor)
	if err != nil {
		return err
	}
	base := "/sources/" + strconv.FormatInt(id, 10) + "/callouts"
	d := calloutsData{Source: src, Items: list}
	if next != 0 {
		d.NextURL = base + "?cursor=" + strconv.FormatInt(next, 10)
	}
	if cursor != 0 {
		d.FirstURL = base
	}
	s.render(w, r, http.StatusOK, "callouts", "Callouts of "+src.Name, "sources", d)
	return nil
}

// confirmData is the page that asks before a destructive POST.
type confirmData struct {
	Heading string
	Subject string
	Message string
	Action  string // the URL the form posts to
	Button  string
	Cancel  string
	Danger  bool
	Problem string // why the action could not be done (shown instead of asking again)
}
