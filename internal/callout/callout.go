// Package callout finds the Autotask ticket a callout is about.
//
// Autotask's Extension Callout sends an HTTP request whenever a ticket is created or
// edited, but nobody has published what that request carries: GET or POST, data in the
// query string, a form body ("Name Value Pair"), JSON or XML, with the ticket id or the
// ticket number under various names. Parse looks everywhere and returns what it found;
// Redact masks credentials in a body before it is journaled.
//
// The package is pure: no I/O, no clocks, no globals that change. It never panics on
// any input (fuzzed), and bounds its own work: nesting deeper than maxDepth is not
// looked into, and multipart bodies are read part by part with limits.
package callout

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Request is the part of an HTTP request a callout is read from.
type Request struct {
	Method      string     // "GET" or "POST" (others are refused by the HTTP layer before Parse)
	ContentType string     // raw Content-Type header, may be "" or carry parameters (charset)
	Query       url.Values // the request's query string
	Body        []byte     // already limited to 1 MiB by the HTTP layer
}

// Reference is what a callout says about its ticket. At least one field is set when
// Parse returns no error.
type Reference struct {
	TicketID     int64  `json:"ticketId,omitempty"`     // 0 when not found
	TicketNumber string `json:"ticketNumber,omitempty"` // "" when not found, e.g. "T20261127.0001"
}

// Sentinel errors of Parse. Parse wraps them with a message meant for the Autotask
// administrator (what was wrong, what to change); test them with errors.Is.
var (
	// ErrNoTicketReference: neither the query string nor the body holds a ticket id or number.
	ErrNoTicketReference = errors.New("no ticket reference in callout")
	// ErrMalformedBody: the body is declared (or sniffed) as form, JSON or XML but cannot be
	// parsed, and the query string holds no ticket reference either.
	ErrMalformedBody = errors.New("malformed callout body")
	// ErrUnsupportedMediaType: the body is of a type Parse cannot read (binary, image ...),
	// and the query string holds no ticket reference either.
	ErrUnsupportedMediaType = errors.New("unsupported callout media type")
)

const (
	maxDepth        = 64      // nesting (JSON, XML) looked into; deeper content is skipped
	maxParts        = 64      // multipart parts read
	maxPartBytes    = 1 << 20 // bytes read of one multipart part
	maxNumberLength = 64      // longest ticket number taken from a keyed value
)

// Parse finds the ticket reference in a callout: the query string first, then the body.
// A field found in the query string wins over the same field in the body; when the
// query string yields a reference, a body that cannot be read is not an error.
func Parse(r Request) (Reference, error) {
	var q collector
	q.fromValues(r.Query)
	if q.id != 0 && q.num != "" && q.numRank > rankShape {
		return q.reference(), nil
	}

	var b collector
	kind, err := b.fromBody(r.ContentType, r.Body)
	if err != nil {
		b = collector{} // what a broken body seemed to say is not trusted
	}

	ref := q.reference()
	if ref.TicketID == 0 {
		ref.TicketID = b.id
	}
	if ref.TicketNumber == "" || (q.numRank == rankShape && b.numRank > rankShape) {
		if b.num != "" {
			ref.TicketNumber = b.num
		}
	}
	if ref.TicketID != 0 || ref.TicketNumber != "" {
		return ref, nil
	}
	if err != nil {
		return Reference{}, err
	}
	return Reference{}, fmt.Errorf("%w: looked in the query string and the %s body for a ticket id "+
		"(TicketID, Ticket ID, id, entityId) or a ticket number (TicketNumber, Ticket Number, or a value like T20261127.0001) "+
		"and found none; check that the Extension Callout is used by a Ticket workflow rule and that its data format "+
		"(Name Value Pair, XML or JSON) sends the ticket's fields", ErrNoTicketReference, kind)
}

// bodyKind is how a body is read.
type bodyKind int

const (
	kindEmpty bodyKind = iota
	kindForm
	kindMultipart
	kindJSON
	kindXML
	kindText        // free text: only ticket-number-shaped values are looked for
	kindUnsupported // binary or of a type we cannot read
)

