// Package api serves ticketpager's JSON API and the Autotask webhook. Every route
// is in routes; handlers are methods on Server and read the same way:
// decode -> validate -> service -> respond.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketpager/ticketpager/internal/actionlink"
	"github.com/ticketpager/ticketpager/internal/auth"
	"github.com/ticketpager/ticketpager/internal/autotask"
	"github.com/ticketpager/ticketpager/internal/fault"
	"github.com/ticketpager/ticketpager/internal/inbound"
	"github.com/ticketpager/ticketpager/internal/incident"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

// MaxBody is the largest request body accepted anywhere (413 beyond).
const MaxBody = 1 << 20

// Server holds the handlers' dependencies.
type Server struct {
	Store     *store.Store
	Box       *secret.Box
	Sources   *source.Service
	Incidents *incident.Service
	Inbound   *inbound.Processor
	Autotask  *autotask.Client
	Links     *actionlink.Signer
	Auth      *auth.Manager
	Web       http.Handler // the web UI, for every path the API does not own
	Now       func() time.Time
	Logger    *slog.Logger
	Gatherer  prometheus.Gatherer

	latency *prometheus.HistogramVec
}

// Handler returns the HTTP handler with every route; reg receives the HTTP metrics.
func (s *Server) Handler(reg prometheus.Registerer) http.Handler {
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ticketpager_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "code"})
	reg.MustRegister(s.latency)
	mux := http.NewServeMux()
	s.routes(mux)
	return s.observe(mux)
}

// apiError is an error with its HTTP status and code, for answers made here.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// writeError maps every error kind to its HTTP status: the one place that does.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	status := http.StatusInternalServerError
	var ae *apiError
	var inv *fault.Invalid
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		status, body.Error.Code, body.Error.Message = ae.status, ae.code, ae.message
	case errors.As(err, &inv):
		status, body.Error.Code, body.Error.Field = http.StatusUnprocessableEntity, "VALIDATION_FAILED", inv.Field
		body.Error.Message = inv.Error()
	case errors.As(err, &tooBig):
		status, body.Error.Code = http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE"
		body.Error.Message = fmt.Sprintf("the request body is larger than %d bytes", MaxBody)
	case errors.Is(err, store.ErrNotFound):
		status, body.Error.Code, body.Error.Message = http.StatusNotFound, "NOT_FOUND", "no such object: "+err.Error()
	case errors.Is(err, fault.ErrState):
		status, body.Error.Code, body.Error.Message = http.StatusConflict, "INVALID_STATE", err.Error()
	case errors.Is(err, store.ErrConflict):
		status, body.Error.Code = http.StatusConflict, "CONFLICT"
		body.Error.Message = "the change conflicts with existing data (a duplicate, or an object still in use)"
	case errors.Is(err, source.ErrInactive):
		status, body.Error.Code = http.StatusGone, "ALERT_SOURCE_INACTIVE"
		body.Error.Message = "this alert source is deactivated; activate it in ticketpager to receive callouts again"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		status, body.Error.Code, body.Error.Message = http.StatusServiceUnavailable, "UNAVAILABLE", "the request took too long; try again"
	default:
		body.Error.Code, body.Error.Message = "INTERNAL", "something went wrong on our side; the server log has the details"
	}
	if status >= 500 {
		s.Logger.Error("request failed", "method", r.Method, "path", redactPath(r.URL.Path), "error", err)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON request body into v, refusing other content types,
// unknown fields, trailing data and bodies over MaxBody.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"send the body as JSON with Content-Type: application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return errorf(http.StatusBadRequest, "INVALID_JSON", "the body is not valid JSON for this call: %s", jsonMessage(err))
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "INVALID_JSON", "the body holds more than one JSON value")
	}
	return nil
}

// jsonMessage makes decoder errors readable without echoing large input.
func jsonMessage(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "NOT_FOUND", "%s %q is not an id", name, r.PathValue(name))
	}
	return id, nil
}

// page reads limit (1-500, default 50) and cursor query parameters.
func page(r *http.Request) (limit int, cursor int64, err error) {
	limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, fault.Invalidf("limit", "must be a whole number from 1 to 500")
		}
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		if cursor, err = strconv.ParseInt(v, 10, 64); err != nil || cursor < 1 {
			return 0, 0, fault.Invalidf("cursor", "must be the nextCursor of a previous page")
		}
	}
	return limit, cursor, nil
}

func cursorString(next int64) *string {
	if next == 0 {
		return nil
	}
	s := strconv.FormatInt(next, 10)
	return &s
}

// redactPath hides a webhook's integration key in logs.
func redactPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/api/v1/events/autotask/"); ok && rest != "" {
		return "/api/v1/events/autotask/[key]"
	}
	if strings.HasPrefix(p, "/actions/") {
		return "/actions/[token]"
	}
	return p
}
