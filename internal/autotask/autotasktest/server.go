// Package autotasktest is a fake Autotask PSA REST API for tests, the demo and
// load tests. It serves zone discovery, Tickets/{id}, Tickets/query,
// Tickets/entityInformation/fields and Companies/{id}, checks the three
// credential headers, and enforces Autotask's thread limit (more than 3
// concurrent requests per endpoint per integration code answer 429).
//
// Documented choices where Autotask's behaviour is not published:
//   - an unknown user in zoneInformation answers 404 {"errors":[...]};
//   - a missing ticket answers 404 {"errors":[...]} (SetNullForMissing(true)
//     switches to 200 {"item": null}, which some Autotask versions send);
//   - SetDown(true) answers 503 {"errors":[...]} to every request;
//   - the thread-limit bucket of Tickets/query is "Tickets" (the entity), so
//     MaxConcurrent("Tickets") counts both Tickets/{id} and Tickets/query.
//
// It does not depend on package testing.
package autotasktest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ThreadLimit is Autotask's limit of concurrent requests per endpoint per integration code.
const ThreadLimit = 3

// Endpoint names used by Requests, MaxConcurrent and FailNext.
const (
	EndpointZone      = "zoneInformation"
	EndpointTickets   = "Tickets"
	EndpointQuery     = "Tickets/query"
	EndpointFields    = "Tickets/entityInformation/fields"
	EndpointCompanies = "Companies"
)

// Ticket is a ticket held by the fake.
type Ticket struct {
	ID          int64
	Number      string
	Title       string
	Description string
	Status      int
	Priority    int
	QueueID     int64
	CompanyID   int64
}

// PicklistValue is one entry of a picklist. Value is an integer, sent as a string like Autotask does.
type PicklistValue struct {
	Value    int
	Label    string
	IsActive bool
	IsSystem bool
}

type credential struct{ secret, code string }

type failure struct {
	n          int
	status     int
	retryAfter time.Duration
}

// Server is a fake Autotask REST API on 127.0.0.1.
type Server struct {
	ts     *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu             sync.RWMutex
	creds          map[string]credential // lower-case username
	tickets        map[int64]Ticket
	byNumber       map[string]int64 // upper-case number
	companies      map[int64]string
	picklists      map[string][]PicklistValue // field name as sent ("status", "priority", "queueID")
	nextID         int64
	nextNumber     int
	latency        time.Duration
	zoneOverride   string
	zoneGen        int
	down           bool
	nullForMissing bool
	failures       map[string]*failure

	statMu    sync.Mutex
	requests  map[string]int
	total     int
	inflight  map[string]int // code + "\x00" + bucket
	maxSeen   map[string]int // bucket
	throttled int
}

// DefaultStatuses is the status picklist of a fresh Autotask instance.
func DefaultStatuses() []PicklistValue {
	return []PicklistValue{
		{1, "New", true, true}, {5, "Complete", true, true}, {7, "Waiting Customer", true, true},
		{8, "In Progress", true, true}, {9, "Waiting Materials", true, false}, {10, "Scheduled", true, false},
		{11, "Escalate", true, false}, {12, "Waiting Vendor", true, false}, {13, "Waiting Approval", true, false},
		{15, "Waiting Dispatch", true, false}, {16, "Approved", true, false}, {17, "Denied", true, false},
	}
}

// DefaultPriorities is the priority picklist of a fresh Autotask instance.
func DefaultPriorities() []PicklistValue {
	return []PicklistValue{{1, "High", true, true}, {2, "Medium", true, true}, {3, "Low", true, true}, {4, "Critical", true, true}}
}

// DefaultQueues is a queue picklist like a fresh Autotask instance's.
func DefaultQueues() []PicklistValue {
	return []PicklistValue{
		{5, "Client Portal", true, true}, {6, "Post Sale", true, false}, {8, "Monitoring Alert", true, false},
		{29682833, "Level I Support", true, false}, {29682969, "Level II Support", true, false}, {29683354, "Recurring Tickets", true, false},
	}
}

