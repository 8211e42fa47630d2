package autotask

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Ticket reads ticket id. In steady state (zone, picklists and company cached)
// this is exactly one Autotask request; concurrent calls for the same source
// and id share it.
func (c *Client) Ticket(ctx context.Context, s Source, id int64) (*Ticket, error) {
	op := "get ticket " + strconv.FormatInt(id, 10)
	if id <= 0 {
		return nil, &opError{class: ErrNotFound, op: op, msg: "ticket ids are positive"}
	}
	st, err := c.state(s)
	if err != nil {
		return nil, withOp(op, err)
	}
	t, err := shared(ctx, &st.sf, "ticket:"+strconv.FormatInt(id, 10), func(ctx context.Context) (*Ticket, error) {
		var r struct {
			Item *apiTicket `json:"item"`
		}
		path := "Tickets/" + strconv.FormatInt(id, 10)
		if err := c.call(ctx, st, request{method: http.MethodGet, path: path, entity: "Tickets", endpoint: "Tickets"}, &r); err != nil {
			return nil, err
		}
		if r.Item == nil || r.Item.ID == 0 {
			return nil, &opError{class: ErrNotFound, msg: `Autotask answered {"item": null}`}
		}
		return c.complete(ctx, st, r.Item)
	})
	if err != nil {
		return nil, withOp(op, err)
	}
	cp := *t
	return &cp, nil
}

// TicketByNumber finds a ticket by its number (e.g. "T20261127.0001") with one
// Tickets/query request in steady state.
func (c *Client) TicketByNumber(ctx context.Context, s Source, number string) (*Ticket, error) {
	number = strings.TrimSpace(number)
	op := "get ticket " + strconv.Quote(number)
	if number == "" {
		return nil, &opError{class: ErrNotFound, op: op, msg: "empty ticket number"}
	}
	st, err := c.state(s)
	if err != nil {
		return nil, withOp(op, err)
	}
	t, err := shared(ctx, &st.sf, "number:"+strings.ToUpper(number), func(ctx context.Context) (*Ticket, error) {
		type filter struct {
			Op    string `json:"op"`
			Field string `json:"field"`
			Value string `json:"value"`
		}
		body, err := json.Marshal(struct {
			Filter []filter `json:"filter"`
		}{[]filter{{Op: "eq", Field: "ticketNumber", Value: number}}})
		if err != nil {
			return nil, &opError{class: ErrUnavailable, cause: err}
		}
		var r struct {
			Items []*apiTicket `json:"items"`
		}
		if err := c.call(ctx, st, request{method: http.MethodPost, path: "Tickets/query", entity: "Tickets", endpoint: "Tickets/query", body: body}, &r); err != nil {
			return nil, err
		}
		var found *apiTicket
		for _, it := range r.Items {
			if it != nil && strings.EqualFold(strings.TrimSpace(it.TicketNumber), number) {
				found = it
				break
			}
		}
		if found == nil || found.ID == 0 {
			return nil, &opError{class: ErrNotFound, msg: "no ticket has this number"}
		}
		return c.complete(ctx, st, found)
	})
	if err != nil {
		return nil, withOp(op, err)
	}
	cp := *t
	return &cp, nil
}

// CheckConnection looks the zone up afresh and makes one authenticated call
// (Tickets/entityInformation/fields, which also fills the picklist cache).
func (c *Client) CheckConnection(ctx context.Context, s Source) error {
	st, err := c.state(s)
	if err != nil {
		return withOp("check connection", err)
	}
	st.mu.Lock()
	st.zone = nil
	st.mu.Unlock()
	if _, err := c.loadPicklists(ctx, st); err != nil {
		return withOp("check connection", err)
	}
	return nil
}

// apiTicket is the part of Autotask's ticket entity that we read.
type apiTicket struct {
	ID           flexInt `json:"id"`
	TicketNumber string  `json:"ticketNumber"`
	Title        string  `json:"title"`
	Description  string  `json:"description"`
	Status       flexInt `json:"status"`
	Priority     flexInt `json:"priority"`
	QueueID      flexInt `json:"queueID"`
	CompanyID    flexInt `json:"companyID"`
}

// complete turns an API ticket into a Ticket: labels, company, web link.
func (c *Client) complete(ctx context.Context, st *sourceState, at *apiTicket) (*Ticket, error) {
	t := &Ticket{
		ID:          int64(at.ID),
		Number:      at.TicketNumber,
		Title:       at.Title,
		Description: at.Description,
		Status:      int(at.Status),
		Priority:    int(at.Priority),
		QueueID:     int64(at.QueueID),
		CompanyID:   int64(at.CompanyID),
	}
	if err := c.label(ctx, st, t); err != nil {
		return nil, err
	}
	t.CompanyName = c.companyName(ctx, st, t.CompanyID)
	st.mu.Lock()
	z := st.zone
	st.mu.Unlock()
	if z != nil && z.webURL != "" {
		t.WebLink = z.webURL + "Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID=" + strconv.FormatInt(t.ID, 10)
	}
	return t, nil
}

// picklists maps lower-case field name -> value -> label.
type picklists map[string]map[string]string

func (p picklists) label(field string, v int64) (string, bool) {
	l, ok := p[field][strconv.FormatInt(v, 10)]
	return l, ok
}

func (p picklists) missing(t *Ticket) bool {
	_, sok := p.label("status", int64(t.Status))
	_, pok := p.label("priority", int64(t.Priority))
	qok := true
	if t.QueueID != 0 {
		_, qok = p.label("queueid", t.QueueID)
	}
	return !sok || !pok || !qok
}

