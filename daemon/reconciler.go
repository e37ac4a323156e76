package daemon

import (
	"cmp"
	"context"
	"slices"

	"github.com/fleetform/fleetform/schema"
)

// Reconciler makes Fleet match one revision of the desired state. The lead
// wires fleetform's plan/apply engine through an adapter; tests use fakes.
//
// Reconcile observes the clusters, plans against doc and, when apply is
// true, applies the plan. With apply false it only reports (drift mode
// "report", or the daemon is suspended). It returns what it found and did,
// also when it fails part-way: Applied then lists what did land.
type Reconciler interface {
	Reconcile(ctx context.Context, doc *schema.Document, revision string, apply bool) (Outcome, error)
}

// ReconcilerFunc adapts a function to Reconciler.
type ReconcilerFunc func(ctx context.Context, doc *schema.Document, revision string, apply bool) (Outcome, error)

// Reconcile calls f.
func (f ReconcilerFunc) Reconcile(ctx context.Context, doc *schema.Document, revision string, apply bool) (Outcome, error) {
	return f(ctx, doc, revision, apply)
}

// Outcome summarises one reconcile for /status and /metrics.
type Outcome struct {
	// Planned counts the plan's changes other than no-ops (create, update,
	// delete, blocked), by kind and action.
	Planned []ChangeCount `json:"planned"`
	// Applied counts the changes that were applied; empty when reporting only.
	Applied []ChangeCount `json:"applied"`
	// Drift is true when the live state did not match the revision before
	// this reconcile (the plan was not empty).
	Drift bool `json:"drift"`
	// Outputs is the sync state of each declared output.
	Outputs []OutputState `json:"outputs,omitempty"`
}

// ChangeCount is how many changes of one kind and action.
type ChangeCount struct {
	Kind   string `json:"kind"`   // output, agent_policy, package, service_token, …
	Action string `json:"action"` // create, update, delete, blocked
	Count  int    `json:"count"`
}

// OutputState is what fleetform knows about one output after a reconcile.
type OutputState struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	Remote string `json:"remote,omitempty"`
	// State uses Kibana's sync vocabulary where it applies (completed,
	// synchronizing, failed, warning), "in-sync" or "drifted" otherwise.
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
}

// ByAction totals counts by action ("create" → 3).
func ByAction(counts []ChangeCount) map[string]int {
	m := map[string]int{}
	for _, c := range counts {
		m[c.Action] += c.Count
	}
	return m
}

// Total is the sum of counts.
func Total(counts []ChangeCount) int {
	n := 0
	for _, c := range counts {
		n += c.Count
	}
	return n
}

// sortCounts orders counts by kind then action, for stable output.
func sortCounts(c []ChangeCount) []ChangeCount {
	c = slices.Clone(c)
	slices.SortFunc(c, func(a, b ChangeCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Action, b.Action))
	})
	return c
}