// NewServer starts a fake on 127.0.0.1 with the default picklists and no
// accepted credentials. Close it when done.
func NewServer() *Server {
	s := &Server{
		closed:     make(chan struct{}),
		creds:      make(map[string]credential),
		tickets:    make(map[int64]Ticket),
		byNumber:   make(map[string]int64),
		companies:  make(map[int64]string),
		picklists:  map[string][]PicklistValue{"status": DefaultStatuses(), "priority": DefaultPriorities(), "queueID": DefaultQueues()},
		nextID:     100,
		nextNumber: 1,
		failures:   make(map[string]*failure),
		requests:   make(map[string]int),
		inflight:   make(map[string]int),
		maxSeen:    make(map[string]int),
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the web server to configure, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.ts.URL }

// Close stops the server; requests sleeping in SetLatency end at once.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// AddCredentials accepts an API user (none are accepted by default). Adding a
// username again replaces its secret and integration code.
func (s *Server) AddCredentials(username, secret, integrationCode string) {
	s.mu.Lock()
	s.creds[strings.ToLower(username)] = credential{secret, integrationCode}
	s.mu.Unlock()
}

// RemoveCredentials forgets an API user.
func (s *Server) RemoveCredentials(username string) {
	s.mu.Lock()
	delete(s.creds, strings.ToLower(username))
	s.mu.Unlock()
}

// AddCompany adds or renames a company.
func (s *Server) AddCompany(id int64, name string) {
	s.mu.Lock()
	s.companies[id] = name
	s.mu.Unlock()
}

// AddTicket stores t and returns it. A zero ID becomes the next free id (from
// 100 up), an empty Number the next "T20261127.NNNN", a zero Status the
// "New" status and a zero Priority "Medium".
func (s *Server) AddTicket(t Ticket) Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == 0 {
		for s.tickets[s.nextID].ID != 0 {
			s.nextID++
		}
		t.ID = s.nextID
		s.nextID++
	}
	if t.Number == "" {
		for {
			n := fmt.Sprintf("T20261127.%04d", s.nextNumber)
			s.nextNumber++
			if _, taken := s.byNumber[n]; !taken {
				t.Number = n
				break
			}
		}
	}
	if t.Status == 0 {
		t.Status = valueOf(s.picklists["status"], "New")
	}
	if t.Priority == 0 {
		t.Priority = valueOf(s.picklists["priority"], "Medium")
	}
	if old, ok := s.tickets[t.ID]; ok {
		delete(s.byNumber, strings.ToUpper(old.Number))
	}
	s.tickets[t.ID] = t
	s.byNumber[strings.ToUpper(t.Number)] = t.ID
	return t
}

// UpdateTicket replaces a stored ticket (by ID); false when there is none.
func (s *Server) UpdateTicket(t Ticket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.tickets[t.ID]
	if !ok {
		return false
	}
	delete(s.byNumber, strings.ToUpper(old.Number))
	if t.Number == "" {
		t.Number = old.Number
	}
	s.tickets[t.ID] = t
	s.byNumber[strings.ToUpper(t.Number)] = t.ID
	return true
}

// Ticket returns a stored ticket.
func (s *Server) Ticket(id int64) (Ticket, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tickets[id]
	return t, ok
}

// SetTicketStatus changes a ticket's status (no-op for an unknown ticket).
func (s *Server) SetTicketStatus(id int64, status int) {
	s.mu.Lock()
	if t, ok := s.tickets[id]; ok {
		t.Status = status
		s.tickets[id] = t
	}
	s.mu.Unlock()
}

// SetPicklist replaces the picklist of a field ("status", "priority", "queueID").
func (s *Server) SetPicklist(field string, values []PicklistValue) {
	s.mu.Lock()
	s.picklists[field] = append([]PicklistValue(nil), values...)
	s.mu.Unlock()
}

// StatusValue is the value of a status label (case-insensitive), or -1.
func (s *Server) StatusValue(label string) int { return s.PicklistValueOf("status", label) }

// PriorityValue is the value of a priority label (case-insensitive), or -1.
func (s *Server) PriorityValue(label string) int { return s.PicklistValueOf("priority", label) }

// PicklistValueOf is the value of a label in a field's picklist, or -1.
func (s *Server) PicklistValueOf(field, label string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return valueOf(s.picklists[field], label)
}

func valueOf(vs []PicklistValue, label string) int {
	for _, v := range vs {
		if strings.EqualFold(strings.TrimSpace(v.Label), strings.TrimSpace(label)) {
			return v.Value
		}
	}
	return -1
}

// SetLatency adds d to every request (while it counts as in flight).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// FailNext makes the next n requests to endpoint (an Endpoint* name) answer
// status with {"errors":[...]}; retryAfter > 0 adds a Retry-After header (whole
// seconds, rounded up). It replaces an earlier FailNext of that endpoint.
func (s *Server) FailNext(endpoint string, n int, status int, retryAfter time.Duration) {
	s.mu.Lock()
	if n <= 0 {
		delete(s.failures, endpoint)
	} else {
		s.failures[endpoint] = &failure{n: n, status: status, retryAfter: retryAfter}
	}
	s.mu.Unlock()
}

