package autotask

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Error classes. Every error returned by Client wraps exactly one of them
// (test with errors.Is), and also an *APIError when Autotask answered.
var (
	// ErrNotFound: Autotask answered 404, {"item": null}, or a query matched nothing.
	ErrNotFound = errors.New("autotask: not found")
	// ErrUnauthorized: Autotask rejected the credentials (401 even after the zone
	// was looked up again, 403, or the zone lookup does not know the user).
	ErrUnauthorized = errors.New("autotask: unauthorized")
	// ErrUnavailable: network error, timeout, 5xx (Autotask also reports permission
	// failures as 500), 429, an unreadable answer, or ctx ended while waiting for a
	// thread-limit slot. Retrying later may succeed.
	ErrUnavailable = errors.New("autotask: unavailable")
	// ErrForbiddenHost: the client refused to send credentials to a host that is not
	// allowed (a zone url or a redirect pointing away from Autotask).
	ErrForbiddenHost = errors.New("autotask: forbidden host")
)

// APIError is an answer from Autotask that was not a success.
type APIError struct {
	Method     string // "GET", "POST"
	Endpoint   string // path below V1.0/, e.g. "Tickets/100"; "zoneInformation" for the zone lookup
	StatusCode int
	Messages   []string // Autotask's {"errors":[...]} (or a short snippet of a non-JSON body)
	// RetryAfter is how long Autotask asked the client to wait (429 and 503 only;
	// 1s when a 429 carried no Retry-After header).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("autotask ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	return b.String()
}

// opError carries the operation, the error class and the cause.
type opError struct {
	op    string // e.g. "get ticket 100"
	class error  // one of the Err* sentinels
	cause error  // *APIError, network error, ctx error ... may be nil
	msg   string // extra detail when cause is nil
}

func (e *opError) Error() string {
	var b strings.Builder
	b.WriteString(e.class.Error())
	if e.op != "" {
		b.WriteString(": ")
		b.WriteString(e.op)
	}
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

func (e *opError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.class}
	}
	return []error{e.class, e.cause}
}

// withOp returns err with op prefixed, keeping its class and cause.
func withOp(op string, err error) error {
	var oe *opError
	if errors.As(err, &oe) {
		cp := *oe
		if cp.op == "" {
			cp.op = op
		} else {
			cp.op = op + ": " + cp.op
		}
		return &cp
	}
	return &opError{op: op, class: ErrUnavailable, cause: err}
}

// redact removes every occurrence of secret from s.
func redact(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
