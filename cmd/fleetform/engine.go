package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
	"github.com/fleetform/fleetform/remote"
	"github.com/fleetform/fleetform/schema"
)

// planApplier is the main-cluster reconciler, or the two-cluster one when
// the document declares remotes.
type planApplier interface {
	Plan(ctx context.Context, doc *schema.Document, rev string) (*plan.Plan, error)
	Apply(ctx context.Context, doc *schema.Document, saved *plan.Plan, opts reconciler.ApplyOptions) (reconciler.Result, error)
}

// engineOptions configure connectEngine.
type engineOptions struct {
	Instance       string
	StateIndex     string
	Prune          bool
	ForceUninstall bool
	Logger         *slog.Logger
	// WrapTransport wraps every client's transport (serve --lease fences
	// writes with it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// connectEngine connects the plan/apply engine to the clusters doc names:
// the main cluster only, or the main cluster and every remote (which also
// mints generate: true credentials). tc is nil without remotes.
func connectEngine(ctx context.Context, doc *schema.Document, o engineOptions) (r planApplier, tc *remote.TwoCluster, err error) {
	if len(doc.Clusters.Remotes) > 0 {
		tc, err = remote.Connect(ctx, doc, remote.ConnectOptions{
			Instance: o.Instance, StateIndex: o.StateIndex, Prune: o.Prune, ForceUninstall: o.ForceUninstall, Logger: o.Logger,
			WrapTransport: o.WrapTransport,
		})
		if err != nil {
			return nil, nil, err
		}
		return tc, tc, nil
	}
	rec, err := reconciler.Connect(ctx, doc, reconciler.ConnectOptions{
		Instance: o.Instance, StateIndex: o.StateIndex, Prune: o.Prune, Logger: o.Logger,
		WrapTransport: o.WrapTransport,
	})
	if err != nil {
		return nil, nil, err
	}
	return rec, nil, nil
}

func init() {
	newReconciler = func(_ context.Context, opts ReconcilerOptions) (daemon.Reconciler, error) {
		return newEngineReconciler(opts), nil
	}
}

// engineReconciler adapts the plan/apply engine to the daemon's loop. It
// keeps its connection for the life of the process and connects again only
// when a revision changes the clusters' configuration (serve_engine.go).
type engineReconciler struct {
	opts engineOptions
	kept keptEngine
}

// Reconcile plans (apply false) or applies (apply true) doc and reports the
// counts, drift and per-output state the daemon shows on /status.
func (a *engineReconciler) Reconcile(ctx context.Context, doc *schema.Document, rev string, apply bool) (daemon.Outcome, error) {
	var out daemon.Outcome
	r, tc, err := a.connect(ctx, doc)
	if err != nil {
		return out, err
	}
	// The plan before applying tells whether the live state had drifted.
	p, err := r.Plan(ctx, doc, rev)
	if err != nil {
		return out, err
	}
	out.Planned = countChanges(p.Changes)
	out.Drift = !p.Empty()
	out.Plan = p
	var applyErr error
	if apply && !p.Empty() {
		// Apply plans afresh: something may have moved since p was computed.
		lctx, unlock, err := a.lock(ctx)
		if err != nil {
			return out, err
		}
		defer unlock()
		res, err := r.Apply(lctx, doc, nil, reconciler.ApplyOptions{Prune: a.opts.Prune, Revision: rev})
		applyErr = err
		for _, o := range res.Outcomes {
			if o.Status == reconciler.StatusApplied {
				out.Applied = addCount(out.Applied, o.Change.Kind, string(o.Change.Action))
			}
		}
	}
	out.Outputs = outputStates(doc, p, apply && applyErr == nil)
	if tc != nil {
		a.addSyncStates(ctx, tc, doc, out.Outputs)
	}
	return out, applyErr
}

// addSyncStates fills the sync state of remote outputs from the two-cluster
// engine's status (Kibana's vocabulary). A status that cannot be read is
// logged, not fatal: the reconcile itself succeeded.
func (a *engineReconciler) addSyncStates(ctx context.Context, tc *remote.TwoCluster, doc *schema.Document, states []daemon.OutputState) {
	st, err := tc.Engine.Status(ctx, doc)
	if err != nil && a.opts.Logger != nil {
		a.opts.Logger.Warn("sync status unavailable", "err", err)
	}
	for _, s := range st {
		for i := range states {
			if states[i].ID != s.Output || s.SyncVia == "" {
				continue
			}
			states[i].State, states[i].Message = syncSummary(s)
			states[i].SyncVia, states[i].Integrations = s.SyncVia, integrationRows(s.Integrations)
		}
	}
}

// syncSummary folds the per-integration sync states of one remote output
// into one: failed beats warning beats synchronizing beats completed.
func syncSummary(s remote.OutputStatus) (state, message string) {
	if s.Error != "" {
		return "failed", s.Error
	}
	rank := map[string]int{"completed": 0, "synchronizing": 1, "warning": 2, "failed": 3}
	state = "completed"
	for _, in := range s.Integrations {
		if rank[in.SyncStatus] > rank[state] {
			state = in.SyncStatus
			message = in.PackageName + ": " + in.Error
			if in.Error == "" {
				message = in.PackageName + " " + in.SyncStatus
			}
		}
	}
	return state, message
}

// outputStates is "in-sync" or "drifted" for every declared output, from
// the plan; after a successful apply every output is in sync.
func outputStates(doc *schema.Document, p *plan.Plan, applied bool) []daemon.OutputState {
	changed := map[string]string{}
	for _, c := range p.Changes {
		if c.Kind == "output" && c.Action != plan.NoOp {
			changed[c.ID] = string(c.Action)
		}
	}
	states := make([]daemon.OutputState, 0, len(doc.Outputs))
	for _, o := range doc.Outputs {
		s := daemon.OutputState{ID: o.ID, Name: o.Name, Type: o.Type, Remote: o.Remote, State: "in-sync"}
		if action, ok := changed[o.ID]; ok && (!applied || action == string(plan.Blocked)) {
			s.State, s.Message = "drifted", "planned: "+action
		}
		states = append(states, s)
	}
	return states
}

func countChanges(cs []plan.Change) []daemon.ChangeCount {
	var out []daemon.ChangeCount
	for _, c := range cs {
		if c.Action != plan.NoOp {
			out = addCount(out, c.Kind, string(c.Action))
		}
	}
	return out
}

func addCount(cs []daemon.ChangeCount, kind, action string) []daemon.ChangeCount {
	for i := range cs {
		if cs[i].Kind == kind && cs[i].Action == action {
			cs[i].Count++
			return cs
		}
	}
	return append(cs, daemon.ChangeCount{Kind: kind, Action: action, Count: 1})
}