// SetDown makes every request answer 503 {"errors":[...]} while down.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetNullForMissing makes a missing ticket or company answer 200 {"item": null} instead of 404.
func (s *Server) SetNullForMissing(v bool) {
	s.mu.Lock()
	s.nullForMissing = v
	s.mu.Unlock()
}

// ZoneURL makes zoneInformation answer url: override ("" restores the default {URL}/ATServicesRest/).
func (s *Server) ZoneURL(override string) {
	s.mu.Lock()
	s.zoneOverride = override
	s.mu.Unlock()
}

// MoveZone moves the database to a new zone on the same host: zoneInformation
// answers a new url ({URL}/zN/ATServicesRest/) and the old one answers 401, as
// a moved Autotask database does.
func (s *Server) MoveZone() {
	s.mu.Lock()
	s.zoneGen++
	s.mu.Unlock()
}

// Requests is how many requests reached endpoint (an Endpoint* name).
func (s *Server) Requests(endpoint string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.requests[endpoint]
}

// TotalRequests is how many requests reached the server.
func (s *Server) TotalRequests() int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.total
}

// MaxConcurrent is the highest number of requests seen in flight at once for
// endpoint by one integration code. "Tickets" is the thread-limit bucket and
// includes Tickets/query; "Tickets/entityInformation" is the bucket of
// Tickets/entityInformation/fields.
func (s *Server) MaxConcurrent(endpoint string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.maxSeen[endpoint]
}

// InFlight is how many requests to endpoint are in flight now (all integration codes).
func (s *Server) InFlight(endpoint string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	n := 0
	for k, v := range s.inflight {
		if strings.HasSuffix(k, "\x00"+endpoint) {
			n += v
		}
	}
	return n
}

// Throttled is how many requests were refused with 429 for the thread limit.
func (s *Server) Throttled() int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.throttled
}

// ResetStats zeroes the request counters and high-water marks.
func (s *Server) ResetStats() {
	s.statMu.Lock()
	s.requests = make(map[string]int)
	s.maxSeen = make(map[string]int)
	s.total, s.throttled = 0, 0
	s.statMu.Unlock()
}

// --- HTTP ---

const restPrefix = "/atservicesrest/v1.0/"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	lp := strings.ToLower(r.URL.Path)
	i := strings.Index(lp, restPrefix)
	if i < 0 {
		writeErrors(w, http.StatusNotFound, "The requested resource does not exist.")
		return
	}
	zonePrefix, rest := lp[:i], lp[i+len(restPrefix):]
	endpoint, bucket, arg := route(rest)
	if endpoint == "" {
		s.count("other")
		writeErrors(w, http.StatusNotFound, "The requested resource does not exist.")
		return
	}
	s.count(endpoint)

	code := r.Header.Get("ApiIntegrationCode")
	n := s.enter(code, bucket, endpoint)
	defer s.leave(code, bucket, endpoint)

	s.mu.RLock()
	down, latency := s.down, s.latency
	s.mu.RUnlock()
	if down {
		writeErrors(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if endpoint != EndpointZone && n > ThreadLimit {
		s.statMu.Lock()
		s.throttled++
		s.statMu.Unlock()
		writeErrors(w, http.StatusTooManyRequests, fmt.Sprintf("Thread threshold of %d exceeded for endpoint %s with integration code", ThreadLimit, bucket))
		return
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closed:
			t.Stop()
			return
		}
	}
	if f := s.takeFailure(endpoint); f != nil {
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
		}
		writeErrors(w, f.status, fmt.Sprintf("simulated failure %d on %s", f.status, endpoint))
		return
	}

	if endpoint == EndpointZone {
		if zonePrefix != "" {
			writeErrors(w, http.StatusNotFound, "The requested resource does not exist.")
			return
		}
		s.serveZone(w, r)
		return
	}
	s.mu.RLock()
	wantPrefix := ""
	if s.zoneGen > 0 {
		wantPrefix = "/z" + strconv.Itoa(s.zoneGen)
	}
	cred, known := s.creds[strings.ToLower(r.Header.Get("UserName"))]
	s.mu.RUnlock()
	if !known || cred.secret != r.Header.Get("Secret") || cred.code != code || code == "" {
		writeErrors(w, http.StatusUnauthorized, "Unauthorized: the user name, secret or API tracking identifier is wrong.")
		return
	}
	if zonePrefix != wantPrefix {
		writeErrors(w, http.StatusUnauthorized, "Unauthorized: this database is not in this zone.")
		return
	}
	switch endpoint {
	case EndpointTickets:
		if r.Method != http.MethodGet {
			writeErrors(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
			return
		}
		s.serveTicket(w, arg)
	case EndpointQuery:
		s.serveQuery(w, r)
	case EndpointFields:
		s.serveFields(w)
	case EndpointCompanies:
		s.serveCompany(w, arg)
	}
}

