package callout

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// scope is where a key sits, which decides whether a bare "id" or "number" is the ticket's.
type scope uint8

const (
	scopeTop     scope = iota // top level of the document (or inside neutral wrappers)
	scopeTicket               // inside an object or element named like "ticket"
	scopeForeign              // inside something else: company, account, contact, resource ...
)

// Ranks: a candidate replaces the current one only when its rank is higher, so among
// equals the first in document order wins.
const (
	rankNone        = 0
	rankShape       = 1 // a ticket-number-shaped value anywhere (numbers only)
	rankBareTop     = 2 // "id" / "number" at the top level
	rankBareTicket  = 3 // "id" / "number" under a ticket
	rankEntityTop   = 4 // "entityId" at the top level
	rankEntityTiket = 5 // "entityId" under a ticket
	rankSpecific    = 6 // "ticketId" / "ticketNumber", anywhere
)

// collector gathers the best ticket id and ticket number seen so far.
type collector struct {
	id      int64
	idRank  int
	num     string
	numRank int
}

func (c *collector) reference() Reference {
	return Reference{TicketID: c.id, TicketNumber: c.num}
}

// normKey lower-cases a key and drops the separators _ - . space [ ] so that
// "Ticket ID", "ticket_id", "ticket.id", "ticket[id]" and "TicketID" are all "ticketid".
func normKey(k string) string {
	clean := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'A' && c <= 'Z' || isKeySep(c) {
			clean = false
			break
		}
	}
	if clean {
		return k
	}
	b := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case isKeySep(c):
		case c >= 'A' && c <= 'Z':
			b = append(b, c+('a'-'A'))
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isKeySep(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == ' ' || c == '[' || c == ']' || c == '\t'
}

// neutral names are wrappers that say nothing about what they hold: a bare id below
// them counts as if it stood at the level above.
var neutral = map[string]bool{
	"envelope": true, "body": true, "data": true, "item": true, "items": true, "entity": true,
	"entities": true, "payload": true, "root": true, "request": true, "callout": true,
	"extensioncallout": true, "event": true, "record": true, "records": true, "result": true,
	"results": true, "fields": true, "properties": true, "values": true, "object": true,
	"message": true, "params": true, "parameters": true, "document": true, "xml": true,
	"arrayofitem": true, "list": true, "content": true,
}

// foreignRoots are document roots that are clearly not a ticket.
var foreignRoots = map[string]bool{
	"company": true, "account": true, "contact": true, "resource": true, "project": true,
	"task": true, "contract": true, "opportunity": true, "configurationitem": true, "user": true,
}

func isTicketName(n string) bool { return strings.Contains(n, "ticket") }

// childScope is the scope of the members of a container called name (normalised),
// itself inside a container of scope parent.
func childScope(parent scope, name string) scope {
	switch {
	case isTicketName(name):
		return scopeTicket
	case name == "" || neutral[name]:
		return parent
	default:
		return scopeForeign
	}
}

// rootScope is the scope of the members of an XML document's root element.
func rootScope(name string) scope {
	switch {
	case isTicketName(name):
		return scopeTicket
	case foreignRoots[name]:
		return scopeForeign
	default:
		return scopeTop
	}
}

// field offers one key/value pair found in scope s. isNum says the value is a JSON
// number literal rather than a string.
func (c *collector) field(s scope, key, value string, isNum bool) {
	k := normKey(key)
	switch k {
	case "ticketid":
		c.offerID(rankSpecific, value)
	case "entityid":
		switch s {
		case scopeTicket:
			c.offerID(rankEntityTiket, value)
		case scopeTop:
			c.offerID(rankEntityTop, value)
		}
	case "id":
		switch s {
		case scopeTicket:
			c.offerID(rankBareTicket, value)
		case scopeTop:
			c.offerID(rankBareTop, value)
		}
	case "ticketnumber":
		c.offerNumber(rankSpecific, value)
	case "number":
		if !isNum {
			switch s {
			case scopeTicket:
				c.offerNumber(rankBareTicket, value)
			case scopeTop:
				c.offerNumber(rankBareTop, value)
			}
		}
	}
	if !isNum {
		c.textString(value)
	}
}

func (c *collector) offerID(rank int, value string) {
	if rank <= c.idRank {
		return
	}
	if id, ok := parseID(value); ok {
		c.id, c.idRank = id, rank
	}
}

func (c *collector) offerNumber(rank int, value string) {
	if rank <= c.numRank {
		return
	}
	v := strings.TrimSpace(value)
	if i, j := findTicketNumber(v); i >= 0 {
		c.num, c.numRank = v[i:j], rank
		return
	}
	if isToken(v) {
		c.num, c.numRank = v, rank
	}
}

// text looks for a ticket-number-shaped value in free text.
func (c *collector) text(b []byte) {
	if c.numRank >= rankShape {
		return
	}
	if i, j := findTicketNumber(b); i >= 0 {
		c.num, c.numRank = string(b[i:j]), rankShape
	}
}

func (c *collector) textString(s string) {
	if c.numRank >= rankShape {
		return
	}
	if i, j := findTicketNumber(s); i >= 0 {
		c.num, c.numRank = s[i:j], rankShape
	}
}

// parseID reads a positive int64 written in decimal digits (surrounding space allowed).
func parseID(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 19+10 { // allow leading zeros, refuse absurd lengths early
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// isToken reports whether v can be a ticket number: 1 to maxNumberLength printable
// ASCII characters without spaces.
func isToken(v string) bool {
	if v == "" || len(v) > maxNumberLength {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// findTicketNumber finds the first match of `\bT\d{8}\.\d{4,}\b` in s and returns its
// bounds, or -1, -1.
func findTicketNumber[S ~string | ~[]byte](s S) (int, int) {
	for i := 0; i+14 <= len(s); i++ {
		if s[i] != 'T' || i > 0 && isWordByte(s[i-1]) {
			continue
		}
		j := i + 1
		for j < i+9 && isDigit(s[j]) {
			j++
		}
		if j != i+9 || s[j] != '.' {
			continue
		}
		j++
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k-j < 4 || k < len(s) && isWordByte(s[k]) {
			continue
		}
		return i, k
	}
	return -1, -1
}

// fromValues collects from query-string style values, all at the top level. Keys are
// visited in sorted order so that ties resolve the same way every time.
func (c *collector) fromValues(v url.Values) {
	if len(v) == 0 {
		return
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, val := range v[k] {
			c.field(scopeTop, k, val, false)
		}
	}
}
