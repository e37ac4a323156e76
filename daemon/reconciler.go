package daemon

import (
	"cmp"
	"context"
	"slices"

	"github.com/fleetform/fleetform/plan"
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
	// Drift is true when the plan was not empty: the live state did not
	// match the revision before this reconcile. The loop counts it as drift
	// (a change made outside Git) only for a revision Fleet already matched;
	// for a new revision it is the revision's own changes.
	Drift bool `json:"drift"`
	// Plan is the plan the turn computed or executed, with its field-level
	// diff; /status and the status page show it. Nil when the reconciler
	// has none (it failed before planning).
	Plan *plan.Plan `json:"-"`
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
	// SyncVia is how a remote output's integrations are synced (ccr,
	// direct); empty when sync is off or the output is not remote.
	SyncVia string `json:"sync_via,omitempty"`
	// Integrations is the remote output's integration sync table, one row
	// per integration, in the shape and vocabulary of Kibana's
	// GET /api/fleet/remote_synced_integrations/status items (see package remote).
	Integrations []IntegrationSync `json:"integrations,omitempty"`
}

// IntegrationSync is one integration's sync state on a remote.
type IntegrationSync struct {
	PackageName    string `json:"package_name"`
	PackageVersion string `json:"package_version"`
	// SyncStatus is completed, synchronizing, failed or warning.
	SyncStatus    string       `json:"sync_status"`
	InstallStatus InstallState `json:"install_status"`
	UpdatedAt     string       `json:"updated_at,omitempty"`
	Error         string       `json:"error,omitempty"`
	Warning       *SyncWarning `json:"warning,omitempty"`
}

// InstallState is an integration's install status on each side
// (installed, not_installed, install_failed, …).
type InstallState struct {
	Main   string `json:"main"`
	Remote string `json:"remote,omitempty"`
}

// SyncWarning is a sync warning as Kibana words it.
type SyncWarning struct {
	Title   string `json:"title"`
	Message string `json:"message"`
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