// route maps the path below V1.0/ (lower case, and as sent) to an endpoint name, its thread-limit bucket and an id.
func route(rest string) (endpoint, bucket, arg string) {
	rest = strings.TrimSuffix(rest, "/")
	switch {
	case rest == "zoneinformation":
		return EndpointZone, EndpointZone, ""
	case rest == "tickets/query":
		return EndpointQuery, EndpointTickets, ""
	case rest == "tickets/entityinformation/fields":
		return EndpointFields, "Tickets/entityInformation", ""
	case strings.HasPrefix(rest, "tickets/") && !strings.Contains(rest[len("tickets/"):], "/"):
		return EndpointTickets, EndpointTickets, rest[len("tickets/"):]
	case strings.HasPrefix(rest, "companies/") && !strings.Contains(rest[len("companies/"):], "/"):
		return EndpointCompanies, EndpointCompanies, rest[len("companies/"):]
	}
	return "", "", ""
}

func (s *Server) count(endpoint string) {
	s.statMu.Lock()
	s.requests[endpoint]++
	s.total++
	s.statMu.Unlock()
}

// enter counts a request in flight for its bucket (and its own endpoint when
// that differs) and returns the bucket's count, which the thread limit checks.
func (s *Server) enter(code, bucket, endpoint string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	n := 0
	for _, name := range names(bucket, endpoint) {
		k := code + "\x00" + name
		s.inflight[k]++
		c := s.inflight[k]
		if c > s.maxSeen[name] {
			s.maxSeen[name] = c
		}
		if name == bucket {
			n = c
		}
	}
	return n
}

func (s *Server) leave(code, bucket, endpoint string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	for _, name := range names(bucket, endpoint) {
		k := code + "\x00" + name
		s.inflight[k]--
		if s.inflight[k] <= 0 {
			delete(s.inflight, k)
		}
	}
}

func names(bucket, endpoint string) []string {
	if bucket == endpoint {
		return []string{bucket}
	}
	return []string{bucket, endpoint}
}

func (s *Server) takeFailure(endpoint string) *failure {
	s.mu.RLock()
	_, pending := s.failures[endpoint]
	s.mu.RUnlock()
	if !pending {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failures[endpoint]
	if f == nil {
		return nil
	}
	f.n--
	if f.n <= 0 {
		delete(s.failures, endpoint)
	}
	cp := *f
	return &cp
}

func (s *Server) serveZone(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	s.mu.RLock()
	_, known := s.creds[strings.ToLower(user)]
	override, gen := s.zoneOverride, s.zoneGen
	s.mu.RUnlock()
	if !known {
		writeErrors(w, http.StatusNotFound, "Zone information could not be determined")
		return
	}
	u := s.ts.URL + "/ATServicesRest/"
	if gen > 0 {
		u = s.ts.URL + "/z" + strconv.Itoa(gen) + "/ATServicesRest/"
	}
	if override != "" {
		u = override
	}
	writeJSON(w, http.StatusOK, map[string]any{"zoneName": "Fake Zone " + strconv.Itoa(gen+1), "url": u, "webUrl": s.ts.URL + "/", "ci": 1})
}

// serveItem answers GET {entity}/{id} as Autotask does: {"item": ...}, a 404
// (or {"item": null}, see SetNullForMissing) for an unknown id, 400 for a bad one.
func (s *Server) serveItem(w http.ResponseWriter, arg, entity string, find func(id int64) (any, bool)) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "The request is invalid.")
		return
	}
	s.mu.RLock()
	item, ok := find(id)
	null := s.nullForMissing
	s.mu.RUnlock()
	if !ok {
		if null {
			writeJSON(w, http.StatusOK, map[string]any{"item": nil})
			return
		}
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("%s %d not found", entity, id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"item": item})
}

func (s *Server) serveTicket(w http.ResponseWriter, arg string) {
	s.serveItem(w, arg, "Ticket", func(id int64) (any, bool) {
		t, ok := s.tickets[id]
		return ticketJSON(t), ok
	})
}

