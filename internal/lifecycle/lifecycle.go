// Package lifecycle holds the seed's two lifecycle tables as one pure function:
// given an Autotask ticket status label and the ticket's current incident (if any),
// it says what happens to the incident. It does no I/O.
package lifecycle

import "strings"

// Action is what a callout does to the ticket's incident.
type Action string

const (
	Create    Action = "CREATED"   // open a new incident
	Accept    Action = "ACCEPTED"  // accept the current incident
	Resolve   Action = "RESOLVED"  // resolve the current incident
	Unchanged Action = "UNCHANGED" // nothing to do
	Reject    Action = "REJECTED"  // no incident and the status is not alertable: HTTP 400
)

// Current is what the decision needs to know about the ticket's current incident.
type Current struct {
	Accepted bool // accepted (or resolved, which implies it was handled)
	Resolved bool
}

type class int

const (
	classOther   class = iota // "any other" row: creates, never changes
	classNew                  // creates, never changes
	classWorking              // In Progress: creates, or accepts
	classClosed               // Complete, Denied: rejects, or resolves
	classParked               // Waiting ..., Scheduled, Escalate, Approved: rejects, or accepts
)

var classes = map[string]class{
	"new":               classNew,
	"in progress":       classWorking,
	"complete":          classClosed,
	"denied":            classClosed,
	"waiting customer":  classParked,
	"waiting materials": classParked,
	"scheduled":         classParked,
	"escalate":          classParked,
	"waiting vendor":    classParked,
	"waiting approval":  classParked,
	"waiting dispatch":  classParked,
	"approved":          classParked,
}

func classify(label string) class {
	return classes[strings.ToLower(strings.Join(strings.Fields(label), " "))]
}

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	// Detach: the ticket reached Complete or Denied, so its incident stops being
	// the current one; a reopened ticket then starts a new incident. This holds
	// also when a person had resolved the incident before the ticket closed.
	Detach bool
}

// Decide applies the lifecycle tables. current is nil when the ticket has no
// current incident. Created and edited tickets follow the same rule, so the
// caller need not know which event fired. A resolved incident is never reopened.
func Decide(statusLabel string, current *Current) Decision {
	c := classify(statusLabel)
	if current == nil {
		if c == classClosed || c == classParked {
			return Decision{Action: Reject}
		}
		return Decision{Action: Create}
	}
	switch c {
	case classClosed:
		if current.Resolved {
			return Decision{Action: Unchanged, Detach: true}
		}
		return Decision{Action: Resolve, Detach: true}
	case classWorking, classParked:
		if current.Accepted || current.Resolved {
			return Decision{Action: Unchanged}
		}
		return Decision{Action: Accept}
	default:
		return Decision{Action: Unchanged}
	}
}

// Priority maps an Autotask priority label to the incident priority:
// "Low" gives LOW, every other label gives HIGH.
func Priority(label string) string {
	if strings.EqualFold(strings.TrimSpace(label), "low") {
		return "LOW"
	}
	return "HIGH"
}