// label fills the labels of t. A value missing from the cached picklists
// causes one refresh (at most one a minute per source).
func (c *Client) label(ctx context.Context, st *sourceState, t *Ticket) error {
	p, err := c.picklists(ctx, st)
	if err != nil {
		return err
	}
	if p.missing(t) {
		if p, err = c.refreshPicklists(ctx, st, p); err != nil {
			return err
		}
	}
	t.StatusLabel, _ = p.label("status", int64(t.Status))
	t.PriorityLabel, _ = p.label("priority", int64(t.Priority))
	if t.QueueID != 0 {
		t.QueueLabel, _ = p.label("queueid", t.QueueID)
	}
	if t.StatusLabel == "" {
		c.log.Warn("autotask: ticket status not in the status picklist", "source", st.src.ID, "ticket", t.ID, "status", t.Status)
	}
	return nil
}

// picklists returns the cached picklists, loading them when missing or older
// than an hour (a failed reload keeps the stale ones).
func (c *Client) picklists(ctx context.Context, st *sourceState) (picklists, error) {
	now := c.now()
	st.mu.Lock()
	p, at, tried := st.picks, st.picksAt, st.picksTriedAt
	st.mu.Unlock()
	if p != nil && (now.Sub(at) < picklistTTL || now.Sub(tried) < picklistMinGap) {
		return p, nil
	}
	np, err := c.loadPicklists(ctx, st)
	if err != nil {
		if p != nil {
			c.log.Warn("autotask: picklist reload failed, using the cached ones", "source", st.src.ID, "err", err)
			return p, nil
		}
		return nil, err
	}
	return np, nil
}

// refreshPicklists reloads the picklists unless that was tried less than a
// minute ago; then it returns the current ones (or the last attempt's error).
func (c *Client) refreshPicklists(ctx context.Context, st *sourceState, cur picklists) (picklists, error) {
	st.mu.Lock()
	p, tried, lastErr := st.picks, st.picksTriedAt, st.picksErr
	st.mu.Unlock()
	if c.now().Sub(tried) < picklistMinGap {
		if lastErr != nil {
			return nil, lastErr
		}
		if p == nil {
			p = cur
		}
		return p, nil
	}
	return c.loadPicklists(ctx, st)
}

func (c *Client) loadPicklists(ctx context.Context, st *sourceState) (picklists, error) {
	return shared(ctx, &st.sf, "picklists", func(ctx context.Context) (picklists, error) {
		var r struct {
			Fields []struct {
				Name           string `json:"name"`
				IsPickList     bool   `json:"isPickList"`
				PicklistValues []struct {
					Value flexString `json:"value"`
					Label string     `json:"label"`
				} `json:"picklistValues"`
			} `json:"fields"`
		}
		err := c.call(ctx, st, request{method: http.MethodGet, path: "Tickets/entityInformation/fields", entity: "Tickets/entityInformation", endpoint: "Tickets/entityInformation/fields"}, &r)
		now := c.now()
		if err != nil {
			err = withOp("read ticket picklists", err)
			st.mu.Lock()
			st.picksTriedAt, st.picksErr = now, err
			st.mu.Unlock()
			return nil, err
		}
		p := picklists{}
		for _, f := range r.Fields {
			if !f.IsPickList && len(f.PicklistValues) == 0 {
				continue
			}
			m := make(map[string]string, len(f.PicklistValues))
			for _, v := range f.PicklistValues {
				m[strings.TrimSpace(string(v.Value))] = strings.TrimSpace(v.Label)
			}
			p[strings.ToLower(f.Name)] = m
		}
		st.mu.Lock()
		st.picks, st.picksAt, st.picksTriedAt, st.picksErr = p, now, now, nil
		st.mu.Unlock()
		return p, nil
	})
}

// companyName returns the cached name of company id, reading it when needed.
// Failures are logged and give "" (retried after a few minutes).
func (c *Client) companyName(ctx context.Context, st *sourceState, id int64) string {
	if id <= 0 {
		return ""
	}
	st.mu.Lock()
	e, ok := st.companies[id]
	st.mu.Unlock()
	if ok && c.now().Sub(e.at) < e.ttl {
		return e.name
	}
	name, err := shared(ctx, &st.sf, "company:"+strconv.FormatInt(id, 10), func(ctx context.Context) (string, error) {
		var r struct {
			Item *struct {
				CompanyName string `json:"companyName"`
			} `json:"item"`
		}
		err := c.call(ctx, st, request{method: http.MethodGet, path: "Companies/" + strconv.FormatInt(id, 10), entity: "Companies", endpoint: "Companies"}, &r)
		if err == nil && r.Item == nil {
			err = &opError{class: ErrNotFound, msg: `Autotask answered {"item": null}`}
		}
		ne := companyEntry{at: c.now(), ttl: companyTTL}
		if err != nil {
			ne.name, ne.ttl = e.name, companyFailTTL // keep a stale name, if any
		} else {
			ne.name = strings.TrimSpace(r.Item.CompanyName)
		}
		st.mu.Lock()
		st.companies[id] = ne
		st.mu.Unlock()
		return ne.name, err
	})
	if err != nil {
		c.log.Warn("autotask: cannot read company", "source", st.src.ID, "company", id, "err", err)
		return e.name
	}
	return name
}

// flexInt reads a JSON number, a numeric string or null.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
		if len(b) == 0 {
			*f = 0
			return nil
		}
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if i, err := n.Int64(); err == nil {
		*f = flexInt(i)
		return nil
	}
	fl, err := n.Float64()
	if err != nil {
		return err
	}
	*f = flexInt(int64(fl))
	return nil
}

// flexString reads a JSON string, number or null as a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	default:
		*f = flexString(b)
		return nil
	}
}
