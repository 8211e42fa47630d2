package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ticketpager/ticketpager/internal/callout"
	"github.com/ticketpager/ticketpager/internal/inbound"
	"github.com/ticketpager/ticketpager/internal/store"
)

type calloutJSON struct {
	ID                int64     `json:"id"`
	ReceivedAt        time.Time `json:"receivedAt"`
	Method            string    `json:"method"`
	ContentType       string    `json:"contentType"`
	Query             string    `json:"query"`
	Body              string    `json:"body"`
	BodyTruncated     bool      `json:"bodyTruncated"`
	TicketID          *int64    `json:"ticketId"`
	TicketNumber      *string   `json:"ticketNumber"`
	TicketStatusLabel *string   `json:"ticketStatusLabel"`
	Action            *string   `json:"action"`
	HTTPStatus        *int      `json:"httpStatus"`
	IncidentID        *int64    `json:"incidentId"`
	Error             *string   `json:"error"`
	Attempts          int       `json:"attempts"`
}

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func calloutView(c store.Callout) calloutJSON {
	return calloutJSON{ID: c.ID, ReceivedAt: c.ReceivedAt, Method: c.Method, ContentType: c.ContentType, Query: c.Query,
		Body: c.Body, BodyTruncated: c.BodyTruncated, TicketID: ptr(c.TicketID), TicketNumber: ptr(c.TicketNumber),
		TicketStatusLabel: ptr(c.TicketStatusLabel), Action: ptr(c.Action), HTTPStatus: ptr(c.HTTPStatus),
		IncidentID: ptr(c.IncidentID), Error: ptr(c.Error), Attempts: c.Attempts}
}

func (s *Server) listCallouts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, cursor, err := page(r)
	if err != nil {
		return err
	}
	if _, err := s.Store.Source(r.Context(), id); err != nil {
		return err
	}
	list, next, err := s.Store.Callouts(r.Context(), id, limit, cursor)
	if err != nil {
		return err
	}
	out := make([]calloutJSON, 0, len(list))
	for _, c := range list {
		out = append(out, calloutView(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "nextCursor": cursorString(next)})
	return nil
}

type calloutAnswer struct {
	Action            string  `json:"action"`
	CalloutID         int64   `json:"calloutId"`
	IncidentID        *int64  `json:"incidentId,omitempty"`
	TicketID          *int64  `json:"ticketId,omitempty"`
	TicketNumber      *string `json:"ticketNumber,omitempty"`
	TicketStatusLabel *string `json:"ticketStatusLabel,omitempty"`
	Message           string  `json:"message,omitempty"`
}

// autotaskCallout is the webhook Autotask's Extension Callout calls.
func (s *Server) autotaskCallout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			"the webhook takes GET or POST; set the Extension Callout's HTTP transport method to one of them"))
		return
	}
	src, err := s.Sources.ByKey(r.Context(), r.PathValue("key"))
	if errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, errorf(http.StatusNotFound, "UNKNOWN_INTEGRATION_KEY",
			"no alert source has this webhook URL (it may have been rotated or deleted); copy the current URL from the alert source"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			err = errorf(http.StatusBadRequest, "UNREADABLE_BODY", "the request body could not be read: it was cut off or the connection failed")
		}
		s.writeError(w, r, err)
		return
	}
	a, err := s.Inbound.Receive(r.Context(), src, callout.Request{
		Method: r.Method, ContentType: r.Header.Get("Content-Type"), Query: r.URL.Query(), Body: body,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if a.HTTPStatus >= 400 {
		s.writeError(w, r, errorf(a.HTTPStatus, a.Code, "%s", a.Message))
		return
	}
	out := calloutAnswer{Action: a.Action, CalloutID: a.CalloutID, IncidentID: ptr(a.IncidentID), TicketID: ptr(a.TicketID),
		TicketNumber: ptr(a.TicketNumber), TicketStatusLabel: ptr(a.StatusLabel)}
	if a.Action == inbound.ActionQueued {
		out.Message = a.Message
	}
	writeJSON(w, a.HTTPStatus, out)
}