func (k bodyKind) String() string {
	switch k {
	case kindEmpty:
		return "empty"
	case kindForm:
		return "form (Name Value Pair)"
	case kindMultipart:
		return "multipart form"
	case kindJSON:
		return "JSON"
	case kindXML:
		return "XML"
	case kindText:
		return "plain text"
	default:
		return "unsupported"
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// classify decides how to read body, given its Content-Type header. It returns the
// media type (lower case, no parameters), its parameters, and the body with a UTF-8
// byte order mark and surrounding white space removed.
func classify(contentType string, body []byte) (bodyKind, string, map[string]string, []byte) {
	body = bytes.TrimPrefix(body, utf8BOM)
	body = bytes.TrimSpace(body)
	mt, params := mediaType(contentType)
	if len(body) == 0 {
		return kindEmpty, mt, params, body
	}
	switch {
	case mt == "", mt == "text/plain":
		return sniff(body), mt, params, body
	case mt == "application/x-www-form-urlencoded":
		return kindForm, mt, params, body
	case mt == "multipart/form-data":
		return kindMultipart, mt, params, body
	case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"):
		return kindJSON, mt, params, body
	case mt == "application/xml", mt == "text/xml", strings.HasSuffix(mt, "+xml"):
		return kindXML, mt, params, body
	case strings.HasPrefix(mt, "text/"):
		return kindText, mt, params, body
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"),
		strings.HasPrefix(mt, "font/"), strings.HasPrefix(mt, "model/"):
		return kindUnsupported, mt, params, body
	}
	// application/octet-stream and the like: read it when it is text.
	if isText(body) {
		return sniff(body), mt, params, body
	}
	return kindUnsupported, mt, params, body
}

// mediaType returns the lower-case media type of a Content-Type header and its
// parameters; a header mime cannot parse is cut at its first ';'.
func mediaType(contentType string) (string, map[string]string) {
	if strings.TrimSpace(contentType) == "" {
		return "", nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		params = nil
	}
	return mt, params
}

// sniff guesses the format of a body sent without a (useful) content type.
func sniff(body []byte) bodyKind {
	switch body[0] {
	case '{', '[':
		return kindJSON
	case '<':
		return kindXML
	}
	if bytes.IndexByte(body, '=') >= 0 && isText(body) {
		return kindForm
	}
	if isText(body) {
		return kindText
	}
	return kindUnsupported
}

// isText reports whether b is UTF-8 without control characters other than white space.
func isText(b []byte) bool {
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		b = b[n:]
	}
	return true
}

// fromBody collects references from a body. It returns how the body was read and, when
// it could not be read, an error wrapping ErrMalformedBody or ErrUnsupportedMediaType.
func (c *collector) fromBody(contentType string, raw []byte) (bodyKind, error) {
	kind, mt, params, body := classify(contentType, raw)
	var err error
	switch kind {
	case kindEmpty:
		return kind, nil
	case kindForm:
		c.fromForm(body)
		return kind, nil
	case kindText:
		c.text(body)
		return kind, nil
	case kindMultipart:
		err = c.fromMultipart(body, params["boundary"])
	case kindJSON:
		err = c.fromJSON(body)
	case kindXML:
		err = c.fromXML(body)
	case kindUnsupported:
		return kind, fmt.Errorf("%w: cannot read a body of type %q; set the Extension Callout's data format "+
			"to Name Value Pair, XML or JSON, or send the ticket id in the callout URL's query string "+
			"(for example ?TicketID=123)", ErrUnsupportedMediaType, orNone(mt))
	}
	if err != nil {
		return kind, fmt.Errorf("%w: the body was read as %s (Content-Type %q) but is not valid: %v; check that the "+
			"Extension Callout's data format matches the body it sends, or send the ticket id in the callout URL's "+
			"query string (for example ?TicketID=123)", ErrMalformedBody, kind, orNone(contentType), err)
	}
	return kind, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
