// Package fault holds the error kinds that services return and the API maps to
// HTTP statuses in one place (see api.writeError).
package fault

import (
	"errors"
	"fmt"
)

// Invalid is input that breaks a rule; the API answers 422 naming the field.
type Invalid struct {
	Field   string
	Message string
}

func (e *Invalid) Error() string { return e.Field + ": " + e.Message }

// Invalidf builds an *Invalid.
func Invalidf(field, format string, args ...any) error {
	return &Invalid{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrState is an action that the object's current state does not allow (409).
var ErrState = errors.New("not allowed in the current state")