type filterExpr struct {
	Op    string          `json:"op"`
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
	Items []filterExpr    `json:"items"`
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	var raw []byte
	switch r.Method {
	case http.MethodPost:
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeErrors(w, http.StatusBadRequest, "cannot read body")
			return
		}
		raw = b
	case http.MethodGet:
		raw = []byte(r.URL.Query().Get("search"))
	default:
		writeErrors(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	var q struct {
		Filter []filterExpr `json:"filter"`
	}
	if err := json.Unmarshal(raw, &q); err != nil || len(q.Filter) == 0 {
		writeErrors(w, http.StatusInternalServerError, "Invalid search: a filter is required.")
		return
	}
	s.mu.RLock()
	var items []any
	var matchErr error
	for _, t := range s.tickets {
		ok, err := matchAll(q.Filter, t)
		if err != nil {
			matchErr = err
			break
		}
		if ok {
			items = append(items, ticketJSON(t))
		}
	}
	s.mu.RUnlock()
	if matchErr != nil {
		writeErrors(w, http.StatusInternalServerError, matchErr.Error())
		return
	}
	if items == nil {
		items = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"items":       items,
		"pageDetails": map[string]any{"count": len(items), "requestCount": 500, "prevPageUrl": nil, "nextPageUrl": nil},
	})
}

func matchAll(fs []filterExpr, t Ticket) (bool, error) {
	for _, f := range fs {
		ok, err := match(f, t)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func match(f filterExpr, t Ticket) (bool, error) {
	switch strings.ToLower(f.Op) {
	case "and":
		return matchAll(f.Items, t)
	case "or":
		for _, g := range f.Items {
			ok, err := match(g, t)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	case "eq":
	default:
		return false, fmt.Errorf("unsupported filter operator %q (the fake knows eq, and, or)", f.Op)
	}
	var v any
	if err := json.Unmarshal(f.Value, &v); err != nil {
		return false, fmt.Errorf("invalid filter value for %s", f.Field)
	}
	val := strings.TrimSpace(fmt.Sprint(v))
	switch strings.ToLower(f.Field) {
	case "ticketnumber":
		return strings.EqualFold(val, t.Number), nil
	case "id":
		return val == strconv.FormatInt(t.ID, 10), nil
	case "status":
		return val == strconv.Itoa(t.Status), nil
	case "companyid":
		return val == strconv.FormatInt(t.CompanyID, 10), nil
	default:
		return false, fmt.Errorf("unsupported filter field %q", f.Field)
	}
}

func ticketJSON(t Ticket) map[string]any {
	var queue any
	if t.QueueID != 0 {
		queue = t.QueueID
	}
	return map[string]any{
		"id":                 t.ID,
		"ticketNumber":       t.Number,
		"title":              t.Title,
		"description":        t.Description,
		"status":             t.Status,
		"priority":           t.Priority,
		"queueID":            queue,
		"companyID":          t.CompanyID,
		"ticketType":         1,
		"source":             2,
		"issueType":          nil,
		"assignedResourceID": nil,
		"createDate":         "2026-11-27T09:00:00.000Z",
		"lastActivityDate":   "2026-11-27T09:00:00.000Z",
		"userDefinedFields":  []any{},
	}
}

func (s *Server) serveFields(w http.ResponseWriter) {
	s.mu.RLock()
	pick := func(name string) map[string]any {
		vals := make([]map[string]any, 0, len(s.picklists[name]))
		for i, v := range s.picklists[name] {
			vals = append(vals, map[string]any{
				"value": strconv.Itoa(v.Value), "label": v.Label, "isDefaultValue": false, "sortOrder": i,
				"parentValue": "", "isActive": v.IsActive, "isSystem": v.IsSystem,
			})
		}
		return map[string]any{"name": name, "dataType": "integer", "length": 0, "isRequired": name != "queueID",
			"isReadOnly": false, "isQueryable": true, "isReference": false, "referenceEntityType": "",
			"isPickList": true, "picklistValues": vals, "picklistParentValueField": "", "isSupportedWebhookField": true}
	}
	fields := []map[string]any{
		{"name": "id", "dataType": "long", "isPickList": false, "picklistValues": nil},
		{"name": "ticketNumber", "dataType": "string", "isPickList": false, "picklistValues": nil},
		{"name": "title", "dataType": "string", "isPickList": false, "picklistValues": nil},
	}
	names := []string{"status", "priority", "queueID"}
	for name := range s.picklists {
		if name != "status" && name != "priority" && name != "queueID" {
			names = append(names, name)
		}
	}
	for _, n := range names {
		fields = append(fields, pick(n))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"fields": fields})
}

func (s *Server) serveCompany(w http.ResponseWriter, arg string) {
	s.serveItem(w, arg, "Company", func(id int64) (any, bool) {
		name, ok := s.companies[id]
		return map[string]any{"id": id, "companyName": name, "companyType": 1, "isActive": true}, ok
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":["encode"]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string]any{"errors": msgs})
}
