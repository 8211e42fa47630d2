package lifecycle

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	pending  = &Current{}
	accepted = &Current{Accepted: true}
	resolved = &Current{Accepted: true, Resolved: true}
	// resolved by a person straight from PENDING, without an accept
	resolvedOnly = &Current{Resolved: true}
)

// TestDecide covers every row of the seed's create table and update table,
// for every status label the seed names, and each state of the current incident.
func TestDecide(t *testing.T) {
	parked := []string{"Waiting Customer", "Waiting Materials", "Scheduled", "Escalate",
		"Waiting Vendor", "Waiting Approval", "Waiting Dispatch", "Approved"}
	type row struct {
		label   string
		current *Current
		want    Decision
	}
	rows := []row{
		// no current incident
		{"New", nil, Decision{Action: Create}},
		{"In Progress", nil, Decision{Action: Create}},
		{"Customer Note Added", nil, Decision{Action: Create}}, // any other
		{"", nil, Decision{Action: Create}},                    // unknown label: "any other"
		{"Complete", nil, Decision{Action: Reject}},
		{"Denied", nil, Decision{Action: Reject}},
		// current incident exists
		{"New", pending, Decision{Action: Unchanged}},
		{"New", accepted, Decision{Action: Unchanged}},
		{"New", resolved, Decision{Action: Unchanged}},
		{"Complete", pending, Decision{Action: Resolve, Detach: true}},
		{"Complete", accepted, Decision{Action: Resolve, Detach: true}},
		{"Complete", resolved, Decision{Action: Unchanged, Detach: true}},
		{"Denied", pending, Decision{Action: Resolve, Detach: true}},
		{"Denied", resolvedOnly, Decision{Action: Unchanged, Detach: true}},
		{"In Progress", pending, Decision{Action: Accept}},
		{"In Progress", accepted, Decision{Action: Unchanged}},
		{"In Progress", resolved, Decision{Action: Unchanged}},
		{"In Progress", resolvedOnly, Decision{Action: Unchanged}}, // never reopened, never re-accepted
		{"Customer Note Added", pending, Decision{Action: Unchanged}},
		{"Customer Note Added", accepted, Decision{Action: Unchanged}},
	}
	for _, l := range parked {
		rows = append(rows,
			row{l, nil, Decision{Action: Reject}},
			row{l, pending, Decision{Action: Accept}},
			row{l, accepted, Decision{Action: Unchanged}},
			row{l, resolvedOnly, Decision{Action: Unchanged}},
		)
	}
	for _, r := range rows {
		name := fmt.Sprintf("%s/%+v", r.label, r.current)
		t.Run(name, func(t *testing.T) {
			require.Equal(t, r.want, Decide(r.label, r.current))
		})
	}
}

func TestDecideMatchesLabelsLoosely(t *testing.T) {
	for _, l := range []string{"in progress", "IN PROGRESS", "  In Progress ", "In  Progress", "in\tprogress"} {
		require.Equal(t, Accept, Decide(l, pending).Action, "label %q", l)
	}
	for _, l := range []string{"complete", " COMPLETE", "denied\n"} {
		require.Equal(t, Reject, Decide(l, nil).Action, "label %q", l)
	}
	// near misses are "any other", not a known status
	require.Equal(t, Create, Decide("Completed", nil).Action)
	require.Equal(t, Create, Decide("In-Progress", nil).Action)
}

func TestPriority(t *testing.T) {
	for label, want := range map[string]string{
		"Low": "LOW", "low": "LOW", " LOW ": "LOW",
		"High": "HIGH", "Medium": "HIGH", "Critical": "HIGH", "": "HIGH", "Lowest": "HIGH",
	} {
		require.Equal(t, want, Priority(label), "label %q", label)
	}
}
